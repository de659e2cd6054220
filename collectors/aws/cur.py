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
from scanner.model import CollectorOutcome, CollectorResult, ScopeGap, SourceRef, SpendLine, Tags

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
                    file_lines, bad_rows = read_cur_file(connection, Path(name), export)
                except CurFileError as error:
                    outcome.scopes_not_seen.append(ScopeGap(name, str(error)))
                    context.logger.warning("%s: %s: skipped, %s", self.name, name, error)
                    continue
                outcome.scopes_seen.append(name)
                outcome.skipped_row_count += bad_rows
                if bad_rows:
                    outcome.notes.append(f"{name}: {bad_rows} Bedrock rows with an unreadable cost or date were left out")
                lines.extend(file_lines)
                context.logger.info("%s: %s: %d Bedrock spend lines", self.name, name, len(file_lines))
        connection.close()
        return CollectorResult(outcome, spend_lines=lines)


class CurFileError(Exception):
    """A CUR file that cannot be read as the format it claims; the message names what to do."""


def read_cur_file(connection: Any, path: Path, export: CurExport) -> tuple[list[SpendLine], int]:
    """Aggregate one CUR file's Bedrock rows; return the spend lines and the count of Bedrock
    rows left out for an unreadable cost or date."""
    import duckdb

    if not path.is_file():
        raise CurFileError("file not found")
    relation_sql = _relation_sql(path)
    try:
        columns = [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {relation_sql}", [str(path)]).fetchall()]
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
    sql, parameters = _aggregate_sql(relation_sql, chosen, cost_column, tag_columns, tag_map_column)
    try:
        rows = connection.execute(sql, [str(path), *parameters]).fetchall()
    except duckdb.Error as error:
        raise CurFileError(f"cannot aggregate ({str(error).splitlines()[0]})") from None

    lines = []
    bad_rows = 0
    for row in rows:
        record = dict(zip(["account", "product_code", "product_name", "usage_type", "resource_id", "region", "currency",
                           "line_item_type", "day", "cost", "usage_amount", "row_count", "bad_rows", "tags"], row))
        bad_rows += int(record["bad_rows"] or 0)
        if record["day"] is None or record["cost"] is None:
            continue
        lines.append(_spend_line(record, tag_columns, tag_map_column is not None, path))
    return lines, bad_rows


def _relation_sql(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet") or name.endswith(".snappy.parquet"):
        return "read_parquet(?)"
    return "read_csv(?, header=true, all_varchar=true)"


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


def _aggregate_sql(
    relation_sql: str, chosen: dict[str, str | None], cost_column: str, tag_columns: list[str], tag_map_column: str | None
) -> tuple[str, list[Any]]:
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
    product_name = _text(chosen["product_name"])
    sql = f"""
        WITH rows AS (
            SELECT
                {_text(chosen['account'])} AS account,
                {_text(chosen['product_code'])} AS product_code,
                {product_name} AS product_name,
                {_text(chosen['usage_type'])} AS usage_type,
                NULLIF({_text(chosen['resource_id'])}, '') AS resource_id,
                NULLIF({_text(chosen['region'])}, '') AS region,
                {_text(chosen['currency'])} AS currency,
                {_text(chosen['line_item_type'])} AS line_item_type,
                CAST(TRY_CAST({_text(chosen['start'])} AS TIMESTAMPTZ) AS DATE) AS day,
                TRY_CAST({_text(cost_column)} AS DECIMAL(38, 12)) AS cost,
                TRY_CAST({_text(chosen['usage_amount'])} AS DECIMAL(38, 12)) AS usage_amount,
                {tags_sql} AS tags
            FROM {relation_sql}
        )
        SELECT account, product_code, product_name, usage_type, resource_id, region, currency, line_item_type, day,
               SUM(cost), SUM(usage_amount), COUNT(*),
               COUNT(*) FILTER (WHERE cost IS NULL OR day IS NULL), tags
        FROM rows
        WHERE (lower(product_code) IN ({code_list})
               OR lower(coalesce(product_name, '')) IN ({name_list})
               OR lower(coalesce(product_name, '')) LIKE ?)
          AND coalesce(line_item_type, '') <> 'Tax'
        GROUP BY ALL
        ORDER BY day, account, product_code, usage_type, resource_id NULLS FIRST, tags NULLS FIRST
    """
    parameters = [*codes, *names, "%" + catalogue.marketplace_name_suffix]
    return sql, parameters


def _spend_line(record: dict[str, Any], tag_columns: list[str], tag_map: bool, path: Path) -> SpendLine:
    usage = parse_usage_type(record["usage_type"] or "")
    day: date = record["day"]
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    product_name = (record["product_name"] or "").strip()
    code = record["product_code"] or ""
    service = product_name or (BEDROCK_SERVICE if code.lower() in load_catalogue().product_codes else code)
    return SpendLine(
        amount=Decimal(record["cost"]).normalize(),
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
        quantity=None if record["usage_amount"] is None else Decimal(record["usage_amount"]).normalize(),
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
