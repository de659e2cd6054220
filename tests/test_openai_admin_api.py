"""The shared Admin API client and paging, against a local fake server on 127.0.0.1: multi-page
listings and reports, a page with has_more but no cursor, 429 with Retry-After, 401 and 403.

`FakeAdminApi` is imported by the Anthropic tests too.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from test_azure_live import _make_certificate

from collectors.openai.admin_http import AdminApiClient, AdminApiError, AdminApiUnreachable, AdminKeyError, AdminKeyHelp, RetryPolicy, check_base_url
from collectors.openai.admin_pages import OPENAI_LIST, REPORT, LivePages, PageError, SnapshotPages, read_all, snapshot_path
from scanner.errors import InputError

CURSOR_PARAMS = ("after", "after_id", "page")
OPENAI_HELP = AdminKeyHelp("openai", "OPENAI_ADMIN_KEY", "https://platform.openai.com/settings/organization/admin-keys")
TEST_ADMIN_KEY = "sk-admin-" + "Zq4Lm8Tx2Vb6Nc0Rw5Ys9Hk3Jd7Gf1Pa" + "T3BlbkFJ" + "Wq8e"


class FakeAdminApi:
    """An Admin API on 127.0.0.1 that answers each (path, cursor) with queued responses.

    The last response queued for a (path, cursor) answers every later request for it, so a
    single `add` serves a page however often it is read.
    """

    def __init__(self, port: int = 0) -> None:
        self.responses: dict[tuple[str, str | None], deque] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, body: Any, *, status: int = 200, headers: dict[str, str] | None = None, cursor: str | None = None) -> None:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.responses[(path, cursor)].append((status, headers or {}, content))

    def add_file(self, path: str, file: Path, *, cursor: str | None = None) -> None:
        self.add(path, file.read_bytes(), cursor=cursor)

    def paths(self) -> list[str]:
        return [request["path"] for request in self.requests]

    def start(self) -> FakeAdminApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, query: list[tuple[str, str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        cursor = next((value for name, value in query if name in CURSOR_PARAMS), None)
        with self._lock:
            self.requests.append({"path": path, "query": query, "headers": headers})
            queue = self.responses.get((path, cursor))
            if not queue:
                return 404, {}, json.dumps({"error": {"code": "not_found", "message": f"no fake answer for {path}"}}).encode()
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                parts = urlsplit(self.path)
                status, headers, content = api._answer(parts.path, parse_qsl(parts.query), {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


@pytest.fixture
def fake_api():
    api = FakeAdminApi().start()
    yield api
    api.stop()


class RecordedSleep:
    """A sleep that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _client(api: FakeAdminApi, sleep: RecordedSleep, retry: RetryPolicy = RetryPolicy()) -> AdminApiClient:
    return AdminApiClient(
        base_url=api.base_url,
        headers={"Authorization": f"Bearer {TEST_ADMIN_KEY}"},
        key_help=OPENAI_HELP,
        logger=logging.getLogger("shadowmap.test.admin"),
        retry=retry,
        sleep=sleep,
    )


def _list_page(ids: list[str], has_more: bool) -> dict:
    return {"object": "list", "data": [{"id": i} for i in ids], "first_id": ids[0], "last_id": ids[-1], "has_more": has_more}


def test_client_uses_proxy_from_environment(fake_api, monkeypatch):
    # The fake API plays the proxy: a request for api.openai.test reaches it on 127.0.0.1, and
    # no name is ever looked up.
    monkeypatch.setenv("HTTP_PROXY", fake_api.base_url)
    fake_api.add("/organization/projects", _list_page(["proj_a"], False))
    client = AdminApiClient(base_url="http://api.openai.test", headers={}, key_help=OPENAI_HELP, logger=logging.getLogger("shadowmap.test.admin"))

    with client:
        response = client.get("/organization/projects", [])

    assert response.json()["data"] == [{"id": "proj_a"}]
    assert fake_api.requests[0]["headers"]["host"] == "api.openai.test"


def test_loopback_base_url_bypasses_proxy(fake_api, monkeypatch):
    # Through a proxy, plain http to a local gateway would carry the admin key in clear text.
    proxy = FakeAdminApi().start()
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    fake_api.add("/organization/projects", _list_page(["proj_a"], False))

    try:
        with _client(fake_api, RecordedSleep()) as client:
            response = client.get("/organization/projects", [])
    finally:
        proxy.stop()

    assert response.json()["data"] == [{"id": "proj_a"}]
    assert proxy.requests == []
    assert fake_api.requests[0]["headers"]["authorization"] == f"Bearer {TEST_ADMIN_KEY}"


