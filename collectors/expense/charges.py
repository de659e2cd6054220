"""Read one expense export row by row and keep its AI charges.

Every row is checked (a merchant or description, a date, an amount), so that a row that cannot be
read is counted and named rather than dropped, but only rows whose descriptor the vendor catalogue
recognises become charges. Rows are streamed: memory follows the number of AI charges, not the
size of the file. Descriptors, dates and amounts repeat from row to row, and each of them is read
once through a bounded cache.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from collectors.expense.amounts import CURRENCY_SYMBOLS, SHARED_SIGNS, AmountText, amount_from_number, read_amount
from collectors.expense.catalogue import APP_STORE, DescriptorReading, Vendor, VendorCatalogue, VendorMatch
from collectors.expense.conventions import (
    DATE_ORDER_WORDS,
    ConventionTracker,
    Decision,
    describe_decisions,
)
from collectors.expense.currencies import is_currency_code
from collectors.expense.dates import DateText, date_from_cell, read_date
from collectors.expense.layouts import ColumnMap, Layout, RowProblem
from collectors.expense.sae import ExtractMappingError
from collectors.expense.settings import FileSettings
from collectors.expense.tables import ENCODING_NAMES, ExportUnreadable, OpenExport, open_export
from scanner.model import SkippedRow
from scanner.secrets import redact

MAX_NAMED_BAD_ROWS = 100
# ISO 4217's code for "no currency", for charges whose export names none.
NO_CURRENCY = "XXX"
# A card number in a card column is shown only by its last four digits.
_CARD_NUMBER = re.compile(r"\d[\d -]{11,}\d")


@dataclass(slots=True)
class Charge:
    """One AI charge: a row of an export that the vendor catalogue recognised."""

    file: str
    row: int
    date: date
    merchant: str
    memo: str
    amount: Decimal
    currency: str
    vendor: Vendor
    kind: str
    confidence: str
    channel: str
    channel_name: str | None = None
    cardholder: str | None = None
    card: str | None = None
    department: str | None = None
    auto_recharge: str | None = None

    @property
    def account(self) -> str | None:
        """Who or what the charge is billed to: the cardholder, else the card."""
        if self.cardholder:
            return self.cardholder
        return f"card {self.card}" if self.card else None

    @property
    def refund(self) -> bool:
        return self.amount < 0


@dataclass
class FileReading:
    """The result of reading one export: its AI charges, its bad rows and how it was read."""

    location: str
    layout: str | None = None
    layout_title: str | None = None
    row_count: int = 0
    charges: list[Charge] = field(default_factory=list)
    bad_rows: list[SkippedRow] = field(default_factory=list)
    bad_row_count: int = 0
    left_out_rows: int = 0
    left_out_types: Counter[str] = field(default_factory=Counter)
    unnamed_app_store_rows: int = 0
    notes: list[str] = field(default_factory=list)
    date_order: str | None = None
    error: str | None = None

    def add_bad_row(self, row: int, reason: str) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < MAX_NAMED_BAD_ROWS:
            self.bad_rows.append(SkippedRow(self.location, row, reason))


@dataclass(slots=True)
class _PendingCharge:
    """A recognised row whose date, amount and currency wait for the file's conventions."""

    row: int
    merchant: str
    memo: str
    date_text: DateText
    amount_text: AmountText
    currency_cell: str
    cardholder: str
    card: str
    department: str
    refund_type: bool
    match: VendorMatch


def read_file(path: Path, settings: FileSettings, catalogue: VendorCatalogue, location: str | None = None) -> FileReading:
    """Read one export and return its AI charges, bad rows and notes. A file that cannot be
    read at all comes back with `error` set."""
    location = location or str(path)
    encoding = settings.encoding
    try:
        return _read_with(path, encoding, settings, catalogue, location)
    except UnicodeDecodeError as error:
        if encoding is not None or error.encoding.replace("_", "-").lower() not in ("utf-8", "utf-8-sig", "utf8"):
            name = ENCODING_NAMES.get(error.encoding.replace("_", "-").lower(), error.encoding)
            return FileReading(location, error=f"is not valid {name} text ({error.reason}); set encoding for this file in the config")
    reading = _read_with(path, "windows-1252", settings, catalogue, location)
    reading.notes.insert(0, f"{location}: not valid UTF-8; read as Windows-1252.")
    return reading


