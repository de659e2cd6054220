"""The OpenAI collector end to end: OpenAI's documented example responses served by a local fake
Admin API, the partial outcomes of pages that cannot be read, snapshot recording and reading,
and the demo organisation's snapshot."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from test_openai_admin_api import TEST_ADMIN_KEY, FakeAdminApi, RecordedSleep

from collectors.contract import CollectContext
from collectors.openai import build_collectors, record_snapshot
from collectors.openai.admin_http import AdminKeyError
from collectors.openai.collector import OpenAICollector
from scanner.config import Policy, parse_config
from scanner.coverage import build_coverage
from scanner.errors import ConfigError, InputError
from scanner.model import Inventory, OutcomeStatus, ScopeGap, SpendLine

REFERENCE = Path(__file__).parent / "data" / "openai" / "reference"
DEMO_SNAPSHOT = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "openai" / "snapshot"
ORG = "org-LarkspurAnalytics"
LOGGER = logging.getLogger("shadowmap.collector.openai")


@pytest.fixture
def fake_api():
    api = FakeAdminApi().start()
    yield api
    api.stop()


@pytest.fixture
def admin_key(monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", TEST_ADMIN_KEY)
    return TEST_ADMIN_KEY


def _config(tmp_path: Path, settings: dict):
    document = {"version": 1, "sources": {"openai": {"organisation": ORG, **settings}}}
    return parse_config(json.dumps(document), tmp_path / "audit.yaml")


def _collector(tmp_path: Path, settings: dict, **options) -> OpenAICollector:
    return OpenAICollector(_config(tmp_path, settings), sleep=RecordedSleep(), today=date(2024, 11, 3), **options)


def _serve_reference(api: FakeAdminApi) -> None:
    """OpenAI's examples for one project, proj_abc, with a second usage page after the first."""
    api.add_file("/organization/projects", REFERENCE / "projects_list.json")
    api.add_file("/organization/projects/proj_abc/api_keys", REFERENCE / "project_api_keys_list.json")
    api.add(
        "/organization/projects/proj_abc/service_accounts",
        {"object": "list", "data": [{"object": "organization.project.service_account", "id": "svc_acct_abc", "name": "Service Account", "role": "owner", "created_at": 1711471533}], "first_id": "svc_acct_abc", "last_id": "svc_acct_abc", "has_more": False},
    )
    api.add(
        "/organization/users",
        {"object": "list", "data": [{"object": "organization.user", "id": "user_abc", "name": "First Last", "email": "user@example.com", "role": "owner", "added_at": 1711471533}], "first_id": "user_abc", "last_id": "user_abc", "has_more": False},
    )
    api.add_file("/organization/admin_api_keys", REFERENCE / "admin_api_keys_list.json")
    api.add_file("/organization/usage/completions", REFERENCE / "usage_completions.json")
    api.add(
        "/organization/usage/completions",
        {
            "object": "page",
            "data": [{"object": "bucket", "start_time": 1730505600, "end_time": 1730592000, "results": [{"object": "organization.usage.completions.result", "input_tokens": 300, "output_tokens": 20, "num_model_requests": 2, "project_id": "proj_abc", "api_key_id": "key_abc", "model": "gpt-4o-mini-2024-07-18"}]}],
            "has_more": False,
            "next_page": None,
        },
        cursor="page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=",
    )
    api.add_file("/organization/costs", REFERENCE / "costs.json")


def _reference_settings(api: FakeAdminApi) -> dict:
    return {"base_url": api.base_url, "start": "2024-11-01", "end": "2024-11-03", "usage": ["completions"], "projects": {"proj_abc": "claims"}}


