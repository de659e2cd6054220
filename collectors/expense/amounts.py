"""Money as expense exports write it: `$1,234.56`, `1.234,56 €`, `(20.00)`, `-20,00`, `20.00-`,
`USD 20`, `1'234.50`, `12.00 CR`.

An amount such as `1,234` or `1.234` reads two ways (one thousand two hundred and thirty-four, or
one point two three four), so `read_amount` returns both readings and the file decides which
decimal mark it uses (see conventions.py). Amounts are `Decimal`, never floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from collectors.expense.currencies import is_currency_code

# Symbols and prefixes that name a currency outright. A bare `$`, `¥` or `kr` is shared by
# several currencies: it is kept as the sign and the file's currency decides (see charges.py).
CURRENCY_SYMBOLS = {
    "US$": "USD", "U$S": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "NZ$": "NZD",
    "HK$": "HKD", "S$": "SGD", "MX$": "MXN", "R$": "BRL", "CN¥": "CNY", "€": "EUR", "£": "GBP",
    "¥": "¥", "₹": "INR", "₩": "KRW", "₪": "ILS", "₺": "TRY", "₽": "RUB", "₱": "PHP", "₫": "VND",
    "zł": "PLN", "Kč": "CZK", "$": "$", "kr.": "kr", "kr": "kr",
}
DOLLAR = "$"
@dataclass(frozen=True)
class SharedSign:
    """A currency sign that several currencies use, and the one it means when nothing else
    names the currency (None where no one currency is likely)."""

    currencies: frozenset[str]
    default: str | None


# `$` is the sign of the dollars and of some pesos and reais. `¥` is the yen's and the yuan's.
# `kr` is the sign of the kronor and kroner of Sweden, Norway, Denmark and Iceland.
SHARED_SIGNS = {
    "$": SharedSign(
        frozenset(
            "USD CAD AUD NZD HKD SGD TWD BSD BBD BZD BMD BND FJD GYD JMD KYD LRD NAD SBD SRD TTD XCD ZWL "
            "MXN ARS CLP COP UYU DOP CUP BRL".split()
        ),
        "USD",
    ),
    "¥": SharedSign(frozenset({"JPY", "CNY"}), "JPY"),
    "kr": SharedSign(frozenset({"SEK", "NOK", "DKK", "ISK"}), None),
}

# Words banks append to a credit or a debit.
_CREDIT_SUFFIXES = ("CR", "CREDIT")
_DEBIT_SUFFIXES = ("DR", "DEBIT")

# A plain amount with at most one `.` that cannot be a thousands separator: most amounts in
# most exports, read without the general path.
_PLAIN = re.compile(r"-?\d+(?:\.(?:\d{1,2}|\d{4,}))?")
_ISO_CODE = re.compile(r"[A-Za-z]{3}")
_NUMBER = re.compile(r"\d[\d.,' \u00a0\u202f]*")
_GROUPING_SPACES = str.maketrans("", "", "' \u00a0\u202f")
_SYMBOLS_LONGEST_FIRST = sorted(CURRENCY_SYMBOLS, key=len, reverse=True)
_MINUS_SIGNS = ("-", "\u2212", "\u2013")

AMOUNT_CACHE_SIZE = 100_000
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class AmountText:
    """The readings of one amount: with `.` as the decimal mark and with `,` as the decimal mark
    (None where that reading is impossible), and the currency code or symbol written beside it.
    `credit` marks an amount written as a credit (`12.00 CR`): a refund whatever the sign
    convention of the file."""

    dot: Decimal | None
    comma: Decimal | None
    currency: str | None = None
    credit: bool = False

    @property
    def ambiguous(self) -> bool:
        return self.dot is not None and self.comma is not None and self.dot != self.comma

    def value(self, decimal_mark: str) -> Decimal | None:
        return self.dot if decimal_mark == "." else self.comma

    def any_value(self) -> Decimal:
        return self.dot if self.dot is not None else self.comma  # type: ignore[return-value]


_cache: dict[str, AmountText | None] = {}


def read_amount(text: str) -> AmountText | None:
    """Read an amount as written in an export, or None when it is not an amount."""
    found = _cache.get(text, _cache)
    if found is not _cache:
        return found  # type: ignore[return-value]
    if len(_cache) >= AMOUNT_CACHE_SIZE:
        _cache.clear()
    amount = _read_amount(text)
    _cache[text] = amount
    return amount


def amount_from_number(number: int | float | Decimal) -> AmountText:
    """Read a spreadsheet cell that contains a number.

    Spreadsheets store numbers as binary doubles. `str` gives the shortest decimal that reads back
    as the same double, which is the text the spreadsheet itself shows, so no digit is invented.
    A cell formatted as money hides its trailing zeros (20 for 20.00), so whole numbers and tenths
    get two decimals, as exports write amounts.
    """
    value = number if isinstance(number, Decimal) else Decimal(str(number))
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(CENTS)
    return AmountText(value, value)


def _read_amount(text: str) -> AmountText | None:
    text = text.strip()
    if not text:
        return None
    if _PLAIN.fullmatch(text):
        value = Decimal(text)
        return AmountText(value, value if "." not in text else None)

    negative, credit, text = _strip_sign_marks(text)
    currency, text = _strip_currency(text)
    if currency is not None:
        more_negative, more_credit, text = _strip_sign_marks(text)
        negative = negative != more_negative
        credit = credit or more_credit
    if not text or not _NUMBER.fullmatch(text):
        return None

    digits = text.translate(_GROUPING_SPACES)
    dot = _reading(digits, decimal_mark=".")
    comma = _reading(digits, decimal_mark=",")
    if dot is None and comma is None:
        return None
    if negative:
        dot = None if dot is None else -dot
        comma = None if comma is None else -comma
    return AmountText(dot, comma, currency, credit)


def _strip_sign_marks(text: str) -> tuple[bool, bool, str]:
    """Remove parentheses, a leading or trailing minus and CR/DR suffixes; return whether the
    amount is negative, whether it is marked as a credit (CR), and the rest."""
    negative = credit = False
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    upper = text.upper()
    for suffix in _CREDIT_SUFFIXES:
        if upper.endswith(suffix) and not upper[: -len(suffix)].rstrip()[-1:].isalpha():
            negative, credit, text = not negative, True, text[: -len(suffix)].strip()
            break
    else:
        for suffix in _DEBIT_SUFFIXES:
            if upper.endswith(suffix) and not upper[: -len(suffix)].rstrip()[-1:].isalpha():
                text = text[: -len(suffix)].strip()
                break
    if text[:1] in _MINUS_SIGNS:
        negative, text = not negative, text[1:].strip()
    elif text[:1] == "+":
        text = text[1:].strip()
    elif text[-1:] in _MINUS_SIGNS:
        negative, text = not negative, text[:-1].strip()
    return negative, credit, text


def _strip_currency(text: str) -> tuple[str | None, str]:
    """Remove a currency symbol or ISO code before or after the number. Three letters that are no
    ISO 4217 code stay, so that `bad12` is not an amount."""
    for symbol in _SYMBOLS_LONGEST_FIRST:
        if text.startswith(symbol):
            return CURRENCY_SYMBOLS[symbol], text[len(symbol):].strip()
        if text.endswith(symbol):
            return CURRENCY_SYMBOLS[symbol], text[: -len(symbol)].strip()
    if len(text) > 3 and _ISO_CODE.fullmatch(text[:3]) and not text[3].isalpha() and is_currency_code(text[:3]):
        return text[:3].upper(), text[3:].strip()
    if len(text) > 3 and _ISO_CODE.fullmatch(text[-3:]) and not text[-4].isalpha() and is_currency_code(text[-3:]):
        return text[-3:].upper(), text[:-3].strip()
    return None, text


def _reading(digits: str, decimal_mark: str) -> Decimal | None:
    """Read `digits` with `decimal_mark`, the other separator being a thousands separator that
    must group digits by three; None when the text cannot be read that way."""
    grouping = "," if decimal_mark == "." else "."
    whole, _, fraction = digits.rpartition(decimal_mark) if decimal_mark in digits else (digits, "", "")
    if decimal_mark in digits and (not whole or decimal_mark in whole or not fraction.isdigit()):
        return None
    if grouping in whole:
        groups = whole.split(grouping)
        if not (1 <= len(groups[0]) <= 3) or any(len(group) != 3 for group in groups[1:]):
            return None
        whole = "".join(groups)
    if not whole.isdigit():
        return None
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:
        return None
