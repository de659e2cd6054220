"""Read FOCUS billing exports and turn their AI rows into spend lines.

FOCUS 1.0 to 1.2 exports are read as CSV (plain or gzip; UTF-8, UTF-16 or Windows-1252) or as
Parquet, from a path or a glob. DuckDB reads each file and groups its AI rows down to one row per
attribution key before any Python object is made, so memory follows the number of keys, not the
number of rows. Which rows are AI spend is data, kept in rules/catalogues/ai_services.yaml.

Known limits:
- A CSV row is numbered by its record: the header is line 1, the n-th data record line n + 1.
  That is the line a text editor shows unless a quoted field above it spans several lines,
  because DuckDB (2.0) reports no physical line for the rows it accepts. Counting line breaks
  in a second pass would lift this.
- The encoding is decided from the first 64 MiB of text. If a file is valid UTF-8 there but not
  further on, the later rows with invalid bytes are skipped, each named, rather than the file
  being read again as Windows-1252.
- DuckDB keeps every rejected CSV row in memory (about 2 KB each, measured with DuckDB 2.0.1). A
  probe of the first rows sets aside a file that is mostly unreadable before it is read in
  full, but a large file with millions of scattered broken rows still costs that memory.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import functools
import glob
import gzip
import io
import json
import re
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Context, Decimal
from importlib import resources
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import duckdb
import yaml

from collectors.contract import CollectContext, SourceKind
from scanner.config import AuditConfig, FocusSource
from scanner.errors import InputError
from scanner.model import (
    CollectorOutcome,
    CollectorResult,
    ScopeGap,
    SkippedRow,
    SourceRef,
    SpendLine,
    Tags,
)

# Money and quantities are summed in DuckDB as this exact type. FOCUS cost values carry 11
# decimal places in the FinOps Foundation sample, so 18 leave room for exports with more, and the
# 20 integer digits left are enough for any bill. A value with more than 18 decimals is rounded.
EXACT_NUMBER_TYPE = "DECIMAL(38,18)"

# Enough precision to trim and add DECIMAL(38,18) values without rounding.
EXACT_CONTEXT = Context(prec=80)

MAX_NAMED_SKIPPED_ROWS = 100
PROBE_ROW_COUNT = 10_000
ENCODING_SAMPLE_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
MAX_HEADER_CHARS = 1024 * 1024
FETCH_BATCH_SIZE = 10_000

CATALOGUE_PACKAGE = "rules"
CATALOGUE_PATH = "catalogues/ai_services.yaml"

FOCUS_VERSIONS = "FOCUS 1.0–1.2"
REQUIRED_COLUMNS = ("BillingCurrency", "ChargePeriodStart", "ServiceCategory", "ServiceName")
COST_COLUMNS = {"effective": "EffectiveCost", "billed": "BilledCost"}
# ServiceProviderName replaces ProviderName in newer FOCUS versions; PublisherName and
# InvoiceIssuerName stand in where neither is filled.
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName", "PublisherName", "InvoiceIssuerName")
ACCOUNT_COLUMNS = ("SubAccountId", "BillingAccountId")
REGION_COLUMNS = ("RegionId", "Region")

ROW_ORDINAL_COLUMN = "shadowmap_row_ordinal"

# Turns the row number DuckDB gives (a CSV ordinal or a Parquet row index) into the number a user
# looks for: a CSV line, or a 1-based Parquet row.
RowNumbering = Callable[[int], int]

# Match codes of rows that are not AI spend, and of rows with a value that cannot be read.
NOT_AI = "none"
INVALID = "invalid"

# The grouping key, beside the match reason and the charge day. Keys are set to NULL on rows
# that are not AI spend, so those rows fold into one group that only counts them.
KEY_COLUMNS = (
    "provider_name",
    "account",
    "service",
    "resource_id",
    "model",
    "region",
    "currency",
    "category",
    "subcategory",
    "charge_category",
    "unit",
    "tags",
)

# The columns the AI match compares, each also kept lower-cased and trimmed as `<column>_key`.
MATCHED_COLUMNS = ("category", "subcategory", "provider_name", "publisher_name", "service")

DELIMITER_CANDIDATES = (",", "\t", ";", "|")

NOT_TABULAR_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office document (such as XLS)"),
)

DUCKDB_REJECT_REASONS = {
    "CAST": "a value of the wrong type",
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "UNQUOTED VALUE": "a quote that is not closed, or one inside an unquoted field",
    "INVALID STATE": "a field DuckDB could not parse",
    "LINE SIZE OVER MAXIMUM": "a line longer than DuckDB's maximum line size",
    "INVALID ENCODING": "bytes that are not valid UTF-8",
}


# ---------------------------------------------------------------------------------------------
# The AI service catalogue


@dataclass(frozen=True)
class ProviderEntry:
    """One provider of the catalogue: the names exports give it and its AI services."""

    id: str
    names: tuple[str, ...]
    ai_services: tuple[str, ...] = ()
    ai_service_patterns: tuple[str, ...] = ()
    ai_vendor: bool = False


@dataclass(frozen=True)
class AiServiceCatalogue:
    """The rules that tell AI spend from other billing rows, and the short IDs of providers."""

    service_categories: tuple[str, ...]
    service_subcategories: tuple[str, ...]
    model_columns: tuple[str, ...]
    providers: tuple[ProviderEntry, ...]

    @functools.cached_property
    def _provider_ids(self) -> dict[str, str]:
        return {name.lower(): provider.id for provider in self.providers for name in provider.names}

    def provider_id(self, name: str | None) -> str:
        """Return the short ID of a provider name, or a lower-case slug of a name not listed."""
        if not name or not name.strip():
            return "unknown"
        known = self._provider_ids.get(name.strip().lower())
        if known:
            return known
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"

    def vendor_names(self) -> list[str]:
        return [name for provider in self.providers if provider.ai_vendor for name in provider.names]

    def matching_pattern(self, provider_id: str, service: str) -> str | None:
        """Return the first pattern of the provider that matches the whole service name."""
        for provider in self.providers:
            if provider.id != provider_id:
                continue
            for pattern in provider.ai_service_patterns:
                if re.fullmatch(pattern, service.strip(), re.IGNORECASE):
                    return pattern
        return None


@functools.cache
def load_catalogue() -> AiServiceCatalogue:
    """Load and check the AI service catalogue shipped in the `rules` package."""
    text = resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_PATH).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


def parse_catalogue(document: dict[str, Any]) -> AiServiceCatalogue:
    if document.get("version") != 1:
        raise ValueError(f"{CATALOGUE_PATH}: expected version 1, got {document.get('version')!r}")

    providers = []
    for provider_id, entry in sorted(document.get("providers", {}).items()):
        patterns = tuple(entry.get("ai_service_patterns", ()))
        for pattern in patterns:
            _check_pattern(provider_id, pattern)
        providers.append(
            ProviderEntry(
                id=provider_id,
                names=tuple(entry["names"]),
                ai_services=tuple(entry.get("ai_services", ())),
                ai_service_patterns=patterns,
                ai_vendor=bool(entry.get("ai_vendor", False)),
            )
        )

    return AiServiceCatalogue(
        service_categories=tuple(document["service_categories"]),
        service_subcategories=tuple(document["service_subcategories"]),
        model_columns=tuple(document.get("model_columns", ())),
        providers=tuple(providers),
    )


def _check_pattern(provider_id: str, pattern: str) -> None:
    """Reject a pattern Python cannot compile or that uses syntax RE2 (DuckDB) lacks."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{CATALOGUE_PATH}: invalid pattern {pattern!r} for {provider_id}: {error}") from None
    if re.search(r"\(\?[=!<]|\\[1-9]", pattern):
        raise ValueError(
            f"{CATALOGUE_PATH}: pattern {pattern!r} for {provider_id} uses a look-around or a "
            "back-reference, which DuckDB's RE2 does not support"
        )


