"""Cloud Asset pages into assets, label syntax, coverage reasons for partner models, the config
section, and the demo organisation's GCP snapshot through the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.gcp import attribution, build_collectors
from collectors.gcp.cloud_asset import ScopeListing
from collectors.gcp.inventory import build_assets, project_asset_id, vertex_kind
from collectors.gcp.labels import key_problem, label_problems, value_problem
from scanner.config import Policy, parse_config
from scanner.coverage import REASON_CLASSIFIERS, REASONS, build_coverage
from scanner.errors import ConfigError
from scanner.model import Inventory, SpendLine, Tags

ORG = "organizations/730012458832"
DEMO = Path(__file__).parent.parent / "fixtures" / "demo"


def project(number: str, project_id: str, labels: dict[str, str], state: str = "ACTIVE") -> dict:
    return {
        "name": f"//cloudresourcemanager.googleapis.com/projects/{number}",
        "assetType": "cloudresourcemanager.googleapis.com/Project",
        "ancestors": [f"projects/{number}", ORG],
        "resource": {"version": "v1", "data": {"projectNumber": number, "projectId": project_id, "lifecycleState": state, "labels": labels}},
    }


def service(number: str, name: str, state: str = "ENABLED") -> dict:
    return {
        "name": f"//serviceusage.googleapis.com/projects/{number}/services/{name}",
        "assetType": "serviceusage.googleapis.com/Service",
        "ancestors": [f"projects/{number}", ORG],
        "resource": {"version": "v1", "data": {"name": f"projects/{number}/services/{name}", "parent": f"projects/{number}", "state": state}},
    }


def vertex(number: str, kind: str, path: str, labels: dict[str, str]) -> dict:
    name = f"projects/{number}/locations/us-central1/{path}"
    return {
        "name": f"//aiplatform.googleapis.com/{name}",
        "assetType": f"aiplatform.googleapis.com/{kind}",
        "ancestors": [f"projects/{number}", ORG],
        "resource": {"version": "v1", "location": "us-central1", "data": {"name": name, "displayName": path.rsplit("/", 1)[-1], "labels": labels}},
    }


def assets_of(*raws: dict, scope: str = ORG, owner_labels: tuple[str, ...] = ("team", "owner")):
    return {asset.id: asset for asset in build_assets([ScopeListing(scope, pages=[{"assets": list(raws)}])], owner_labels)}


def test_vertex_kind_names():
    assert vertex_kind("aiplatform.googleapis.com/Endpoint") == "gcp.vertex.endpoint"
    assert vertex_kind("aiplatform.googleapis.com/BatchPredictionJob") == "gcp.vertex.batch_prediction_job"


def test_resource_label_names_owner():
    assets = assets_of(project("11", "p-one", {"team": "search"}), vertex("11", "Endpoint", "endpoints/7", {"team": "ranking"}))
    endpoint = assets["//aiplatform.googleapis.com/projects/11/locations/us-central1/endpoints/7"]

    assert endpoint.attributes["owner"] == "ranking"
    assert endpoint.attributes["owner_via"] == "label:team"
    assert endpoint.scope == "p-one"


def test_project_label_names_owner_of_unlabelled_resource():
    assets = assets_of(project("11", "p-one", {"owner": "search"}), vertex("11", "Dataset", "datasets/3", {}))
    dataset = assets["//aiplatform.googleapis.com/projects/11/locations/us-central1/datasets/3"]

    assert dataset.attributes["owner"] == "search"
    assert dataset.attributes["owner_via"] == "project_label:owner"


def test_project_teams_and_services():
    assets = assets_of(
        project("11", "p-one", {"team": "search"}),
        service("11", "aiplatform.googleapis.com"),
        service("11", "generativelanguage.googleapis.com", state="DISABLED"),
        service("11", "compute.googleapis.com"),
        vertex("11", "Endpoint", "endpoints/7", {"team": "ranking"}),
        vertex("11", "Endpoint", "endpoints/8", {}),
    )
    project_asset = assets[project_asset_id("11")]

    assert project_asset.attributes["teams"] == ["ranking", "search"]
    assert project_asset.attributes["ai_services_enabled"] == ["aiplatform.googleapis.com"]
    assert project_asset.attributes["vertex_enabled"] is True
    assert project_asset.attributes["vertex_resource_count"] == 2
    assert project_asset.attributes["billing_account"] == "p-one"
    assert project_asset.attributes["owner_via"] == "project_label:team"


def test_overlapping_scopes_give_each_asset_once():
    raws = [project("11", "p-one", {}), vertex("11", "Endpoint", "endpoints/7", {})]
    listings = [ScopeListing(ORG, pages=[{"assets": raws}]), ScopeListing("projects/p-one", pages=[{"assets": raws}])]

    assets = build_assets(listings, ("team",))

    assert len(assets) == 2


def test_service_of_unlisted_project_makes_stub():
    assets = assets_of(service("99", "aiplatform.googleapis.com"), scope="folders/5")
    stub = assets[project_asset_id("99")]

    assert stub.scope == "projects/99"
    assert stub.attributes["listed"] is False
    assert stub.attributes["vertex_enabled"] is True


@pytest.mark.parametrize("key", ["team", "cost-center", "cost_center", "équipe", "部門", "a" * 63])
def test_valid_label_keys(key):
    assert key_problem(key) is None


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "a label key cannot be empty"),
        ("Team", "label key 'Team' must start with a lowercase letter"),
        ("2fa", "label key '2fa' must start with a lowercase letter"),
        ("aws:team", "label key 'aws:team' contains ':'; use lowercase letters, digits, '_' and '-'"),
        ("a" * 64, f"label key '{'a' * 64}' is 64 characters long, over the maximum of 63"),
    ],
)
def test_invalid_label_keys(key, problem):
    assert key_problem(key) == problem


def test_label_values_may_be_empty_but_not_uppercase():
    assert value_problem("") is None
    assert value_problem("cc-3100") is None
    assert value_problem("Search") == "label value 'Search' contains 'S'; use lowercase letters, digits, '_' and '-'"


def test_label_count_limits():
    labels = {f"k{index}": "v" for index in range(33)}

    assert label_problems(labels) == []
    assert label_problems(labels, partner_model=True) == ["33 labels, over the maximum of 32"]
    assert label_problems({f"k{index}": "v" for index in range(65)}) == ["65 labels, over the maximum of 64"]


def partner_line(resource_id: str | None, tags: dict[str, str] | None = None, service_name: str = "Claude 3.5 Sonnet") -> SpendLine:
    day = datetime(2026, 11, 3, tzinfo=timezone.utc)
    return SpendLine(
        amount=Decimal("17.95"),
        currency="USD",
        period_start=day,
        period_end=day.replace(day=4),
        provider="gcp",
        service=service_name,
        account="larkspur-search-prod",
        resource_id=resource_id,
        tags=Tags.from_mapping(tags or {}),
    )


def coverage_reason(line: SpendLine, assets: dict) -> str | None:
    inventory = Inventory(assets=list(assets.values()), spend_lines=[line])
    coverage = build_coverage(inventory, Policy(owner_tags=("team",)), [])
    attribution_result = coverage.attributions[0][1]
    return attribution_result.reason if not attribution_result.attributed else f"owner:{attribution_result.owner}"


def test_partner_model_in_shared_project_reason():
    assets = assets_of(
        project("11", "larkspur-search-prod", {"env": "prod"}),
        vertex("11", "Endpoint", "endpoints/7", {"team": "search"}),
        vertex("11", "Endpoint", "endpoints/8", {"team": "growth"}),
    )

    assert coverage_reason(partner_line(project_asset_id("11")), assets) == "partner_model_shared_project"


def test_partner_model_without_project_reason():
    assert coverage_reason(partner_line(None), {}) == "partner_model_unlabelled"


def test_partner_model_in_labelled_project_is_attributed():
    assets = assets_of(project("11", "larkspur-search-prod", {"team": "search"}))

    assert coverage_reason(partner_line(project_asset_id("11")), assets) == "owner:search"


def test_gemini_line_keeps_core_reason():
    assert coverage_reason(partner_line(None, service_name="Vertex AI"), {}) == "untagged"


def test_reasons_registered_once():
    attribution.register()
    attribution.register()

    assert REASON_CLASSIFIERS.count(attribution.classify) == 1
    assert REASONS["partner_model_shared_project"] == attribution.REASON_SENTENCES["partner_model_shared_project"]


def config(text: str, tmp_path: Path):
    return parse_config("version: 1\nsources:\n  gcp:\n" + text, tmp_path / "audit.yaml")


def test_config_builds_both_collectors(tmp_path):
    collectors = build_collectors(config("    scopes: [organizations/730012458832]\n    billing:\n      files: [export.jsonl]\n", tmp_path))

    assert [collector.name for collector in collectors] == ["gcp.assets", "gcp.billing"]
    assert collectors[1].billing.files == (str(tmp_path / "export.jsonl"),)
    assert collectors[1].source.value == "export"


def test_config_without_gcp_builds_nothing(tmp_path):
    assert build_collectors(parse_config("version: 1\n", tmp_path / "audit.yaml")) == []


def test_config_rejects_unknown_key(tmp_path):
    with pytest.raises(ConfigError, match=r"line 5: unknown key 'sources.gcp.organisation'"):
        config("    scopes: [organizations/1]\n    organisation: 1\n", tmp_path)


def test_config_rejects_bad_scope(tmp_path):
    with pytest.raises(ConfigError, match=r"invalid value at 'sources.gcp.scopes\[0\]'"):
        config("    scopes: [org/1]\n", tmp_path)


def test_config_rejects_reversed_dates(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.gcp.billing.start \(2026-12-01\) must be before end \(2026-11-01\)"):
        build_collectors(config("    billing:\n      files: [a.jsonl]\n      start: '2026-12-01'\n      end: '2026-11-01'\n", tmp_path))


def test_demo_scan_reports_gcp_findings(tmp_path):
    from scanner.cli import main

    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("__pycache__"))
    audit = (demo / "audit.yaml").read_text()
    if "\n  gcp:" not in audit:
        (demo / "audit.yaml").write_text(audit + "  gcp:\n    snapshot: gcp\n")

    result = CliRunner().invoke(main, ["scan", "--config", str(demo / "audit.yaml"), "--out", str(tmp_path / "out"), "--no-history", "--quiet"])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    gcp_findings = sorted(
        (finding["rule_id"], finding["subject"]) for finding in report["findings"]["items"] if finding["rule_id"].startswith("gcp.")
    )

    assert result.exit_code == 0, result.output
    assert gcp_findings == [
        ("gcp.vertex.partner-model-shared-project", "gcp:larkspur-search-prod:Claude 3.5 Sonnet"),
        ("gcp.vertex.project-owner-label-missing", "gcp:project:418203117561"),
        ("gcp.vertex.project-owner-label-missing", "gcp:project:552930118274"),
        ("gcp.vertex.resource-owner-label-missing", "gcp://aiplatform.googleapis.com/projects/552930118274/locations/us-central1/datasets/2209113348"),
    ]


def test_label_value_with_other_number_character_is_valid():
    # "²" is Unicode category No (number, other), which labels allow like any other number.
    assert label_problems({"tier": "m²"}) == []
