"""Read Cloud Billing export files with DuckDB and aggregate their AI rows before any Python object
is made.

Three file shapes are read:
- newline-delimited JSON, as `bq extract --destination_format NEWLINE_DELIMITED_JSON` writes it:
  nested records (`project.labels`, `credits`) as JSON objects and arrays;
- Parquet, as `bq extract --destination_format PARQUET` writes it: the same nesting as columns;
- flattened CSV, because BigQuery cannot extract nested or repeated fields to CSV. It has one
  column per leaf field, named with a dot or an underscore (`service.description` or
  `service_description`). The repeated fields (`labels`, `system_labels`, `project.labels`,
  `credits`) are JSON text in one cell.

Money: the export's `cost` and `credits.amount` are FLOAT64. Each value is rounded to 9 decimal
places (BigQuery's NUMERIC scale) as it is read, and sums are exact DECIMAL(38, 9) sums.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from collectors.gcp.billing_groups import GROUP_COLUMNS, aggregate_sql

_LABEL_LIST = "STRUCT(key VARCHAR, value VARCHAR)[]"
_MONEY = "DECIMAL(38, 9)"

# The columns the JSON reader asks for, typed; fields absent from a file read as NULL.
_JSON_COLUMNS = {
    "usage_start_time": "VARCHAR",
    "project": f"STRUCT(id VARCHAR, number VARCHAR, name VARCHAR, labels {_LABEL_LIST})",
    "service": "STRUCT(id VARCHAR, description VARCHAR)",
    "sku": "STRUCT(id VARCHAR, description VARCHAR)",
    "labels": _LABEL_LIST,
    "system_labels": _LABEL_LIST,
    "location": "STRUCT(location VARCHAR, region VARCHAR)",
    "resource": "STRUCT(name VARCHAR, global_name VARCHAR)",
    "cost": _MONEY,
    "currency": "VARCHAR",
    "cost_type": "VARCHAR",
    "usage": f"STRUCT(amount {_MONEY}, unit VARCHAR)",
    "credits": f"STRUCT(name VARCHAR, amount {_MONEY}, type VARCHAR)[]",
}

# Flattened CSV: each logical field and the header names it may have.
_CSV_FIELDS = {
    "usage_start_time": ("usage_start_time",),
    "project_id": ("project.id", "project_id"),
    "project_number": ("project.number", "project_number"),
    "project_name": ("project.name", "project_name"),
    "project_labels": ("project.labels", "project_labels"),
    "service_description": ("service.description", "service_description"),
    "sku_description": ("sku.description", "sku_description"),
    "region": ("location.region", "location_region"),
    "labels": ("labels",),
    "system_labels": ("system_labels",),
    "resource_name": ("resource.name", "resource_name"),
    "resource_global_name": ("resource.global_name", "resource_global_name"),
    "cost": ("cost",),
    "currency": ("currency",),
    "cost_type": ("cost_type",),
    "usage_amount": ("usage.amount", "usage_amount"),
    "usage_unit": ("usage.unit", "usage_unit"),
    "credits": ("credits",),
}
_CSV_REQUIRED = ("usage_start_time", "service_description", "cost", "currency")


class BillingFileError(Exception):
    """A billing file that cannot be read as an export, with the reason in one line."""


@dataclass
class FileGroups:
    """The aggregated AI rows of one configured path (a file or a glob)."""

    path: str
    files: list[str]
    groups: list[dict[str, Any]]
    unreadable_rows: int


def expand(path: str) -> list[str]:
    """Return the files a configured path names: itself, or what its glob matches, sorted."""
    if any(character in path for character in "*?["):
        return sorted(glob.glob(path, recursive=True))
    return [path] if Path(path).is_file() else []


def file_format(path: str) -> str:
    name = path.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    raise BillingFileError(
        f"{path}: unknown billing export format; use .json/.jsonl/.ndjson (newline-delimited JSON), .parquet or .csv"
    )


def read_groups(path: str, service_pattern: str, start: date | None, end: date | None) -> FileGroups:
    """Aggregate the AI rows of every file `path` names into one group per attribution key."""
    import duckdb

    files = expand(path)
    if not files:
        raise BillingFileError(f"{path}: no file found; check sources.gcp.billing.files")
    formats = {file_format(file) for file in files}
    if len(formats) > 1:
        raise BillingFileError(f"{path}: the pattern matches files of several formats ({', '.join(sorted(formats))}); give one pattern per format")

    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        normalised = _normalised_rows(connection, files, formats.pop())
        rows, described = connection.execute(f"SELECT count(*), count(service_description) FROM ({normalised})").fetchone()
        if rows and not described:
            raise BillingFileError("no row has service.description; is it a Cloud Billing usage cost export?")
        parameters = {"pattern": service_pattern, "start": start, "end": end}
        groups = connection.execute(aggregate_sql(normalised), parameters).fetchall()
        unreadable = connection.execute(
            f"SELECT count(*) FROM ({normalised}) WHERE regexp_matches(coalesce(service_description, ''), $pattern) "
            "AND (usage_start IS NULL OR cost IS NULL OR currency IS NULL)",
            {"pattern": service_pattern},
        ).fetchone()[0]
    except BillingFileError as error:
        raise BillingFileError(f"{path}: {error}") from None
    except duckdb.Error as error:
        raise BillingFileError(f"{path}: cannot read the billing export ({_first_line(error)})") from None
    finally:
        connection.close()

    return FileGroups(path, files, [dict(zip(GROUP_COLUMNS, row)) for row in groups], unreadable)


def _normalised_rows(connection: Any, files: list[str], kind: str) -> str:
    """Build a SELECT that gives every row in the normalised columns `aggregate_sql` reads."""
    if kind == "json":
        columns = "{" + ", ".join(f"'{name}': '{type_}'" for name, type_ in _JSON_COLUMNS.items()) + "}"
        source = f"read_json({_list(files)}, format = 'newline_delimited', columns = {columns})"
        return _nested_select(source, present=set(_JSON_COLUMNS), money_cast=False)
    if kind == "parquet":
        source = f"read_parquet({_list(files)}, union_by_name = true)"
        present = {row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        return _nested_select(source, present=present, money_cast=True)
    return _csv_select(connection, files)


def _nested_select(source: str, present: set[str], money_cast: bool) -> str:
    """Normalise a source with the export's nested records (JSON or Parquet)."""
    missing = {"usage_start_time", "service", "cost", "currency"} - present
    if missing:
        raise BillingFileError(f"the export has no {', '.join(sorted(missing))} column; is it a Cloud Billing usage cost export?")

    def money(expression: str) -> str:
        return f"CAST({expression} AS {_MONEY})" if money_cast else expression

    def optional(column: str, expression: str) -> str:
        return expression if column in present else "NULL"

    credits = f"list_sum([{money('credit.amount')} for credit in credits])"
    return f"""
        SELECT
            TRY_CAST(CAST(usage_start_time AS VARCHAR) AS TIMESTAMPTZ) AS usage_start,
            {optional('project', 'project.id')} AS project_id,
            {optional('project', 'CAST(project.number AS VARCHAR)')} AS project_number,
            {optional('project', 'project.name')} AS project_name,
            {optional('project', 'project.labels')} AS project_labels,
            service.description AS service_description,
            {optional('sku', 'sku.description')} AS sku_description,
            {optional('location', 'location.region')} AS region,
            {optional('labels', 'labels')} AS labels,
            {optional('system_labels', 'system_labels')} AS system_labels,
            {optional('resource', 'resource.name')} AS resource_name,
            {optional('resource', 'resource.global_name')} AS resource_global_name,
            {optional('cost_type', 'cost_type')} AS cost_type,
            currency,
            {optional('usage', 'usage.unit')} AS usage_unit,
            {money('cost')} AS cost,
            {optional('credits', credits)} AS credits,
            {optional('usage', money('usage.amount'))} AS usage_amount
        FROM {source}
    """