# ---------------------------------------------------------------------------------------------
# Export files: finding them, telling their format and encoding, transcoding


class ExportProblem(Exception):
    """A file that cannot be read as a FOCUS export; the message is the one-line reason."""


@dataclass(frozen=True)
class TextEncoding:
    """A text encoding a CSV export may use: its Python codec and the name notes give it."""

    codec: str
    label: str
    needs_transcoding: bool = True


UTF8 = TextEncoding("utf-8", "UTF-8", needs_transcoding=False)
UTF8_WITH_BOM = TextEncoding("utf-8-sig", "UTF-8 with a byte order mark", needs_transcoding=False)
UTF16_LE_WITH_BOM = TextEncoding("utf-16", "UTF-16 little-endian")
UTF16_BE_WITH_BOM = TextEncoding("utf-16", "UTF-16 big-endian")
UTF16_LE = TextEncoding("utf-16-le", "UTF-16 little-endian without a byte order mark")
UTF16_BE = TextEncoding("utf-16-be", "UTF-16 big-endian without a byte order mark")
WINDOWS_1252 = TextEncoding("cp1252", "Windows-1252")

# The UTF-32 little-endian mark starts with the UTF-16 little-endian one, so the UTF-32 marks
# (not supported) are checked first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, None),
    (codecs.BOM_UTF32_BE, None),
    (codecs.BOM_UTF8, UTF8_WITH_BOM),
    (codecs.BOM_UTF16_LE, UTF16_LE_WITH_BOM),
    (codecs.BOM_UTF16_BE, UTF16_BE_WITH_BOM),
)


@dataclass(frozen=True)
class ExportFile:
    """One export file as found on disk: its format, compression and text encoding."""

    path: Path
    format: str  # "csv" or "parquet"
    compressed: bool = False  # gzip
    encoding: TextEncoding = UTF8
    empty: bool = False


def expand_source(source: FocusSource, config: AuditConfig) -> tuple[list[Path], ScopeGap | None]:
    """Return the files a source names, or the gap when it names none."""
    path = config.resolve(source.path)
    if any(character in str(path) for character in "*?["):
        matches = sorted(Path(match) for match in glob.glob(str(path), recursive=True))
        files = [match for match in matches if match.is_file()]
        if not files:
            return [], ScopeGap(str(path), "no file matches this pattern; check the path in sources.billing.focus")
        return files, None

    if path.is_dir():
        reason = "is a folder; give a file, or a glob such as exports/*.parquet"
        return [], ScopeGap(str(path), reason)
    if not path.exists():
        return [], ScopeGap(str(path), "file not found; check the path in sources.billing.focus")
    return [path], None


def inspect_export(path: Path) -> ExportFile:
    """Detect a file's format, compression and encoding from its first bytes."""
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError as error:
        raise ExportProblem(f"cannot be opened ({error.strerror}); check the file and its permissions") from None

    if not head:
        return ExportFile(path, "csv", empty=True)
    if head.startswith(b"PAR1"):
        return ExportFile(path, "parquet")
    for signature, description in NOT_TABULAR_SIGNATURES:
        if head.startswith(signature):
            raise ExportProblem(
                f"is {description}, not a CSV or Parquet file; export the billing data in FOCUS "
                "format as CSV or Parquet"
            )

    compressed = head.startswith(b"\x1f\x8b")
    try:
        with open_binary(path, compressed) as stream:
            encoding = detect_encoding(stream)
            if encoding is None:
                return ExportFile(path, "csv", compressed=compressed, empty=True)
    except (OSError, EOFError, zlib.error) as error:
        if compressed:
            reason = f"is not a readable gzip file ({error}); check that the download is complete"
            raise ExportProblem(reason) from None
        raise ExportProblem(f"cannot be read ({error}); check the file and its permissions") from None
    return ExportFile(path, "csv", compressed=compressed, encoding=encoding)


def open_binary(path: Path, compressed: bool) -> IO[bytes]:
    if compressed:
        return gzip.open(path, "rb")
    return path.open("rb")


