"""Azure Cost Management exports (actual or amortised cost details, EA or MCA column sets, CSV,
gzip CSV or Parquet), read with DuckDB and aggregated to spend lines before any Python object is
made.

Only AI rows count: rows whose MeterCategory or ConsumedService the catalogue names. Each line is
one subscription, resource, day, currency, service, model, charge type, charge kind and tag set.
Per-token charges are kept apart by token direction. Provisioned throughput (PTU) charges, hourly
or through a reservation, are kept apart from per-token charges.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from collectors.azure.catalogue import PTU_HOURLY_UNIT, PTU_RESERVATION_UNIT, CostExportRules
from scanner.model import SkippedRow, SourceRef, SpendLine, Tags

# Column names of the EA and MCA cost details, tried in order and compared case-insensitively.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "cost": ("CostInBillingCurrency", "Cost", "PreTaxCost"),
    "currency": ("BillingCurrencyCode", "BillingCurrency", "Currency"),
    "date": ("Date", "UsageDate", "UsageDateTime"),
    "subscription_id": ("SubscriptionId", "SubscriptionGuid"),
    "subscription_name": ("SubscriptionName",),
    "resource_id": ("ResourceId", "InstanceId", "InstanceName"),
    "location": ("ResourceLocation", "Location", "MeterRegion"),
    "meter_category": ("MeterCategory",),
    "meter_subcategory": ("MeterSubCategory",),
    "meter_name": ("MeterName",),
    "product_name": ("ProductName", "Product"),
    "consumed_service": ("ConsumedService",),
    "quantity": ("Quantity", "UsageQuantity"),
    "unit": ("UnitOfMeasure",),
    "tags": ("Tags",),
    "charge_type": ("ChargeType",),
    "pricing_model": ("PricingModel",),
    "reservation_id": ("ReservationId",),
}
REQUIRED_COLUMNS = ("cost", "currency", "date", "meter_name")
DATE_FORMATS = ["%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S"]
# How many unreadable rows are listed one by one; the rest are only counted.
MAX_LISTED_SKIPPED_ROWS = 20



@dataclass
class ExportRead:
    """The result of reading one export file: its AI spend lines, the rows left out, and row counts."""

    path: Path
    lines: list[SpendLine] = field(default_factory=list)
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    skipped_row_count: int = 0
    ai_rows: int = 0
    tag_parse_failures: int = 0


class ExportUnreadable(Exception):
    """An export file that cannot be read at all; the message names the file and what to do."""


def resolve_columns(present: list[str]) -> dict[str, str | None]:
    by_lower = {name.lower(): name for name in present}
    return {
        field_name: next((by_lower[alias.lower()] for alias in aliases if alias.lower() in by_lower), None)
        for field_name, aliases in COLUMN_ALIASES.items()
    }


def read_export(path: Path, rules: CostExportRules) -> ExportRead:
    """Read one export file, raising ExportUnreadable when its format or columns are wrong."""
    connection = duckdb.connect()
    # DuckDB draws a progress bar on stdout for long queries, which would break JSON and SARIF
    # written to stdout.
    connection.execute("SET enable_progress_bar = false")
    try:
        relation = _relation_sql(path)
        try:
            present = [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {relation}", [str(path)]).fetchall()]
        except duckdb.Error as error:
            raise ExportUnreadable(f"{path}: cannot read the export ({_first_line(error)}); export cost details as CSV or Parquet") from None

        columns = resolve_columns(present)
        missing = [name for name in REQUIRED_COLUMNS if columns[name] is None]
        if columns["meter_category"] is None and columns["consumed_service"] is None:
            missing.append("meter_category")
        if missing:
            wanted = "; ".join(f"{name}: one of {', '.join(COLUMN_ALIASES[name])}" for name in missing)
            raise ExportUnreadable(f"{path}: not an Azure cost details export, columns missing ({wanted})")

        result = ExportRead(path)
        _read_skipped(connection, path, relation, columns, rules, result)
        _read_groups(connection, path, relation, columns, rules, result)
        rejected = _read_rejects(connection, relation)
        if rejected and not result.ai_rows and not result.skipped_row_count and _accepted_rows(connection, path, relation) == 0:
            raise ExportUnreadable(f"{path}: no row could be read as CSV (line {rejected[0][0]}: {rejected[0][1]}); check the file's format")
        _renumber(result, [line for line, _ in rejected])
        result.skipped_rows = sorted(
            [SkippedRow(str(path), line, f"malformed CSV row: {message}") for line, message in rejected] + result.skipped_rows,
            key=lambda row: row.row,
        )[:MAX_LISTED_SKIPPED_ROWS]
        result.skipped_row_count += len(rejected)
        return result
    finally:
        connection.close()


def _read_rejects(connection: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[int, str]]:
    """Return the CSV rows DuckDB could not split into the header's columns, by line number."""
    if relation.startswith("read_parquet"):
        return []
    exists = connection.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reject_errors'").fetchone()[0]
    if not exists:
        return []
    rows = connection.execute("SELECT line, min(error_message) FROM reject_errors GROUP BY line ORDER BY line").fetchall()
    return [(int(line), str(message)) for line, message in rows]