def _csv_select(connection: Any, files: list[str]) -> str:
    source = f"read_csv({_list(files)}, all_varchar = true, header = true, union_by_name = true)"
    headers = {row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    column = {
        field: next((name for name in names if name in headers), None) for field, names in _CSV_FIELDS.items()
    }
    missing = [field for field in _CSV_REQUIRED if column[field] is None]
    if missing:
        raise BillingFileError(
            f"the CSV has no {', '.join(_CSV_FIELDS[field][0] for field in missing)} column; "
            "export the billing table with those fields (flattened, one column per field)"
        )

    def text(field: str) -> str:
        return f'"{column[field]}"' if column[field] else "NULL"

    def decimal(field: str) -> str:
        return f"TRY_CAST({text(field)} AS {_MONEY})" if column[field] else "NULL"

    def labels(field: str) -> str:
        if not column[field]:
            return "NULL"
        return f"CASE WHEN json_valid({text(field)}) THEN from_json({text(field)}, '[{{\"key\": \"VARCHAR\", \"value\": \"VARCHAR\"}}]') END"

    credits = "NULL"
    if column["credits"]:
        credits = (
            f"list_sum([credit.amount for credit in "
            f"CASE WHEN json_valid({text('credits')}) THEN from_json({text('credits')}, '[{{\"amount\": \"{_MONEY}\"}}]') END])"
        )
    return f"""
        SELECT
            TRY_CAST({text('usage_start_time')} AS TIMESTAMPTZ) AS usage_start,
            {text('project_id')} AS project_id,
            {text('project_number')} AS project_number,
            {text('project_name')} AS project_name,
            {labels('project_labels')} AS project_labels,
            {text('service_description')} AS service_description,
            {text('sku_description')} AS sku_description,
            {text('region')} AS region,
            {labels('labels')} AS labels,
            {labels('system_labels')} AS system_labels,
            {text('resource_name')} AS resource_name,
            {text('resource_global_name')} AS resource_global_name,
            {text('cost_type')} AS cost_type,
            {text('currency')} AS currency,
            {text('usage_unit')} AS usage_unit,
            {decimal('cost')} AS cost,
            {credits} AS credits,
            {decimal('usage_amount')} AS usage_amount
        FROM {source}
    """


def _list(files: list[str]) -> str:
    return "[" + ", ".join("'" + file.replace("'", "''") + "'" for file in files) + "]"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:300]