def detect_encoding(stream: IO[bytes]) -> TextEncoding | None:
    """Detect the encoding of CSV text from its byte order mark or its first bytes.

    Without a byte order mark the text is UTF-8 if its first ENCODING_SAMPLE_BYTES decode as
    UTF-8, otherwise Windows-1252, the code page Excel on Windows commonly saves CSV in. Return
    None for an empty stream.
    """
    first = stream.read(CHUNK_BYTES)
    if not first:
        return None
    for mark, encoding in BYTE_ORDER_MARKS:
        if first.startswith(mark):
            if encoding is None:
                raise ExportProblem("is UTF-32 text, which is not supported; save it as UTF-8 CSV")
            return encoding
    if b"\x00" in first:
        return _utf16_without_mark(first)

    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = first
    read = 0
    while chunk and read < ENCODING_SAMPLE_BYTES:
        pending = decoder.getstate()[0]
        if pending or not chunk.isascii():
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return _windows_1252_or_problem(chunk)
        read += len(chunk)
        chunk = stream.read(CHUNK_BYTES)
    return UTF8


def _utf16_without_mark(sample: bytes) -> TextEncoding:
    """Detect UTF-16 without a byte order mark, which differs from binary data in where its zero
    bytes sit.

    FOCUS headers are ASCII, and ASCII in UTF-16 has a zero byte in every other position.
    """
    head = sample[:4096]
    even_zeros = head[0::2].count(0)
    odd_zeros = head[1::2].count(0)
    pairs = len(head) // 2
    if pairs and odd_zeros >= 0.9 * pairs and even_zeros <= 0.1 * pairs:
        return UTF16_LE
    if pairs and even_zeros >= 0.9 * pairs and odd_zeros <= 0.1 * pairs:
        return UTF16_BE
    raise ExportProblem(
        "contains binary data, not CSV text or Parquet; export the billing data in FOCUS format "
        "as CSV or Parquet"
    )


def _windows_1252_or_problem(chunk: bytes) -> TextEncoding:
    try:
        chunk.decode(WINDOWS_1252.codec)
    except UnicodeDecodeError:
        raise ExportProblem(
            "is neither UTF-8, UTF-16 nor Windows-1252 text; save it as UTF-8 CSV"
        ) from None
    return WINDOWS_1252


def transcode_to_utf8(export: ExportFile, workdir: Path) -> Path:
    """Copy a CSV in another encoding to a temporary UTF-8 file, a chunk at a time.

    Line breaks are copied as they are, so lines keep their numbers.
    """
    handle, name = tempfile.mkstemp(prefix="focus-", suffix=".csv", dir=workdir)
    target = Path(name)
    try:
        with (
            open_binary(export.path, export.compressed) as raw,
            io.TextIOWrapper(raw, encoding=export.encoding.codec, errors="strict", newline="") as text,
            open(handle, "w", encoding="utf-8", newline="") as output,
        ):
            while chunk := text.read(CHUNK_BYTES):
                output.write(chunk)
    except UnicodeDecodeError as error:
        target.unlink(missing_ok=True)
        raise ExportProblem(
            f"is not valid {export.encoding.label} text ({error.reason}); save it as UTF-8 CSV"
        ) from None
    return target


def read_csv_header(path: Path, compressed: bool) -> tuple[list[str], str] | None:
    """Return the header's column names and the delimiter, or None for a file with no header.

    The delimiter is the candidate that occurs most often in the header: Excel writes tabs in
    its UTF-16 "Unicode text", and semicolons where the comma is the decimal separator.
    """
    with (
        open_binary(path, compressed) as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text,
    ):
        line = text.readline(MAX_HEADER_CHARS)
    if not line.strip():
        return None
    if not line.endswith(("\n", "\r")) and len(line) >= MAX_HEADER_CHARS:
        raise ExportProblem(
            f"has no line break in its first {MAX_HEADER_CHARS} characters, so it has no CSV header; "
            "export the billing data in FOCUS format as CSV or Parquet"
        )

    delimiter = max(DELIMITER_CANDIDATES, key=line.count)
    names = [name.strip() for name in next(csv.reader([line], delimiter=delimiter))]
    return names, delimiter


# ---------------------------------------------------------------------------------------------
# Columns and the SQL that reads them


@dataclass(frozen=True)
class ColumnSet:
    """The columns of one export with their DuckDB types, found by name in any letter case."""

    types: dict[str, str]

    @functools.cached_property
    def _by_lower_name(self) -> dict[str, str]:
        return {name.lower(): name for name in self.types}

    def find(self, name: str) -> str | None:
        return self._by_lower_name.get(name.lower())

    def find_any(self, names: tuple[str, ...] | list[str]) -> list[str]:
        return [column for column in (self.find(name) for name in names) if column]


def missing_focus_columns(columns: ColumnSet) -> list[str]:
    missing = [name for name in REQUIRED_COLUMNS if not columns.find(name)]
    if not columns.find_any(tuple(COST_COLUMNS.values())):
        missing.append("EffectiveCost or BilledCost")
    if not columns.find_any(PROVIDER_COLUMNS):
        missing.append("ProviderName or ServiceProviderName")
    return missing


