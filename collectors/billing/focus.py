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
- DuckDB keeps every rejected CSV row in memory (about 2 KB each, measured with DuckDB 2.0.1). A
  probe of the first rows sets aside a file that is mostly unreadable before it is read in
  full, but a large file with millions of scattered broken rows still costs that memory.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Context, Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb

from collectors.billing.ai_catalogue import AiServiceCatalogue, load_catalogue
from collectors.billing.export_files import (
    UTF8,
    ExportFile,
    ExportProblem,
    expand_source,
    inspect_export,
    read_csv_header,
    transcode_to_utf8,
)
from collectors.billing.focus_sql import (
    INVALID,
    NOT_AI,
    ROW_ORDINAL_COLUMN,
    ColumnSet,
    ExportQuery,
    build_query,
    csv_relation,
    missing_focus_columns,
    parquet_relation,
    sql_identifier,
    sql_string,
)
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

# Enough precision to trim and add DECIMAL(38,18) values without rounding.
EXACT_CONTEXT = Context(prec=80)

MAX_NAMED_SKIPPED_ROWS = 100
PROBE_ROW_COUNT = 10_000
FETCH_BATCH_SIZE = 10_000

FOCUS_VERSIONS = "FOCUS 1.0–1.2"

# Turns the row number DuckDB gives (a CSV ordinal or a Parquet row index) into the number a user
# looks for: a CSV line, or a 1-based Parquet row.
RowNumbering = Callable[[int], int]

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
        # DuckDB draws its own progress bar on stdout for long queries, over the report output.
        connection.execute("SET enable_progress_bar = false")
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