def test_reference_examples_become_assets(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    kinds = sorted(asset.kind for asset in result.assets)
    assert kinds == ["openai.admin_api_key", "openai.api_key", "openai.organization", "openai.project", "openai.service_account", "openai.user"]
    project = next(asset for asset in result.assets if asset.kind == "openai.project")
    assert project.id == "proj_abc"
    assert project.attributes["owner"] == "claims"
    assert project.attributes["owner_via"] == "sources.openai.projects"
    assert project.attributes["default"] is False


def test_project_key_carries_principal_and_hint(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    key = next(asset for asset in result.assets if asset.kind == "openai.api_key")
    assert key.id == "key_abc"
    assert key.scope == "proj_abc"
    assert key.attributes["principal_type"] == "user"
    assert key.attributes["principal_name"] == "First Last"
    assert key.attributes["principal_email"] == "user@example.com"
    assert key.attributes["prefix"] == "sk-"
    assert key.attributes["suffix"] == "def"
    assert key.attributes["redacted"] == "sk-…*def"
    assert key.attributes["owner"] == "claims"
    assert key.attributes["usage"] == {
        "requests": 2,
        "input_tokens": 300,
        "output_tokens": 20,
        "models": ["gpt-4o-mini-2024-07-18"],
        "reports": ["completions"],
        "first_day": "2024-11-02",
        "last_day": "2024-11-02",
    }


def test_admin_key_principal_is_inline(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    admin = next(asset for asset in result.assets if asset.kind == "openai.admin_api_key")
    assert admin.attributes["principal_type"] == "service_account"
    assert admin.attributes["principal_id"] == "sa_456"
    assert admin.attributes["prefix"] == "sk-admin"
    assert admin.attributes["expires_at"] == "2024-04-25T16:45:33+00:00"


def test_reference_cost_becomes_spend_line(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    assert len(result.spend_lines) == 1
    line = result.spend_lines[0]
    assert line.amount == Decimal("0.06")
    assert line.currency == "USD"
    assert line.provider == "openai"
    assert line.service == "OpenAI API"
    assert line.account == ORG
    assert line.resource_id is None
    assert line.period_start == datetime(2024, 11, 1, tzinfo=timezone.utc)
    assert line.period_end == datetime(2024, 11, 2, tzinfo=timezone.utc)


def test_every_scope_seen_with_reference_examples(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))
    result.outcome.settle()

    assert result.outcome.status is OutcomeStatus.OK
    assert result.outcome.scopes_seen == [
        f"openai {ORG}: projects",
        f"openai {ORG}: project proj_abc API keys",
        f"openai {ORG}: project proj_abc service accounts",
        f"openai {ORG}: users",
        f"openai {ORG}: admin API keys",
        f"openai {ORG}: usage completions",
        f"openai {ORG}: costs",
    ]


def test_report_requests_name_window_and_grouping(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    costs = next(request for request in fake_api.requests if request["path"] == "/organization/costs")
    assert costs["query"] == [
        ("start_time", "1730419200"),
        ("end_time", "1730592000"),
        ("bucket_width", "1d"),
        ("limit", "31"),
        ("group_by", "project_id"),
        ("group_by", "line_item"),
    ]
    assert costs["headers"]["authorization"] == f"Bearer {TEST_ADMIN_KEY}"


def test_archived_projects_are_asked_for(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)

    _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    projects = next(request for request in fake_api.requests if request["path"] == "/organization/projects")
    assert ("include_archived", "true") in projects["query"]


def test_costs_without_next_page_make_outcome_partial(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)
    fake_api.responses[("/organization/costs", None)].clear()
    first_page = json.loads((REFERENCE / "costs.json").read_text())
    first_page["has_more"] = True
    fake_api.add("/organization/costs", first_page)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))
    result.outcome.settle()

    assert result.outcome.status is OutcomeStatus.PARTIAL
    assert result.outcome.scopes_not_seen == [
        ScopeGap(
            f"openai {ORG}: costs",
            "page 1 says has_more but gives no next_page, so later pages cannot be asked for; the totals are short (1 items read)",
        )
    ]
    assert [line.amount for line in result.spend_lines] == [Decimal("0.06")]


def test_failed_project_keys_leave_inventory_incomplete(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)
    fake_api.responses[("/organization/projects/proj_abc/api_keys", None)].clear()
    fake_api.add("/organization/projects/proj_abc/api_keys", {"error": {"code": "server_error", "message": "try again"}}, status=500)

    result = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    gap = next(gap for gap in result.outcome.scopes_not_seen if "API keys" in gap.scope)
    assert gap == ScopeGap(f"openai {ORG}: project proj_abc API keys", "500 server_error: try again after 5 attempts; run again later")
    organisation = next(asset for asset in result.assets if asset.kind == "openai.organization")
    assert organisation.attributes["key_inventory_complete"] is False
    assert organisation.attributes["projects_with_unread_keys"] == ["proj_abc"]


def test_rejected_key_fails_with_one_line(tmp_path, fake_api, admin_key, caplog):
    fake_api.add("/organization/projects", {"error": {"code": "invalid_api_key", "message": f"Incorrect API key provided: {admin_key}"}}, status=401)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AdminKeyError) as raised:
        _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    assert str(raised.value) == (
        "openai: the admin key in OPENAI_ADMIN_KEY was rejected (401); create an admin key at "
        "https://platform.openai.com/settings/organization/admin-keys and set OPENAI_ADMIN_KEY"
    )
    assert admin_key not in caplog.text


def test_missing_key_names_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_FINOPS_KEY", raising=False)

    with pytest.raises(AdminKeyError) as raised:
        _collector(tmp_path, {"admin_key_env": "OPENAI_FINOPS_KEY"}).collect(CollectContext(LOGGER))

    assert str(raised.value) == (
        "openai: OPENAI_FINOPS_KEY is not set; create an admin key at https://platform.openai.com/settings/organization/admin-keys "
        "and set OPENAI_FINOPS_KEY, or point sources.openai.snapshot at a recorded snapshot"
    )


def test_recorded_snapshot_reads_back_the_same(tmp_path, fake_api, admin_key):
    _serve_reference(fake_api)
    config = _config(tmp_path, _reference_settings(fake_api))
    outcome = record_snapshot(config, tmp_path / "snapshot", LOGGER)
    live = _collector(tmp_path, _reference_settings(fake_api)).collect(CollectContext(LOGGER))

    replay = _collector(tmp_path, {"snapshot": "snapshot", "projects": {"proj_abc": "claims"}}).collect(CollectContext(LOGGER))

    assert outcome.scopes_not_seen == []
    assert (tmp_path / "snapshot" / "usage" / "completions.page-2.json").is_file()
    assert (tmp_path / "snapshot" / "costs.json").read_bytes() == (REFERENCE / "costs.json").read_bytes()
    assert _comparable(replay.assets) == _comparable(live.assets)
    assert [line.to_dict() | {"source": None} for line in replay.spend_lines] == [line.to_dict() | {"source": None} for line in live.spend_lines]


def _comparable(assets):
    """Assets without where they were read from, which differs between live and snapshot."""
    rows = []
    for asset in assets:
        row = asset.to_dict() | {"source": None}
        row["attributes"] = {key: value for key, value in row["attributes"].items() if key != "source"}
        rows.append(row)
    return rows


def test_snapshot_folder_missing_is_input_error(tmp_path):
    with pytest.raises(InputError) as raised:
        _collector(tmp_path, {"snapshot": "nowhere"}).collect(CollectContext(LOGGER))

    assert str(raised.value) == f"sources.openai.snapshot: folder {tmp_path / 'nowhere'} not found; record one with `shadowmap snapshot`"


def test_demo_snapshot_totals(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT), "projects": {"claims-assistant": "claims"}}).collect(CollectContext(LOGGER))

    totals: dict[str, Decimal] = {}
    for line in result.spend_lines:
        totals[line.resource_name] = totals.get(line.resource_name, Decimal(0)) + line.amount
    assert totals == {"Default project": Decimal("266.993"), "claims-assistant": Decimal("1067.654"), "growth-experiments": Decimal("412.492")}
    assert len(result.spend_lines) == 120
    assert result.outcome.scopes_not_seen == []