def choose_cost_column(columns: ColumnSet, cost: str) -> tuple[str, str | None]:
    """Return the cost column to sum and, when the configured one is missing, a note saying so."""
    configured = COST_COLUMNS[cost]
    found = columns.find(configured)
    if found:
        return found, None

    other = next(name for key, name in COST_COLUMNS.items() if key != cost)
    fallback = columns.find(other)
    if fallback is None:
        raise ExportProblem(f"has neither {configured} nor {other}")
    note = f"has no {configured} column, so {fallback} was summed instead (sources.billing.focus cost: {cost})"
    return fallback, note


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_string_list(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(sql_string(value.strip().lower()) for value in values)


def text_expression(columns: ColumnSet, names: tuple[str, ...] | list[str]) -> str:
    """Return the first non-empty value among the columns present, as text, or NULL."""
    present = columns.find_any(names)
    if not present:
        return "CAST(NULL AS VARCHAR)"
    parts = [f"NULLIF(CAST({sql_identifier(column)} AS VARCHAR), '')" for column in present]
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def raw_text_expression(columns: ColumnSet, name: str | None) -> str:
    """Return a column's value as written, for telling an empty cell from an unreadable one."""
    if name is None:
        return "CAST(NULL AS VARCHAR)"
    return f"NULLIF(trim(CAST({sql_identifier(name)} AS VARCHAR)), '')"


def exact_number_expression(columns: ColumnSet, name: str | None) -> str:
    """Return a column as an exact decimal, NULL where its text is not a number.

    A float column goes through its shortest text form, so 0.1 stays 0.1 and does not become the
    binary fraction closest to it.
    """
    if name is None:
        return f"CAST(NULL AS {EXACT_NUMBER_TYPE})"
    column = sql_identifier(name)
    column_type = columns.types[name].upper()
    if column_type in ("DOUBLE", "FLOAT", "REAL"):
        column = f"CAST({column} AS VARCHAR)"
    return f"TRY_CAST({column} AS {EXACT_NUMBER_TYPE})"


def timestamp_expression(name: str) -> str:
    # The connection's time zone is UTC, so a timestamp without an offset is read as UTC.
    return f"TRY_CAST({sql_identifier(name)} AS TIMESTAMPTZ)"


def tags_expression(columns: ColumnSet) -> str:
    """Return the Tags column as JSON text, also where a Parquet export stores a MAP or STRUCT."""
    name = columns.find("Tags")
    if name is None:
        return "CAST(NULL AS VARCHAR)"
    column_type = columns.types[name].upper()
    if column_type.startswith(("MAP", "STRUCT")):
        return f"CAST(to_json({sql_identifier(name)}) AS VARCHAR)"
    return f"CAST({sql_identifier(name)} AS VARCHAR)"


@dataclass(frozen=True)
class ExportQuery:
    """The SQL over one export: its relation, its typed row expressions and the AI match."""

    relation: str
    row_columns: dict[str, str]
    match: str
    cost_column: str
    quantity_column: str | None
    charge_start_column: str

    @property
    def rows_cte(self) -> str:
        selected = ",\n    ".join(f"{expression} AS {alias}" for alias, expression in self.row_columns.items())
        return f"export_rows AS (\n  SELECT\n    {selected}\n  FROM {self.relation}\n)"

    def aggregate_sql(self) -> str:
        """Return the query that groups every row by match reason and attribution key.

        Rows that are not AI spend fold into one group, and so do rows with unreadable values.
        """
        keys = ",\n  ".join(f"CASE WHEN is_ai THEN {key} END AS {key}" for key in KEY_COLUMNS)
        match_keys = ", ".join(f"lower(trim({column})) AS {column}_key" for column in MATCHED_COLUMNS)
        return f"""
WITH {self.rows_cte},
matchable AS (
  SELECT *, {match_keys} FROM export_rows
),
classified AS (
  SELECT *, {self.match} AS match FROM matchable
),
flagged AS (
  SELECT *, match NOT IN ('{NOT_AI}', '{INVALID}') AS is_ai FROM classified
)
SELECT
  match,
  {keys},
  CASE WHEN is_ai THEN CAST(charge_start AS DATE) END AS charge_day,
  sum(cost) AS amount,
  sum(quantity) AS quantity,
  count(*) AS row_count,
  min(row_number) AS first_row,
  count(*) FILTER (WHERE cost IS NULL) AS rows_without_cost,
  min(resource_name) FILTER (WHERE is_ai) AS resource_name,
  min(publisher_name) FILTER (WHERE is_ai) AS publisher_name
FROM flagged
GROUP BY ALL
"""

    def invalid_rows_sql(self, limit: int) -> str:
        return f"""
WITH {self.rows_cte}
SELECT row_number, cost_text, cost IS NULL, quantity_text, quantity IS NULL,
       charge_start_text, charge_start IS NULL
FROM export_rows
WHERE {invalid_condition()}
ORDER BY row_number
LIMIT {int(limit)}
"""


def build_query(
    relation: str, row_number: str, columns: ColumnSet, cost: str, catalogue: AiServiceCatalogue
) -> tuple[ExportQuery, str | None]:
    """Build the SQL over one export and return it with the note on a cost column fallback."""
    cost_column, cost_note = choose_cost_column(columns, cost)
    quantity_column = columns.find("ConsumedQuantity")
    charge_start_column = columns.find("ChargePeriodStart")

    row_columns = {
        "provider_name": text_expression(columns, PROVIDER_COLUMNS),
        "publisher_name": text_expression(columns, ("PublisherName",)),
        "account": text_expression(columns, ACCOUNT_COLUMNS),
        "service": text_expression(columns, ("ServiceName",)),
        "category": text_expression(columns, ("ServiceCategory",)),
        "subcategory": text_expression(columns, ("ServiceSubcategory",)),
        "resource_id": text_expression(columns, ("ResourceId",)),
        "resource_name": text_expression(columns, ("ResourceName",)),
        "model": text_expression(columns, catalogue.model_columns),
        "region": text_expression(columns, REGION_COLUMNS),
        "currency": text_expression(columns, ("BillingCurrency",)),
        "charge_category": text_expression(columns, ("ChargeCategory",)),
        "unit": text_expression(columns, ("ConsumedUnit",)),
        "tags": tags_expression(columns),
        "cost_text": raw_text_expression(columns, cost_column),
        "cost": exact_number_expression(columns, cost_column),
        "quantity_text": raw_text_expression(columns, quantity_column),
        "quantity": exact_number_expression(columns, quantity_column),
        "charge_start_text": raw_text_expression(columns, charge_start_column),
        "charge_start": timestamp_expression(charge_start_column),
        "row_number": row_number,
    }
    query = ExportQuery(
        relation=relation,
        row_columns=row_columns,
        match=match_expression(catalogue),
        cost_column=cost_column,
        quantity_column=quantity_column,
        charge_start_column=charge_start_column,
    )
    return query, cost_note


def match_expression(catalogue: AiServiceCatalogue) -> str:
    """Return the SQL CASE that names why a row is AI spend, or 'none', or 'invalid'.

    The branch order is the catalogue's rule order. SpendLineBuilder turns the reason codes
    into sentences.
    """
    branches = [
        f"WHEN {invalid_condition()} THEN '{INVALID}'",
        f"WHEN category_key IN ({sql_string_list(catalogue.service_categories)}) THEN 'category'",
        f"WHEN subcategory_key IN ({sql_string_list(catalogue.service_subcategories)}) THEN 'subcategory'",
    ]

    vendors = sql_string_list(catalogue.vendor_names())
    if vendors:
        branches.append(f"WHEN provider_name_key IN ({vendors}) THEN 'provider-vendor'")
        branches.append(f"WHEN publisher_name_key IN ({vendors}) THEN 'publisher-vendor'")

    for provider in catalogue.providers:
        names = sql_string_list(provider.names)
        if provider.ai_services:
            services = sql_string_list(provider.ai_services)
            branches.append(
                f"WHEN provider_name_key IN ({names}) AND service_key IN ({services}) THEN 'service'"
            )
        if provider.ai_service_patterns:
            combined = "|".join(f"(?:{pattern})" for pattern in provider.ai_service_patterns)
            branches.append(
                f"WHEN provider_name_key IN ({names}) "
                f"AND regexp_full_match(service_key, {sql_string(combined)}, 'i') THEN 'service-pattern'"
            )

    return "CASE\n    " + "\n    ".join(branches) + f"\n    ELSE '{NOT_AI}'\n  END"


def invalid_condition() -> str:
    """Return the SQL condition of a row with a cost, quantity or charge start that is not
    readable as a number or a timestamp."""
    return (
        "(cost_text IS NOT NULL AND cost IS NULL)"
        " OR (quantity_text IS NOT NULL AND quantity IS NULL)"
        " OR (charge_start_text IS NOT NULL AND charge_start IS NULL)"
    )


def csv_relation(path: Path, header: list[str], delimiter: str, compressed: bool) -> str:
    """Return the read_csv call for a UTF-8 CSV, every column as text and every row numbered.

    Values are typed later in SQL with TRY_CAST rather than by the reader, because DuckDB keeps
    every row its reader rejects in memory: a column of unreadable numbers would fill the reject
    tables. Rows with the wrong number of fields, an unclosed quote or invalid UTF-8 still land
    there, with their line.
    """
    column_types = ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in header)
    aliases = ", ".join(sql_identifier(name) for name in [*header, ROW_ORDINAL_COLUMN])
    compression = "gzip" if compressed else "none"
    return (
        f"read_csv({sql_string(str(path))}, auto_detect = false, header = true, delim = {sql_string(delimiter)}, "
        f"quote = '\"', escape = '\"', nullstr = ['NULL', ''], columns = {{{column_types}}}, "
        f"compression = '{compression}', store_rejects = true) "
        f"WITH ORDINALITY AS export_file({aliases})"
    )


