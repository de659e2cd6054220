"""The real google-cloud-asset client (REST transport) against a local fake of the Cloud Asset
Inventory v1 ListAssets API on 127.0.0.1: paging, a PERMISSION_DENIED scope, throttling, and
snapshots recorded from it and read back."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from google.api_core import exceptions, retry
from google.auth.credentials import AnonymousCredentials

from collectors.contract import CollectContext
from collectors.gcp import record_snapshot
from collectors.gcp.asset_collector import AssetCollector
from collectors.gcp.settings import GcpSettings
from scanner.config import parse_config

ORG = "organizations/730012458832"
DENIED = "projects/larkspur-finance-prod"
THROTTLED = "projects/larkspur-claims-ml"


def project(number: str, project_id: str, labels: dict[str, str]) -> dict:
    return {
        "name": f"//cloudresourcemanager.googleapis.com/projects/{number}",
        "assetType": "cloudresourcemanager.googleapis.com/Project",
        "ancestors": [f"projects/{number}", ORG],
        "updateTime": "2026-11-20T09:12:44.318Z",
        "resource": {
            "version": "v1",
            "discoveryDocumentUri": "https://cloudresourcemanager.googleapis.com/$discovery/rest",
            "discoveryName": "Project",
            "parent": f"//cloudresourcemanager.googleapis.com/{ORG}",
            "location": "global",
            "data": {
                "projectNumber": number,
                "projectId": project_id,
                "lifecycleState": "ACTIVE",
                "name": project_id,
                "labels": labels,
                "parent": {"type": "organization", "id": ORG.split("/")[1]},
                "createTime": "2025-03-04T10:00:00Z",
            },
        },
    }


def service(number: str, name: str, state: str = "ENABLED") -> dict:
    return {
        "name": f"//serviceusage.googleapis.com/projects/{number}/services/{name}",
        "assetType": "serviceusage.googleapis.com/Service",
        "ancestors": [f"projects/{number}", ORG],
        "resource": {
            "version": "v1",
            "discoveryName": "GoogleApiServiceusageV1Service",
            "parent": f"//cloudresourcemanager.googleapis.com/projects/{number}",
            "data": {
                "name": f"projects/{number}/services/{name}",
                "parent": f"projects/{number}",
                "state": state,
                "config": {"name": name, "title": "Vertex AI API"},
            },
        },
    }


def endpoint(number: str, endpoint_id: str, display_name: str, labels: dict[str, str]) -> dict:
    name = f"projects/{number}/locations/europe-west4/endpoints/{endpoint_id}"
    return {
        "name": f"//aiplatform.googleapis.com/{name}",
        "assetType": "aiplatform.googleapis.com/Endpoint",
        "ancestors": [f"projects/{number}", ORG],
        "resource": {
            "version": "v1",
            "discoveryName": "GoogleCloudAiplatformV1Endpoint",
            "parent": f"//cloudresourcemanager.googleapis.com/projects/{number}",
            "location": "europe-west4",
            "data": {
                "name": name,
                "displayName": display_name,
                "labels": labels,
                "deployedModels": [{"id": "1", "model": f"projects/{number}/locations/europe-west4/models/7781"}],
            },
        },
    }


ORG_PAGES = [
    [
        project("418203117561", "larkspur-search-prod", {"env": "prod"}),
        service("418203117561", "aiplatform.googleapis.com"),
        service("418203117561", "bigquery.googleapis.com"),
    ],
    [
        endpoint("418203117561", "4417", "search-reranker", {"team": "search"}),
        endpoint("418203117561", "4419", "growth-uplift", {"team": "growth"}),
    ],
    [
        project("552930118274", "larkspur-data-sandbox", {"env": "sandbox"}),
        service("552930118274", "aiplatform.googleapis.com"),
        service("552930118274", "generativelanguage.googleapis.com", state="DISABLED"),
    ],
]

PERMISSION_DENIED = {
    "error": {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "cloudasset.googleapis.com",
                "metadata": {"permission": "cloudasset.assets.listResource"},
            }
        ],
    }
}

RESOURCE_EXHAUSTED = {"error": {"code": 429, "message": "Quota exceeded for ListAssets.", "status": "RESOURCE_EXHAUSTED"}}


class FakeCloudAsset(BaseHTTPRequestHandler):
    """ListAssets as the v1 REST API serves it: `GET /v1/{parent}/assets` with pageToken paging."""

    pages: dict[str, list[list[dict]]] = {}
    throttle_left: dict[str, int] = {}
    requests: list[tuple[str, dict[str, list[str]]]] = []
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - the http.server handler name
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parent = url.path.removeprefix("/v1/").removesuffix("/assets")
        with self.lock:
            self.requests.append((url.path, query))
            throttled = self.throttle_left.get(parent, 0) > 0
            if throttled:
                self.throttle_left[parent] -= 1

        if parent == DENIED:
            return self._send(403, PERMISSION_DENIED)
        if throttled:
            return self._send(429, RESOURCE_EXHAUSTED)
        if parent not in self.pages:
            return self._send(404, {"error": {"code": 404, "message": f"{parent} not found", "status": "NOT_FOUND"}})

        index = int(query.get("pageToken", ["0"])[0] or 0)
        pages = self.pages[parent]
        body = {"readTime": "2026-11-30T12:00:00.000Z", "assets": pages[index]}
        if index + 1 < len(pages):
            body["nextPageToken"] = str(index + 1)
        self._send(200, body)

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
def fake_api():
    FakeCloudAsset.pages = {
        ORG: ORG_PAGES,
        THROTTLED: [[project("771200334455", "larkspur-claims-ml", {"team": "claims"}), service("771200334455", "aiplatform.googleapis.com")]],
    }
    FakeCloudAsset.throttle_left = {THROTTLED: 2}
    FakeCloudAsset.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCloudAsset)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


FAST_RETRY = retry.Retry(
    predicate=retry.if_exception_type(exceptions.TooManyRequests, exceptions.ServiceUnavailable),
    initial=0.01,
    maximum=0.02,
    multiplier=1.0,
    timeout=5.0,
)


def live_settings(endpoint_url: str, scopes: tuple[str, ...]) -> GcpSettings:
    return GcpSettings(scopes=scopes, api_endpoint=endpoint_url, anonymous=True, page_size=2, owner_labels=("team", "owner"))


def collect(settings: GcpSettings):
    collector = AssetCollector(settings, retry=FAST_RETRY)
    result = collector.collect(CollectContext(logger=logging.getLogger("test.gcp")))
    result.outcome.settle()
    return result


def test_list_assets_request_shape(fake_api):
    collect(live_settings(fake_api, (ORG,)))

    path, query = FakeCloudAsset.requests[0]
    assert path == f"/v1/{ORG}/assets"
    assert query["assetTypes"] == [
        "cloudresourcemanager.googleapis.com/Project",
        "serviceusage.googleapis.com/Service",
        "aiplatform.googleapis.com.*",
    ]
    # ContentType.RESOURCE, sent as its number because the client asks for integer enums.
    assert query["contentType"] == ["1"]
    assert query["pageSize"] == ["2"]


def test_paging_reads_every_page(fake_api):
    result = collect(live_settings(fake_api, (ORG,)))

    assert [query.get("pageToken") for _, query in FakeCloudAsset.requests] == [None, ["1"], ["2"]]
    assert sorted(asset.id for asset in result.assets) == [
        "//aiplatform.googleapis.com/projects/418203117561/locations/europe-west4/endpoints/4417",
        "//aiplatform.googleapis.com/projects/418203117561/locations/europe-west4/endpoints/4419",
        "//cloudresourcemanager.googleapis.com/projects/418203117561",
        "//cloudresourcemanager.googleapis.com/projects/552930118274",
    ]


def test_live_projects_carry_enabled_ai_services(fake_api):
    result = collect(live_settings(fake_api, (ORG,)))
    projects = {asset.name: asset for asset in result.assets if asset.kind == "gcp.project"}

    assert projects["larkspur-search-prod"].attributes["ai_services_enabled"] == ["aiplatform.googleapis.com"]
    assert projects["larkspur-search-prod"].attributes["teams"] == ["growth", "search"]
    assert projects["larkspur-data-sandbox"].attributes["ai_services_enabled"] == ["aiplatform.googleapis.com"]
    assert projects["larkspur-data-sandbox"].attributes["vertex_enabled"] is True


def test_permission_denied_scope_is_not_seen(fake_api):
    result = collect(live_settings(fake_api, (ORG, DENIED)))

    assert result.outcome.scopes_seen == [ORG]
    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [DENIED]
    reason = result.outcome.scopes_not_seen[0].reason
    assert "403 PERMISSION_DENIED" in reason
    assert f"grant roles/cloudasset.viewer on {DENIED}" in reason
    assert result.outcome.status.value == "partial"


def test_permission_denied_logs_warning(fake_api, caplog):
    with caplog.at_level(logging.WARNING, logger="test.gcp"):
        collect(live_settings(fake_api, (DENIED,)))

    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"gcp.assets: {DENIED}: skipped: Cloud Asset ListAssets failed with 403 PERMISSION_DENIED")


def test_only_denied_scope_fails_collector(fake_api):
    result = collect(live_settings(fake_api, (DENIED,)))

    assert result.outcome.status.value == "failed"
    assert result.assets == []


def test_throttled_scope_is_retried(fake_api):
    result = collect(live_settings(fake_api, (THROTTLED,)))

    assert result.outcome.scopes_seen == [THROTTLED]
    assert len(FakeCloudAsset.requests) == 3
    assert [asset.name for asset in result.assets] == ["larkspur-claims-ml"]


def test_unknown_scope_names_not_found(fake_api):
    result = collect(live_settings(fake_api, ("folders/999",)))

    assert "404 NOT_FOUND" in result.outcome.scopes_not_seen[0].reason
    assert "check the scope name in sources.gcp.scopes" in result.outcome.scopes_not_seen[0].reason


def test_snapshot_round_trip_gives_same_inventory(fake_api, tmp_path):
    config = parse_config(
        f"""