def test_demo_snapshot_matches_its_raw_costs(tmp_path):
    raw = Decimal(0)
    for page in ("costs.json", "costs.page-2.json"):
        document = json.loads((DEMO_SNAPSHOT / page).read_text(), parse_float=Decimal)
        raw += sum((result["amount"]["value"] for bucket in document["data"] for result in bucket["results"]), Decimal(0))

    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT)}).collect(CollectContext(LOGGER))

    assert sum((line.amount for line in result.spend_lines), Decimal(0)) == raw


def test_model_comes_from_line_item(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT)}).collect(CollectContext(LOGGER))

    models = sorted({line.model for line in result.spend_lines})
    assert models == ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "o3-mini-2025-01-31", "text-embedding-3-small"]


def test_demo_coverage_reasons(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT), "projects": {"proj_Ck4vN8pZ2qLm6TxR9wBe3JsU": "claims"}}).collect(CollectContext(LOGGER))
    inventory = Inventory(assets=result.assets, spend_lines=result.spend_lines)

    coverage = build_coverage(inventory, Policy(owner_tags=("team",)), [])

    usd = coverage.currencies["USD"]
    assert dict(usd.by_owner) == {"claims": Decimal("1067.654")}
    assert dict(usd.by_reason) == {"default_project": Decimal("266.993"), "project_without_owner": Decimal("412.492")}
    via = {attribution.via for line, attribution in coverage.attributions if attribution.owner}
    assert via == {"asset:openai.project:sources.openai.projects"}


def test_default_project_named_in_config(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT), "default_project": "growth-experiments"}).collect(CollectContext(LOGGER))

    defaults = [asset.name for asset in result.assets if asset.kind == "openai.project" and asset.attributes["default"]]
    assert defaults == ["growth-experiments"]