def _accepted_rows(connection: duckdb.DuckDBPyConnection, path: Path, relation: str) -> int:
    return int(connection.execute(f"SELECT count(*) FROM {relation}", [str(path)]).fetchone()[0])


def _renumber(result: ExportRead, rejected_lines: list[int]) -> None:
    """Turn record numbers into file lines, skipping the lines DuckDB rejected.

    DuckDB numbers only the rows it accepts, so after a rejected row each record's number is
    behind its line. A quoted field that spans several lines still shifts the numbers.
    """
    if not rejected_lines:
        return

    def line_of(record_line: int) -> int:
        record = record_line - 1
        line = record + 1
        while True:
            moved = record + 1 + bisect.bisect_right(rejected_lines, line)
            if moved == line:
                return line
            line = moved

    result.skipped_rows = [SkippedRow(row.location, line_of(row.row), row.reason) for row in result.skipped_rows]
    for line in result.lines:
        if line.source is not None and line.source.row is not None:
            line.source = SourceRef(line.source.location, line_of(line.source.row), line.source.row_count)


def _relation_sql(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "read_parquet(?)"
    return "read_csv(?, all_varchar = true, header = true, ignore_errors = true, store_rejects = true)"


def _column(columns: dict[str, str | None], name: str) -> str:
    """Return a SQL expression for a column as trimmed text, or NULL when the export lacks it."""
    actual = columns[name]
    if actual is None:
        return "CAST(NULL AS VARCHAR)"
    quoted = '"' + actual.replace('"', '""') + '"'
    return f"trim(CAST({quoted} AS VARCHAR))"


def _typed_sql(relation: str, columns: dict[str, str | None], rules: CostExportRules) -> str:
    """Rows of the export with the fields this module needs, typed, and only the AI rows."""
    c = {name: _column(columns, name) for name in COLUMN_ALIASES}
    formats = ", ".join(f"'{fmt}'" for fmt in DATE_FORMATS)
    categories = ", ".join("'" + name.replace("'", "''") + "'" for name in rules.meter_categories)
    services = ", ".join("'" + name.replace("'", "''") + "'" for name in rules.consumed_services)
    return f"""
        SELECT
            source_row,
            {c['cost']} AS cost_text,
            TRY_CAST({c['cost']} AS DECIMAL(38, 12)) AS cost,
            upper({c['currency']}) AS currency,
            CAST(try_strptime({c['date']}, [{formats}]) AS DATE) AS day,
            lower(coalesce({c['subscription_id']}, '')) AS subscription_id,
            coalesce({c['subscription_name']}, '') AS subscription_name,
            lower(coalesce({c['resource_id']}, '')) AS resource_id,
            lower(coalesce({c['location']}, '')) AS location,
            coalesce({c['meter_category']}, '') AS meter_category,
            coalesce({c['meter_subcategory']}, '') AS meter_subcategory,
            coalesce({c['meter_name']}, '') AS meter_name,
            coalesce({c['product_name']}, '') AS product_name,
            TRY_CAST({c['quantity']} AS DECIMAL(38, 12)) AS quantity,
            coalesce({c['unit']}, '') AS unit_of_measure,
            coalesce({c['tags']}, '') AS tags,
            coalesce({c['charge_type']}, '') AS charge_type,
            lower(coalesce({c['pricing_model']}, '')) AS pricing_model,
            coalesce({c['reservation_id']}, '') AS reservation_id
        FROM (SELECT row_number() OVER () + 1 AS source_row, * FROM {relation}) AS export_rows
        WHERE lower(coalesce({c['meter_category']}, '')) IN ({categories})
           OR lower(coalesce({c['consumed_service']}, '')) IN ({services or "''"})
    """


def _read_skipped(connection, path, relation, columns, rules, result: ExportRead) -> None:
    sql = f"""
        WITH typed AS ({_typed_sql(relation, columns, rules)})
        SELECT source_row, cost_text, cost IS NULL AS bad_cost, day IS NULL AS bad_date,
               coalesce(currency, '') = '' AS bad_currency
        FROM typed
        WHERE cost IS NULL OR day IS NULL OR coalesce(currency, '') = ''
        ORDER BY source_row
    """
    rows = connection.execute(sql, [str(path)]).fetchall()
    result.skipped_row_count = len(rows)
    for source_row, cost_text, bad_cost, bad_date, bad_currency in rows[:MAX_LISTED_SKIPPED_ROWS]:
        if bad_cost:
            reason = f"cost {cost_text!r} is not a number"
        elif bad_date:
            reason = "the usage date is missing or not a date (expected M/D/YYYY or YYYY-MM-DD)"
        else:
            reason = "the billing currency is missing"
        result.skipped_rows.append(SkippedRow(str(path), int(source_row), reason))


def _read_groups(connection, path, relation, columns, rules: CostExportRules, result: ExportRead) -> None:
    direction_cases = " ".join(
        f"WHEN regexp_matches(meter_name, '{_sql_text(pattern)}') THEN '{label}'" for label, pattern in rules.direction_patterns
    )
    model_expression = "coalesce(" + ", ".join(
        f"nullif(regexp_extract(lower(meter_name), '{_sql_text(pattern)}', 1), '')" for pattern in rules.model_patterns
    ) + ", '')"
    reservation = f"""(
        regexp_matches(meter_name, '{_sql_text(rules.ptu_reservation_pattern)}')
        OR regexp_matches(product_name, '{_sql_text(rules.ptu_reservation_pattern)}')
        OR ((pricing_model = 'reservation' OR reservation_id <> ''
             OR lower(charge_type) IN ('purchase', 'unusedreservation'))
            AND (regexp_matches(meter_name, '{_sql_text(rules.ptu_hourly_pattern)}')
                 OR regexp_matches(product_name, '{_sql_text(rules.ptu_hourly_pattern)}')))
    )"""
    hourly = f"""(
        regexp_matches(meter_name, '{_sql_text(rules.ptu_hourly_pattern)}')
        OR regexp_matches(product_name, '{_sql_text(rules.ptu_hourly_pattern)}')
    )"""
    sql = f"""
        WITH typed AS ({_typed_sql(relation, columns, rules)}),
        classified AS (
            SELECT *,
                CASE
                    WHEN {reservation} THEN '{PTU_RESERVATION_UNIT}'
                    WHEN {hourly} THEN '{PTU_HOURLY_UNIT}'
                    {direction_cases}
                    WHEN regexp_matches(meter_name, '{_sql_text(rules.token_pattern)}')
                      OR regexp_matches(unit_of_measure, '{_sql_text(rules.token_pattern)}') THEN 'tokens'
                    ELSE unit_of_measure
                END AS unit,
                CASE
                    WHEN regexp_matches(concat_ws(' ', meter_subcategory, product_name, meter_name), '{_sql_text(rules.openai_pattern)}')
                        THEN '{_sql_text(rules.openai_service_name)}'
                    ELSE coalesce(nullif(meter_category, ''), 'Azure AI services')
                END AS service,
                replace({model_expression}, ' ', '-') AS model
            FROM typed
            WHERE cost IS NOT NULL AND day IS NOT NULL AND coalesce(currency, '') <> ''
        )
        SELECT subscription_id, any_value(subscription_name), resource_id, day, currency, service, model,
               location, charge_type, unit, tags,
               sum(cost) AS cost, sum(quantity) AS quantity, count(*) AS row_count, min(source_row) AS first_row
        FROM classified
        GROUP BY subscription_id, resource_id, day, currency, service, model, location, charge_type, unit, tags
        ORDER BY day, subscription_id, resource_id, service, model, unit, charge_type, tags
    """
    for row in connection.execute(sql, [str(path)]).fetchall():
        (subscription_id, _name, resource_id, day, currency, service, model, location,
         charge_type, unit, tags_text, cost, quantity, row_count, first_row) = row
        tags, parsed = parse_tags(tags_text)
        if not parsed:
            result.tag_parse_failures += int(row_count)
        start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        result.ai_rows += int(row_count)
        result.lines.append(
            SpendLine(
                amount=plain(Decimal(cost)),
                currency=currency,
                period_start=start,
                period_end=start + timedelta(days=1),
                provider="azure",
                service=service,
                account=f"/subscriptions/{subscription_id}" if subscription_id else None,
                resource_id=resource_id or None,
                resource_name=resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else None,
                model=model or None,
                region=location or None,
                category="AI and Machine Learning",
                subcategory="Generative AI" if service == rules.openai_service_name else "AI Platforms",
                charge_category=charge_type or None,
                quantity=None if quantity is None else plain(Decimal(quantity)),
                unit=unit or None,
                tags=tags,
                source=SourceRef(str(path), int(first_row), int(row_count)),
            )
        )


def parse_tags(text: str | None) -> tuple[Tags, bool]:
    """Parse a cost export's Tags cell; EA exports write the JSON members without the braces.

    Returns the tags and whether the cell could be read; an unreadable cell gives no tags.
    """
    cleaned = (text or "").strip()
    if not cleaned:
        return Tags(), True
    candidates = [cleaned] if cleaned.startswith("{") else ["{" + cleaned + "}", cleaned]
    for candidate in candidates:
        try:
            value: Any = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return Tags.from_mapping(value), True
    return Tags(), False


def plain(value: Decimal) -> Decimal:
    """Drop the trailing zeros DuckDB's fixed-scale decimals carry (240.000000000000 becomes 240)."""
    normalised = value.normalize()
    return normalised.quantize(Decimal(1)) if normalised.as_tuple().exponent > 0 else normalised


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
