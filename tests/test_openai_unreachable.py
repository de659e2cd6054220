"""An OpenAI Admin API that cannot be reached. The cases: a closed port on 127.0.0.1, a connection
lost after the first listing, a server that comes up during the backoff, and a failed TLS
handshake. Also what `shadowmap scan` and `shadowmap snapshot` print and leave behind.

A closed port is one this test bound and closed again, so a connection to it is refused at once.
`record_attempts` counts every request the client tries to send, whether or not it connects.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from test_openai_admin_api import OPENAI_HELP, TEST_ADMIN_KEY, FakeAdminApi, RecordedSleep

from collectors.contract import CollectContext
from collectors.openai.admin_http import AdminApiClient, AdminApiUnreachable, RetryPolicy
from collectors.openai.collector import OpenAICollector
from scanner.cli import main
from scanner.config import parse_config
from scanner.model import OutcomeStatus, ScopeGap

ORG = "org-LarkspurAnalytics"
LOGGER = logging.getLogger("shadowmap.collector.openai")
PROJECTS = {
    "object": "list",
    "data": [{"object": "organization.project", "id": "proj_abc", "name": "Project example", "created_at": 1711471533, "archived_at": None, "status": "active"}],
    "first_id": "proj_abc",
    "last_id": "proj_abc",
    "has_more": False,
}


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on: bound here, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def record_attempts(monkeypatch: pytest.MonkeyPatch, after: dict | None = None) -> list[str]:
    """Return the list that collects the path of every request httpx tries to send.

    `after` maps a path to a callable run once a response to that path has arrived.
    """
    attempts: list[str] = []
    send = httpx.HTTPTransport.handle_request

    def recording(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        response = send(transport, request)
        if after and request.url.path in after:
            after[request.url.path]()
        return response

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", recording)
    return attempts


class LoggedLines(logging.Handler):
    """Every message logged at WARNING or above to the logger it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.live: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if getattr(record, "live", False):
            self.live.append(record.getMessage())


@pytest.fixture
def logged():
    handler = LoggedLines()
    LOGGER.addHandler(handler)
    yield handler
    LOGGER.removeHandler(handler)


@pytest.fixture
def warnings_logged(logged):
    return logged.lines