def parquet_relation(path: Path) -> str:
    return f"read_parquet({sql_string(str(path))}, file_row_number = true)"


# ---------------------------------------------------------------------------------------------
# Reading one export


@dataclass
class ExportReading:
    """The result of reading one export file: its AI spend lines and the rows it could not read."""

    path: Path
    row_label: str = "line"  # what a row number counts: CSV lines or Parquet rows
    spend_lines: list[SpendLine] = field(default_factory=list)
    rows_read: int = 0
    ai_rows: int = 0
    skipped_row_count: int = 0
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(f"{self.path}: {text}")


@dataclass(frozen=True)
class CsvRowNumbers:
    """The conversion of DuckDB's ordinals of accepted CSV rows into record lines (header: line 1).

    For every rejected line, `accepted_before` contains the number of accepted rows before it.
    """

    rejected_lines: tuple[int, ...] = ()

    @functools.cached_property
    def accepted_before(self) -> list[int]:
        return [line - 2 - index for index, line in enumerate(self.rejected_lines)]

    def line_of(self, ordinal: int) -> int:
        rejected_earlier = bisect.bisect_left(self.accepted_before, ordinal)
        return ordinal + 1 + rejected_earlier


def read_export(
    path: Path, cost: str, catalogue: AiServiceCatalogue, workdir: Path
) -> ExportReading:
    """Read one export file. Raise ExportProblem when the file as a whole cannot be used."""
    export = inspect_export(path)
    reading = ExportReading(path, row_label="row" if export.format == "parquet" else "line")
    if export.empty:
        reading.note("the file is empty; no rows were read")
        return reading

    with duckdb.connect(":memory:") as connection:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(f"SET temp_directory = {sql_string(str(workdir))}")
        if export.format == "parquet":
            _read_parquet(connection, export, cost, catalogue, reading)
        else:
            _read_csv(connection, export, cost, catalogue, workdir, reading)
    return reading


def _read_parquet(
    connection: duckdb.DuckDBPyConnection,
    export: ExportFile,
    cost: str,
    catalogue: AiServiceCatalogue,
    reading: ExportReading,
) -> None:
    relation = parquet_relation(export.path)
    try:
        described = connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as error:
        raise ExportProblem(f"cannot be read as Parquet: {_first_line(error)}") from None
    columns = ColumnSet({name: column_type for name, column_type, *_ in described if name != "file_row_number"})
    _require_focus_columns(columns)

    query, cost_note = build_query(relation, "file_row_number + 1", columns, cost, catalogue)
    if cost_note:
        reading.note(cost_note)
    _aggregate(connection, query, catalogue, reading, line_of=lambda row: row)


def _read_csv(
    connection: duckdb.DuckDBPyConnection,
    export: ExportFile,
    cost: str,
    catalogue: AiServiceCatalogue,
    workdir: Path,
    reading: ExportReading,
) -> None:
    path, compressed = export.path, export.compressed
    transcoded = None
    if export.encoding.needs_transcoding:
        transcoded = transcode_to_utf8(export, workdir)
        path, compressed = transcoded, False

    try:
        header = read_csv_header(path, compressed)
        if header is None:
            reading.note("the file is empty; no rows were read")
            return
        names, delimiter = header
        _describe_text_form(export, delimiter, reading)

        columns = ColumnSet({name: "VARCHAR" for name in names})
        _require_focus_columns(columns)
        duplicates = sorted(name for name, count in Counter(name.lower() for name in names).items() if count > 1)
        if duplicates:
            raise ExportProblem(f"has column {duplicates[0]!r} more than once in its header; keep one")

        relation = csv_relation(path, names, delimiter, compressed)
        _probe_csv(relation, delimiter)
        query, cost_note = build_query(relation, sql_identifier(ROW_ORDINAL_COLUMN), columns, cost, catalogue)
        if cost_note:
            reading.note(cost_note)
        _aggregate(connection, query, catalogue, reading, line_of=None)
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)