version: 1
policy:
  owner_tags: [team, owner]
sources:
  gcp:
    scopes: [{ORG}, {DENIED}]
    api_endpoint: {fake_api}
    credentials: anonymous
    page_size: 2
""",
        tmp_path / "audit.yaml",
    )
    outcome = record_snapshot(config, tmp_path / "snap", logging.getLogger("test.gcp"), retry=FAST_RETRY)
    live = collect(live_settings(fake_api, (ORG, DENIED)))
    replayed = collect(GcpSettings(snapshot=tmp_path / "snap", owner_labels=("team", "owner")))

    assert outcome.scopes_seen == [ORG]
    assert sorted(path.name for path in (tmp_path / "snap" / "organizations" / "730012458832").iterdir()) == [
        "list-assets-0001.json",
        "list-assets-0002.json",
        "list-assets-0003.json",
    ]
    assert json.loads((tmp_path / "snap" / "projects" / "larkspur-finance-prod" / "error.json").read_text()) == PERMISSION_DENIED
    assert [asset.to_dict() | {"source": None} for asset in replayed.assets] == [asset.to_dict() | {"source": None} for asset in live.assets]
    assert replayed.outcome.scopes_seen == [ORG]
    assert replayed.outcome.scopes_not_seen[0].scope == DENIED
    assert "403 PERMISSION_DENIED" in replayed.outcome.scopes_not_seen[0].reason


def test_truncated_snapshot_keeps_pages_and_reports_gap(tmp_path):
    folder = tmp_path / "organizations" / "730012458832"
    folder.mkdir(parents=True)
    page = {"assets": ORG_PAGES[0], "nextPageToken": "1", "readTime": "2026-11-30T12:00:00Z"}
    (folder / "list-assets-0001.json").write_text(json.dumps(page))

    result = collect(GcpSettings(snapshot=tmp_path, owner_labels=("team",)))

    assert [asset.name for asset in result.assets] == ["larkspur-search-prod"]
    assert result.outcome.scopes_seen == [ORG]
    assert result.outcome.scopes_not_seen[0].scope == f"{ORG} from page 2"
    assert result.outcome.scopes_not_seen[0].reason == (
        "Cloud Asset ListAssets failed with SNAPSHOT_TRUNCATED (the last recorded page (list-assets-0001.json) has a nextPageToken "
        "but no page follows it) after 1 page; the assets of that page are kept; "
        "record the snapshot again with `shadowmap snapshot --only gcp`"
    )
    assert result.outcome.status.value == "partial"


def test_invalid_snapshot_file_skips_only_its_scope(tmp_path):
    good = tmp_path / "projects" / "larkspur-claims-ml"
    bad = tmp_path / "projects" / "larkspur-search-prod"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    (good / "list-assets-0001.json").write_text(json.dumps({"assets": [project("771200334455", "larkspur-claims-ml", {"team": "claims"})]}))
    (bad / "list-assets-0001.json").write_text("{not json")

    result = collect(GcpSettings(snapshot=tmp_path, owner_labels=("team",)))

    assert result.outcome.scopes_seen == ["projects/larkspur-claims-ml"]
    assert result.outcome.scopes_not_seen[0].scope == "projects/larkspur-search-prod"
    assert result.outcome.scopes_not_seen[0].reason == (
        f"{bad / 'list-assets-0001.json'} is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2); "
        "fix the file or record the snapshot again with `shadowmap snapshot --only gcp`"
    )


def test_invalid_later_page_keeps_earlier_pages(tmp_path):
    folder = tmp_path / "organizations" / "730012458832"
    folder.mkdir(parents=True)
    page = {"assets": ORG_PAGES[0], "nextPageToken": "1", "readTime": "2026-11-30T12:00:00Z"}
    (folder / "list-assets-0001.json").write_text(json.dumps(page))
    (folder / "list-assets-0002.json").write_text("{not json")

    result = collect(GcpSettings(snapshot=tmp_path, owner_labels=("team",)))

    assert [asset.name for asset in result.assets] == ["larkspur-search-prod"]
    assert result.outcome.status.value == "partial"
    assert result.outcome.scopes_seen == [ORG]
    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [f"{ORG}/list-assets-0002.json"]
    assert result.outcome.scopes_not_seen[0].reason == (
        f"{folder / 'list-assets-0002.json'} is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2); "
        "the assets of the page before it are kept; fix the file or record the snapshot again with `shadowmap snapshot --only gcp`"
    )


def test_invalid_later_page_as_only_source_writes_report(tmp_path):
    from click.testing import CliRunner

    from scanner.cli import main

    folder = tmp_path / "snapshot" / "organizations" / "730012458832"
    folder.mkdir(parents=True)
    page = {"assets": ORG_PAGES[0], "nextPageToken": "1", "readTime": "2026-11-30T12:00:00Z"}
    (folder / "list-assets-0001.json").write_text(json.dumps(page))
    (folder / "list-assets-0002.json").write_text("{not json")
    (tmp_path / "audit.yaml").write_text("version: 1\nsources:\n  gcp:\n    snapshot: snapshot\n")

    ran = CliRunner().invoke(main, ["scan", "--config", str(tmp_path / "audit.yaml"), "--out", str(tmp_path / "out"), "--no-history"])

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    outcome = report["collectors"][0]
    assert ran.exit_code == 0
    assert outcome["status"] == "partial"
    assert outcome["asset_count"] == 1


def test_snapshot_scope_missing_is_not_seen(tmp_path):
    (tmp_path / "projects" / "larkspur-claims-ml").mkdir(parents=True)
    (tmp_path / "projects" / "larkspur-claims-ml" / "list-assets-0001.json").write_text(json.dumps({"assets": []}))

    result = collect(GcpSettings(snapshot=tmp_path, scopes=("projects/larkspur-claims-ml", ORG), owner_labels=("team",)))

    assert result.outcome.scopes_seen == ["projects/larkspur-claims-ml"]
    assert result.outcome.scopes_not_seen[0].scope == ORG
    assert result.outcome.scopes_not_seen[0].reason.startswith("not in the snapshot")


def test_missing_snapshot_folder_is_input_error(tmp_path):
    from scanner.errors import InputError

    with pytest.raises(InputError) as raised:
        collect(GcpSettings(snapshot=tmp_path / "absent"))

    assert str(raised.value) == (
        f"gcp: snapshot folder {tmp_path / 'absent'} not found; record one with shadowmap snapshot or fix sources.gcp.snapshot"
    )


def test_anonymous_client_uses_given_endpoint(fake_api):
    from collectors.gcp.cloud_asset import make_client

    client = make_client(fake_api, anonymous=True)

    assert isinstance(client._transport._credentials, AnonymousCredentials)
    assert client._transport._host == fake_api


def test_refused_connection_is_not_seen():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    result = collect(live_settings(f"http://127.0.0.1:{closed_port}", (ORG,)))

    assert result.outcome.status.value == "failed"
    assert result.outcome.scopes_not_seen[0].scope == ORG
    assert result.outcome.scopes_not_seen[0].reason.startswith("Cloud Asset ListAssets failed with ConnectionError")
