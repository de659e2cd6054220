"""Query the Cloud Billing export table in BigQuery through google-cloud-bigquery.

The grouping runs in BigQuery, so only the grouped rows come back: one per attribution key and day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from collectors.gcp.billing_groups import GROUP_COLUMNS, bigquery_sql
from collectors.gcp.settings import BigQuerySettings
from scanner.errors import InputError


class BigQueryError(Exception):
    """A failed BigQuery call, with the API's error code and what to do, in one line."""


def make_client(settings: BigQuerySettings, anonymous: bool) -> Any:
    import google.auth
    import google.auth.exceptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    options = {"api_endpoint": settings.api_endpoint} if settings.api_endpoint else None
    if anonymous:
        credentials = AnonymousCredentials()
    else:
        try:
            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery.readonly", "https://www.googleapis.com/auth/cloud-platform"])
        except google.auth.exceptions.DefaultCredentialsError:
            raise InputError(
                "gcp: no Google Cloud credentials found for BigQuery; run `gcloud auth application-default login` "
                "or set GOOGLE_APPLICATION_CREDENTIALS"
            ) from None
    return bigquery.Client(project=settings.project, credentials=credentials, location=settings.location, client_options=options)


def query_groups(client: Any, settings: BigQuerySettings, service_pattern: str, start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Run the aggregation over the export table and return its grouped rows."""
    from google.api_core import exceptions
    from google.cloud import bigquery

    try:
        table = client.get_table(settings.table)
        has_resource = any(column.name == "resource" for column in table.schema)
        partitioning = table.time_partitioning
        ingestion_partitioned = partitioning is not None and partitioning.field is None

        parameters = [
            bigquery.ScalarQueryParameter("pattern", "STRING", service_pattern),
            bigquery.ScalarQueryParameter("start", "TIMESTAMP", _midnight(start)),
            bigquery.ScalarQueryParameter("end", "TIMESTAMP", _midnight(end)),
        ]
        job_config = bigquery.QueryJobConfig(query_parameters=parameters, use_legacy_sql=False)
        sql = bigquery_sql(settings.table, has_resource, ingestion_partitioned)
        rows = client.query_and_wait(sql, job_config=job_config, location=settings.location)
        return [dict(zip(GROUP_COLUMNS, row.values())) for row in rows]
    except exceptions.GoogleAPICallError as error:
        raise BigQueryError(_describe(error, settings.table)) from None


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=timezone.utc) if day else None


def _describe(error: Any, table: str) -> str:
    status = None
    errors = getattr(error, "errors", None) or []
    if errors and isinstance(errors[0], dict):
        status = errors[0].get("reason")
    code = f"{error.code} {status}" if status else str(error.code)
    message = (error.message or "").strip().splitlines()[0][:200] if error.message else "no message"
    if error.code == 403:
        action = f"grant roles/bigquery.dataViewer on the table and roles/bigquery.jobUser on the job project to the identity running shadowmap"
    elif error.code == 404:
        action = "check sources.gcp.billing.bigquery.table and location"
    else:
        action = "run again later"
    return f"BigQuery on {table} failed with {code} ({message}); {action}"
