"""GitHub organisations through PyGithub against a local fake of the GitHub REST API, and the
snapshot round trip."""

from __future__ import annotations

import gzip
import io
import json
import logging
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import collectors.code as code_family
from collectors.code.collector import CodeCollector
from collectors.code.plugins import URL_SAFE, fake_part
from collectors.code.settings import code_settings
from collectors.contract import CollectContext
from scanner.config import parse_config

ORG = "larkspur-analytics"
TOKEN = "fake-token-for-tests"


def admin_key() -> str:
    return "sk-" + "admin-" + fake_part(120, URL_SAFE, "gh-admin")


def project_key() -> str:
    return "sk-" + "proj-" + fake_part(120, URL_SAFE, "gh-project")


def tarball(repository: str, files: dict[str, str]) -> bytes:
    """A repository archive shaped like GitHub's: one top folder `<owner>-<repo>-<sha>/`."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{ORG}-{repository}-0a1b2c3/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


ARCHIVES = {
    "claims-api": tarball("claims-api", {"src/settings.py": f'OPENAI_ADMIN_KEY = "{admin_key()}"\n', "README.md": "# Claims API\n"}),
    "search-ui": tarball("search-ui", {"app.py": f'client = OpenAI(api_key="{project_key()}")\n'}),
}


def repository(base: str, name: str, fork: bool = False) -> dict:
    return {
        "id": abs(hash(name)) % 100000,
        "name": name,
        "full_name": f"{ORG}/{name}",
        "private": True,
        "fork": fork,
        "archived": False,
        "default_branch": "main",
        "url": f"{base}/repos/{ORG}/{name}",
        "owner": {"login": ORG, "type": "Organization", "url": f"{base}/users/{ORG}"},
    }


class FakeGitHub(BaseHTTPRequestHandler):
    """The few GitHub REST endpoints the code collector calls, with GitHub's shapes and codes."""

    requests: list[str] = []

    def log_message(self, *arguments) -> None:
        return None

    def _json(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches on
        base = f"http://127.0.0.1:{self.server.server_port}"
        path = urlsplit(self.path).path
        query = urlsplit(self.path).query
        FakeGitHub.requests.append(self.path)
        if path.startswith("/codeload/"):
            data = ARCHIVES[path.rsplit("/", 1)[1].removesuffix(".tar.gz")]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.headers.get("Authorization") not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            self._json(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
            return
        if path == f"/orgs/{ORG}":
            self._json(200, {"login": ORG, "id": 1, "url": f"{base}/orgs/{ORG}", "repos_url": f"{base}/orgs/{ORG}/repos"})
        elif path == f"/orgs/{ORG}/repos" and "page=2" not in query:
            link = f'<{base}/orgs/{ORG}/repos?type=all&per_page=100&page=2>; rel="next"'
            self._json(200, [repository(base, "claims-api"), repository(base, "forked-sdk", fork=True)], {"Link": link})
        elif path == f"/orgs/{ORG}/repos":
            self._json(200, [repository(base, "search-ui"), repository(base, "empty-notes")])
        elif path.endswith("/tarball"):
            name = path.split("/")[3]
            if name not in ARCHIVES:
                self._json(404, {"message": "Not Found"})
                return
            self.send_response(302)
            self.send_header("Location", f"{base}/codeload/{name}.tar.gz")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"message": "Not Found"})


@pytest.fixture
def fake_github():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    FakeGitHub.requests = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def config_for(tmp_path: Path, api_url: str, extra: str = ""):
    text = (
        "version: 1\nsources:\n  code:\n    github:\n"
        f"      - organization: {ORG}\n        token_env: LARKSPUR_GITHUB_TOKEN\n        api_url: {api_url}\n" + extra
    )
    path = tmp_path / "audit.yaml"
    path.write_text(text)
    return parse_config(text, path)


def collect(config):
    collector = CodeCollector(code_settings(config))
    return collector.collect(CollectContext(logger=logging.getLogger("shadowmap.collector.code")))


def test_organisation_repositories_are_scanned(fake_github, tmp_path, monkeypatch):
    monkeypatch.setenv("LARKSPUR_GITHUB_TOKEN", TOKEN)
    result = collect(config_for(tmp_path, fake_github))
    found = sorted((a.scope, a.attributes["path"], a.attributes["key_type"]) for a in result.assets)
    assert found == [(f"{ORG}/claims-api", "src/settings.py", "admin"), (f"{ORG}/search-ui", "app.py", "project")]
    assert result.outcome.scopes_seen == [f"{ORG}/claims-api", f"{ORG}/search-ui"]
    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [f"{ORG}/empty-notes"]
    assert result.outcome.scopes_not_seen[0].reason.startswith("GitHub returned 404 for the tarball link")
    assert result.assets[0].attributes["repository"] == f"{ORG}/claims-api"


def test_forks_are_scanned_only_when_asked(fake_github, tmp_path, monkeypatch):
    monkeypatch.setenv("LARKSPUR_GITHUB_TOKEN", TOKEN)
    result = collect(config_for(tmp_path, fake_github, "        include_forks: true\n"))
    assert f"{ORG}/forked-sdk" in [gap.scope for gap in result.outcome.scopes_not_seen]


def test_bad_token_is_a_scope_gap_naming_401(fake_github, tmp_path, monkeypatch):
    monkeypatch.setenv("LARKSPUR_GITHUB_TOKEN", "wrong")
    result = collect(config_for(tmp_path, fake_github))
    assert result.assets == []
    assert [(g.scope, g.reason) for g in result.outcome.scopes_not_seen] == [
        (f"github:{ORG}", "GitHub returned 401 Bad credentials for the token in LARKSPUR_GITHUB_TOKEN; check it")
    ]


def test_missing_token_variable_is_a_scope_gap(fake_github, tmp_path, monkeypatch):
    monkeypatch.delenv("LARKSPUR_GITHUB_TOKEN", raising=False)
    result = collect(config_for(tmp_path, fake_github))
    assert result.outcome.scopes_not_seen[0].reason == "the environment variable LARKSPUR_GITHUB_TOKEN holding the GitHub token is not set"
    assert FakeGitHub.requests == []


def test_snapshot_round_trip_reads_the_same_inventory(fake_github, tmp_path, monkeypatch):
    monkeypatch.setenv("LARKSPUR_GITHUB_TOKEN", TOKEN)
    config = config_for(tmp_path, fake_github)
    live = collect(config)

    outcome = code_family.record_snapshot(config, tmp_path / "snap" / "code", logging.getLogger("test"))
    assert outcome.scopes_seen == [f"{ORG}/claims-api", f"{ORG}/search-ui"]
    listing = json.loads((tmp_path / "snap" / "code" / "github" / ORG / "repos.json").read_text())
    assert [raw["name"] for raw in listing] == ["claims-api", "forked-sdk", "search-ui", "empty-notes"]

    monkeypatch.delenv("LARKSPUR_GITHUB_TOKEN")
    snapshot_config = config_for(tmp_path, "http://127.0.0.1:9", f"    snapshot: {tmp_path / 'snap' / 'code'}\n")
    replayed = collect(snapshot_config)
    assert [a.to_dict() for a in replayed.assets] == [a.to_dict() for a in live.assets]
    assert replayed.outcome.source == "snapshot"