def test_proxy_refusing_tunnel_names_the_proxy(monkeypatch):
    # The fake server has no CONNECT handler, so as a proxy it rejects every tunnel.
    proxy = FakeAdminApi().start()
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    sleep = RecordedSleep()
    proxy_name = proxy.base_url.removeprefix("http://")

    try:
        with AdminApiClient(base_url="https://api.openai.test/v1", headers={}, key_help=OPENAI_HELP, logger=logging.getLogger("shadowmap.test.admin"), sleep=sleep) as client:
            with pytest.raises(AdminApiUnreachable) as raised:
                client.get("/organization/projects", [])
    finally:
        proxy.stop()

    failure = raised.value.failure
    assert failure.host == f"the proxy {proxy_name} in HTTPS_PROXY"
    assert failure.problem.startswith("the proxy refused the connection")
    assert failure.advice == "check that HTTPS_PROXY names a running proxy that may reach api.openai.test, or add api.openai.test to NO_PROXY to connect directly"
    assert sleep.waits == [2.0, 4.0]


def test_client_trusts_ca_bundle_from_environment(tmp_path, monkeypatch):
    # As behind a proxy that inspects TLS: the server's certificate is signed by no public
    # authority, and SSL_CERT_FILE names the bundle that has it.
    cert, key = _make_certificate(tmp_path)
    api = FakeAdminApi()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    api._server.socket = context.wrap_socket(api._server.socket, server_side=True)
    api.add("/organization/projects", _list_page(["proj_a"], False))
    api.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    base_url = api.base_url.replace("http://", "https://")

    try:
        with AdminApiClient(base_url=base_url, headers={}, key_help=OPENAI_HELP, logger=logging.getLogger("shadowmap.test.admin")) as client:
            response = client.get("/organization/projects", [])
    finally:
        api.stop()

    assert response.json()["data"] == [{"id": "proj_a"}]


def test_listing_reads_every_page_by_last_id(fake_api):
    fake_api.add("/organization/projects", _list_page(["proj_a", "proj_b"], True))
    fake_api.add("/organization/projects", _list_page(["proj_c"], False), cursor="proj_b")

    with _client(fake_api, RecordedSleep()) as client:
        listing = read_all(LivePages(client, "/organization"), "projects", [("limit", "2")], OPENAI_LIST)

    assert [item["id"] for item in listing.items] == ["proj_a", "proj_b", "proj_c"]
    assert listing.pages == 2
    assert listing.complete
    assert fake_api.requests[1]["query"] == [("limit", "2"), ("after", "proj_b")]


def test_report_reads_every_page_by_next_page(fake_api):
    reference = Path(__file__).parent / "data" / "openai" / "reference"
    fake_api.add_file("/organization/usage/completions", reference / "usage_completions.json")
    fake_api.add("/organization/usage/completions", {"object": "page", "data": [{"object": "bucket", "results": []}], "has_more": False, "next_page": None}, cursor="page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=")

    with _client(fake_api, RecordedSleep()) as client:
        listing = read_all(LivePages(client, "/organization"), "usage/completions", [], REPORT)

    assert listing.pages == 2
    assert len(listing.items) == 2
    assert listing.complete


def test_has_more_without_next_page_stops_with_reason(fake_api):
    fake_api.add("/organization/costs", {"object": "page", "data": [{"object": "bucket", "results": []}], "has_more": True, "next_page": None})

    with _client(fake_api, RecordedSleep()) as client:
        listing = read_all(LivePages(client, "/organization"), "costs", [], REPORT)

    assert listing.pages == 1
    assert not listing.complete
    assert listing.stopped == "page 1 says has_more but gives no next_page, so later pages cannot be asked for; the totals are short"


def test_repeated_cursor_stops_listing(fake_api):
    fake_api.add("/organization/users", _list_page(["user_a"], True))
    fake_api.add("/organization/users", _list_page(["user_a"], True), cursor="user_a")

    with _client(fake_api, RecordedSleep()) as client:
        listing = read_all(LivePages(client, "/organization"), "users", [], OPENAI_LIST)

    assert listing.pages == 2
    assert listing.stopped == "page 2 repeats the last_id of an earlier page; stopped to avoid a loop"


def test_429_waits_retry_after_then_succeeds(fake_api):
    fake_api.add("/organization/projects", {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}, status=429, headers={"Retry-After": "2"})
    fake_api.add("/organization/projects", _list_page(["proj_a"], False))
    sleep = RecordedSleep()

    with _client(fake_api, sleep) as client:
        listing = read_all(LivePages(client, "/organization"), "projects", [], OPENAI_LIST)

    assert sleep.waits == [2.0]
    assert [item["id"] for item in listing.items] == ["proj_a"]


def test_retry_after_is_capped(fake_api):
    fake_api.add("/organization/projects", {}, status=429, headers={"Retry-After": "3600"})
    fake_api.add("/organization/projects", _list_page(["proj_a"], False))
    sleep = RecordedSleep()

    with _client(fake_api, sleep, RetryPolicy(max_wait_seconds=5.0)) as client:
        read_all(LivePages(client, "/organization"), "projects", [], OPENAI_LIST)

    assert sleep.waits == [5.0]