@pytest.fixture
def admin_key(monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", TEST_ADMIN_KEY)
    return TEST_ADMIN_KEY


def _collector(tmp_path: Path, settings: dict) -> OpenAICollector:
    document = {"version": 1, "sources": {"openai": {"organisation": ORG, **settings}}}
    config = parse_config(json.dumps(document), tmp_path / "audit.yaml")
    return OpenAICollector(config, sleep=RecordedSleep(), today=date(2024, 11, 3))


def _gap_of_refused_port(port: int) -> ScopeGap:
    return ScopeGap(
        f"openai {ORG}",
        f"cannot connect to 127.0.0.1:{port} (ConnectError: connection refused) after 3 attempts, so 12 scopes were not read "
        "(projects, users, admin API keys and 9 more); check that sources.openai.base_url names the right host and port, "
        "and that the server there is running",
    )


def test_closed_port_ends_source_quickly(tmp_path, admin_key, monkeypatch):
    port = closed_port()
    attempts = record_attempts(monkeypatch)
    collector = _collector(tmp_path, {"base_url": f"http://127.0.0.1:{port}/v1"})

    started = time.monotonic()
    result = collector.collect(CollectContext(LOGGER))
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert collector.sleep.waits == [2.0, 4.0]
    assert attempts == ["/v1/organization/projects"] * 3
    assert result.outcome.scopes_not_seen == [_gap_of_refused_port(port)]
    assert result.outcome.scopes_seen == []


def test_closed_port_notes_every_unread_scope(tmp_path, admin_key, monkeypatch):
    port = closed_port()
    record_attempts(monkeypatch)

    result = _collector(tmp_path, {"base_url": f"http://127.0.0.1:{port}/v1"}).collect(CollectContext(LOGGER))

    assert f"Not read because 127.0.0.1:{port} could not be reached: projects, users, admin API keys, usage completions, " in result.outcome.notes[0]
    assert result.outcome.notes[0].endswith("usage code_interpreter_sessions, costs.")
    result.outcome.settle()
    assert result.outcome.status is OutcomeStatus.FAILED


def test_closed_port_logs_each_retry(tmp_path, admin_key, monkeypatch, warnings_logged):
    port = closed_port()
    record_attempts(monkeypatch)

    _collector(tmp_path, {"base_url": f"http://127.0.0.1:{port}/v1"}).collect(CollectContext(LOGGER))

    gap = _gap_of_refused_port(port)
    assert warnings_logged == [
        f"openai: projects: cannot connect to 127.0.0.1:{port} (ConnectError); retrying in 2 s (attempt 2 of 3)",
        f"openai: projects: cannot connect to 127.0.0.1:{port} (ConnectError); retrying in 4 s (attempt 3 of 3)",
        f"{gap.scope}: {gap.reason}",
    ]
    assert not any(TEST_ADMIN_KEY in line for line in warnings_logged)


def test_only_retries_are_marked_live(tmp_path, admin_key, monkeypatch, logged):
    port = closed_port()
    record_attempts(monkeypatch)

    _collector(tmp_path, {"base_url": f"http://127.0.0.1:{port}/v1"}).collect(CollectContext(LOGGER))

    assert len(logged.lines) == 3
    assert logged.live == logged.lines[:2]


def test_connection_lost_after_projects(tmp_path, admin_key, monkeypatch):
    api = FakeAdminApi().start()
    api.add("/organization/projects", PROJECTS)
    port = int(api.base_url.rsplit(":", 1)[1])
    attempts = record_attempts(monkeypatch, after={"/organization/projects": api.stop})
    collector = _collector(tmp_path, {"base_url": api.base_url, "usage": ["completions"]})

    try:
        result = collector.collect(CollectContext(LOGGER))
    finally:
        api.stop()

    assert attempts == ["/organization/projects"] + ["/organization/projects/proj_abc/api_keys"] * 3
    assert result.outcome.scopes_seen == [f"openai {ORG}: projects"]
    assert result.outcome.scopes_not_seen == [
        ScopeGap(
            f"openai {ORG}",
            f"cannot connect to 127.0.0.1:{port} (ConnectError: connection refused) after 3 attempts, so 6 scopes were not read "
            "(project proj_abc API keys, project proj_abc service accounts, users and 3 more); check that sources.openai.base_url "
            "names the right host and port, and that the server there is running",
        )
    ]
    organisation = next(asset for asset in result.assets if asset.kind == "openai.organization")
    assert organisation.attributes["key_inventory_complete"] is False
    assert organisation.attributes["projects_with_unread_keys"] == ["proj_abc"]
    result.outcome.settle()
    assert result.outcome.status is OutcomeStatus.PARTIAL


def test_server_up_during_backoff_is_read(monkeypatch, warnings_logged):
    port = closed_port()
    servers: list[FakeAdminApi] = []

    def start_server(seconds: float) -> None:
        api = FakeAdminApi(port).start()
        api.add("/organization/projects", PROJECTS)
        servers.append(api)
        waits.append(seconds)

    waits: list[float] = []
    client = AdminApiClient(
        base_url=f"http://127.0.0.1:{port}", headers={}, key_help=OPENAI_HELP, logger=LOGGER, sleep=start_server
    )
    try:
        with client:
            response = client.get("/organization/projects", [], label="projects")
    finally:
        for api in servers:
            api.stop()

    assert response.json()["last_id"] == "proj_abc"
    assert waits == [2.0]
    assert warnings_logged == [f"openai: projects: cannot connect to 127.0.0.1:{port} (ConnectError); retrying in 2 s (attempt 2 of 3)"]


def test_no_request_after_giving_up(monkeypatch):
    port = closed_port()
    attempts = record_attempts(monkeypatch)
    sleep = RecordedSleep()

    with AdminApiClient(base_url=f"http://127.0.0.1:{port}", headers={}, key_help=OPENAI_HELP, logger=LOGGER, sleep=sleep) as client:
        with pytest.raises(AdminApiUnreachable):
            client.get("/organization/projects", [])
        with pytest.raises(AdminApiUnreachable) as second:
            client.get("/organization/users", [])

    assert attempts == ["/organization/projects"] * 3
    assert sleep.waits == [2.0, 4.0]
    assert str(second.value) == f"cannot connect to 127.0.0.1:{port} (ConnectError: connection refused) after 3 attempts"


def test_tls_handshake_failure_is_named():
    plain_http = FakeAdminApi().start()
    host = plain_http.base_url.removeprefix("http://")

    try:
        with AdminApiClient(
            base_url=f"https://{host}", headers={}, key_help=OPENAI_HELP, logger=LOGGER, sleep=RecordedSleep()
        ) as client:
            with pytest.raises(AdminApiUnreachable) as raised:
                client.get("/organization/projects", [])
    finally:
        plain_http.stop()

    assert raised.value.failure.problem == "TLS handshake failed"
    assert raised.value.failure.advice == (
        f"check that {host} serves HTTPS with a certificate from a public certificate authority, or set SSL_CERT_FILE "
        "to the CA bundle of a proxy that inspects TLS, and check sources.openai.base_url"
    )


def _name_not_found(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -2] Name or service not known") from socket.gaierror(-2, "Name or service not known")


def _connect_timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectTimeout("timed out") from TimeoutError("timed out")


@pytest.mark.parametrize(
    "failure, problem, advice",
    [
        (
            _name_not_found,
            "host name not found",
            "check the host name in sources.openai.base_url and the DNS settings of this machine",
        ),
        (
            _connect_timed_out,
            "no connection within 10 s",
            "check that this machine can reach api.openai.com through any firewall on the way, and sources.openai.base_url",
        ),
    ],
)
def test_connect_failure_says_what_to_check(monkeypatch, failure, problem, advice):
    # Raised by the transport instead of a real lookup, so that no test needs a resolver or a
    # host that never accepts the connection.
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", lambda transport, request: failure(request))
    sleep = RecordedSleep()

    with AdminApiClient(base_url="https://api.openai.com/v1", headers={}, key_help=OPENAI_HELP, logger=LOGGER, sleep=sleep) as client:
        with pytest.raises(AdminApiUnreachable) as raised:
            client.get("/organization/projects", [])

    assert raised.value.failure.problem == problem
    assert raised.value.failure.advice == advice
    assert raised.value.failure.host == "api.openai.com"
    assert sleep.waits == [2.0, 4.0]


def test_connect_backoff_is_capped():
    port = closed_port()
    sleep = RecordedSleep()

    with AdminApiClient(
        base_url=f"http://127.0.0.1:{port}", headers={}, key_help=OPENAI_HELP, logger=LOGGER, sleep=sleep,
        retry=RetryPolicy(max_wait_seconds=3.0),
    ) as client:
        with pytest.raises(AdminApiUnreachable):
            client.get("/organization/projects", [])

    assert sleep.waits == [2.0, 3.0]


def test_throttled_retry_logs_warning(warnings_logged):
    api = FakeAdminApi().start()
    api.add("/organization/projects", {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}, status=429, headers={"Retry-After": "2"})
    api.add("/organization/projects", PROJECTS)

    try:
        with AdminApiClient(base_url=api.base_url, headers={}, key_help=OPENAI_HELP, logger=LOGGER, sleep=RecordedSleep()) as client:
            client.get("/organization/projects", [], label="projects")
    finally:
        api.stop()

    assert warnings_logged == ["openai: projects: 429 rate_limit_exceeded: slow down; retrying in 2 s (attempt 2 of 5)"]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.setenv("CI", "true")
    return CliRunner()


def _write_config(tmp_path: Path, settings: dict) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text(json.dumps({"version": 1, "sources": {"openai": {"organisation": ORG, **settings}}}))
    return path


def test_scan_of_closed_port_shows_retries_then_one_error(tmp_path, admin_key, runner):
    port = closed_port()
    # A zero wait cap keeps the command from sleeping: the CLI cannot be given a recorded sleep.
    config = _write_config(tmp_path, {"base_url": f"http://127.0.0.1:{port}/v1", "max_retry_wait_seconds": 0})

    result = runner.invoke(main, ["scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history"])

    gap = _gap_of_refused_port(port)
    retry = f"shadowmap: warning: openai: projects: cannot connect to 127.0.0.1:{port} (ConnectError); retrying in 0 s"
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{retry} (attempt 2 of 3)",
        f"{retry} (attempt 3 of 3)",
        f"shadowmap: error: {gap.scope}: {gap.reason}",
    ]
    assert TEST_ADMIN_KEY not in result.output


def test_snapshot_without_admin_key_creates_no_folder(tmp_path, runner, monkeypatch):
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    config = _write_config(tmp_path, {})

    result = runner.invoke(main, ["snapshot", "--config", str(config), "--out", str(tmp_path / "snap")])

    assert result.exit_code == 2
    assert result.stderr.startswith("shadowmap: error: openai: OPENAI_ADMIN_KEY is not set; ")
    assert not (tmp_path / "snap").exists()


def test_snapshot_of_closed_port_creates_no_folder(tmp_path, admin_key, runner):
    port = closed_port()
    config = _write_config(tmp_path, {"base_url": f"http://127.0.0.1:{port}/v1", "max_retry_wait_seconds": 0})

    result = runner.invoke(main, ["snapshot", "--config", str(config), "--out", str(tmp_path / "snap")])

    gap = _gap_of_refused_port(port)
    assert result.exit_code == 2
    assert f"  not recorded: {gap.scope}: {gap.reason}\n" in result.stdout
    assert not (tmp_path / "snap").exists()
