"""The aggregation of Cloud Billing export rows, as SQL for DuckDB (files) and BigQuery (live), and
the grouped rows it returns turned into spend lines.

Both queries return the same columns (GROUP_COLUMNS): one row per usage day, project, service,
SKU, region, resource, label set, system label set, project label set, cost type and currency,
with the summed cost, credits and usage. Label sets are JSON text sorted by key, so equal sets
group together.

Spend lines then merge the SKUs of one model: input and output tokens of Gemini 2.5 Pro become
one line, but batch and long-context SKUs keep their own line because the model names the
variant (`Gemini 2.5 Pro (batch)`).

System labels are set by Google (`compute.googleapis.com/machine_spec`), not by a team, so they
never split a line: a line keeps, under `system:<key>` tags, the system labels that every one of
its rows carries with the same value.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from collectors.gcp.catalogue import Catalogue
from collectors.gcp.inventory import project_asset_id
from scanner.model import SourceRef, SpendLine, Tags

GROUP_COLUMNS = (
    "usage_date",
    "project_id",
    "project_number",
    "project_name",
    "project_labels",
    "service_description",
    "sku_description",
    "region",
    "labels",
    "system_labels",
    "resource_name",
    "resource_global_name",
    "cost_type",
    "currency",
    "usage_unit",
    "cost",
    "credits",
    "usage_amount",
    "row_count",
)

# Cloud Billing cost_type values and the FOCUS charge category each one is.
_CHARGE_CATEGORY = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment", "rounding error": "Adjustment"}


def aggregate_sql(normalised: str) -> str:
    """DuckDB: group the normalised rows of `normalised` (a SELECT) that are AI services.
    Parameters: $pattern (service description, RE2), $start and $end (dates or NULL)."""
    return f"""
        SELECT
            CAST(usage_start AS DATE) AS usage_date,
            project_id,
            project_number,
            project_name,
            CASE WHEN project_labels IS NULL THEN '[]' ELSE CAST(to_json(list_sort(project_labels)) AS VARCHAR) END,
            service_description,
            sku_description,
            region,
            CASE WHEN labels IS NULL THEN '[]' ELSE CAST(to_json(list_sort(labels)) AS VARCHAR) END,
            CASE WHEN system_labels IS NULL THEN '[]' ELSE CAST(to_json(list_sort(system_labels)) AS VARCHAR) END,
            resource_name,
            resource_global_name,
            cost_type,
            currency,
            usage_unit,
            SUM(cost),
            SUM(coalesce(credits, 0)),
            SUM(usage_amount),
            COUNT(*)
        FROM ({normalised})
        WHERE regexp_matches(coalesce(service_description, ''), $pattern)
          AND usage_start IS NOT NULL AND cost IS NOT NULL AND currency IS NOT NULL
          AND (CAST($start AS DATE) IS NULL OR usage_start >= CAST($start AS DATE))
          AND (CAST($end AS DATE) IS NULL OR usage_start < CAST($end AS DATE))
        GROUP BY ALL
        ORDER BY ALL
    """


def bigquery_sql(table: str, has_resource: bool, ingestion_partitioned: bool) -> str:
    """BigQuery standard SQL with the same output as `aggregate_sql`, run where the export lives.
    Parameters: @pattern (STRING), @start and @end (TIMESTAMP or NULL)."""
    resource = "resource.name, resource.global_name" if has_resource else "CAST(NULL AS STRING), CAST(NULL AS STRING)"
    # An ingestion-time partition contains the rows loaded on its day, which is never before their
    # usage day, so partitions older than the day before `start` contain no usage from `start` on.
    partition_filter = (
        "AND (@start IS NULL OR _PARTITIONTIME >= TIMESTAMP_SUB(@start, INTERVAL 1 DAY))" if ingestion_partitioned else ""
    )
    return f"""
        SELECT
            DATE(usage_start_time) AS usage_date,
            project.id,
            project.number,
            project.name,
            TO_JSON_STRING(ARRAY(SELECT AS STRUCT key, value FROM UNNEST(project.labels) ORDER BY key, value)),
            service.description,
            sku.description,
            location.region,
            TO_JSON_STRING(ARRAY(SELECT AS STRUCT key, value FROM UNNEST(labels) ORDER BY key, value)),
            TO_JSON_STRING(ARRAY(SELECT AS STRUCT key, value FROM UNNEST(system_labels) ORDER BY key, value)),
            {resource},
            cost_type,
            currency,
            usage.unit,
            SUM(CAST(cost AS NUMERIC)),
            SUM(IFNULL((SELECT SUM(CAST(credit.amount AS NUMERIC)) FROM UNNEST(credits) AS credit), 0)),
            SUM(CAST(usage.amount AS NUMERIC)),
            COUNT(*)
        FROM `{table}`
        WHERE REGEXP_CONTAINS(IFNULL(service.description, ''), @pattern)
          AND (@start IS NULL OR usage_start_time >= @start)
          AND (@end IS NULL OR usage_start_time < @end)
          {partition_filter}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        ORDER BY 1, 2, 3, 6, 7, 9
    """


@dataclass
class _Line:
    """A spend line being summed from several grouped rows."""

    fields: dict[str, Any]
    tags: Tags
    amount: Decimal = Decimal(0)
    quantity: Decimal | None = Decimal(0)
    units: set[str] = field(default_factory=set)
    row_count: int = 0
    # The system labels every merged row carries with the same value; None before the first row.
    system_labels: dict[str, str] | None = None


def spend_lines(
    groups: list[dict[str, Any]],
    location: str,
    cost_mode: str,
    owner_labels: tuple[str, ...],
    catalogue: Catalogue,
) -> list[SpendLine]:
    """Merge grouped rows into spend lines, one per attribution key and model."""
    lines: dict[tuple, _Line] = {}
    for group in groups:
        service = (group["service_description"] or "").strip()
        model = catalogue.model_of(service, group["sku_description"])
        labels = _labels(group["labels"])
        project_labels = _labels(group["project_labels"])
        key = (
            group["usage_date"],
            group["project_id"],
            group["project_number"],
            service,
            model,
            group["region"],
            group["resource_global_name"],
            group["labels"],
            group["project_labels"],
            group["cost_type"],
            group["currency"],
        )
        line = lines.get(key)
        if line is None:
            line = _Line(fields=dict(group, service_description=service, model=model), tags=_tags(labels, project_labels, owner_labels))
            lines[key] = line

        credits = Decimal(group["credits"] or 0)
        line.amount += Decimal(group["cost"]) + (credits if cost_mode == "net" else Decimal(0))
        line.row_count += int(group["row_count"])
        if group["usage_amount"] is None or line.quantity is None:
            line.quantity = None
        else:
            line.quantity += Decimal(group["usage_amount"])
        line.units.add(group["usage_unit"] or "")
        system_labels = _labels(group["system_labels"])
        if line.system_labels is None:
            line.system_labels = system_labels
        else:
            line.system_labels = {key: value for key, value in line.system_labels.items() if system_labels.get(key) == value}

    ordered = [line for _, line in sorted(lines.items(), key=lambda item: repr(item[0]))]
    for line in ordered:
        line.tags = _with_system_labels(line.tags, line.system_labels or {}, owner_labels)
    return [_spend_line(line, location) for line in ordered]


def _spend_line(line: _Line, location: str) -> SpendLine:
    fields = line.fields
    day = fields["usage_date"]
    if isinstance(day, str):
        day = date.fromisoformat(day)
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)

    # Quantities of different units (tokens and characters, say) cannot be summed into one.
    same_unit = len(line.units) == 1 and "" not in line.units
    resource_id = fields["resource_global_name"] or (project_asset_id(fields["project_number"]) if fields["project_number"] else None)
    return SpendLine(
        amount=line.amount,
        currency=fields["currency"],
        period_start=start,
        period_end=start + timedelta(days=1),
        provider="gcp",
        service=fields["service_description"],
        account=fields["project_id"],
        resource_id=resource_id,
        resource_name=fields["resource_name"] or fields["project_id"],
        model=fields["model"],
        region=fields["region"],
        category="AI and Machine Learning",
        charge_category=_CHARGE_CATEGORY.get((fields["cost_type"] or "regular").lower(), "Usage"),
        quantity=line.quantity if same_unit else None,
        unit=next(iter(line.units)) if same_unit else None,
        tags=line.tags,
        source=SourceRef(location, row=None, row_count=line.row_count),
    )


def _labels(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    return {entry["key"]: entry.get("value") or "" for entry in json.loads(text) if entry.get("key")}


def _tags(labels: dict[str, str], project_labels: dict[str, str], owner_labels: tuple[str, ...]) -> Tags:
    """Build a line's tags from the row's own labels.

    When none of them names an owner, the project's owner labels are added. Each added label keeps
    `project.labels.<key>` as its original key, so reports show where it came from.
    """
    tags = Tags.from_mapping(labels)
    if any(tags.values.get(key) for key in owner_labels):
        return tags

    inherited = Tags.from_mapping(project_labels)
    values, original_keys = dict(tags.values), dict(tags.original_keys)
    for key in owner_labels:
        value = inherited.values.get(key)
        if value and not values.get(key):
            values[key] = value
            original_keys[key] = f"project.labels.{inherited.original_keys[key]}"
    return Tags(values, original_keys)


SYSTEM_PREFIX = "system:"


def _with_system_labels(tags: Tags, system_labels: dict[str, str], owner_labels: tuple[str, ...]) -> Tags:
    """Add the system labels as `system:<key>` tags, which no Google Cloud label key can collide
    with (label keys cannot contain a colon). A system label whose tag key is an owner label is
    left out, so that Google's labels never name an owner."""
    system = Tags.from_mapping({SYSTEM_PREFIX + key: value for key, value in system_labels.items()})
    values, original_keys = dict(tags.values), dict(tags.original_keys)
    for key, value in system.values.items():
        if key not in owner_labels and key not in values:
            values[key] = value
            original_keys[key] = system.original_keys[key]
    return Tags(values, original_keys)
