"""The Anthropic collector end to end: responses shaped like Anthropic's Admin API reference,
served by a local fake Admin API; cents becoming dollars; the default workspace; the Priority
Tier note; partial outcomes; snapshot recording and reading; and the demo organisation."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from test_openai_admin_api import FakeAdminApi, RecordedSleep

from collectors.anthropic import build_collectors, record_snapshot
from collectors.anthropic.collector import PRIORITY_TIER_NOTE, AnthropicCollector
from collectors.contract import CollectContext
from collectors.openai.admin_http import AdminKeyError
from scanner.config import Policy, parse_config
from scanner.coverage import build_coverage
from scanner.model import Inventory, OutcomeStatus, ScopeGap

DATA = Path(__file__).parent / "data" / "anthropic"
DEMO_SNAPSHOT = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "anthropic" / "snapshot"
ORG = "Larkspur Analytics"
WORKSPACE = "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"
TEST_ADMIN_KEY = "sk-ant-admin01-" + "Vq3Lm8Tx2Vb6Nc0Rw5Ys9Hk3Jd7Gf1PaZq4Lm8Tx2Vb6Nc0Rw5Ys9Hk3Jd7Gf1PaZq4Lm8Tx2Vb6Nc0Rw5Ys9H" + "k3AA"
LOGGER = logging.getLogger("shadowmap.collector.anthropic")
COST_CURSOR = "page_MjAyNS0wOC0wMlQwMDowMDowMFo="


@pytest.fixture
def fake_api():
    api = FakeAdminApi().start()
    yield api
    api.stop()


@pytest.fixture
def admin_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", TEST_ADMIN_KEY)
    return TEST_ADMIN_KEY


def _config(tmp_path: Path, settings: dict):
    document = {"version": 1, "sources": {"anthropic": {"organisation": ORG, **settings}}}
    return parse_config(json.dumps(document), tmp_path / "audit.yaml")


def _collector(tmp_path: Path, settings: dict, **options) -> AnthropicCollector:
    return AnthropicCollector(_config(tmp_path, settings), sleep=RecordedSleep(), today=date(2025, 8, 3), **options)


def _serve(api: FakeAdminApi) -> None:
    api.add_file("/v1/organizations/workspaces", DATA / "workspaces.json")
    api.add_file("/v1/organizations/api_keys", DATA / "api_keys.json")
    api.add_file("/v1/organizations/usage_report/messages", DATA / "usage_messages.json")
    api.add_file("/v1/organizations/cost_report", DATA / "cost_report_page_1.json")
    api.add_file("/v1/organizations/cost_report", DATA / "cost_report_page_2.json", cursor=COST_CURSOR)


def _settings(api: FakeAdminApi) -> dict:
    return {"base_url": api.base_url, "start": "2025-08-01", "end": "2025-08-03", "workspaces": {WORKSPACE: "support"}}


def test_cents_become_dollars_per_workspace_and_model(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    lines = [(line.period_start.date().isoformat(), line.resource_id, line.model, line.amount) for line in result.spend_lines]
    assert lines == [
        ("2025-08-01", WORKSPACE, "claude-sonnet-4-20250514", Decimal("2.0428912")),
        ("2025-08-02", "default", "claude-3-5-haiku-20241022", Decimal("0.412")),
        ("2025-08-02", WORKSPACE, None, Decimal("0.25")),
    ]
    assert {line.currency for line in result.spend_lines} == {"USD"}
    assert {line.service for line in result.spend_lines} == {"Anthropic API"}
    assert {line.account for line in result.spend_lines} == {ORG}


def test_cost_line_period_is_bucket(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    assert result.spend_lines[0].period_start == datetime(2025, 8, 1, tzinfo=timezone.utc)
    assert result.spend_lines[0].period_end == datetime(2025, 8, 2, tzinfo=timezone.utc)
    assert result.spend_lines[0].source.row_count == 2


def test_default_workspace_is_an_asset(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    workspaces = {asset.id: asset for asset in result.assets if asset.kind == "anthropic.workspace"}
    assert sorted(workspaces) == ["default", WORKSPACE, "wrkspc_01Kq8Z3mXvN2pL7sTb4Wc9Rd"]
    assert workspaces["default"].attributes["default"] is True
    assert workspaces["default"].name == "Default Workspace"
    assert workspaces[WORKSPACE].attributes["owner"] == "support"
    assert workspaces["wrkspc_01Kq8Z3mXvN2pL7sTb4Wc9Rd"].attributes["archived_at"] == "2024-11-01T23:59:27.427722+00:00"


def test_api_key_carries_hint_workspace_and_creator(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    keys = {asset.id: asset for asset in result.assets if asset.kind == "anthropic.api_key"}
    developer = keys["apikey_01Rj2N8SVvo6BePZj99NhmiT"]
    assert developer.attributes["prefix"] == "sk-ant-api03-"
    assert developer.attributes["suffix"] == "igAA"
    assert developer.attributes["redacted"] == "sk-ant-api03-…igAA"
    assert developer.attributes["workspace_name"] == "Workspace Name"
    assert developer.attributes["created_by_type"] == "user"
    assert developer.attributes["principal_type"] is None
    assert developer.attributes["owner"] == "support"
    assert keys["apikey_01Hx4Lq9Tz2WmB7cNv3KpR8s"].attributes["workspace_id"] == "default"


def test_usage_totals_count_every_input_token(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    key = next(asset for asset in result.assets if asset.id == "apikey_01Rj2N8SVvo6BePZj99NhmiT")
    assert key.attributes["usage"] == {
        "requests": None,
        "input_tokens": 3500,
        "output_tokens": 600,
        "models": ["claude-sonnet-4-20250514"],
        "reports": ["messages"],
        "first_day": "2025-08-01",
        "last_day": "2025-08-01",
    }


def test_notes_priority_tier_and_console_use(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    assert result.outcome.notes == [
        PRIORITY_TIER_NOTE,
        "The messages usage report shows 400 Priority Tier tokens in the window; their cost is not in the cost report.",
        "100 tokens in the window carry no API key (Console use), so no key can be matched to them.",
    ]


def test_requests_send_admin_headers_and_grouping(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    cost = next(request for request in fake_api.requests if request["path"] == "/v1/organizations/cost_report")
    assert cost["headers"]["x-api-key"] == TEST_ADMIN_KEY
    assert cost["headers"]["anthropic-version"] == "2023-06-01"
    assert "authorization" not in cost["headers"]
    assert cost["query"] == [
        ("starting_at", "2025-08-01T00:00:00Z"),
        ("ending_at", "2025-08-03T00:00:00Z"),
        ("bucket_width", "1d"),
        ("limit", "31"),
        ("group_by[]", "workspace_id"),
        ("group_by[]", "description"),
    ]


def test_second_cost_page_asked_by_next_page(tmp_path, fake_api, admin_key):
    _serve(fake_api)

    _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    pages = [request["query"][-1] for request in fake_api.requests if request["path"] == "/v1/organizations/cost_report"]
    assert pages == [("group_by[]", "description"), ("page", COST_CURSOR)]


def test_cost_report_without_next_page_is_partial(tmp_path, fake_api, admin_key):
    _serve(fake_api)
    fake_api.responses[("/v1/organizations/cost_report", None)].clear()
    first = json.loads((DATA / "cost_report_page_1.json").read_text())
    first["next_page"] = None
    fake_api.add("/v1/organizations/cost_report", first)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))
    result.outcome.settle()

    assert result.outcome.status is OutcomeStatus.PARTIAL
    assert result.outcome.scopes_not_seen == [
        ScopeGap(
            f"anthropic {ORG}: cost report",
            "page 1 says has_more but gives no next_page, so later pages cannot be asked for; the totals are short (1 items read)",
        )
    ]
    assert [line.amount for line in result.spend_lines] == [Decimal("2.0428912")]


def test_throttled_workspaces_wait_retry_after(tmp_path, fake_api, admin_key):
    _serve(fake_api)
    fake_api.responses[("/v1/organizations/workspaces", None)].appendleft(
        (429, {"retry-after": "7"}, json.dumps({"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited"}}).encode())
    )
    collector = _collector(tmp_path, _settings(fake_api))

    result = collector.collect(CollectContext(LOGGER))

    assert collector.sleep.waits == [7.0]
    assert f"anthropic {ORG}: workspaces" in result.outcome.scopes_seen


def test_rejected_key_fails_with_one_line(tmp_path, fake_api, admin_key, caplog):
    fake_api.add("/v1/organizations/workspaces", {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, status=401)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AdminKeyError) as raised:
        _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    assert str(raised.value) == (
        "anthropic: the admin key in ANTHROPIC_ADMIN_KEY was rejected (401); create an admin key at "
        "https://console.anthropic.com/settings/admin-keys and set ANTHROPIC_ADMIN_KEY"
    )
    assert admin_key not in caplog.text


def test_not_found_report_is_a_gap_with_error_type(tmp_path, fake_api, admin_key):
    _serve(fake_api)
    fake_api.responses[("/v1/organizations/usage_report/messages", None)].clear()
    fake_api.add("/v1/organizations/usage_report/messages", {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}}, status=404)

    result = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    assert result.outcome.scopes_not_seen == [ScopeGap(f"anthropic {ORG}: messages usage report", "404 not_found_error: Not found")]
    assert len(result.spend_lines) == 3


def test_recorded_snapshot_reads_back_the_same(tmp_path, fake_api, admin_key):
    _serve(fake_api)
    record_snapshot(_config(tmp_path, _settings(fake_api)), tmp_path / "snapshot", LOGGER)
    live = _collector(tmp_path, _settings(fake_api)).collect(CollectContext(LOGGER))

    replay = _collector(tmp_path, {"snapshot": "snapshot", "workspaces": {WORKSPACE: "support"}}).collect(CollectContext(LOGGER))

    assert (tmp_path / "snapshot" / "cost_report.page-2.json").read_bytes() == (DATA / "cost_report_page_2.json").read_bytes()
    assert [line.to_dict() | {"source": None} for line in replay.spend_lines] == [line.to_dict() | {"source": None} for line in live.spend_lines]
    assert [(a.kind, a.id, a.attributes.get("owner"), a.attributes.get("usage")) for a in replay.assets] == [
        (a.kind, a.id, a.attributes.get("owner"), a.attributes.get("usage")) for a in live.assets
    ]


def test_demo_snapshot_coverage(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT), "workspaces": {"support-bots": "support"}}).collect(CollectContext(LOGGER))
    inventory = Inventory(assets=result.assets, spend_lines=result.spend_lines)

    coverage = build_coverage(inventory, Policy(owner_tags=("team",)), [])

    usd = coverage.currencies["USD"]
    assert dict(usd.by_owner) == {"support": Decimal("920.917")}
    assert dict(usd.by_reason) == {"default_workspace": Decimal("250.9553"), "workspace_without_owner": Decimal("220.1445")}
    assert len(result.spend_lines) == 150


def test_demo_snapshot_matches_its_raw_cents(tmp_path):
    cents = Decimal(0)
    for page in ("cost_report.json", "cost_report.page-2.json"):
        document = json.loads((DEMO_SNAPSHOT / page).read_text())
        cents += sum((Decimal(result["amount"]) for bucket in document["data"] for result in bucket["results"]), Decimal(0))

    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT)}).collect(CollectContext(LOGGER))

    assert sum((line.amount for line in result.spend_lines), Decimal(0)) * 100 == cents


def test_build_collectors_only_when_configured(tmp_path):
    plain = parse_config(json.dumps({"version": 1, "sources": {}}), tmp_path / "audit.yaml")

    assert build_collectors(plain) == []
    assert [collector.name for collector in build_collectors(_config(tmp_path, {"snapshot": "x"}))] == ["anthropic"]
