"""The Azure collector's live path: the real Azure SDK clients against a fake ARM endpoint on
127.0.0.1 that serves HTTPS with a certificate made for the test, and the snapshot round trip."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from collectors.azure import build_collectors, record_snapshot
from collectors.azure.arm import ArmError, LiveArm, SnapshotArm
from collectors.azure.catalogue import load_catalogue
from collectors.azure.inventory import read_inventory
from collectors.contract import CollectContext
from scanner.config import parse_config

DATA = Path(__file__).parent / "data" / "azure"
SNAPSHOT = DATA / "snapshot"
S1 = "11111111-2222-4333-8444-555555555555"
S2 = "22222222-3333-4444-8555-666666666666"
S3 = "33333333-4444-4555-8666-777777777777"
LOG = logging.getLogger("test.azure")


class FakeCredential:
    """A TokenCredential that hands out a fixed token and counts the requests for one."""

    def __init__(self):
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.append(scopes)
        return AccessToken("fake-arm-token", int(time.time()) + 3600)


def _make_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "arm.pem"
    key_path = folder / "arm.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


ROUTES = [
    (re.compile(r"^/subscriptions$"), lambda m: "subscriptions.json"),
    (re.compile(r"^/subscriptions/([^/]+)/providers/microsoft\.cognitiveservices/accounts$"), lambda m: f"subscriptions/{m[1]}/accounts.json"),
    (re.compile(r"^/subscriptions/([^/]+)/resourcegroups$"), lambda m: f"subscriptions/{m[1]}/resourcegroups.json"),
    (re.compile(r"^/subscriptions/([^/]+)/resources$"), lambda m: f"subscriptions/{m[1]}/apim.json"),
    (
        re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.apimanagement/service/([^/]+)/backends$"),
        lambda m: f"subscriptions/{m[1]}/apim/{m[2]}/{m[3]}.backends.json",
    ),
    (
        re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.cognitiveservices/accounts/([^/]+)/deployments$"),
        lambda m: f"subscriptions/{m[1]}/deployments/{m[2]}/{m[3]}.json",
    ),
    (re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/.+/([^/]+)/providers/microsoft\.insights/metrics$"), lambda m: f"metrics/{m[1]}/{m[2]}/{m[3]}.json"),
]


class FakeArm:
    """An HTTPS server on 127.0.0.1 that serves ARM list calls from a snapshot-layout folder.

    Page N of a list is `<name>.N.json`; the server rewrites each page's nextLink to point back
    at itself. `<name>.error.json` is returned with the status `error_status`. Paths in `throttle_once` get
    one 429 with Retry-After: 0 before their real answer.
    """

    def __init__(self, folder: Path, tmp_path: Path):
        self.folder = folder
        self.requests: list[tuple[str, str, str]] = []
        self.throttle_once: set[str] = set()
        self.error_status = 403
        self.error_body: dict | None = None
        self.posts: list[str] = []
        cert, key = _make_certificate(tmp_path)
        self.ca_file = str(cert)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                fake.handle(self)

            def do_POST(self):  # noqa: N802 - the name http.server calls
                fake.posts.append(self.path)
                fake._send(self, 200, {})

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        path = url.path.rstrip("/").lower()
        query = parse_qs(url.query)
        self.requests.append((path, url.query, request.headers.get("Authorization", "")))

        if path in self.throttle_once:
            self.throttle_once.discard(path)
            self._send(request, 429, {"error": {"code": "TooManyRequests", "message": "Rate limit exceeded."}}, {"Retry-After": "0"})
            return

        relative = next((target(match) for pattern, target in ROUTES if (match := pattern.match(path))), None)
        if relative is None:
            self._send(request, 404, {"error": {"code": "NoRouteInFake", "message": path}})
            return
        page = int(query.get("page", ["1"])[0])
        stem = relative[: -len(".json")]
        error_file = self.folder / f"{stem}.error.json"
        page_file = self.folder / (relative if page == 1 else f"{stem}.{page}.json")
        if error_file.exists():
            self._send(request, self.error_status, self.error_body or json.loads(error_file.read_text()))
            return
        if not page_file.exists():
            self._send(request, 404, {"error": {"code": "ResourceNotFound", "message": f"{relative} not served"}})
            return

        body = json.loads(page_file.read_text())
        if isinstance(body, dict):
            body.pop("nextLink", None)
            if (self.folder / f"{stem}.{page + 1}.json").exists():
                version = query.get("api-version", [""])[0]
                body["nextLink"] = f"{self.base}{url.path}?api-version={version}&page={page + 1}"
        self._send(request, 200, body)

    @staticmethod
    def _send(request, status, body, headers=None):
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]


@pytest.fixture
def fake_arm(tmp_path, monkeypatch):
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake = FakeArm(SNAPSHOT, tmp_path)
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _options(fake: FakeArm) -> dict:
    return {"connection_verify": fake.ca_file, "retry_backoff_factor": 0.01, "retry_total": 2}


def _live(fake: FakeArm, **kwargs) -> LiveArm:
    return LiveArm(FakeCredential(), fake.base, _options(fake), **kwargs)


def _config(tmp_path: Path, fake: FakeArm, extra: str = "") -> object:
    text = f"""
