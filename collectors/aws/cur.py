"""Bedrock spend from AWS Cost and Usage Reports: CUR 2.0 (Data Exports: `line_item_*` columns,
tags in the `resource_tags` map) and legacy CUR (`lineItem/*` columns, one `resourceTags/user:*`
column per tag), as CSV (optionally gzip) or Parquet.

DuckDB reads each file and groups Bedrock rows down to one row per account, product, usage type,
resource, region, tag set, line item type and day before any Python object is made. A row is
Bedrock when its product code or product name is in the catalogue, or its product name ends with
"(Amazon Bedrock Edition)" (third-party models sold through AWS Marketplace). Tax rows are left
out: they carry no resource and no usage. Only tags activated for cost allocation appear in a
CUR, so the tags on these lines are the ones the bill shows.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from collectors.contract import CollectContext, SourceKind
from scanner.model import CollectorOutcome, CollectorResult, ScopeGap, SkippedRow, SourceRef, SpendLine, Tags

from collectors.aws.catalogue import load_catalogue
from collectors.aws.settings import CurExport

BEDROCK_SERVICE = "Amazon Bedrock"

# Column names of each format: the first present wins.
LEGACY_COLUMNS = {
    "account": ["lineItem/UsageAccountId"],
    "product_code": ["lineItem/ProductCode"],
    "product_name": ["product/ProductName", "product/servicename"],
    "usage_type": ["lineItem/UsageType"],
    "resource_id": ["lineItem/ResourceId"],
    "region": ["product/regionCode", "product/region"],
    "currency": ["lineItem/CurrencyCode"],
    "line_item_type": ["lineItem/LineItemType"],
    "start": ["lineItem/UsageStartDate"],
    "usage_amount": ["lineItem/UsageAmount"],
    "unblended": ["lineItem/UnblendedCost"],
    "net_unblended": ["lineItem/NetUnblendedCost"],
}
CUR2_COLUMNS = {
    "account": ["line_item_usage_account_id"],
    "product_code": ["line_item_product_code"],
    "product_name": ["product_product_name", "product_servicename"],
    "usage_type": ["line_item_usage_type"],
    "resource_id": ["line_item_resource_id"],
    "region": ["product_region_code", "product_region"],
    "currency": ["line_item_currency_code"],
    "line_item_type": ["line_item_line_item_type"],
    "start": ["line_item_usage_start_date"],
    "usage_amount": ["line_item_usage_amount"],
    "unblended": ["line_item_unblended_cost"],
    "net_unblended": ["line_item_net_unblended_cost"],
}
REQUIRED = ("account", "product_code", "usage_type", "currency", "start")

# Bedrock rows left out for an unreadable cost or date are counted in full and named up to this
# many per file, the first ones by line.
MAX_NAMED_SKIPPED_ROWS = 100

# Costs and usage amounts are summed as DECIMAL with this many digits after the point; a sum
# keeps the scale of its inputs, so a single `12.50` stays `12.50`.
SUM_SCALE = 12


@dataclass(frozen=True)
class UsageType:
    """The parts of a Bedrock usage type such as `USE1-Claude3.5Sonnet-batch-input-tokens`."""

    region: str | None
    model: str | None
    direction: str | None
    batch: bool
    cross_region: bool
    marketplace: bool

    @property
    def unit(self) -> str | None:
        if self.direction is None:
            return None
        text = self.direction if self.direction in ("image", "provisioned throughput") else f"{self.direction} tokens"
        if self.batch:
            text += ", batch"
        if self.cross_region:
            text += ", cross-region"
        return text


def parse_usage_type(usage_type: str) -> UsageType:
    catalogue = load_catalogue()
    text = usage_type.strip()
    region = None
    head, separator, rest = text.partition("-")
    if separator and head in catalogue.usage_type_regions:
        region = catalogue.usage_type_regions[head]
        text = rest

    direction = None
    model_part, tail = text, ""
    for marker, name in catalogue.usage_type_directions:
        index = text.lower().find(marker.lower())
        if index >= 0:
            direction = name
            model_part, tail = text[:index], text[index + len(marker):]
            break

    words = [word for word in model_part.strip("-").split("-") if word]
    tail_text = tail.lower()
    batch = any(word.lower() in catalogue.usage_type_batch_markers for word in words) or any(
        marker in tail_text for marker in catalogue.usage_type_batch_markers
    )
    cross_region = any(marker in text.lower() for marker in catalogue.usage_type_cross_region_markers)
    words = [word for word in words if word.lower() not in catalogue.usage_type_batch_markers]
    model = "-".join(words)
    for marker in catalogue.usage_type_cross_region_markers:
        model = model.replace(f"-{marker}", "")
    marketplace = model.upper().startswith("MP:")
    if marketplace:
        model = model[3:]
    return UsageType(region, model or None, direction, batch, cross_region, marketplace)


class CurCollector:
    """Bedrock spend lines from CUR exports."""

    name = "aws.cur"
    source = SourceKind.EXPORT

    def __init__(self, exports: tuple[CurExport, ...]):
        self.exports = exports

    def describe(self) -> str:
        return f"Bedrock spend from {len(self.exports)} CUR export path(s)"

    def collect(self, context: CollectContext) -> CollectorResult:
        import duckdb

        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        lines: list[SpendLine] = []
        connection = duckdb.connect()
        connection.execute("SET TimeZone='UTC'")
        for export in self.exports:
            files = sorted(glob.glob(export.path)) if glob.has_magic(export.path) else [export.path]
            if not files:
                outcome.scopes_not_seen.append(ScopeGap(export.path, "no file matches the path; check sources.aws.cur"))
                context.logger.warning("%s: %s: skipped, no file matches", self.name, export.path)
                continue
            for name in files:
                try:
                    reading = read_cur_file(connection, Path(name), export)
                except CurFileError as error:
                    outcome.scopes_not_seen.append(ScopeGap(name, str(error)))
                    context.logger.warning("%s: %s: skipped, %s", self.name, name, error)
                    continue
                outcome.scopes_seen.append(name)
                outcome.skipped_row_count += reading.skipped_row_count
                outcome.skipped_rows.extend(reading.skipped_rows)
                lines.extend(reading.lines)
                context.logger.info("%s: %s: %d Bedrock spend lines", self.name, name, len(reading.lines))
                if reading.skipped_row_count:
                    count = reading.skipped_row_count
                    rows = "1 Bedrock row with an unreadable cost or date was" if count == 1 else f"{count} Bedrock rows with an unreadable cost or date were"
                    outcome.notes.append(f"{name}: {rows} left out")
                    first = reading.skipped_rows[0]
                    context.logger.warning("%s: %s: %s left out, the first at %s %d: %s", self.name, name, rows, reading.row_label, first.row, first.reason)
        connection.close()
        return CollectorResult(outcome, spend_lines=lines)


class CurFileError(Exception):
    """A CUR file that cannot be read as the format it claims; the message names what to do."""


@dataclass
class CurReading:
    """The spend lines of one CUR file and the Bedrock rows it left out. A skipped row's number
    is its line in a CSV (the header is line 1) and its row, counted from 1, in a Parquet file."""

    lines: list[SpendLine]
    skipped_row_count: int
    skipped_rows: list[SkippedRow]
    row_label: str


def read_cur_file(connection: Any, path: Path, export: CurExport) -> CurReading:
    """Aggregate one CUR file's Bedrock rows into spend lines, and count and name the Bedrock
    rows left out for an unreadable cost or date."""
    import duckdb

    if not path.is_file():
        raise CurFileError("file not found")
    relation_sql = _relation_sql(path)
    try:
        described = connection.execute(f"DESCRIBE SELECT * FROM {relation_sql}", [str(path)]).fetchall()
        columns = [row[0] for row in described]
        column_types = {row[0]: str(row[1]) for row in described}
    except duckdb.Error as error:
        raise CurFileError(f"cannot read as CSV or Parquet ({str(error).splitlines()[0]})") from None

    form = export.format if export.format != "auto" else _detect_format(columns)
    if form is None:
        raise CurFileError("neither CUR 2.0 (line_item_usage_type) nor legacy CUR (lineItem/UsageType) columns; set format or check the file")
    names = CUR2_COLUMNS if form == "cur2" else LEGACY_COLUMNS
    chosen = {field: next((column for column in candidates if column in columns), None) for field, candidates in names.items()}
    missing = [names[field][0] for field in REQUIRED if chosen[field] is None]
    cost_column = chosen[export.cost]
    if cost_column is None:
        missing.append(names[export.cost][0])
    if missing:
        raise CurFileError(f"missing column {', '.join(missing)} for a {form} export")

    tag_columns = [column for column in columns if column.startswith("resourceTags/")] if form == "legacy" else []
    tag_map_column = "resource_tags" if form == "cur2" and "resource_tags" in columns else None
    product_name_sql = _product_map_name_sql(column_types) if form == "cur2" and chosen["product_name"] is None else None
    rows_sql, parameters = _bedrock_rows_sql(
        relation_sql, "NULL", chosen, cost_column, tag_columns, tag_map_column, product_name_sql
    )
    try:
        rows = connection.execute(_aggregate_sql(rows_sql), [str(path), *parameters]).fetchall()
    except duckdb.Error as error:
        raise CurFileError(f"cannot aggregate ({str(error).splitlines()[0]})") from None

    lines = []
    bad_rows = 0
    for row in rows:
        record = dict(zip(["account", "product_code", "product_name", "usage_type", "resource_id", "region", "currency",
                           "line_item_type", "day", "cost", "usage_amount", "row_count", "bad_rows", "tags",
                           "cost_scale", "usage_scale"], row))
        bad_rows += int(record["bad_rows"] or 0)
        if record["day"] is None or record["cost"] is None:
            continue
        lines.append(_spend_line(record, tag_columns, tag_map_column is not None, path))

    # Naming the skipped rows takes a second scan that numbers every row, which is slower, so it
    # runs only when some rows were skipped.
    numbered_sql, row_number_sql = _numbered_relation_sql(path)
    skipped = []
    if bad_rows:
        numbered_rows_sql, _ = _bedrock_rows_sql(
            numbered_sql, row_number_sql, chosen, cost_column, tag_columns, tag_map_column, product_name_sql
        )
        try:
            skipped = connection.execute(_skipped_rows_sql(numbered_rows_sql), [str(path), *parameters]).fetchall()
        except duckdb.Error as error:
            raise CurFileError(f"cannot read the skipped rows ({str(error).splitlines()[0]})") from None
    named = [_skipped_row(path, row, cost_column, chosen["start"]) for row in skipped]
    row_label = "row" if numbered_sql.startswith("read_parquet") else "line"
    return CurReading(lines, bad_rows, named, row_label)


def _skipped_row(path: Path, row: tuple[Any, ...], cost_column: str, start_column: str | None) -> SkippedRow:
    row_number, cost_text, cost_bad, start_text, day_bad = row
    reasons = []
    if cost_bad:
        reasons.append(f"{cost_column} is empty" if cost_text is None else f"{cost_column} value {cost_text!r} is not a number")
    if day_bad:
        reasons.append(f"{start_column} is empty" if start_text is None else f"{start_column} value {start_text!r} is not a date and time")
    return SkippedRow(str(path), int(row_number), "; ".join(reasons))


def _relation_sql(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet") or name.endswith(".snappy.parquet"):
        return "read_parquet(?)"
    return "read_csv(?, header=true, all_varchar=true)"


def _numbered_relation_sql(path: Path) -> tuple[str, str]:
    """Return the file as a relation whose rows carry their number, and the SQL of that number:
    the line of a CSV row (the header is line 1), or the row of a Parquet file counted from 1."""
    relation = _relation_sql(path)
    if relation.startswith("read_parquet"):
        return "read_parquet(?, file_row_number = true)", "file_row_number + 1"
    # NOTE: a quoted field that spans lines moves every later row down a line, so the numbers of
    # rows after it are lower than their lines.
    return f"{relation} WITH ORDINALITY", "ordinality + 1"


def _detect_format(columns: list[str]) -> str | None:
    if "line_item_usage_type" in columns:
        return "cur2"
    if "lineItem/UsageType" in columns:
        return "legacy"
    return None


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _text(column: str | None) -> str:
    return f"CAST({_quote(column)} AS VARCHAR)" if column else "CAST(NULL AS VARCHAR)"


def _product_map_name_sql(column_types: dict[str, str]) -> str | None:
    """Return the SQL that reads the product name from CUR 2.0's `product` map column.

    CUR 2.0 keeps only some product attributes as columns of their own; the others, the product
    name among them, are keys of the `product` map (a MAP in Parquet, JSON text in CSV).
    """
    column_type = column_types.get("product")
    if column_type is None:
        return None
    if column_type.upper().startswith("MAP"):
        return "CAST(map_extract_value(\"product\", 'product_name') AS VARCHAR)"
    text = "CAST(\"product\" AS VARCHAR)"
    return f"CASE WHEN json_valid({text}) THEN json_extract_string({text}, '$.product_name') END"


def _bedrock_rows_sql(
    relation_sql: str, row_number_sql: str, chosen: dict[str, str | None], cost_column: str, tag_columns: list[str],
    tag_map_column: str | None, product_name_sql: str | None = None,
) -> tuple[str, list[Any]]:
    """Return the SQL of the file's Bedrock rows with typed values (no Tax rows), and its
    parameters after the file path."""
    catalogue = load_catalogue()
    if tag_columns:
        tags_sql = "to_json(struct_pack(" + ", ".join(f"{_quote('t' + str(index))} := {_text(column)}" for index, column in enumerate(tag_columns)) + "))"
    elif tag_map_column:
        tags_sql = f"to_json({_quote(tag_map_column)})"
    else:
        tags_sql = "CAST(NULL AS VARCHAR)"

    codes = sorted(catalogue.product_codes)
    names = sorted(catalogue.product_names)
    code_list = ", ".join("?" for _ in codes)
    name_list = ", ".join("?" for _ in names)
    sql = f"""
        SELECT * FROM (
            SELECT
                {row_number_sql} AS source_row,
                {_text(chosen['account'])} AS account,
                {_text(chosen['product_code'])} AS product_code,
                {product_name_sql or _text(chosen['product_name'])} AS product_name,
                {_text(chosen['usage_type'])} AS usage_type,
                NULLIF({_text(chosen['resource_id'])}, '') AS resource_id,
                NULLIF({_text(chosen['region'])}, '') AS region,
                {_text(chosen['currency'])} AS currency,
                {_text(chosen['line_item_type'])} AS line_item_type,
                {_text(chosen['start'])} AS start_text,
                CAST(TRY_CAST({_text(chosen['start'])} AS TIMESTAMPTZ) AS DATE) AS day,
                {_text(cost_column)} AS cost_text,
                TRY_CAST({_text(cost_column)} AS DECIMAL(38, {SUM_SCALE})) AS cost,
                {_scale_sql(_text(cost_column))} AS cost_scale,
                TRY_CAST({_text(chosen['usage_amount'])} AS DECIMAL(38, {SUM_SCALE})) AS usage_amount,
                {_scale_sql(_text(chosen['usage_amount']))} AS usage_scale,
                {tags_sql} AS tags
            FROM {relation_sql}
        )
        WHERE (lower(product_code) IN ({code_list})
               OR lower(coalesce(product_name, '')) IN ({name_list})
               OR lower(coalesce(product_name, '')) LIKE ?)
          AND coalesce(line_item_type, '') <> 'Tax'
    """
    parameters = [*codes, *names, "%" + catalogue.marketplace_name_suffix]
    return sql, parameters


def _scale_sql(text_sql: str) -> str:
    """SQL of the digits after the point of a number written positionally (`12.50` has 2), or
    NULL for a number with an exponent such as `1e-07`. String functions rather than a regular
    expression keep this cheap on every row of a large file."""
    text = f"trim({text_sql})"
    return f"""CASE WHEN contains(lower({text}), 'e') THEN NULL
                    WHEN strpos({text}, '.') = 0 THEN 0
                    ELSE length({text}) - strpos({text}, '.') END"""


def _aggregate_sql(rows_sql: str) -> str:
    """Group the Bedrock rows to one row per account, product, usage type, resource, region,
    currency, line item type, day and tag set. A scale is NULL when some input of the sum was not
    written positionally."""
    return f"""
        WITH rows AS ({rows_sql})
        SELECT account, product_code, product_name, usage_type, resource_id, region, currency, line_item_type, day,
               SUM(cost), SUM(usage_amount), COUNT(*),
               COUNT(*) FILTER (WHERE cost IS NULL OR day IS NULL), tags,
               CASE WHEN bool_and(cost_scale IS NOT NULL) FILTER (WHERE cost IS NOT NULL)
                    THEN max(cost_scale) FILTER (WHERE cost IS NOT NULL) END,
               CASE WHEN bool_and(usage_scale IS NOT NULL) FILTER (WHERE usage_amount IS NOT NULL)
                    THEN max(usage_scale) FILTER (WHERE usage_amount IS NOT NULL) END
        FROM rows
        GROUP BY account, product_code, product_name, usage_type, resource_id, region, currency, line_item_type, day, tags
        ORDER BY day, account, product_code, usage_type, resource_id NULLS FIRST, tags NULLS FIRST
    """


def _skipped_rows_sql(rows_sql: str) -> str:
    return f"""
        WITH rows AS ({rows_sql})
        SELECT source_row, cost_text, cost IS NULL, start_text, day IS NULL
        FROM rows
        WHERE cost IS NULL OR day IS NULL
        ORDER BY source_row
        LIMIT {MAX_NAMED_SKIPPED_ROWS}
    """


def _exact_sum(total: Decimal, scale: int | None) -> Decimal:
    """Write a DuckDB sum with the scale of its inputs. A scale beyond SUM_SCALE was rounded on
    reading, so such a sum, like one with an unknown scale, drops the zeros DuckDB pads it with."""
    if scale is not None and scale <= SUM_SCALE:
        return total.quantize(Decimal(1).scaleb(-scale))
    if total == total.to_integral_value():
        return total.quantize(Decimal(1))
    return total.normalize()


def _spend_line(record: dict[str, Any], tag_columns: list[str], tag_map: bool, path: Path) -> SpendLine:
    usage = parse_usage_type(record["usage_type"] or "")
    day: date = record["day"]
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    product_name = (record["product_name"] or "").strip()
    code = record["product_code"] or ""
    service = product_name or (BEDROCK_SERVICE if code.lower() in load_catalogue().product_codes else code)
    return SpendLine(
        amount=_exact_sum(Decimal(record["cost"]), record["cost_scale"]),
        currency=(record["currency"] or "USD").strip(),
        period_start=start,
        period_end=start + timedelta(days=1),
        provider="aws",
        service=service,
        account=record["account"],
        resource_id=record["resource_id"],
        model=usage.model,
        region=record["region"] or usage.region,
        category="AI and Machine Learning",
        subcategory="Generative AI",
        charge_category=record["line_item_type"],
        quantity=None if record["usage_amount"] is None else _exact_sum(Decimal(record["usage_amount"]), record["usage_scale"]),
        unit=usage.unit,
        tags=_tags(record["tags"], tag_columns, tag_map),
        source=SourceRef(str(path), row_count=int(record["row_count"])),
    )


def _tags(raw: str | None, tag_columns: list[str], tag_map: bool) -> Tags:
    """Tags of a grouped row: legacy columns `resourceTags/user:team`, or CUR 2.0 map keys
    `user_team`; `user` prefixes are dropped and AWS-generated keys keep an `aws:` prefix."""
    if not raw:
        return Tags()
    document = json.loads(raw)
    if isinstance(document, str):
        # A CSV export writes the resource_tags map as JSON text, which to_json quotes once more.
        document = json.loads(document) if document.strip() else {}
    if not isinstance(document, dict):
        return Tags()
    found: dict[str, str] = {}
    if tag_columns:
        for index, column in enumerate(tag_columns):
            value = document.get(f"t{index}")
            if value:
                found[column.removeprefix("resourceTags/")] = value
    elif tag_map:
        for key, value in document.items():
            if not value:
                continue
            if key.startswith("user_"):
                found["user:" + key[len("user_"):]] = value
            elif key.startswith("aws_"):
                found["aws:" + key[len("aws_"):]] = value
            else:
                found[key] = value
    return Tags.from_mapping(found)
