"""Money and shares as the HTML and terminal reports display them.

Amounts are rounded to the currency's minor unit with half-up rounding (a tie goes away from
zero). That is the rule of spreadsheet ROUND functions and of rounding by hand, so a reader who
checks a figure gets the same digits. Half-even rounding only pays off when many rounded values
are summed, and these reports sum none: each exact sum is rounded once. The one figure that is not
rounded from an exact sum, the unattributed part of a split, is the difference of two rounded ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units of the currencies whose minor unit is not the cent. Any other code,
# including one ISO 4217 does not list, is shown with two decimals.
MINOR_UNIT_DIGITS: dict[str, int] = {
    "CLP": 0,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "BHD": 3,
    "JOD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}

ONE_TENTH = Decimal("0.1")
HUNDRED = Decimal(100)


def minor_unit_digits(currency: str) -> int:
    return MINOR_UNIT_DIGITS.get(currency.upper(), 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` half-up to the minor unit of `currency` (cents for most)."""
    step = Decimal(1).scaleb(-minor_unit_digits(currency))
    return amount.quantize(step, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """Format `amount` as `USD 12,345.67`: rounded, with thousands separators, never `-0.00`."""
    rounded = round_money(amount, currency)
    if rounded.is_zero():
        rounded = rounded.copy_abs()
    return f"{currency} {rounded:,.{minor_unit_digits(currency)}f}"


@dataclass(frozen=True)
class DisplaySplit:
    """A total and its attributed and unattributed parts, rounded so the parts add up to the total."""

    currency: str
    total: Decimal
    attributed: Decimal
    unattributed: Decimal

    @property
    def total_text(self) -> str:
        return format_money(self.total, self.currency)

    @property
    def attributed_text(self) -> str:
        return format_money(self.attributed, self.currency)

    @property
    def unattributed_text(self) -> str:
        return format_money(self.unattributed, self.currency)


def split_for_display(total: Decimal, attributed: Decimal, currency: str) -> DisplaySplit:
    """Round the total and the attributed part, and derive the unattributed part as their
    difference, so the displayed parts add up to the displayed total to the minor unit.

    Rounding all three on their own can break that: 0.005 + 0.005 = 0.01, but each part rounds
    to 0.01 and the parts would show 0.02.
    """
    rounded_total = round_money(total, currency)
    rounded_attributed = round_money(attributed, currency)
    return DisplaySplit(currency, rounded_total, rounded_attributed, rounded_total - rounded_attributed)


def format_share(part: Decimal, whole: Decimal) -> str | None:
    """Format `part` over `whole` as a percentage with one decimal, such as `63.2%`.

    Return None when no share is meaningful: `whole` is zero or negative, or credits put `part`
    below zero or above `whole`. A share that is not exactly 0 or 1 is held at 0.1% or 99.9%,
    so that "100.0%" always means all of it and "0.0%" none of it.
    """
    if whole <= 0 or part < 0 or part > whole:
        return None

    percent = (part / whole * HUNDRED).quantize(ONE_TENTH, rounding=ROUND_HALF_UP)
    if percent == HUNDRED and part != whole:
        percent = HUNDRED - ONE_TENTH
    elif percent.is_zero() and not part.is_zero():
        percent = ONE_TENTH
    return f"{percent}%"
