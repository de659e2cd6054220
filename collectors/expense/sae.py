"""Read SAP Concur's Standard Accounting Extract (SAE).

The SAE is the file Concur Expense writes for a company's finance system after each payment
batch: pipe-delimited text with no header row and no quoting. Its first line is the file header
`EXTRACT|batch date|record count|journal amount total|batch id`. Every other line is a `DETAIL`
line: one journal entry of an approved expense report, with the report, the expense entry and the
journal in fixed columns (about 400 of them).

One expense entry gives one or more journal lines: one per allocation, and more where a cash
advance or a personal share is settled. So an entry is counted once, on its first line, with the
entry's own amount. Lines that belong to no expense entry (a cash advance issued) and entries
marked personal are left out and counted in the notes.

Column numbers count from 1, the constant `DETAIL` being column 1, as Concur's specification
numbers them. An extract whose version places a field elsewhere is mapped by number in the config
(`columns: {amount: 124}`). The defaults were checked against the public SAE test files of a
university's Concur integration. Its parser reads the report, entry, expense type and personal
flag from these columns, and the files' values show the dates, vendors and amounts in the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO, Iterator

from collectors.expense.layouts import CONCUR_SAE, CONFIG_KEYS, ColumnMap, RowProblem

DETAIL = "DETAIL"

# The columns a charge is read from, by their numbers in Concur's specification.
EMPLOYEE_LAST_NAME = 6
EMPLOYEE_FIRST_NAME = 7
REPORT_KEY = 20
ENTRY_ID = 61
TRANSACTION_DATE = 64
ENTRY_CURRENCY = 65
ENTRY_IS_PERSONAL = 68
ENTRY_DESCRIPTION = 69
ENTRY_VENDOR_NAME = 70
ENTRY_VENDOR_DESCRIPTION = 71
# NOTE: columns 122 to 125 hold the same value in every public sample (an entry paid in the
# report's currency), so 123 as the transaction amount is read from the specification alone.
ENTRY_TRANSACTION_AMOUNT = 123

DEFAULT_COLUMNS: dict[str, tuple[int, ...]] = {
    "date": (TRANSACTION_DATE,),
    "descriptor": (ENTRY_VENDOR_DESCRIPTION, ENTRY_VENDOR_NAME),
    "memo": (ENTRY_DESCRIPTION,),
    "amount": (ENTRY_TRANSACTION_AMOUNT,),
    "currency": (ENTRY_CURRENCY,),
    "cardholder_parts": (EMPLOYEE_FIRST_NAME, EMPLOYEE_LAST_NAME),
}
# Fields a config may map by number; the rest of FIELDS mean nothing in an extract.
MAPPABLE = ("date", "descriptor", "memo", "amount", "currency", "cardholder", "cardholder_parts", "card", "department")

# Reasons a line is not a charge. The layout leaves these row types out, and the notes count them.
FURTHER_JOURNAL_LINE = "further journal line"
NO_ENTRY = "no expense entry"
PERSONAL = "personal"

_FOUR_DECIMALS = re.compile(r"^([+-]?\d+\.\d\d)00$")
_HEADER = re.compile(r"EXTRACT\|(\d{4}-\d{2}-\d{2})\|(\d+)\|([+-]?\d+(?:\.\d+)?)\|([^|\r\n]*)")


@dataclass(frozen=True)
class ExtractHeader:
    """The file header line of an extract."""

    batch_date: str
    record_count: int
    batch_id: str


class ExtractMappingError(ValueError):
    """An invalid `columns:` mapping for an extract; the message names the fix."""


def read_header(line: str) -> ExtractHeader | None:
    """Read the first line of a file as an extract's header, or None when it is not one."""
    match = _HEADER.match(line.strip())
    if not match:
        return None
    return ExtractHeader(match[1], int(match[2]), match[4].strip())


def column_map(mapping: dict[str, tuple[object, ...]] | None) -> tuple[ColumnMap, dict[str, tuple[int, ...]]]:
    """Return where each field sits in the rows `ExtractRows` yields, and the extract columns
    (zero-based) each field is read from, with the config's numbers replacing the defaults."""
    numbers = dict(DEFAULT_COLUMNS)
    check_mapping(mapping)
    for name, numbered in (mapping or {}).items():
        if name == "cardholder":
            numbers.pop("cardholder_parts", None)
        if name == "cardholder_parts":
            numbers.pop("cardholder", None)
        numbers[name] = tuple(numbered)  # type: ignore[arg-type]

    positions: dict[str, tuple[int, ...]] = {}
    sources: dict[str, tuple[int, ...]] = {}
    width = 0
    for name, columns in numbers.items():
        positions[name] = tuple(range(width, width + len(columns)))
        sources[name] = tuple(number - 1 for number in columns)
        width += len(columns)
    positions["type"] = (width,)
    headers = {name: tuple(f"column {number}" for number in columns) for name, columns in numbers.items()}
    return ColumnMap(positions, headers, None, width + 1), sources


