"""The output of `shadowmap expenses`: JSON, CSV and text forms of an expense review.

The JSON document contains `charges` (the AI charges only, each with its file, its row counted from
1 after the header, merchant, amount as a decimal string, currency, vendor, kind and confidence),
`auto_recharges`, `totals` per vendor and currency, `bad_rows` (counted, and the first ones of
each file named) and `files` (how each file was read). Amounts of different currencies are never
added together.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any, Iterator

from collectors.expense.attribution import is_sanctioned
from collectors.expense.charges import Charge, FileReading
from collectors.expense.review import ExpenseReview
from scanner.model import count_text, decimal_text

STREAM_PIECE_SIZE = 64 * 1024

CSV_COLUMNS = (
    "file", "row", "date", "merchant", "amount", "currency", "vendor", "vendor_name", "category", "kind",
    "confidence", "channel", "cardholder", "card", "department", "auto_recharge", "sanctioned",
)


def review_document(review: ExpenseReview, sanctioned: tuple[str, ...] | None) -> dict[str, Any]:
    """Build the JSON document of a review. `sanctioned` is policy.sanctioned_vendors, or None
    when no config states one."""
    return {
        "files": [
            {
                "file": reading.location,
                "layout": reading.layout,
                "rows": reading.row_count,
                "charges": len(reading.charges),
                "bad_rows": reading.bad_row_count,
                "left_out_rows": reading.left_out_rows,
                "date_order": reading.date_order,
                "error": reading.error,
                "notes": reading.notes,
            }
            for reading in review.files
        ],
        "charges": [_charge_entry(charge, sanctioned) for charge in review.charges],
        "auto_recharges": [
            {
                "id": recharge.id,
                "vendor": recharge.vendor.id,
                "account": recharge.account,
                "currency": recharge.currency,
                "amount": decimal_text(recharge.amount),
                "charge_count": len(recharge.charges),
                "first_date": recharge.first_date.isoformat(),
                "last_date": recharge.last_date.isoformat(),
                "rows": [{"file": charge.file, "row": charge.row} for charge in recharge.charges],
            }
            for recharge in review.auto_recharges
        ],
        "totals": [
            {"vendor": vendor, "vendor_name": name, "currency": currency, "amount": decimal_text(amount), "charge_count": count}
            for (vendor, name, currency), (amount, count) in _totals(review.charges).items()
        ],
        "bad_rows": {
            "count": review.bad_row_count,
            "named": [{"file": row.location, "row": row.row, "reason": row.reason} for reading in review.files for row in reading.bad_rows],
        },
    }


def render_json(review: ExpenseReview, sanctioned: tuple[str, ...] | None) -> str:
    return "".join(stream_json(review, sanctioned))


def stream_json(review: ExpenseReview, sanctioned: tuple[str, ...] | None) -> Iterator[str]:
    """Yield the JSON document in pieces of about 64 KB, so that a large result is written out
    as it is encoded rather than held as one string."""
    pieces: list[str] = []
    size = 0
    for chunk in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(review_document(review, sanctioned)):
        pieces.append(chunk)
        size += len(chunk)
        if size >= STREAM_PIECE_SIZE:
            yield "".join(pieces)
            pieces, size = [], 0
    pieces.append("\n")
    yield "".join(pieces)


def render_csv(review: ExpenseReview, sanctioned: tuple[str, ...] | None) -> str:
    """Render one CSV line per AI charge, with the columns of CSV_COLUMNS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for charge in review.charges:
        entry = _charge_entry(charge, sanctioned)
        entry["sanctioned"] = "" if entry["sanctioned"] is None else str(entry["sanctioned"]).lower()
        writer.writerow({key: "" if value is None else value for key, value in entry.items()})
    return buffer.getvalue()


def reading_counts(reading: FileReading) -> str:
    """Write a file's counts for a log line: `1,200 rows, 3 AI charges, 0 bad rows`."""
    return ", ".join(
        (count_text(reading.row_count, "row"), count_text(len(reading.charges), "AI charge"), count_text(reading.bad_row_count, "bad row"))
    )