def _describe_text_form(export: ExportFile, delimiter: str, reading: ExportReading) -> None:
    """Note how a CSV was read when it is not plain comma-separated UTF-8."""
    parts = []
    if export.encoding is not UTF8:
        parts.append(f"read as {export.encoding.label}")
        if export.encoding.needs_transcoding:
            parts.append("transcoded to UTF-8 before reading")
    if delimiter != ",":
        parts.append(f"fields separated by {_delimiter_name(delimiter)}")
    if parts:
        reading.note(", ".join(parts))


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tabs", ";": "semicolons", "|": "vertical bars"}.get(delimiter, repr(delimiter))


def _require_focus_columns(columns: ColumnSet) -> None:
    missing = missing_focus_columns(columns)
    if missing:
        raise ExportProblem(
            f"does not look like a FOCUS export ({FOCUS_VERSIONS}): missing required columns "
            f"{', '.join(missing)}; export the cost data in FOCUS format"
        )


def _probe_csv(relation: str, delimiter: str) -> None:
    """Read the first rows and set the file aside when most of them cannot be parsed.

    A wrong delimiter or a trailing field on every row would otherwise put every row into
    DuckDB's reject tables, which are held in memory.
    """
    with duckdb.connect(":memory:") as probe:
        try:
            accepted = _scalar(probe, f"SELECT count(*) FROM (SELECT * FROM {relation} LIMIT {PROBE_ROW_COUNT})")
        except duckdb.Error as error:
            raise ExportProblem(f"cannot be read as CSV: {_first_line(error)}") from None
        rejected = _read_rejects(probe, limit=1)

    if rejected.count > accepted:
        first = rejected.named[0]
        raise ExportProblem(
            f"most of its first rows cannot be read as CSV separated by {_delimiter_name(delimiter)} "
            f"(line {first.row}: {first.reason}); check that it is a FOCUS CSV export"
        )


@dataclass(frozen=True)
class Rejects:
    """The CSV rows DuckDB rejected: how many, all their lines, and the first ones with reasons."""

    count: int
    lines: tuple[int, ...]
    named: list[SkippedRow]


def _read_rejects(connection: duckdb.DuckDBPyConnection, limit: int, location: str = "") -> Rejects:
    # DuckDB creates the reject tables only when a scan with store_rejects writes to them.
    exists = _scalar(connection, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reject_errors'")
    if not exists:
        return Rejects(0, (), [])

    rows = connection.execute("SELECT DISTINCT line FROM reject_errors ORDER BY line").fetchall()
    lines = tuple(line for (line,) in rows)
    # DuckDB may record several errors for one line, such as an unclosed quote and the short
    # field count it causes; the reason names the cause.
    first = connection.execute(
        f"""
        SELECT line, arg_min(error_type, priority), arg_min(error_message, priority)
        FROM (
          SELECT *,
            CASE WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS', 'CAST') THEN 1 ELSE 0 END AS priority
          FROM reject_errors
        )
        GROUP BY line ORDER BY line LIMIT {int(limit)}
        """
    ).fetchall()
    named = [
        SkippedRow(location, int(line), _reject_reason(error_type, message)) for line, error_type, message in first
    ]
    return Rejects(len(lines), lines, named)


def _reject_reason(error_type: str, message: str) -> str:
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message or "")
    if counts:
        return f"wrong number of fields: expected {counts.group(1)}, found {counts.group(2)}"
    reason = DUCKDB_REJECT_REASONS.get(error_type, error_type.lower())
    return f"{reason} ({_first_line(message)})"


def _aggregate(
    connection: duckdb.DuckDBPyConnection,
    query: ExportQuery,
    catalogue: AiServiceCatalogue,
    reading: ExportReading,
    line_of: RowNumbering | None,
) -> None:
    """Run the grouping query and turn its groups into spend lines, counting what was skipped.

    The groups stay in a DuckDB table until they are turned into spend lines, so Python keeps
    no more than one batch of them in memory beside the lines it builds.
    """
    try:
        connection.execute(f"CREATE TEMP TABLE export_groups AS {query.aggregate_sql()}")
    except duckdb.Error as error:
        raise ExportProblem(f"cannot be read: {_first_line(error)}") from None

    location = str(reading.path)
    rejects = Rejects(0, (), [])
    if line_of is None:
        rejects = _read_rejects(connection, MAX_NAMED_SKIPPED_ROWS, location)
        line_of = CsvRowNumbers(rejects.lines).line_of

    accepted_rows, invalid_rows = connection.execute(
        f"""
        SELECT coalesce(sum(row_count), 0), coalesce(sum(row_count) FILTER (WHERE match = '{INVALID}'), 0)
        FROM export_groups
        """
    ).fetchall()[0]
    named_invalid = _describe_invalid_rows(connection, query, location, line_of) if invalid_rows else []

    reading.rows_read = int(accepted_rows) + rejects.count
    reading.skipped_row_count = rejects.count + int(invalid_rows)
    problems = sorted([*rejects.named, *named_invalid], key=lambda row: row.row)
    if reading.skipped_row_count and reading.skipped_row_count == reading.rows_read:
        first = problems[0]
        raise ExportProblem(f"no row could be read ({reading.row_label} {first.row}: {first.reason})")
    if not reading.rows_read:
        reading.note("the file has a header but no data rows")

    builder = SpendLineBuilder(catalogue, location, line_of, reading.row_label)
    cursor = connection.execute(
        f"SELECT * FROM export_groups WHERE match NOT IN ('{NOT_AI}', '{INVALID}') ORDER BY first_row"
    )
    for group in _fetch_dicts(cursor):
        builder.add(group)
    reading.spend_lines = builder.spend_lines()
    reading.ai_rows = builder.ai_rows
    reading.notes.extend(f"{location}: {text}" for text in builder.notes())
    reading.skipped_row_count += builder.skipped_row_count
    problems = sorted([*problems, *builder.skipped_rows], key=lambda row: row.row)
    reading.skipped_rows = problems[:MAX_NAMED_SKIPPED_ROWS]