def _read_with(path: Path, encoding: str | None, settings: FileSettings, catalogue: VendorCatalogue, location: str) -> FileReading:
    try:
        export = open_export(path, encoding, settings.sheet, settings.columns or None, settings.format)
    except ExportUnreadable as error:
        return FileReading(location, error=str(error))
    try:
        return _read_rows(export, settings, catalogue, location)
    except ExtractMappingError as error:
        return FileReading(location, error=str(error))
    except csv.Error as error:
        return FileReading(location, error=f"cannot be parsed as CSV ({error}); check that it is a complete, unaltered export")
    finally:
        export.close()


def _read_rows(export: OpenExport, settings: FileSettings, catalogue: VendorCatalogue, location: str) -> FileReading:
    layout, columns = export.layout, export.columns
    reading = FileReading(location, layout.name, layout.title)
    reading.notes.append(f"{location}: {export.describe()}.")
    tracker = _tracker(layout, columns, settings)
    pending: list[_PendingCharge] = []

    date_at = columns.first("date")
    descriptors_at = columns.all("descriptor")
    memos_at = columns.all("memo")
    amount_at = columns.first("amount")
    debit_at, credit_at = columns.first("debit"), columns.first("credit")
    currency_at = columns.first("currency")
    cardholder_at, card_at, department_at = columns.first("cardholder"), columns.first("card"), columns.first("department")
    name_parts_at = () if cardholder_at is not None else columns.all("cardholder_parts")
    type_at = columns.first("type")
    width = columns.width
    delimiter = export.delimiter or ","
    read_descriptor = catalogue.read_descriptor
    claims = layout.claims
    # The same cardholders, merchants and memos recur on many charges; one copy of each is kept.
    strings: dict[str, str] = {}

    def shared(text: str) -> str:
        return strings.setdefault(text, text)

    for row_number, cells in enumerate(export.rows, start=1):
        if not cells or not any(cells):
            continue
        reading.row_count += 1
        if type(cells) is RowProblem:
            reading.add_bad_row(row_number, cells)
            continue
        if len(cells) > width and any(cells[width:]):
            reading.add_bad_row(row_number, f"has {len(cells)} fields where the header has {width}; a value may hold an unquoted {delimiter!r}")
            continue

        refund_type = False
        if type_at is not None:
            row_type = _text(cells, type_at).lower()
            if row_type in layout.non_charge_types:
                reading.left_out_rows += 1
                reading.left_out_types[row_type] += 1
                continue
            refund_type = row_type in layout.refund_types

        descriptor, described = _find_descriptor(cells, descriptors_at, read_descriptor)
        if not descriptor:
            reading.add_bad_row(row_number, "has no merchant or description")
            continue

        date_cell = cells[date_at] if date_at < len(cells) else None
        date_text, problem = _date_of(date_cell)
        if date_text is not None:
            problem = tracker.observe_date(row_number, str(date_cell).strip(), date_text)
        if problem:
            reading.add_bad_row(row_number, problem)
            continue

        amount_text, amount_written, problem = _amount_of(cells, amount_at, debit_at, credit_at)
        if amount_text is not None:
            problem = tracker.observe_amount(row_number, amount_written, amount_text)
        if problem:
            reading.add_bad_row(row_number, problem)
            continue

        if described is None and not claims:
            continue
        memo = " ".join(_text(cells, index) for index in memos_at).strip()
        match = None
        if claims and (described is None or described.match is None):
            # A merchant typed in an expense claim (Cursor, Claude) is no card descriptor.
            match = catalogue.match_claim(descriptor, memo)
        if match is None and described is not None:
            match = _charge_match(catalogue, described, memo)
            if match is None and described.memo_channel == APP_STORE:
                reading.unnamed_app_store_rows += 1
        if match is None:
            continue

        pending.append(
            _PendingCharge(
                row=row_number,
                merchant=shared(descriptor),
                memo=shared(" ".join(memo.split())),
                date_text=date_text,
                amount_text=amount_text,
                currency_cell=shared(_text(cells, currency_at)),
                cardholder=shared(_text(cells, cardholder_at) if not name_parts_at else _joined(cells, name_parts_at)),
                card=shared(_text(cells, card_at)),
                department=shared(_text(cells, department_at)),
                refund_type=refund_type,
                match=match,
            )
        )

    _settle(reading, tracker, pending, columns, settings, layout, location)
    reading.notes.extend(export.closing_notes(location))
    # Rows that contradict the file's conventions are known only after the last row.
    reading.bad_rows.sort(key=lambda bad: bad.row or 0)
    return reading


