"""The demo organisation's AWS snapshot, read through the same parsers as live, gives the findings
and coverage reasons the demo is meant to show."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors import build_collectors
from rules import all_rules
from scanner.config import parse_config
from scanner.engine import run_audit
from scanner.model import OutcomeStatus

DEMO = Path(__file__).parents[1] / "fixtures" / "demo"

AWS_SOURCE = """
  aws:
    snapshot: aws/snapshot
    organization: true
    regions: [us-east-1, us-west-2]
    invocation_logs:
      files: [aws/invocation-logs/*.jsonl]
"""


@pytest.fixture(scope="module")
def demo_run():
    text = (DEMO / "audit.yaml").read_text(encoding="utf-8")
    if "\n  aws:" not in text:
        text = text.rstrip("\n") + "\n" + AWS_SOURCE
    config = parse_config(text, DEMO / "audit.yaml")
    collectors = [collector for collector in build_collectors(config) if collector.name.startswith("aws.")]
    return run_audit(config, collectors, rules=[rule for rule in all_rules() if rule.id.startswith("aws.")])


def test_demo_snapshot_is_read_completely(demo_run):
    outcomes = {outcome.collector: outcome for outcome in demo_run.inventory.outcomes}

    assert outcomes["aws.bedrock"].status is OutcomeStatus.OK
    assert outcomes["aws.invocation_logs"].status is OutcomeStatus.OK
    assert sorted(scope for scope in outcomes["aws.bedrock"].scopes_seen if scope.endswith(("east-1", "west-2"))) == [
        "111122223333/us-east-1", "111122223333/us-west-2", "210987654321/us-east-1", "210987654321/us-west-2",
        "444455556666/us-east-1", "444455556666/us-west-2",
    ]


def test_demo_findings(demo_run):
    found = sorted((finding.rule_id, finding.subject) for finding in demo_run.findings)

    assert found == [
        ("aws.bedrock.agent-model-unattributed", "arn:aws:bedrock:us-west-2:444455556666:agent/GRWTHBOT01"),
        ("aws.bedrock.application-profile-missing-tags", "arn:aws:bedrock:us-west-2:444455556666:application-inference-profile/growthq8w3e5r1"),
        ("aws.bedrock.foundation-model-use", "111122223333/us-east-1/invocations/anthropic.claude-3-haiku-20240307-v1:0"),
        ("aws.bedrock.invocation-logging-off", "444455556666/us-west-2/bedrock"),
        ("aws.cost-allocation.tag-not-active", "aws:cost-allocation-tag:Owner"),
        ("aws.iam.inference-profile-not-enforced", "aws:444455556666:inference-profile-enforcement"),
    ]


def test_demo_claims_account_passes_enforcement(demo_run):
    accounts = {asset.id: asset for asset in demo_run.inventory.assets if asset.kind == "aws.account"}

    assert accounts["111122223333"].attributes["profile_enforcement"] == "deny"
    assert accounts["111122223333"].name == "claims-prod"
    assert accounts["444455556666"].attributes["profile_enforcement"] == "none"


def test_snapshot_without_regions_scans_enabled_regions():
    """The demo snapshot's DescribeRegions enables us-east-1, us-west-2 and eu-central-1 and lists
    me-south-1 as not opted in; all three enabled regions were recorded, eu-central-1 empty."""
    text = (DEMO / "audit.yaml").read_text(encoding="utf-8")
    if "\n  aws:" not in text:
        text = text.rstrip("\n") + "\n" + AWS_SOURCE
    text = text.replace("    regions: [us-east-1, us-west-2]\n", "")
    config = parse_config(text, DEMO / "audit.yaml")
    collectors = [collector for collector in build_collectors(config) if collector.name == "aws.bedrock"]

    run = run_audit(config, collectors, rules=[])

    outcome = run.inventory.outcomes[0]
    assert "regions: [us-east-1, us-west-2]" not in text
    assert outcome.scopes_not_seen == []
    assert sorted(scope for scope in outcome.scopes_seen if scope.endswith("/eu-central-1")) == [
        "111122223333/eu-central-1", "210987654321/eu-central-1", "444455556666/eu-central-1",
    ]
    assert not any(scope.endswith("/me-south-1") for scope in outcome.scopes_seen)
