"""Open an expense export as its header and a stream of rows.

A CSV file may be UTF-8 (with or without a byte-order mark), UTF-16 (either byte order, as
Excel's "Unicode text" writes it, often tab-separated) or Windows-1252, with `,`, `;`, tab or `|`
between fields. An XLSX workbook is read in openpyxl's read-only mode, so its rows stream from
the file.

The header is searched in the first lines of the file, because exports such as American Express
statements and Concur reports put blank lines or a report title above it. A file whose first line
is `EXTRACT|...` is SAP Concur's Standard Accounting Extract, which has no header row (sae.py).
"""

from __future__ import annotations

import codecs
import csv
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from collectors.expense import sae
from collectors.expense.layouts import CONCUR_SAE, ColumnMap, Layout, layout_by_name, missing_columns, missing_mapped_columns, recognise

HEADER_SEARCH_ROWS = 30
DELIMITERS = (",", ";", "\t", "|")
ENCODING_SAMPLE_BYTES = 64 * 1024

# Encodings a config may name, and the codec each one is read with. `utf-8-sig` reads UTF-8
# with or without a byte-order mark; `utf-16` reads either byte order from the mark.
CONFIG_ENCODINGS = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be", "windows-1252": "cp1252"}
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "cp1252": "Windows-1252"}

_XLSX_MAGIC = b"PK\x03\x04"
_LEGACY_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
_PDF_MAGIC = b"%PDF"
_LEGACY_ERRORS = "shadowmap-cp1252"


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the five bytes Windows-1252 leaves undefined as Latin-1, so no byte is lost."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_LEGACY_ERRORS, _latin1_fallback)

csv.field_size_limit(16 * 1024 * 1024)


class ExportUnreadable(Exception):
    """The whole file cannot be read as an expense export. The message gives the cause and the fix."""


