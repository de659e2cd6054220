"""An Anthropic Admin API that cannot be reached: a closed port on 127.0.0.1 ends the source after
three quick attempts at the first listing, with one gap, and `shadowmap snapshot` without an
admin key leaves no folder behind."""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_openai_admin_api import RecordedSleep
from test_openai_unreachable import LoggedLines, closed_port, record_attempts

from collectors.anthropic.collector import AnthropicCollector
from collectors.contract import CollectContext
from scanner.cli import main
from scanner.config import parse_config
from scanner.model import ScopeGap

ORG = "Larkspur Analytics"
LOGGER = logging.getLogger("shadowmap.collector.anthropic")
TEST_ADMIN_KEY = "sk-ant-admin01-" + "Tq3Lm8Tx2Vb6Nc0Rw5Ys9Hk3Jd7Gf1PaZq4Lm8Tx2Vb6Nc0Rw5Ys9Hk3Jd7Gf1PaZq4Lm8Tx2Vb6Nc0Rw5Ys9H" + "k3BB"


@pytest.fixture
def admin_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", TEST_ADMIN_KEY)
    return TEST_ADMIN_KEY


@pytest.fixture
def warnings_logged():
    handler = LoggedLines()
    LOGGER.addHandler(handler)
    yield handler.lines
    LOGGER.removeHandler(handler)


def _collector(tmp_path: Path, settings: dict) -> AnthropicCollector:
    document = {"version": 1, "sources": {"anthropic": {"organisation": ORG, **settings}}}
    config = parse_config(json.dumps(document), tmp_path / "audit.yaml")
    return AnthropicCollector(config, sleep=RecordedSleep(), today=date(2025, 8, 3))


def test_closed_port_ends_source_quickly(tmp_path, admin_key, monkeypatch, warnings_logged):
    port = closed_port()
    attempts = record_attempts(monkeypatch)
    collector = _collector(tmp_path, {"base_url": f"http://127.0.0.1:{port}"})

    started = time.monotonic()
    result = collector.collect(CollectContext(LOGGER))
    elapsed = time.monotonic() - started

    reason = (
        f"cannot connect to 127.0.0.1:{port} (ConnectError: connection refused) after 3 attempts, so 4 scopes were not read "
        "(workspaces, API keys, messages usage report and 1 more); check that sources.anthropic.base_url names the right "
        "host and port, and that the server there is running"
    )
    assert elapsed < 2.0
    assert collector.sleep.waits == [2.0, 4.0]
    assert attempts == ["/v1/organizations/workspaces"] * 3
    assert result.outcome.scopes_not_seen == [ScopeGap(f"anthropic {ORG}", reason)]
    assert result.outcome.scopes_seen == []
    assert warnings_logged == [
        f"anthropic: workspaces: cannot connect to 127.0.0.1:{port} (ConnectError); retrying in 2 s (attempt 2 of 3)",
        f"anthropic: workspaces: cannot connect to 127.0.0.1:{port} (ConnectError); retrying in 4 s (attempt 3 of 3)",
        f"anthropic {ORG}: {reason}",
    ]
    assert not any(TEST_ADMIN_KEY in line for line in warnings_logged)


def test_closed_port_keeps_default_workspace(tmp_path, admin_key, monkeypatch):
    port = closed_port()
    record_attempts(monkeypatch)

    result = _collector(tmp_path, {"base_url": f"http://127.0.0.1:{port}"}).collect(CollectContext(LOGGER))

    organisation = next(asset for asset in result.assets if asset.kind == "anthropic.organization")
    assert [asset.id for asset in result.assets if asset.kind == "anthropic.workspace"] == ["default"]
    assert organisation.attributes["key_inventory_complete"] is False
    assert result.spend_lines == []


def test_snapshot_without_admin_key_creates_no_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.setenv("CI", "true")
    config = tmp_path / "audit.yaml"
    config.write_text(json.dumps({"version": 1, "sources": {"anthropic": {"organisation": ORG}}}))

    result = CliRunner().invoke(main, ["snapshot", "--config", str(config), "--out", str(tmp_path / "snap")])

    assert result.exit_code == 2
    assert result.stderr.startswith("shadowmap: error: anthropic: ANTHROPIC_ADMIN_KEY is not set; ")
    assert not (tmp_path / "snap").exists()
