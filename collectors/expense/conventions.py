"""How one export writes its dates and amounts, decided once for the whole file.

Some values read two ways: `03/04/2026` (the 4th of March or the 3rd of April), `1,234` (a
thousand and more, or one and a fraction), and an amount whose sign may mean a purchase or a
refund. Each is decided, in this order, by the file's settings in the config, by the export's own
layout (an American Express US statement is month first), and by the rows of the file that read
one way only (`13/11/2026` can only be day first). Failing all three, a default decides, and the
outcome notes name it. A row that reads only the way the file does not is a bad row.

Dates separated by dots (`03.11.2026`) are day first wherever that form is used: they are read day
first unless the config sets the order, and they decide a file with no other evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from collectors.expense.amounts import AmountText
from collectors.expense.dates import DateText

DATE_ORDER_WORDS = {"month_first": "month/day/year", "day_first": "day/month/year"}
# The date order a file is reported with when every date it contains was ISO (year first).
ISO_DATE_ORDER = "iso"
MAX_NAMED_EXAMPLES = 100


@dataclass
class Evidence:
    """Rows that read only one way, the first ones kept by row number and text."""

    count: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)

    def add(self, row: int, text: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_NAMED_EXAMPLES:
            self.examples.append((row, text))


@dataclass
class Decision:
    """One decision for the file, its source, and the rows that contradict it."""

    value: str
    source: str  # config, layout, rows, dotted, default, or single (only one reading was ever possible)
    contradicting: Evidence = field(default_factory=Evidence)
    example: tuple[int, str] | None = None


@dataclass
class ConventionTracker:
    """Evidence from each row's date and amount about the file's conventions, and the decisions."""

    date_order: str | None = None
    date_order_source: str = "config"
    decimal_mark: str | None = None
    decimal_mark_source: str = "config"
    charge_sign: int | None = None
    charge_sign_source: str = "config"

    month_first_only: Evidence = field(default_factory=Evidence)
    day_first_only: Evidence = field(default_factory=Evidence)
    dotted_dates: Evidence = field(default_factory=Evidence)
    ambiguous_dates: int = 0
    non_iso_dates: int = 0
    dot_only: Evidence = field(default_factory=Evidence)
    comma_only: Evidence = field(default_factory=Evidence)
    ambiguous_amounts: int = 0
    positive_amounts: int = 0
    negative_amounts: int = 0

    @property
    def config_sets_date_order(self) -> bool:
        return self.date_order is not None and self.date_order_source == "config"

    def date_of(self, reading: DateText, file_order: str) -> date | None:
        """Return the date a row's date text means, given the order decided for the file."""
        if reading.dotted and not self.config_sets_date_order:
            return reading.day_first
        return reading.value(file_order)

    def observe_date(self, row: int, text: str, reading: DateText) -> str | None:
        """Record a row's date; return why it is bad, or None."""
        if not reading.year_first:
            self.non_iso_dates += 1
        if reading.dotted and not self.config_sets_date_order:
            if reading.day_first is None:
                return (
                    f"date {text!r} is not valid as day.month.year, the order of dates written with dots; "
                    "set date_order: month_first for this file if its dates are month first"
                )
            self.dotted_dates.add(row, text)
            return None
        if self.date_order is not None:
            if reading.value(self.date_order) is None:
                return f"date {text!r} is not valid as {DATE_ORDER_WORDS[self.date_order]}"
            return None
        if reading.month_first is None:
            self.day_first_only.add(row, text)
        elif reading.day_first is None:
            self.month_first_only.add(row, text)
        elif reading.ambiguous:
            self.ambiguous_dates += 1
        return None

    def observe_amount(self, row: int, text: str, reading: AmountText) -> str | None:
        """Record a row's amount; return why it is bad, or None."""
        if self.decimal_mark is not None:
            value = reading.value(self.decimal_mark)
            if value is None:
                return f"amount {text!r} cannot be read with {self.decimal_mark!r} as the decimal mark; set decimal_mark for this file if the file uses the other"
        else:
            if reading.dot is None:
                self.comma_only.add(row, text)
            elif reading.comma is None:
                self.dot_only.add(row, text)
            elif reading.ambiguous:
                self.ambiguous_amounts += 1
            value = reading.any_value()
        # An amount marked CR is a credit in any file, so it does not count toward the file's sign.
        if self.charge_sign is None and value and not reading.credit:
            if value > 0:
                self.positive_amounts += 1
            else:
                self.negative_amounts += 1
        return None

    def decide_date_order(self) -> Decision:
        if self.date_order is not None:
            return Decision(self.date_order, self.date_order_source)
        month, day = self.month_first_only, self.day_first_only
        if month.count or day.count:
            winner, loser = ("month_first", day) if month.count >= day.count else ("day_first", month)
            evidence = month if winner == "month_first" else day
            return Decision(winner, "rows", contradicting=loser, example=evidence.examples[0])
        if self.dotted_dates.count:
            return Decision("day_first", "dotted", example=self.dotted_dates.examples[0])
        if self.ambiguous_dates:
            return Decision("month_first", "default")
        return Decision("month_first", "single")

    def reported_date_order(self, decision: Decision) -> str | None:
        """Return the date order a file is reported with: `iso` when every date was ISO, None
        when no date needed an order, else the decided order."""
        if decision.source != "single":
            return decision.value
        return ISO_DATE_ORDER if self.non_iso_dates == 0 and not self.dotted_dates.count else None

    def decide_decimal_mark(self) -> Decision:
        if self.decimal_mark is not None:
            return Decision(self.decimal_mark, self.decimal_mark_source)
        dot, comma = self.dot_only, self.comma_only
        if dot.count or comma.count:
            winner, loser = (".", comma) if dot.count >= comma.count else (",", dot)
            evidence = dot if winner == "." else comma
            return Decision(winner, "rows", contradicting=loser, example=evidence.examples[0])
        if self.ambiguous_amounts:
            return Decision(".", "default")
        return Decision(".", "single")

    def decide_charge_sign(self) -> Decision:
        """Purchases are positive unless most non-zero amounts of the file are negative, as in
        bank exports that show money leaving the account as a negative number."""
        if self.charge_sign is not None:
            return Decision(str(self.charge_sign), self.charge_sign_source)
        if self.negative_amounts > self.positive_amounts:
            return Decision("-1", "rows")
        return Decision("1", "rows" if self.positive_amounts else "single")