@dataclass
class OpenExport:
    """An export with its header found: the layout, where each field is, and the data rows."""

    path: Path
    layout: Layout
    columns: ColumnMap
    header_row: int
    rows: Iterator[list[Any]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    close: Callable[[], None] = field(default=lambda: None)
    # Notes that need the whole file, read after the last row.
    closing_notes: Callable[[str], list[str]] = field(default=lambda location: [])
    title: str | None = None

    def describe(self) -> str:
        """Describe how the file was read, for the outcome notes."""
        if self.title is not None:
            return f"{self.title}, {ENCODING_NAMES.get(self.encoding or '', self.encoding)}, pipe-separated, no header row"
        if self.sheet is not None:
            return f"{self.layout.title} layout, sheet {self.sheet!r}, header in row {self.header_row}"
        delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[self.delimiter or ","]
        encoding = ENCODING_NAMES.get(self.encoding or "", self.encoding)
        return f"{self.layout.title} layout, {encoding}, {delimiter}-separated, header on line {self.header_row}"


def open_export(
    path: Path,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping: dict[str, tuple[str, ...]] | None = None,
    forced: str | None = None,
) -> OpenExport:
    """Open `path` and find its header; raise ExportUnreadable naming what is wrong."""
    try:
        with path.open("rb") as probe:
            head = probe.read(ENCODING_SAMPLE_BYTES)
    except FileNotFoundError:
        if glob.has_magic(str(path)):
            raise ExportUnreadable("no file matches this pattern; check the pattern and the folder it starts from") from None
        raise ExportUnreadable("file not found; check the path") from None
    except IsADirectoryError:
        raise ExportUnreadable("is a folder; name the export files in it, or a glob such as exports/*.csv") from None
    except OSError as error:
        raise ExportUnreadable(f"cannot be read ({error.strerror}); check its permissions") from None

    if head.startswith(_XLSX_MAGIC):
        return _open_workbook(path, sheet, mapping, forced)
    if head.startswith(_LEGACY_EXCEL_MAGIC):
        raise ExportUnreadable("is an Excel 97-2003 workbook, which is not read; save it as .xlsx or CSV")
    if head.startswith(_PDF_MAGIC):
        raise ExportUnreadable("is a PDF statement, which is not read; download the statement as CSV or XLSX")
    if not head.strip():
        raise ExportUnreadable("is empty; export it again from the card or expense tool")
    codec = CONFIG_ENCODINGS[encoding] if encoding else detect_encoding(head)
    return open_text(path, codec, mapping, forced)


def detect_encoding(head: bytes) -> str:
    """Decide the codec of a text export from its first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 2 and head.count(0) >= len(head) // 4:
        # UTF-16 text of mostly ASCII characters has a zero in every other byte: after each
        # character in little-endian order, before it in big-endian order.
        zeros_after = head[1::2].count(0)
        zeros_before = head[0::2].count(0)
        return "utf-16-le" if zeros_after >= zeros_before else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def open_text(path: Path, codec: str, mapping: dict[str, tuple[str, ...]] | None, forced: str | None) -> OpenExport:
    """Open a delimited text export with `codec` and find its header line."""
    errors = _LEGACY_ERRORS if codec == "cp1252" else "strict"
    stream = path.open("r", encoding=codec, errors=errors, newline="")
    try:
        extract = _open_extract(path, stream, codec, mapping, forced)
        if extract is not None:
            return extract
        lines: list[str] = []
        for line_number in range(1, HEADER_SEARCH_ROWS + 1):
            line = stream.readline()
            if not line:
                break
            lines.append(line)
            found = _recognise_line(line, mapping, forced)
            if found is not None:
                layout, columns, delimiter = found
                rows = csv.reader(stream, delimiter=delimiter)
                return OpenExport(path, layout, columns, line_number, rows, codec, delimiter, close=stream.close)
    except BaseException:
        stream.close()
        raise
    stream.close()
    raise ExportUnreadable(_no_header_reason(lines, mapping, forced))


def _open_extract(path: Path, stream: Any, codec: str, mapping: dict[str, tuple[Any, ...]] | None, forced: str | None) -> OpenExport | None:
    """Open the file as a Standard Accounting Extract when its first line is an extract header;
    otherwise rewind it and return None."""
    first = stream.readline()
    header = sae.read_header(first)
    if header is None:
        if forced == CONCUR_SAE.name:
            raise ExportUnreadable(
                "is not a Standard Accounting Extract: its first line is not EXTRACT|batch date|record count|amount|batch id; "
                "check the file, or set format to the layout it has"
            )
        stream.seek(0)
        return None
    if forced and forced != CONCUR_SAE.name:
        stream.seek(0)
        return None
    try:
        columns, sources = sae.column_map(mapping)
    except sae.ExtractMappingError as error:
        raise ExportUnreadable(str(error)) from None
    rows = sae.ExtractRows(stream, header, sources, mapping)
    return OpenExport(
        path, CONCUR_SAE, columns, 1, iter(rows), codec, "|", close=stream.close, closing_notes=rows.closing_notes, title=rows.describe()
    )


def _recognise_line(line: str, mapping: dict[str, tuple[str, ...]] | None, forced: str | None) -> tuple[Layout, ColumnMap, str] | None:
    if not line.strip():
        return None
    for delimiter in DELIMITERS:
        if delimiter not in line:
            continue
        cells = next(csv.reader([line], delimiter=delimiter))
        if len(cells) < 2:
            continue
        found = recognise(cells, mapping, forced)
        if found is not None:
            return found[0], found[1], delimiter
    return None


def _no_header_reason(lines: list[str], mapping: dict[str, tuple[str, ...]] | None, forced: str | None) -> str:
    if forced or mapping:
        widest = max((_split_widest(line) for line in lines if line.strip()), key=len, default=[])
        reason = _missing_columns_reason(widest, mapping, forced, f"the first {HEADER_SEARCH_ROWS} lines")
        if reason:
            return reason
    return (
        f"no header row of a known export in the first {HEADER_SEARCH_ROWS} lines: expected a date, a "
        "description or merchant, and an amount column; map the columns under sources.expense in the config"
    )


def _missing_columns_reason(headers: list[str], mapping: dict[str, tuple[Any, ...]] | None, forced: str | None, where: str) -> str | None:
    """Name the columns that the config's mapping or format expects and no header row has, and
    the setting to check."""
    mapped_missing = missing_mapped_columns(headers, mapping) if mapping else []
    if mapped_missing:
        return f"no header row in {where} has the columns for {', '.join(mapped_missing)}; check these names under columns in the config"
    layout = layout_by_name(forced or "generic")
    missing = missing_columns(layout, headers, mapping)
    if not missing:
        return None
    if mapping:
        check = "map them under columns in the config"
    else:
        check = f"check format: {forced} in the config, which names the {layout.title} layout; this file may have another"
    return f"no header row in {where} has the columns for {', '.join(missing)}; {check}"


def _split_widest(line: str) -> list[str]:
    splits = [next(csv.reader([line], delimiter=delimiter)) for delimiter in DELIMITERS]
    return max(splits, key=len)


def _open_workbook(path: Path, sheet: str | None, mapping: dict[str, tuple[str, ...]] | None, forced: str | None) -> OpenExport:
    """Open an XLSX workbook and find the header in the named sheet or in the first sheet that
    has one."""
    import openpyxl  # noqa: PLC0415 - imported only for workbooks

    # openpyxl reads a file object whatever the file's name, where a path must end in .xlsx.
    handle = path.open("rb")
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many types for a broken file
        handle.close()
        raise ExportUnreadable(f"is not a readable XLSX workbook ({type(error).__name__}); open and save it again in a spreadsheet program") from None

    def close() -> None:
        workbook.close()
        handle.close()

    if sheet is not None and sheet not in workbook.sheetnames:
        close()
        raise ExportUnreadable(f"has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}")
    worksheets = [workbook[sheet]] if sheet is not None else list(workbook.worksheets)

    widest: list[str] = []
    for worksheet in worksheets:
        rows = worksheet.iter_rows(values_only=True)
        for row_number in range(1, HEADER_SEARCH_ROWS + 1):
            row = next(rows, None)
            if row is None:
                break
            headers = ["" if cell is None else str(cell) for cell in row]
            filled = sum(1 for header in headers if header)
            if filled > sum(1 for header in widest if header):
                widest = headers
            found = recognise(headers, mapping, forced) if filled >= 2 else None
            if found is not None:
                layout, columns = found
                return OpenExport(path, layout, columns, row_number, (list(row) for row in rows), sheet=worksheet.title, close=close)
    close()
    if mapping or forced:
        reason = _missing_columns_reason(widest, mapping, forced, f"the first {HEADER_SEARCH_ROWS} rows of any sheet")
        if reason:
            raise ExportUnreadable(reason)
    raise ExportUnreadable(
        f"no sheet has a header row of a known export in its first {HEADER_SEARCH_ROWS} rows: expected a date, "
        "a description or merchant, and an amount column; map the columns under sources.expense in the config"
    )