def test_unknown_project_in_mapping_is_noted(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT), "projects": {"claims-assitant": "claims"}}).collect(CollectContext(LOGGER))

    assert result.outcome.notes == [f"sources.openai.projects names 'claims-assitant', which is neither the ID nor the name of a project of {ORG}."]


def test_usage_reports_default_to_those_in_snapshot(tmp_path):
    result = _collector(tmp_path, {"snapshot": str(DEMO_SNAPSHOT)}).collect(CollectContext(LOGGER))

    assert [scope for scope in result.outcome.scopes_seen if "usage" in scope] == [f"openai {ORG}: usage completions", f"openai {ORG}: usage embeddings"]


def test_cost_amounts_stay_exact(tmp_path):
    (tmp_path / "snap").mkdir()
    for name in ("projects", "users", "admin_api_keys"):
        (tmp_path / "snap" / f"{name}.json").write_text('{"object": "list", "data": [], "has_more": false}')
    results = [{"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"}, "line_item": "gpt-4o-2024-08-06, input", "project_id": "proj_x"} for value in ("0.1", "0.2")]
    costs = {"object": "page", "data": [{"object": "bucket", "start_time": 1793491200, "end_time": 1793577600, "results": results}], "has_more": False, "next_page": None}
    (tmp_path / "snap" / "costs.json").write_text(json.dumps(costs).replace('"0.1"', "0.1").replace('"0.2"', "0.2"))

    result = _collector(tmp_path, {"snapshot": "snap"}).collect(CollectContext(LOGGER))

    assert [line.amount for line in result.spend_lines] == [Decimal("0.3")]


def test_build_collectors_only_when_configured(tmp_path):
    plain = parse_config(json.dumps({"version": 1, "sources": {}}), tmp_path / "audit.yaml")

    assert build_collectors(plain) == []
    assert [collector.name for collector in build_collectors(_config(tmp_path, {"snapshot": "x"}))] == ["openai"]


def test_config_rejects_unknown_setting(tmp_path):
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, {"admin_key": "sk-admin-xyz"})

    assert "unknown key 'sources.openai.admin_key'" in str(raised.value)


def _line(resource_id):
    return SpendLine(
        amount=Decimal("1.00"),
        currency="USD",
        period_start=datetime(2026, 11, 3, tzinfo=timezone.utc),
        period_end=datetime(2026, 11, 4, tzinfo=timezone.utc),
        provider="openai",
        service="OpenAI API",
        account=ORG,
        resource_id=resource_id,
    )


def test_cost_without_project_has_its_reason():
    coverage = build_coverage(Inventory(spend_lines=[_line(None)]), Policy(owner_tags=("team",)), [])

    assert coverage.attributions[0][1].reason == "no_project"


def test_cost_of_unlisted_project_has_its_reason():
    coverage = build_coverage(Inventory(spend_lines=[_line("proj_deleted")]), Policy(owner_tags=("team",)), [])

    assert coverage.attributions[0][1].reason == "project_not_listed"


def test_reasons_registered_once():
    import importlib

    from collectors.openai import reasons
    from scanner.coverage import REASON_CLASSIFIERS

    importlib.reload(reasons)

    assert sum(1 for classify in REASON_CLASSIFIERS if classify.__module__ == "collectors.openai.reasons") == 1


def test_snapshot_command_records_then_scan_reads(tmp_path, fake_api, admin_key, monkeypatch):
    from click.testing import CliRunner

    from scanner.cli import main

    _serve_reference(fake_api)
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.setenv("CI", "true")
    live = {"version": 1, "sources": {"openai": {"organisation": ORG, **_reference_settings(fake_api)}}}
    (tmp_path / "live.yaml").write_text(json.dumps(live))
    replay = {"version": 1, "sources": {"openai": {"organisation": ORG, "snapshot": "snap/openai", "projects": {"proj_abc": "claims"}}}}
    (tmp_path / "replay.yaml").write_text(json.dumps(replay))
    runner = CliRunner()

    recorded = runner.invoke(main, ["snapshot", "--config", str(tmp_path / "live.yaml"), "--out", str(tmp_path / "snap"), "--only", "openai"])
    scanned = runner.invoke(main, ["scan", "--config", str(tmp_path / "replay.yaml"), "--out", str(tmp_path / "out"), "--no-history"])

    assert recorded.exit_code == 0, recorded.output
    assert recorded.output.startswith(f"openai: ok, 7 scopes recorded in {tmp_path / 'snap' / 'openai'}")
    assert scanned.exit_code == 0, scanned.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["coverage"]["USD"]["total"] == "0.06"
    assert admin_key not in recorded.output + scanned.output