def _fetch_dicts(cursor: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    while batch := cursor.fetchmany(FETCH_BATCH_SIZE):
        for row in batch:
            yield dict(zip(names, row))


def _describe_invalid_rows(
    connection: duckdb.DuckDBPyConnection, query: ExportQuery, location: str, line_of: RowNumbering
) -> list[SkippedRow]:
    """Name the first rows whose cost, quantity or charge period is not readable, and why."""
    rows = connection.execute(query.invalid_rows_sql(MAX_NAMED_SKIPPED_ROWS)).fetchall()
    named = []
    for row_number, cost_text, cost_bad, quantity_text, quantity_bad, start_text, start_bad in rows:
        reasons = []
        if cost_text is not None and cost_bad:
            reasons.append(f"{query.cost_column} value {cost_text!r} is not a number")
        if quantity_text is not None and quantity_bad:
            reasons.append(f"{query.quantity_column} value {quantity_text!r} is not a number")
        if start_text is not None and start_bad:
            reasons.append(f"{query.charge_start_column} value {start_text!r} is not a date and time")
        named.append(SkippedRow(location, line_of(int(row_number)), "; ".join(reasons)))
    return named


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """Run a query to its end and return its one value.

    DuckDB (2.0) streams results: a scan that is fetched only in part has not yet filled the
    reject tables, so every query here is read to its end.
    """
    return connection.execute(sql).fetchall()[0][0]


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---------------------------------------------------------------------------------------------
# Groups to spend lines


class SpendLineBuilder:
    """Turns grouped AI rows into spend lines, merging groups that end up with the same key.

    Groups merge when their raw values differ but mean the same: provider names that map to one
    provider ID, or Tags JSON that differs only in key order or spacing.
    """

    def __init__(
        self, catalogue: AiServiceCatalogue, location: str, line_of: RowNumbering, row_label: str
    ) -> None:
        self.catalogue = catalogue
        self.location = location
        self.line_of = line_of
        self.row_label = row_label
        self.ai_rows = 0
        self._lines: dict[tuple, SpendLine] = {}
        # Parsed Tags cells with their sorted items, by cell text, or None for a cell that is not
        # a JSON object. Exports repeat the same few tag sets on many rows.
        self._tags: dict[str | None, tuple[Tags, tuple] | None] = {}
        self._reasons: Counter[str] = Counter()
        self._invalid_tags_rows = 0
        self._invalid_tags_first_row: int | None = None
        self._rows_without_cost = 0
        self.skipped_row_count = 0
        self.skipped_rows: list[SkippedRow] = []

    def add(self, group: dict[str, Any]) -> None:
        row_count = int(group["row_count"])
        first_row = self.line_of(int(group["first_row"]))
        self.ai_rows += row_count
        self._reasons[self._describe_match(group)] += row_count
        self._rows_without_cost += int(group["rows_without_cost"])

        if group["currency"] is None or group["charge_day"] is None:
            # FOCUS requires both values. Money without a currency cannot join any total, and
            # spend without a day has no period, so these rows are skipped like unreadable ones.
            missing = "BillingCurrency" if group["currency"] is None else "ChargePeriodStart"
            self.skipped_row_count += row_count
            self.skipped_rows.append(SkippedRow(self.location, first_row, f"AI spend with no {missing} value"))
            return

        tags, tag_items = self._parse_tags(group["tags"], row_count, first_row)
        line = self._spend_line(group, tags, row_count, first_row)
        self._merge(line, tag_items)

    def spend_lines(self) -> list[SpendLine]:
        return list(self._lines.values())

    def notes(self) -> list[str]:
        notes = [
            f"{rows} AI rows counted because {reason}"
            for reason, rows in sorted(self._reasons.items(), key=lambda item: (-item[1], item[0]))
        ]
        if self._invalid_tags_rows:
            notes.append(
                f"{self._invalid_tags_rows} AI rows have a Tags value that is not a JSON object "
                f"(first at {self.row_label} {self._invalid_tags_first_row}); their spend is kept without tags"
            )
        if self._rows_without_cost:
            notes.append(f"{self._rows_without_cost} AI rows have no cost value and count as 0")
        return notes

    def _describe_match(self, group: dict[str, Any]) -> str:
        match = group["match"]
        if match == "category":
            return f'ServiceCategory is "{group["category"]}"'
        if match == "subcategory":
            return f'ServiceSubcategory is "{group["subcategory"]}"'
        if match == "provider-vendor":
            return f'the provider "{group["provider_name"]}" is an AI vendor in the catalogue'
        if match == "publisher-vendor":
            return f'the publisher "{group["publisher_name"]}" is an AI vendor in the catalogue'

        provider = self.catalogue.provider_id(group["provider_name"])
        if match == "service-pattern":
            pattern = self.catalogue.matching_pattern(provider, group["service"] or "")
            return f'ServiceName "{group["service"]}" matches the {provider} catalogue pattern "{pattern}"'
        return f'ServiceName "{group["service"]}" is a {provider} AI service in the catalogue'

    def _parse_tags(self, text: str | None, row_count: int, first_row: int) -> tuple[Tags, tuple]:
        """Parse a Tags cell. A cell that is not a JSON object gives no tags and is counted.

        Such rows keep their spend, because dropping them would understate AI spend. Kept without
        tags they count as unattributed, an error the audit shows and the user can correct.
        """
        if text not in self._tags:
            tags = parse_tags(text)
            self._tags[text] = None if tags is None else (tags, tuple(sorted(tags.values.items())))
        parsed = self._tags[text]
        if parsed is not None:
            return parsed

        self._invalid_tags_rows += row_count
        if self._invalid_tags_first_row is None or first_row < self._invalid_tags_first_row:
            self._invalid_tags_first_row = first_row
        return Tags(), ()

    def _spend_line(self, group: dict[str, Any], tags: Tags, row_count: int, first_row: int) -> SpendLine:
        day: date = group["charge_day"]
        start = datetime.combine(day, time(0), tzinfo=timezone.utc)
        quantity = group["quantity"]
        return SpendLine(
            amount=trim_decimal(group["amount"] if group["amount"] is not None else Decimal(0)),
            currency=group["currency"].strip().upper(),
            period_start=start,
            period_end=start + timedelta(days=1),
            provider=self.catalogue.provider_id(group["provider_name"]),
            service=group["service"] or "(not stated)",
            account=group["account"],
            resource_id=group["resource_id"],
            resource_name=group["resource_name"],
            model=group["model"],
            region=group["region"],
            category=group["category"],
            subcategory=group["subcategory"],
            charge_category=group["charge_category"],
            quantity=None if quantity is None else trim_decimal(quantity),
            unit=group["unit"],
            tags=tags,
            source=SourceRef(self.location, first_row, row_count),
        )

    def _merge(self, line: SpendLine, tag_items: tuple) -> None:
        identity = (
            line.provider,
            line.account,
            line.service,
            line.resource_id,
            line.model,
            line.region,
            line.currency,
            line.period_start,
            line.category,
            line.subcategory,
            line.charge_category,
            line.unit,
            tag_items,
        )
        existing = self._lines.get(identity)
        if existing is None:
            self._lines[identity] = line
            return

        existing.amount = EXACT_CONTEXT.add(existing.amount, line.amount)
        if line.quantity is not None:
            existing.quantity = EXACT_CONTEXT.add(existing.quantity or Decimal(0), line.quantity)
        existing.resource_name = existing.resource_name or line.resource_name
        existing.source = replace(
            existing.source,
            row=min(existing.source.row, line.source.row),
            row_count=existing.source.row_count + line.source.row_count,
        )


def parse_tags(text: str | None) -> Tags | None:
    """Parse a FOCUS Tags cell, a JSON object. Return None when the cell is not one.

    NULL, an empty cell and "{}" give no tags. Values that are not strings keep their JSON text.
    """
    if text is None or not text.strip():
        return Tags()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    return Tags.from_mapping({key: _tag_value_text(item) for key, item in value.items()})


def _tag_value_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def trim_decimal(value: Decimal) -> Decimal:
    """Drop the trailing zeros DuckDB's fixed scale adds, without rounding or exponents."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), context=EXACT_CONTEXT)
    return value.normalize(EXACT_CONTEXT)


# ---------------------------------------------------------------------------------------------
# The collector


class FocusCollector:
    """AI spend from FOCUS billing exports, one spend line per attribution key and day."""

    name = "billing.focus"
    source = SourceKind.EXPORT

    def __init__(self, sources: list[FocusSource], config: AuditConfig) -> None:
        self.sources = sources
        self.config = config
        self.catalogue = load_catalogue()

    def describe(self) -> str:
        paths = ", ".join(source.path for source in self.sources)
        return f"FOCUS billing exports: {paths}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        result = CollectorResult(outcome)
        files = self._files(outcome)

        with tempfile.TemporaryDirectory(prefix="shadowmap-focus-") as workdir:
            for index, (path, cost) in enumerate(files, start=1):
                self._collect_file(path, cost, Path(workdir), result, context)
                context.progress(str(path), index, len(files))

        # The warnings wait until here so that, when no file could be used, the first gap is
        # reported once, as the error, rather than as a warning and again as the error.
        gaps = outcome.scopes_not_seen
        unusable = bool(gaps) and not outcome.scopes_seen
        for gap in gaps[1:] if unusable else gaps:
            context.logger.warning("%s: %s: skipped: %s", self.name, gap.scope, gap.reason)
        if unusable:
            raise InputError(f"{gaps[0].scope}: {gaps[0].reason}")
        return result

    def _files(self, outcome: CollectorOutcome) -> list[tuple[Path, str]]:
        """List every file the sources name, once each, recording sources that name none."""
        files: list[tuple[Path, str]] = []
        seen: set[Path] = set()
        for source in self.sources:
            paths, gap = expand_source(source, self.config)
            if gap is not None:
                outcome.scopes_not_seen.append(gap)
            for path in paths:
                if path.resolve() in seen:
                    outcome.notes.append(f"{path}: named by more than one source; read once")
                    continue
                seen.add(path.resolve())
                files.append((path, source.cost))
        return files

    def _collect_file(
        self, path: Path, cost: str, workdir: Path, result: CollectorResult, context: CollectContext
    ) -> None:
        outcome = result.outcome
        try:
            reading = read_export(path, cost, self.catalogue, workdir)
        except ExportProblem as problem:
            outcome.scopes_not_seen.append(ScopeGap(str(path), str(problem)))
            return

        outcome.scopes_seen.append(str(path))
        outcome.notes.extend(reading.notes)
        outcome.skipped_row_count += reading.skipped_row_count
        room = MAX_NAMED_SKIPPED_ROWS - len(outcome.skipped_rows)
        outcome.skipped_rows.extend(reading.skipped_rows[: max(room, 0)])
        result.spend_lines.extend(reading.spend_lines)

        context.logger.info(
            "%s: %s: %d rows read, %d AI rows in %d spend lines, %d rows skipped",
            self.name,
            path,
            reading.rows_read,
            reading.ai_rows,
            len(reading.spend_lines),
            reading.skipped_row_count,
        )
        if reading.skipped_rows:
            first = reading.skipped_rows[0]
            context.logger.warning(
                "%s: %s: %d %s skipped, the first at %s %d: %s",
                self.name,
                path,
                reading.skipped_row_count,
                "row" if reading.skipped_row_count == 1 else "rows",
                reading.row_label,
                first.row,
                first.reason,
            )