def _find_descriptor(cells: list[Any], positions: tuple[int, ...], read_descriptor: Any) -> tuple[str, DescriptorReading | None]:
    """Return the row's descriptor and the catalogue's reading of it.

    Of several descriptor columns (a statement descriptor and a merchant name), the first that
    names a vendor, an app store or a bare processor wins. Otherwise the first non-empty one is
    returned, with no reading.
    """
    first = ""
    for index in positions:
        text = _text(cells, index)
        if not text or text == first:
            continue
        first = first or text
        described = read_descriptor(text)
        if described.match is not None or described.memo_channel is not None:
            return text, described
    return first, None


def _charge_match(catalogue: VendorCatalogue, described: DescriptorReading, memo: str) -> VendorMatch | None:
    """Return the vendor match of a recognised row.

    The descriptor names the vendor, and the memo decides a kind that the descriptor left to the
    vendor's default. For app-store and bare processor charges, the memo names the product.
    """
    match = described.match
    if match is None:
        if not memo:
            return None
        return catalogue.match_memo(memo, described.memo_channel, described.memo_channel_name)
    if memo and match.kind_source == "default":
        return catalogue.refine_kind(match, memo)
    return match


def _tracker(layout: Layout, columns: ColumnMap, settings: FileSettings) -> ConventionTracker:
    """Start from what the config and the layout fix about the file's dates and amounts."""
    tracker = ConventionTracker()
    if settings.date_order:
        tracker.date_order, tracker.date_order_source = settings.date_order, "config"
    elif layout.date_order:
        tracker.date_order, tracker.date_order_source = layout.date_order, "layout"
    if settings.decimal_mark:
        tracker.decimal_mark, tracker.decimal_mark_source = settings.decimal_mark, "config"
    elif layout.decimal_mark:
        tracker.decimal_mark, tracker.decimal_mark_source = layout.decimal_mark, "layout"
    if settings.charge_sign:
        tracker.charge_sign, tracker.charge_sign_source = settings.charge_sign, "config"
    elif columns.first("amount") is None:
        # Debit and credit columns both hold positive numbers: purchases are the debits.
        tracker.charge_sign, tracker.charge_sign_source = 1, "layout"
    elif layout.charge_sign:
        tracker.charge_sign, tracker.charge_sign_source = layout.charge_sign, "layout"
    return tracker


