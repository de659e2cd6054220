"""The demo organisation's Azure snapshot, PTU cost export and gateway token metrics, read through
the Azure collectors and judged by the Azure rules."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from collectors.azure import build_collectors
from rules.azure_openai import RULES
from scanner.config import parse_config
from scanner.engine import run_audit

DEMO = Path(__file__).parent.parent / "fixtures" / "demo"
PLATFORM = "7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a"
SHARED = f"/subscriptions/{PLATFORM}/resourcegroups/platform/providers/microsoft.cognitiveservices/accounts/larkspur-shared-aoai"

# The `sources.azure` section of fixtures/demo/audit.yaml, with paths relative to fixtures/demo/.
DEMO_AZURE = """
  azure:
    snapshot: azure/snapshot
    cost_exports:
      - path: azure/costs/ptu-amortized-2026-11.csv
        cost: amortized
    token_metrics:
      - account: /subscriptions/7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a/resourceGroups/platform/providers/Microsoft.CognitiveServices/accounts/larkspur-shared-aoai
        resource: /subscriptions/7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a/resourceGroups/platform/providers/Microsoft.Insights/components/larkspur-ai-gateway
        file: azure/metrics/larkspur-ai-gateway-2026-11.json
        namespace: larkspur-ai-gateway
        prompt_metric: Prompt Tokens
        completion_metric: Completion Tokens
        deployment_dimension: Deployment
        caller_dimension: App
        callers:
          support-assistant: support
          research-notebooks: research
"""


@pytest.fixture(scope="module")
def demo_run():
    text = (DEMO / "audit.yaml").read_text()
    if "\n  azure:" not in text:
        text = text.replace("\nsources:\n", "\nsources:" + DEMO_AZURE, 1)
    config = parse_config(text, DEMO / "audit.yaml")
    logging.getLogger("shadowmap").setLevel(logging.WARNING)
    return run_audit(config, build_collectors(config), rules=RULES)


def test_demo_sees_all_three_subscriptions(demo_run):
    azure = next(outcome for outcome in demo_run.inventory.outcomes if outcome.collector == "azure")

    assert azure.status.value == "ok"
    assert len(azure.scopes_seen) == 3


def test_demo_accounts_match_the_focus_resource_ids(demo_run):
    accounts = sorted(asset.id for asset in demo_run.inventory.assets_of_kind("azure.openai.account"))

    assert accounts == [
        "/subscriptions/0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d/resourcegroups/research/providers/microsoft.cognitiveservices/accounts/larkspur-research-aoai",
        "/subscriptions/6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e/resourcegroups/support-ai/providers/microsoft.cognitiveservices/accounts/larkspur-support-aoai",
        SHARED,
    ]


def test_demo_ptu_split_between_teams(demo_run):
    figures = demo_run.coverage.currencies["EUR"]

    assert figures.overall.total == Decimal("3600")
    assert figures.by_owner["support"] + figures.by_owner["research"] + figures.by_reason["ptu_unallocated"] == Decimal("3600")
    assert figures.by_owner["support"] > figures.by_owner["research"] > 0


def test_demo_findings_name_the_untagged_and_shared_accounts(demo_run):
    subjects = {(finding.rule_id, finding.subject) for finding in demo_run.findings}

    assert ("azure.openai.shared-account-without-gateway", SHARED) in subjects
    assert ("azure.openai.account-owner-missing", SHARED) in subjects
    assert not any(rule_id == "azure.openai.ptu-without-token-metrics" for rule_id, _ in subjects)