version: 1
policy:
  owner_tags: [team]
sources:
  azure:
    live:
      endpoint: {fake.base}
      concurrency: 2
{extra}
"""
    return parse_config(text, tmp_path / "audit.yaml")


def test_live_read_finds_ai_accounts(fake_arm):
    inventory = read_inventory(_live(fake_arm), load_catalogue(), LOG, concurrency=2)

    names = sorted(account.name for account in inventory.accounts)
    assert names == ["chat-aoai", "foundry-hub", "shared-aoai"]
    assert sorted(inventory.scopes_seen) == [f"/subscriptions/{S1}", f"/subscriptions/{S3}"]


def test_live_read_follows_next_link(fake_arm):
    inventory = read_inventory(_live(fake_arm), load_catalogue(), LOG, concurrency=1)

    chat = inventory.account(f"/subscriptions/{S1}/resourcegroups/rg-chat/providers/microsoft.cognitiveservices/accounts/chat-aoai")
    assert [d.name for d in chat.deployments] == ["gpt35", "gpt4o-global", "gpt4o-eu", "gpt4o-batch"]
    assert fake_arm.paths().count(f"/subscriptions/{S1}/providers/microsoft.cognitiveservices/accounts") == 2


def test_forbidden_subscription_becomes_a_scope_not_seen(fake_arm):
    inventory = read_inventory(_live(fake_arm), load_catalogue(), LOG)

    assert len(inventory.gaps) == 1
    assert inventory.gaps[0].scope == f"/subscriptions/{S2}"
    assert inventory.gaps[0].reason == (
        "cannot list Cognitive Services accounts: AuthorizationFailed; "
        "grant the credential the Reader role on this scope"
    )


def test_unregistered_provider_is_not_registered(fake_arm):
    fake_arm.error_status = 409
    fake_arm.error_body = {
        "error": {
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace 'Microsoft.CognitiveServices'.",
        }
    }

    inventory = read_inventory(_live(fake_arm), load_catalogue(), LOG)

    assert fake_arm.posts == []
    assert len(inventory.gaps) == 1
    assert inventory.gaps[0].scope == f"/subscriptions/{S2}"
    assert "MissingSubscriptionRegistration" in inventory.gaps[0].reason


def test_requests_carry_token_and_api_version(fake_arm):
    read_inventory(_live(fake_arm), load_catalogue(), LOG)

    assert fake_arm.requests
    assert all(auth == "Bearer fake-arm-token" for _, _, auth in fake_arm.requests)
    assert all("api-version=" in query for _, query, _ in fake_arm.requests)


def test_live_read_retries_a_throttled_call(fake_arm):
    fake_arm.throttle_once.add(f"/subscriptions/{S3}/providers/microsoft.cognitiveservices/accounts")

    inventory = read_inventory(_live(fake_arm), load_catalogue(), LOG)

    assert "shared-aoai" in [account.name for account in inventory.accounts]
    assert fake_arm.paths().count(f"/subscriptions/{S3}/providers/microsoft.cognitiveservices/accounts") == 2


def test_subscription_list_failure_fails_collector(fake_arm, tmp_path):
    fake_arm.folder = tmp_path / "empty"
    (fake_arm.folder).mkdir()
    collector = build_collectors(_config(tmp_path, fake_arm), FakeCredential(), _options(fake_arm))[0]

    result = collector.collect(CollectContext(logger=LOG))
    result.outcome.settle()

    assert result.outcome.status.value == "failed"
    assert result.outcome.errors == ["cannot list subscriptions: ResourceNotFound: subscriptions.json not served"]


def test_pinned_backend_fronts_one_deployment(fake_arm):
    inventory = read_inventory(_live(fake_arm), load_catalogue(), LOG)

    shared = next(account for account in inventory.accounts if account.name == "shared-aoai")
    gateways = {deployment.name: deployment.gateways for deployment in shared.deployments}
    assert gateways == {"chat": [], "ptu": ["ai-gateway"], "embed": []}
    assert shared.gateways == []


def test_collector_reports_assets_and_gap(fake_arm, tmp_path):
    collectors = build_collectors(_config(tmp_path, fake_arm), FakeCredential(), _options(fake_arm))

    result = collectors[0].collect(CollectContext(logger=LOG))
    result.outcome.settle()

    kinds = sorted({asset.kind for asset in result.assets})
    assert [c.name for c in collectors] == ["azure"]
    assert kinds == ["azure.apim.service", "azure.openai.account", "azure.openai.deployment"]
    assert result.outcome.status.value == "partial"
    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [f"/subscriptions/{S2}"]


def test_snapshot_round_trip_reads_the_same_inventory(fake_arm, tmp_path):
    config = _config(tmp_path, fake_arm)
    recorded = tmp_path / "recorded"

    outcome = record_snapshot(config, recorded, LOG, FakeCredential(), _options(fake_arm))
    live_assets = build_collectors(config, FakeCredential(), _options(fake_arm))[0].collect(CollectContext(logger=LOG)).assets
    replay_config = parse_config(
        f"version: 1\npolicy:\n  owner_tags: [team]\nsources:\n  azure:\n    snapshot: {recorded}\n", tmp_path / "replay.yaml"
    )
    replay_assets = build_collectors(replay_config)[0].collect(CollectContext(logger=LOG)).assets

    def comparable(assets):
        return sorted((a.kind, a.id, json.dumps(a.attributes, sort_keys=True), json.dumps(a.tags.to_dict(), sort_keys=True)) for a in assets)

    assert comparable(replay_assets) == comparable(live_assets)
    assert [gap.scope for gap in outcome.scopes_not_seen] == [f"/subscriptions/{S2}"]
    assert (recorded / f"subscriptions/{S2}/accounts.error.json").exists()
    assert (recorded / f"subscriptions/{S1}/accounts.2.json").exists()


def test_snapshot_replays_recorded_403(tmp_path):
    arm = SnapshotArm(SNAPSHOT)

    with pytest.raises(ArmError) as raised:
        arm.accounts(S2)

    assert raised.value.code == "AuthorizationFailed"


def test_live_metrics_read_goes_through_the_arm_pipeline(fake_arm, tmp_path):
    metrics_folder = tmp_path / "served"
    target = metrics_folder / f"metrics/{S3}/platform/shared-aoai.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"value": []}))
    fake_arm.folder = metrics_folder
    account = f"/subscriptions/{S3}/resourceGroups/platform/providers/Microsoft.CognitiveServices/accounts/shared-aoai"

    response = _live(fake_arm).metrics(account, {"metricnames": "ProcessedPromptTokens,GeneratedTokens", "interval": "P1D"})

    path, query, _ = fake_arm.requests[-1]
    assert response == {"value": []}
    assert path == account.lower() + "/providers/microsoft.insights/metrics"
    assert "api-version=2023-10-01" in query
    assert "interval=P1D" in query


def test_live_token_metrics_cover_ptu_days(fake_arm, tmp_path):
    account = f"/subscriptions/{S3}/resourceGroups/platform/providers/Microsoft.CognitiveServices/accounts/shared-aoai"
    extra = f"""    cost_exports:
      - path: {DATA / 'costs' / 'ea-amortized-2026-11.csv'}
    token_metrics:
      - account: {account}
        caller_dimension: x-app
        callers: {{support-bot: support}}
"""
    collectors = build_collectors(_config(tmp_path, fake_arm, extra), FakeCredential(), _options(fake_arm))

    result = collectors[1].collect(CollectContext(logger=LOG))

    path, query, _ = fake_arm.requests[-1]
    parameters = parse_qs(query)
    owners = sorted({line.resource_name for line in result.spend_lines if line.unit == "PTU hours"})
    assert path == account.lower() + "/providers/microsoft.insights/metrics"
    assert parameters["timespan"] == ["2026-11-03T00:00:00Z/2026-11-05T00:00:00Z"]
    assert parameters["$filter"] == ["ModelDeploymentName eq '*' and x-app eq '*'"]
    assert parameters["metricnames"] == ["ProcessedPromptTokens,GeneratedTokens"]
    assert owners == ["shared-aoai/ptu", "shared-aoai/ptu (support)"]