def _text(cells: list[Any], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    cell = cells[index]
    if type(cell) is str:
        return cell.strip()
    return "" if cell is None else str(cell).strip()


def _joined(cells: list[Any], positions: tuple[int, ...]) -> str:
    """Join the parts of a name kept in several columns, such as first and last name."""
    return " ".join(part for part in (_text(cells, index) for index in positions) if part)


def _date_of(cell: Any) -> tuple[DateText | None, str | None]:
    if isinstance(cell, str):
        if not cell.strip():
            return None, "has no date"
        found = read_date(cell)
        return (found, None) if found else (None, f"date {cell.strip()!r} is not a date")
    if isinstance(cell, (datetime, date)):
        return date_from_cell(cell), None
    if cell is None:
        return None, "has no date"
    return None, f"date cell contains {cell!r}, not a date; format the column as dates"


def _amount_of(cells: list[Any], amount_at: int | None, debit_at: int | None, credit_at: int | None) -> tuple[AmountText | None, str, str | None]:
    """Read the amount of a row (debit minus credit where the export splits them). Return it,
    the text it was read from, and the reason the row is bad, if it is."""
    if amount_at is not None:
        cell = cells[amount_at] if amount_at < len(cells) else None
        return _one_amount(cell)

    debit, debit_text, debit_problem = _one_amount(cells[debit_at] if debit_at < len(cells) else None)
    credit, credit_text, credit_problem = _one_amount(cells[credit_at] if credit_at < len(cells) else None)
    if debit is None and credit is None:
        if debit_text or credit_text:
            return None, "", debit_problem if debit_text else credit_problem
        return None, "", "has no amount in either the debit or the credit column"
    if debit_text and debit is None:
        return None, "", debit_problem
    if credit_text and credit is None:
        return None, "", credit_problem
    zero = AmountText(Decimal(0), Decimal(0))
    debit, credit = debit or zero, credit or zero
    return (
        AmountText(
            None if debit.dot is None or credit.dot is None else debit.dot - abs(credit.dot),
            None if debit.comma is None or credit.comma is None else debit.comma - abs(credit.comma),
            debit.currency or credit.currency,
        ),
        debit_text or credit_text,
        None,
    )


def _one_amount(cell: Any) -> tuple[AmountText | None, str, str | None]:
    if isinstance(cell, str):
        text = cell.strip()
        if not text:
            return None, "", "has no amount"
        found = read_amount(text)
        return (found, text, None) if found else (None, text, f"amount {text!r} is not an amount")
    if isinstance(cell, (int, float, Decimal)) and not isinstance(cell, bool):
        return amount_from_number(cell), str(cell), None
    if cell is None:
        return None, "", "has no amount"
    return None, str(cell), f"amount cell contains {cell!r}, not a number"


def _settle(
    reading: FileReading,
    tracker: ConventionTracker,
    pending: list[_PendingCharge],
    columns: ColumnMap,
    settings: FileSettings,
    layout: Layout,
    location: str,
) -> None:
    """Decide the file's conventions, name the rows that contradict them, and turn the pending
    rows into charges."""
    date_order = tracker.decide_date_order()
    decimal_mark = tracker.decide_decimal_mark()
    charge_sign = tracker.decide_charge_sign()
    reading.date_order = tracker.reported_date_order(date_order)
    reading.notes.extend(describe_decisions(location, date_order, decimal_mark, charge_sign, tracker, layout.title))
    _name_contradictions(reading, date_order, f"date does not read as {DATE_ORDER_WORDS[date_order.value]}, the order of the rest of the file")
    _name_contradictions(reading, decimal_mark, f"amount does not read with {decimal_mark.value!r} as the decimal mark, like the rest of the file")

    sign = int(charge_sign.value)
    assumed_currency: Counter[str] = Counter()
    pending.reverse()
    while pending:
        item = pending.pop()
        day = tracker.date_of(item.date_text, date_order.value)
        value = item.amount_text.value(decimal_mark.value)
        if day is None or value is None:
            continue  # counted and named above among the contradicting rows
        amount = value * sign
        if (item.refund_type or item.amount_text.credit) and amount > 0:
            amount = -amount

        currency, problem, assumed = _currency_of(item, columns, settings, layout)
        if problem:
            reading.add_bad_row(item.row, problem)
            continue
        if assumed:
            assumed_currency[currency] += 1

        reading.charges.append(
            Charge(
                file=location,
                row=item.row,
                date=day,
                merchant=item.merchant,
                memo=item.memo,
                amount=amount,
                currency=currency,
                vendor=item.match.vendor,
                kind=item.match.kind,
                confidence=item.match.confidence,
                channel=item.match.channel,
                channel_name=item.match.channel_name,
                cardholder=item.cardholder or None,
                card=_card_reference(item.card),
                department=item.department or None,
            )
        )

    for sign, shared in SHARED_SIGNS.items():
        count = assumed_currency[shared.default] if shared.default else 0
        if count:
            charges = "1 AI charge carries" if count == 1 else f"{count} AI charges carry"
            reading.notes.append(
                f"{location}: {charges} only a {sign} sign and no currency, read as {shared.default}. "
                f"Set currency for this file if it is another currency written with {sign}."
            )
    unnamed = assumed_currency[NO_CURRENCY]
    if unnamed:
        charges = "1 AI charge names" if unnamed == 1 else f"{unnamed} AI charges name"
        where = "their currency cells are empty" if columns.first("currency") is not None else "the file has no currency column"
        reading.notes.append(
            f"{location}: {charges} no currency ({where} and the amounts name none), listed under "
            f"{NO_CURRENCY}, the ISO 4217 code for no currency. Set currency for this file in the config."
        )
    if reading.unnamed_app_store_rows:
        count = reading.unnamed_app_store_rows
        what = "1 app-store charge names" if count == 1 else f"{count} app-store charges name"
        reading.notes.append(f"{location}: {what} no product in the memo; an AI subscription among them cannot be recognised.")
    if reading.left_out_rows:
        reading.notes.append(_left_out_note(reading, layout, location))


def _left_out_note(reading: FileReading, layout: Layout, location: str) -> str:
    count = reading.left_out_rows
    if layout.left_out_words is None:
        if count == 1:
            return f"{location}: 1 row is a card payment or transfer, not a purchase, and was left out."
        return f"{location}: {count} rows are card payments or transfers, not purchases, and were left out."
    parts = [f"{number} {layout.left_out_words[row_type][number != 1]}" for row_type, number in sorted(reading.left_out_types.items())]
    return f"{location}: {count} {'row was' if count == 1 else 'rows were'} left out: {'; '.join(parts)}."


def _name_contradictions(reading: FileReading, decision: Decision, reason: str) -> None:
    evidence = decision.contradicting
    if not evidence.count:
        return
    for row, text in evidence.examples:
        if len(reading.bad_rows) < MAX_NAMED_BAD_ROWS:
            reading.bad_rows.append(SkippedRow(reading.location, row, f"{reason} ({text})"))
    reading.bad_row_count += evidence.count


def _currency_of(item: _PendingCharge, columns: ColumnMap, settings: FileSettings, layout: Layout) -> tuple[str, str | None, bool]:
    """Decide the currency of a charge.

    The sources are tried in order: its currency column, the code or symbol in its amount, the
    amount column's header, the file's setting and the layout's currency. A bare `$` is USD, and
    a charge with none of these is `XXX`. Return the code, the reason the row is bad if it is,
    and whether the code was assumed (USD for a `$`, JPY for a `¥`, or XXX).
    """
    cell = item.currency_cell.strip()
    written = item.amount_text.currency
    sign = written if written in SHARED_SIGNS else None
    if cell:
        code = CURRENCY_SYMBOLS.get(cell, cell.upper())
        if code in SHARED_SIGNS:
            sign = sign or code
        else:
            if not is_currency_code(code):
                return "", f"currency {cell!r} is not an ISO 4217 code", False
            if written and not sign and written != code:
                return "", f"amount is in {written} but the currency column says {code}; correct the row or the column", False
            if sign and code not in SHARED_SIGNS[sign].currencies:
                return "", f"amount has a {sign} sign but the currency column says {code}; correct the row or the column", False
            return code, None, False
    if written and not sign:
        return written, None, False
    for fallback in (columns.header_currency, settings.currency, layout.currency):
        if fallback:
            return fallback, None, False
    if sign and SHARED_SIGNS[sign].default:
        return SHARED_SIGNS[sign].default, None, True
    return NO_CURRENCY, None, True


def _card_reference(text: str) -> str | None:
    """Return the card as reports show it: a full card number only by its last four digits."""
    if not text:
        return None
    if _CARD_NUMBER.fullmatch(text):
        return redact(re.sub(r"[ -]", "", text))
    return text