def describe_decisions(
    location: str,
    date_order: Decision,
    decimal_mark: Decision,
    charge_sign: Decision,
    tracker: ConventionTracker,
    layout_title: str,
) -> list[str]:
    """Write the outcome notes that report how the file's dates and amounts were read and why."""
    notes = []
    order = DATE_ORDER_WORDS[date_order.value]
    if date_order.source == "rows" and date_order.example:
        row, text = date_order.example
        notes.append(f"{location}: dates read as {order}, as row {row} ({text}) can only be read that way.")
    elif date_order.source == "dotted" and date_order.example:
        row, text = date_order.example
        notes.append(
            f"{location}: dates written with dots, such as row {row} ({text}), read as {order}, the order of that form. "
            "Set date_order: month_first for this file if that is wrong."
        )
    elif date_order.source == "default":
        notes.append(
            f"{location}: every date reads either way, its day and month both 12 or less; they were read as {order}. "
            "Set date_order: day_first for this file if that is wrong."
        )
    elif date_order.source == "layout":
        notes.append(f"{location}: dates read as {order}, the order {layout_title} exports use.")
    elif date_order.source == "config":
        notes.append(f"{location}: dates read as {order}, as date_order in the config sets.")

    if decimal_mark.source == "rows" and decimal_mark.example and tracker.ambiguous_amounts:
        row, text = decimal_mark.example
        notes.append(f"{location}: amounts read with {decimal_mark.value!r} as the decimal mark, as row {row} ({text}) shows.")
    elif decimal_mark.source == "default":
        notes.append(
            f"{location}: every amount with a separator reads either way, as 1,234 does (a thousands separator or a decimal mark); "
            "they were read with '.' as the decimal mark. "
            "Set decimal_mark: ',' for this file if that is wrong."
        )

    if charge_sign.value == "-1" and charge_sign.source == "rows":
        notes.append(
            f"{location}: purchases read as the negative amounts, as {tracker.negative_amounts} of "
            f"{tracker.negative_amounts + tracker.positive_amounts} non-zero amounts are negative."
        )
    return notes