def test_throttled_to_the_end_raises_with_status(fake_api):
    fake_api.add("/organization/projects", {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}, status=429)
    sleep = RecordedSleep()

    with _client(fake_api, sleep, RetryPolicy(max_attempts=3, first_backoff_seconds=1.0)) as client:
        with pytest.raises(AdminApiError) as raised:
            client.get("/organization/projects", [])

    assert raised.value.status == 429
    assert raised.value.reason == "429 rate_limit_exceeded: slow down after 3 attempts; run again later"
    assert sleep.waits == [1.0, 2.0]


def test_401_names_provider_and_variable(fake_api):
    fake_api.add("/organization/projects", {"error": {"code": "invalid_api_key", "message": f"Incorrect API key provided: {TEST_ADMIN_KEY[:12]}"}}, status=401)

    with _client(fake_api, RecordedSleep()) as client:
        with pytest.raises(AdminKeyError) as raised:
            client.get("/organization/projects", [])

    assert str(raised.value) == (
        "openai: the admin key in OPENAI_ADMIN_KEY was rejected (401); create an admin key at "
        "https://platform.openai.com/settings/organization/admin-keys and set OPENAI_ADMIN_KEY"
    )
    assert isinstance(raised.value, InputError)


def test_403_says_key_is_not_an_admin_key(fake_api):
    fake_api.add("/organization/projects", {"error": {"code": "insufficient_permissions"}}, status=403)

    with _client(fake_api, RecordedSleep()) as client:
        with pytest.raises(AdminKeyError) as raised:
            client.get("/organization/projects", [])

    assert "refused (403) because it is not an admin key" in str(raised.value)


def test_error_reason_drops_key_text(fake_api):
    fake_api.add("/organization/costs", {"error": {"code": "invalid_request_error", "message": f"bad key {TEST_ADMIN_KEY} here"}}, status=400)

    with _client(fake_api, RecordedSleep()) as client:
        with pytest.raises(AdminApiError) as raised:
            client.get("/organization/costs", [])

    assert raised.value.reason == "400 invalid_request_error: bad key [key] here"


def test_bearer_key_is_sent(fake_api):
    fake_api.add("/organization/users", _list_page(["user_a"], False))

    with _client(fake_api, RecordedSleep()) as client:
        client.get("/organization/users", [])

    assert fake_api.requests[0]["headers"]["authorization"] == f"Bearer {TEST_ADMIN_KEY}"


def test_plain_http_only_to_loopback():
    assert check_base_url("openai", "http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1"
    assert check_base_url("openai", "https://api.openai.com/v1") == "https://api.openai.com/v1"
    with pytest.raises(InputError) as raised:
        check_base_url("openai", "http://proxy.internal/v1")
    assert str(raised.value) == "sources.openai.base_url: 'http://proxy.internal/v1' is not an https URL; use https, or http only to 127.0.0.1 or localhost"


def test_snapshot_path_mirrors_endpoint(tmp_path):
    assert snapshot_path(tmp_path, "projects/proj_a/api_keys", 1) == tmp_path / "projects" / "proj_a" / "api_keys.json"
    assert snapshot_path(tmp_path, "costs", 3) == tmp_path / "costs.page-3.json"


def test_snapshot_path_rejects_escape(tmp_path):
    with pytest.raises(PageError):
        snapshot_path(tmp_path, "projects/../../etc/api_keys", 1)


def test_snapshot_missing_later_page_keeps_pages_read(tmp_path):
    (tmp_path / "costs.json").write_text(json.dumps({"data": [{"id": "bucket_1"}], "has_more": True, "next_page": "page_2"}))

    listing = read_all(SnapshotPages(tmp_path), "costs", [], REPORT)

    assert listing.items == [{"id": "bucket_1"}]
    assert listing.stopped == (
        f"page 2 could not be read ({tmp_path / 'costs.page-2.json'} is missing from the snapshot; record the snapshot again); "
        "the totals are short"
    )


def test_snapshot_missing_first_page_is_page_error(tmp_path):
    with pytest.raises(PageError) as raised:
        read_all(SnapshotPages(tmp_path), "costs", [], REPORT)

    assert raised.value.reason == f"{tmp_path / 'costs.json'} is missing from the snapshot; record the snapshot again"


def test_snapshot_invalid_json_is_page_error(tmp_path):
    (tmp_path / "users.json").write_text("{not json")

    with pytest.raises(PageError) as raised:
        read_all(SnapshotPages(tmp_path), "users", [], OPENAI_LIST)

    assert raised.value.reason.startswith(f"{tmp_path / 'users.json'}: not valid JSON")