def render_text(review: ExpenseReview, sanctioned: tuple[str, ...] | None) -> str:
    """Render a summary for a person: totals per vendor, every charge, auto-recharges, bad rows, notes."""
    charges = review.charges
    readable = [reading for reading in review.files if not reading.error]
    files = "file" if len(review.files) == 1 else "files"
    lines = [
        f"AI charges: {len(charges)} in {len(readable)} of {len(review.files)} {files}, "
        f"{count_text(len(review.auto_recharges), 'auto-recharge')}, {count_text(review.bad_row_count, 'bad row')}."
    ]

    totals = _totals(charges)
    if totals:
        lines += ["", "Totals by vendor"]
        table = [("vendor", "currency", "amount", "charges")]
        table += [(name, currency, decimal_text(amount), str(count)) for (_, name, currency), (amount, count) in totals.items()]
        lines += _table(table, right=(2, 3))

    if charges:
        lines += ["", "Charges"]
        table = [("file:row", "date", "amount", "vendor", "kind", "confidence", "account", "merchant")]
        for charge in charges:
            vendor = charge.vendor.name
            if sanctioned is not None and not is_sanctioned(charge.vendor.all_names, sanctioned):
                vendor += " (not sanctioned)"
            table.append((
                f"{charge.file}:{charge.row}",
                charge.date.isoformat(),
                f"{decimal_text(charge.amount)} {charge.currency}",
                vendor,
                charge.kind + (f" ({charge.auto_recharge})" if charge.auto_recharge else ""),
                charge.confidence,
                _account_text(charge),
                charge.merchant,
            ))
        lines += _table(table, right=(2,))

    if review.auto_recharges:
        lines += ["", "Auto-recharges"]
        for recharge in review.auto_recharges:
            lines.append(
                f"  {recharge.id}: {len(recharge.charges)} {recharge.vendor.name} top-ups, {decimal_text(recharge.amount)} "
                f"{recharge.currency}, {recharge.card_text}, {recharge.first_date} to {recharge.last_date}"
            )

    named = [row for reading in review.files for row in reading.bad_rows]
    if review.bad_row_count:
        lines += ["", f"Bad rows ({review.bad_row_count}, {len(named)} named)"]
        lines += [f"  {row.location}:{row.row}: {row.reason}" for row in named]

    notes = [note for reading in review.files for note in reading.notes]
    if notes:
        lines += ["", "How the files were read"]
        lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _charge_entry(charge: Charge, sanctioned: tuple[str, ...] | None) -> dict[str, Any]:
    return {
        "file": charge.file,
        "row": charge.row,
        "date": charge.date.isoformat(),
        "merchant": charge.merchant,
        "memo": charge.memo,
        "amount": decimal_text(charge.amount),
        "currency": charge.currency,
        "vendor": charge.vendor.id,
        "vendor_name": charge.vendor.name,
        "category": charge.vendor.category,
        "kind": charge.kind,
        "confidence": charge.confidence,
        "channel": charge.channel,
        "channel_name": charge.channel_name,
        "cardholder": charge.cardholder,
        "card": charge.card,
        "department": charge.department,
        "refund": charge.refund,
        "auto_recharge": charge.auto_recharge,
        "sanctioned": None if sanctioned is None else is_sanctioned(charge.vendor.all_names, sanctioned),
    }


def _totals(charges: list[Charge]) -> dict[tuple[str, str, str], tuple[Decimal, int]]:
    """Net amount and number of charges per vendor and currency, largest first."""
    sums: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for charge in charges:
        entry = sums[(charge.vendor.id, charge.vendor.name, charge.currency)]
        entry[0] += charge.amount
        entry[1] += 1
    ordered = sorted(sums.items(), key=lambda item: (item[0][2], -item[1][0], item[0][0]))
    return {key: (amount, count) for key, (amount, count) in ordered}


def _account_text(charge: Charge) -> str:
    account = charge.account or "-"
    return f"{account} ({charge.department})" if charge.department else account


def _table(rows: list[tuple[str, ...]], right: tuple[int, ...] = ()) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines
