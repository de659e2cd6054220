"""The real google-cloud-bigquery client against a local fake of the BigQuery v2 REST API on
127.0.0.1: the aggregation query it sends, paged results, and a permission error.

The fake returns the groups DuckDB computes from the same export file, so the test also
shows that BigQuery's typed values (DATE, NUMERIC, INTEGER) become the same spend lines."""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from google.auth.credentials import AnonymousCredentials

from collectors.contract import CollectContext
from collectors.gcp import billing_bigquery
from collectors.gcp.billing_collector import BillingCollector
from collectors.gcp.billing_files import read_groups
from collectors.gcp.billing_groups import GROUP_COLUMNS
from collectors.gcp.catalogue import load_catalogue
from collectors.gcp.settings import BigQuerySettings, BillingSettings, GcpSettings

EXPORT = Path(__file__).parent / "data" / "gcp" / "billing-export-2026-11.jsonl"
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9"
DENIED_TABLE = "billing-admin.billing_export.gcp_billing_export_v1_DENIED"

_TYPES = {"usage_date": "DATE", "cost": "NUMERIC", "credits": "NUMERIC", "usage_amount": "NUMERIC", "row_count": "INTEGER"}
SCHEMA = {"fields": [{"name": name, "type": _TYPES.get(name, "STRING"), "mode": "NULLABLE"} for name in GROUP_COLUMNS]}


def cell(value) -> dict:
    return {"v": None if value is None else str(value)}


def file_groups() -> list[dict]:
    return read_groups(str(EXPORT), load_catalogue().billing_service_pattern(), None, None).groups


class FakeBigQuery(BaseHTTPRequestHandler):
    rows: list[dict] = []
    queries: list[dict] = []
    page_size = 4

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        parts = url.path.removeprefix("/bigquery/v2/").split("/")
        query = parse_qs(url.query)
        if "tables" in parts:
            table = ".".join([parts[1], parts[3], parts[5]])
            if table == DENIED_TABLE:
                return self._send(403, {"error": {"code": 403, "message": f"Access Denied: Table {table}: User does not have permission to query table.", "errors": [{"message": "Access Denied", "domain": "global", "reason": "accessDenied"}], "status": "PERMISSION_DENIED"}})
            fields = [{"name": "cost", "type": "FLOAT"}, {"name": "resource", "type": "RECORD", "fields": [{"name": "name", "type": "STRING"}, {"name": "global_name", "type": "STRING"}]}]
            return self._send(200, {"kind": "bigquery#table", "tableReference": {"projectId": parts[1], "datasetId": parts[3], "tableId": parts[5]}, "schema": {"fields": fields}, "timePartitioning": {"type": "DAY"}, "type": "TABLE"})
        if "jobs" in parts:
            return self._send(200, {"kind": "bigquery#job", "id": "billing-admin:US.job-1", "jobReference": {"projectId": "billing-admin", "jobId": "job-1", "location": "US"}, "configuration": {"jobType": "QUERY", "query": {"query": self.queries[-1]["query"], "useLegacySql": False}}, "status": {"state": "DONE"}, "statistics": {"creationTime": "1764500000000", "startTime": "1764500000100", "endTime": "1764500000900"}})
        start = int(query["pageToken"][0])
        return self._send(200, self._page(start, "bigquery#getQueryResultsResponse"))

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.queries.append(body)
        return self._send(200, self._page(0, "bigquery#queryResponse"))

    def _page(self, start: int, kind: str) -> dict:
        chunk = self.rows[start : start + self.page_size]
        page = {
            "kind": kind,
            "jobReference": {"projectId": "billing-admin", "jobId": "job-1", "location": "US"},
            "jobComplete": True,
            "schema": SCHEMA,
            "totalRows": str(len(self.rows)),
            "rows": [{"f": [cell(row[name]) for name in GROUP_COLUMNS]} for row in chunk],
        }
        if start + self.page_size < len(self.rows):
            page["pageToken"] = str(start + self.page_size)
        return page

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        return None


@pytest.fixture
def fake_bigquery():
    FakeBigQuery.rows = file_groups()
    FakeBigQuery.queries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBigQuery)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def collect(endpoint: str, table: str = TABLE, cost: str = "net"):
    from datetime import date

    bigquery = BigQuerySettings(table=table, project="billing-admin", location="US", api_endpoint=endpoint)
    settings = GcpSettings(
        billing=BillingSettings(bigquery=bigquery, cost=cost, start=date(2026, 11, 1), end=date(2026, 12, 1)),
        anonymous=True,
        owner_labels=("team", "owner"),
    )
    result = BillingCollector(settings).collect(CollectContext(logger=logging.getLogger("test.gcp")))
    result.outcome.settle()
    return result


