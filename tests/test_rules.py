"""Every rule's own samples, and the metadata every rule must carry."""

from __future__ import annotations

import pytest

from rules import all_rules
from rules.contract import RuleStatus

RULES = all_rules()
SAMPLES = [(rule, sample) for rule in RULES for sample in rule.samples]


@pytest.mark.parametrize(("rule", "sample"), SAMPLES, ids=[f"{r.id}: {s.name}" for r, s in SAMPLES])
def test_rule_sample(rule, sample):
    result = rule.run(sample.build())
    assert result.status is sample.expect
    if sample.finding_count is not None:
        assert len(result.findings) == sample.finding_count


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_has_passing_and_failing_samples(rule):
    expectations = {sample.expect for sample in rule.samples}
    assert RuleStatus.PASS in expectations
    assert RuleStatus.FAIL in expectations


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_metadata_is_complete(rule):
    for field_name in ("id", "title", "checks", "why", "remediation", "limits"):
        assert getattr(rule, field_name).strip(), field_name
    assert rule.id == rule.id.lower()
    assert "." in rule.id


def test_rule_ids_are_unique():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))


def test_findings_sentences_end_with_period():
    for rule, sample in SAMPLES:
        for finding in rule.run(sample.build()).findings:
            assert finding.message.endswith("."), finding.message
            assert finding.remediation == rule.remediation
