"""Dates as expense exports write them: ISO (`2026-11-03`, `2026-11-03T14:22:01Z`), numeric with
either the month or the day first (`11/03/2026`, `03.11.2026`, `3-11-26`), and with month names
(`03 Nov 2026`, `Nov 3, 2026`, `03-NOV-26`). A time after the date is allowed and ignored.

`03/04/2026` reads two ways, so `read_date` returns both readings and the file decides the order
(see conventions.py). Dates separated by dots (`03.11.2026`) are day first wherever that form is
used, so they are read day first unless the config sets the order. Two-digit years are 2000 to
2099.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)")
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})[-/. ]?([A-Za-z]{3,9})\.?[-/., ]*(\d{4}|\d{2})(?!\d)")
_MONTH_NAME_DAY = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})")
# The text allowed after a date: nothing, or a time.
_TIME_REST = re.compile(r"(?:[ T]\d{1,2}(?::\d{2}){1,2}(?:\.\d+)?\s*(?:[AaPp][Mm])?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?)?")

DATE_CACHE_SIZE = 50_000


@dataclass(frozen=True)
class DateText:
    """The readings of one date: with the month first and with the day first (None where that
    reading is impossible). Dates that name the month or put the year first have one reading.
    `dotted` marks a numeric date separated by dots, day first by that form; `year_first` an ISO
    date."""

    month_first: date | None
    day_first: date | None
    dotted: bool = False
    year_first: bool = False

    @property
    def ambiguous(self) -> bool:
        return self.month_first is not None and self.day_first is not None and self.month_first != self.day_first

    def value(self, order: str) -> date | None:
        return self.day_first if order == "day_first" else self.month_first

    def any_value(self) -> date:
        return self.month_first or self.day_first  # type: ignore[return-value]


_cache: dict[str, DateText | None] = {}


def read_date(text: str) -> DateText | None:
    """Read a date as written in an export, or None when it is not a date."""
    found = _cache.get(text, _cache)
    if found is not _cache:
        return found  # type: ignore[return-value]
    if len(_cache) >= DATE_CACHE_SIZE:
        _cache.clear()
    reading = _read_date(text.strip())
    _cache[text] = reading
    return reading


def date_from_cell(value: datetime | date) -> DateText:
    """Read a spreadsheet cell that contains a date, which has one reading."""
    day = value.date() if isinstance(value, datetime) else value
    return DateText(day, day)


def _read_date(text: str) -> DateText | None:
    match = _YEAR_FIRST.match(text)
    if match and _time_follows(text, match.end()):
        day = _make_date(int(match[1]), int(match[2]), int(match[3]))
        return DateText(day, day, year_first=True) if day else None

    match = _NUMERIC.match(text)
    if match and _time_follows(text, match.end()):
        first, second, year = int(match[1]), int(match[2]), _full_year(match[3])
        month_first = _make_date(year, first, second)
        day_first = _make_date(year, second, first)
        dotted = text[match.end(1)] == "." and text[match.end(2)] == "."
        return DateText(month_first, day_first, dotted=dotted) if month_first or day_first else None

    match = _DAY_MONTH_NAME.match(text)
    if match and _time_follows(text, match.end()):
        month = MONTHS.get(match[2].lower())
        day = _make_date(_full_year(match[3]), month, int(match[1])) if month else None
        return DateText(day, day) if day else None

    match = _MONTH_NAME_DAY.match(text)
    if match and _time_follows(text, match.end()):
        month = MONTHS.get(match[1].lower())
        day = _make_date(int(match[3]), month, int(match[2])) if month else None
        return DateText(day, day) if day else None
    return None


def _time_follows(text: str, end: int) -> bool:
    return _TIME_REST.fullmatch(text, end) is not None


def _full_year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
