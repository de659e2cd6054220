"""Money and shares as the HTML and terminal reports display them.

A whole figure, such as a currency's total, is rounded to the currency's minor unit
with half-up rounding (a tie goes away from zero). That is the rule of spreadsheet ROUND
functions and of rounding by hand, so a reader who checks the figure gets the same digits.

The parts of a displayed figure (attributed and unattributed, rows per reason, owner or
provider) are rounded together by the largest-remainder method, so that the displayed parts add
up to the displayed whole. Each part then shows its exact amount rounded down or up to the minor
unit, and one quantity gets one figure wherever the reports show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

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


def allocate(parts: Sequence[Decimal], whole: Decimal, currency: str) -> list[Decimal]:
    """Round `parts` to the minor unit of `currency` so that the rounded parts sum to `whole`.

    This is the largest-remainder method: each part is rounded down, and the minor units still
    missing from `whole` go one each to the parts with the largest remainders. A tie goes to the
    part that comes first, so the caller's order makes the result deterministic. When `whole` is
    the rounded sum of `parts`, every part ends within one minor unit of its exact amount.
    Negative parts (credits) round down too, towards minus infinity.

    Raise ValueError when `whole` is not a whole number of minor units, or when there are no
    parts to carry a non-zero `whole`.
    """
    digits = minor_unit_digits(currency)
    whole_units = whole.scaleb(digits)
    if whole_units != whole_units.to_integral_value():
        raise ValueError(f"invalid whole {whole}: not a whole number of {currency} minor units; round it first")
    if not parts:
        if whole_units:
            raise ValueError(f"cannot allocate {currency} {whole} over no parts")
        return []

    scaled = [part.scaleb(digits) for part in parts]
    floors = [int(value.to_integral_value(rounding=ROUND_FLOOR)) for value in scaled]
    leftover = int(whole_units) - sum(floors)

    # Parts that do not sum to `whole` can leave more units than there are parts, or fewer than
    # none. Every part then takes an equal share of units, and the parts with the largest
    # remainders take one more each.
    units_per_part, extra_units = divmod(leftover, len(parts))
    by_remainder = sorted(range(len(parts)), key=lambda index: (floors[index] - scaled[index], index))
    receives_extra = set(by_remainder[:extra_units])

    return [
        Decimal(floor + units_per_part + (1 if index in receives_extra else 0)).scaleb(-digits)
        for index, floor in enumerate(floors)
    ]


def format_money(amount: Decimal, currency: str) -> str:
    """Format `amount` as `USD 12,345.67`: rounded, with thousands separators, never `-0.00`."""
    rounded = round_money(amount, currency)
    if rounded.is_zero():
        rounded = rounded.copy_abs()
    return f"{currency} {rounded:,.{minor_unit_digits(currency)}f}"


def format_change(amount: Decimal, currency: str) -> str:
    """Format a change such as `USD +1,234.50` or `USD -0.25`, and no change as `USD 0.00`."""
    rounded = round_money(amount, currency)
    if rounded.is_zero():
        return format_money(rounded, currency)
    return f"{currency} {rounded:+,.{minor_unit_digits(currency)}f}"


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
    """Round the total half-up, and allocate it between the attributed and unattributed parts.

    Rounding all three on their own can break the sum: 0.005 + 0.005 = 0.01, but each part rounds
    to 0.01 and the parts would show 0.02. On a tie of remainders the attributed part takes the
    minor unit.
    """
    rounded_total = round_money(total, currency)
    rounded_attributed, rounded_unattributed = allocate([attributed, total - attributed], rounded_total, currency)
    return DisplaySplit(currency, rounded_total, rounded_attributed, rounded_unattributed)


def allocate_splits(
    parts: Sequence[tuple[Decimal, Decimal]], whole: DisplaySplit
) -> list[DisplaySplit]:
    """Split a displayed whole into rows, given each row's exact (attributed, unattributed) pair.

    The attributed column is allocated against the whole's attributed figure and the unattributed
    column against its unattributed figure. Each row's total is the sum of its two displayed
    parts, so every column, the total included, adds up to the whole.
    """
    currency = whole.currency
    attributed = allocate([pair[0] for pair in parts], whole.attributed, currency)
    unattributed = allocate([pair[1] for pair in parts], whole.unattributed, currency)
    return [
        DisplaySplit(currency, row_attributed + row_unattributed, row_attributed, row_unattributed)
        for row_attributed, row_unattributed in zip(attributed, unattributed)
    ]


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