def file_collect():
    settings = GcpSettings(billing=BillingSettings(files=(str(EXPORT),)), owner_labels=("team", "owner"))
    return BillingCollector(settings).collect(CollectContext(logger=logging.getLogger("test.gcp")))


def comparable(lines) -> list[tuple]:
    return sorted((line.key, line.amount, line.quantity, line.model, line.resource_id) for line in lines)


def test_bigquery_lines_match_file_lines(fake_bigquery):
    result = collect(fake_bigquery)

    assert result.outcome.scopes_seen == [f"bigquery:{TABLE}"]
    assert comparable(result.spend_lines) == comparable(file_collect().spend_lines)


def test_bigquery_amounts_are_decimals(fake_bigquery):
    lines = {(line.account, line.model, line.period_start.day): line for line in collect(fake_bigquery).spend_lines}

    assert lines[("larkspur-search-prod", "Gemini 2.5 Pro", 3)].amount == Decimal("0.3")
    assert lines[("larkspur-claims-ml", "Gemini 2.5 Flash", 3)].amount == Decimal("0.03")


def test_bigquery_reads_every_result_page(fake_bigquery):
    collect(fake_bigquery)

    assert len(FakeBigQuery.rows) > FakeBigQuery.page_size


def test_query_groups_in_bigquery_with_parameters(fake_bigquery):
    collect(fake_bigquery)

    request = FakeBigQuery.queries[0]
    sql = request["query"]
    parameters = {parameter["name"]: parameter for parameter in request["queryParameters"]}
    assert f"FROM `{TABLE}`" in sql
    assert "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n" in sql
    assert "TO_JSON_STRING(ARRAY(SELECT AS STRUCT key, value FROM UNNEST(system_labels) ORDER BY key, value))" in sql
    assert "SUM(CAST(cost AS NUMERIC))" in sql
    assert "resource.name, resource.global_name" in sql
    assert "_PARTITIONTIME >= TIMESTAMP_SUB(@start, INTERVAL 1 DAY)" in sql
    assert request["useLegacySql"] is False
    assert parameters["pattern"]["parameterValue"]["value"] == load_catalogue().billing_service_pattern()
    assert parameters["start"]["parameterValue"]["value"].startswith("2026-11-01 00:00:00")
    assert parameters["end"]["parameterValue"]["value"].startswith("2026-12-01 00:00:00")


def test_standard_export_selects_no_resource():
    from collectors.gcp.billing_groups import bigquery_sql

    sql = bigquery_sql("p.d.gcp_billing_export_v1_X", has_resource=False, ingestion_partitioned=False)

    assert "CAST(NULL AS STRING), CAST(NULL AS STRING)" in sql
    assert "_PARTITIONTIME" not in sql


def test_denied_table_is_scope_not_seen(fake_bigquery):
    result = collect(fake_bigquery, table=DENIED_TABLE)

    assert result.outcome.status.value == "failed"
    gap = result.outcome.scopes_not_seen[0]
    assert gap.scope == f"bigquery:{DENIED_TABLE}"
    assert gap.reason.startswith(f"BigQuery on {DENIED_TABLE} failed with 403 accessDenied")
    assert "roles/bigquery.dataViewer" in gap.reason


def test_anonymous_bigquery_client_uses_endpoint(fake_bigquery):
    settings = BigQuerySettings(table=TABLE, project="billing-admin", api_endpoint=fake_bigquery)

    client = billing_bigquery.make_client(settings, anonymous=True)

    assert isinstance(client._credentials, AnonymousCredentials)
    assert client.project == "billing-admin"
    assert client._connection.API_BASE_URL == fake_bigquery


SYSTEM_EXPORT = EXPORT.parent / "billing-export-system-labels.jsonl"


def test_bigquery_system_labels_match_file_lines(fake_bigquery):
    FakeBigQuery.rows = read_groups(str(SYSTEM_EXPORT), load_catalogue().billing_service_pattern(), None, None).groups
    settings = GcpSettings(billing=BillingSettings(files=(str(SYSTEM_EXPORT),)), owner_labels=("team", "owner"))
    from_files = BillingCollector(settings).collect(CollectContext(logger=logging.getLogger("test.gcp"))).spend_lines

    lines = {(line.account, line.model): line for line in collect(fake_bigquery).spend_lines}

    assert comparable(lines.values()) == comparable(from_files)
    assert lines[("larkspur-search-prod", None)].tags.values == {
        "system:compute-googleapis-com-cores": "4",
        "system:compute-googleapis-com-machine-spec": "n1-standard-4",
        "system:compute-googleapis-com-memory": "15360",
    }
    assert lines[("larkspur-search-prod", None)].source.row_count == 2
