"""Build the DuckDB SQL over one FOCUS export: the relation that reads the file, the typed row
expressions, the AI match from the catalogue, and the grouping by attribution key."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from collectors.billing.ai_catalogue import AiServiceCatalogue
from collectors.billing.export_files import ExportProblem

# Money and quantities are summed in DuckDB as this exact type. FOCUS cost values carry 11
# decimal places in the FinOps Foundation sample, so 18 leave room for exports with more, and the
# 20 integer digits left are enough for any bill. A value with more than 18 decimals is rounded.
EXACT_NUMBER_TYPE = "DECIMAL(38,18)"

REQUIRED_COLUMNS = ("BillingCurrency", "ChargePeriodStart", "ServiceCategory", "ServiceName")
COST_COLUMNS = {"effective": "EffectiveCost", "billed": "BilledCost"}
# ServiceProviderName replaces ProviderName in newer FOCUS versions; PublisherName and
# InvoiceIssuerName stand in where neither is filled.
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName", "PublisherName", "InvoiceIssuerName")
ACCOUNT_COLUMNS = ("SubAccountId", "BillingAccountId")
REGION_COLUMNS = ("RegionId", "Region")

ROW_ORDINAL_COLUMN = "shadowmap_row_ordinal"

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