def check_mapping(mapping: dict[str, tuple[object, ...]] | None) -> None:
    """Raise ExtractMappingError unless every field the config maps applies to an extract and is
    named by number."""
    for name, numbered in (mapping or {}).items():
        if name not in MAPPABLE:
            raise ExtractMappingError(
                f"columns.{name} does not apply to a Standard Accounting Extract; map date, merchant, memo, amount, currency, cardholder, card or department"
            )
        if not all(isinstance(number, int) and not isinstance(number, bool) for number in numbered):
            raise ExtractMappingError("a Standard Accounting Extract has no header row; name its columns by number (1 is the DETAIL column), such as amount: 124")


def configured_beyond(mapping: dict[str, tuple[object, ...]] | None, width: int) -> str | None:
    """Return the error for a column number of the config beyond the `width` fields of the
    extract's lines, or None when every mapped column is within them."""
    for name, numbered in (mapping or {}).items():
        beyond = [number for number in numbered if isinstance(number, int) and number > width]
        if beyond:
            key = CONFIG_KEYS.get(name, name)
            return f"columns.{key}: column {beyond[0]} is beyond the {width} fields of this extract's DETAIL lines; check the number"
    return None


@dataclass
class ExtractRows:
    """The DETAIL lines of an extract as rows of the fields a charge needs, one row per line.

    A line that is not a DETAIL line, or too short to hold the columns read, comes out as a
    RowProblem. After the last line, `closing_notes` compares the lines with the file header.
    """

    stream: IO[str]
    header: ExtractHeader
    sources: dict[str, tuple[int, ...]]
    mapping: dict[str, tuple[object, ...]] | None = None
    detail_lines: int = 0
    _seen_entries: set[tuple[str, ...]] = field(default_factory=set)
    # Where the amount sits in the rows yielded, which follow the order of `sources`.
    _amount_positions: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        start = 0
        for name, numbers in self.sources.items():
            if name == "amount":
                self._amount_positions = tuple(range(start, start + len(numbers)))
                return
            start += len(numbers)
        self._amount_positions = ()

    def __iter__(self) -> Iterator[list[str] | RowProblem]:
        needed = max(max(numbers) for numbers in self.sources.values() if numbers) + 1
        needed = max(needed, ENTRY_IS_PERSONAL, ENTRY_ID)
        default_needed = max(max(numbers) for numbers in DEFAULT_COLUMNS.values())
        mapping_checked = not self.mapping
        for line in self.stream:
            text = line.rstrip("\r\n")
            if not text.strip():
                yield []
                continue
            cells = text.split("|")
            if cells[0].strip() != DETAIL:
                yield RowProblem(f"starts with {cells[0][:20]!r} where a Standard Accounting Extract line starts with DETAIL")
                continue
            self.detail_lines += 1
            if not mapping_checked and len(cells) >= default_needed:
                # A config number beyond the first whole line is beyond every line, unlike a
                # line cut short.
                mapping_checked = True
                problem = configured_beyond(self.mapping, len(cells))
                if problem:
                    raise ExtractMappingError(problem)
            if len(cells) < needed:
                yield RowProblem(f"has {len(cells)} fields where the columns read need {needed}; the line may be cut short")
                continue
            yield self._row(cells)

    def _row(self, cells: list[str]) -> list[str]:
        row = [cells[index].strip() for numbers in self.sources.values() for index in numbers]
        for position in self._amount_positions:
            # The extract writes four decimals (1210.0000); cents are what the card was charged.
            row[position] = _FOUR_DECIMALS.sub(r"\1", row[position])
        entry = cells[ENTRY_ID - 1].strip()
        if not entry:
            row.append(NO_ENTRY)
        elif cells[ENTRY_IS_PERSONAL - 1].strip().upper() == "Y":
            row.append(PERSONAL)
        else:
            # The transaction date is in the key because test extracts reuse one entry id for
            # entries of different days.
            key = (cells[REPORT_KEY - 1].strip(), entry, cells[TRANSACTION_DATE - 1].strip())
            row.append(FURTHER_JOURNAL_LINE if key in self._seen_entries else "")
            self._seen_entries.add(key)
        return row

    def closing_notes(self, location: str) -> list[str]:
        """Return a note when the file has fewer or more DETAIL lines than its header counts, the
        sign of a cut or edited file."""
        notes = []
        header = self.header
        if self.detail_lines != header.record_count:
            notes.append(
                f"{location}: the extract header counts {header.record_count} DETAIL lines but the file has "
                f"{self.detail_lines}; the file may be cut short or edited. Export the batch again."
            )
        return notes

    def describe(self) -> str:
        batch = f"batch {self.header.batch_id} of {self.header.batch_date}" if self.header.batch_id else f"batch of {self.header.batch_date}"
        return f"{CONCUR_SAE.title}, {batch}"
