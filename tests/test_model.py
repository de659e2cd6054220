"""The shared model: tag key normalisation, severities, fingerprints and outcome status."""

from __future__ import annotations

import pytest

from scanner.model import (
    CollectorOutcome,
    Finding,
    Location,
    OutcomeStatus,
    ScopeGap,
    Severity,
    Tags,
    normalise_tag_key,
)


@pytest.mark.parametrize(
    ("original", "normalised"),
    [
        ("team", "team"),
        ("Team", "team"),
        ("Cost Center", "cost-center"),
        ("cost_center", "cost-center"),
        ("costCenter", "cost-center"),
        ("CostCenter", "cost-center"),
        ("user:CostCenter", "cost-center"),
        (" org", "org"),
        ("business_unit", "business-unit"),
        ("aws:createdBy", "aws:created-by"),
        ("HTTPProxy", "http-proxy"),
        ("cost-center", "cost-center"),
    ],
)
def test_tag_key_normalisation(original, normalised):
    assert normalise_tag_key(original) == normalised


def test_tags_keep_original_keys():
    tags = Tags.from_mapping({" org": "trey", "CostAllocationTest": "Sameer"})
    assert tags.values == {"org": "trey", "cost-allocation-test": "Sameer"}
    assert tags.original_keys == {"org": " org", "cost-allocation-test": "CostAllocationTest"}
    assert tags.get("Org") == "trey"


def test_colliding_tag_keys_resolve_by_sorted_original():
    first = Tags.from_mapping({"team": "a", "Team": "b"})
    second = Tags.from_mapping({"Team": "b", "team": "a"})
    assert first == second
    assert first.values == {"team": "b"}


def test_severity_parse_and_order():
    assert Severity.parse("High") is Severity.HIGH
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    with pytest.raises(ValueError, match="invalid severity 'urgent'"):
        Severity.parse("urgent")


def test_fingerprint_ignores_message_wording():
    first = Finding("billing.x", Severity.LOW, "aws:1:svc:-", "first wording", "fix")
    second = Finding("billing.x", Severity.HIGH, "aws:1:svc:-", "second wording", "fix")
    other = Finding("billing.x", Severity.LOW, "aws:2:svc:-", "first wording", "fix")
    assert first.fingerprint == second.fingerprint
    assert first.fingerprint != other.fingerprint
    assert len(first.fingerprint) == 32


def test_fingerprint_includes_file_of_location():
    in_a = Finding("code.key", Severity.HIGH, "openai:abcd", "m", "r", location=Location("a.py", 3))
    in_b = Finding("code.key", Severity.HIGH, "openai:abcd", "m", "r", location=Location("b.py", 3))
    assert in_a.fingerprint != in_b.fingerprint


def test_outcome_settles_partial_and_failed():
    outcome = CollectorOutcome("billing.focus", "export", scopes_seen=["a.csv"])
    outcome.settle()
    assert outcome.status is OutcomeStatus.OK

    outcome.scopes_not_seen.append(ScopeGap("b.csv", "file not found"))
    outcome.settle()
    assert outcome.status is OutcomeStatus.PARTIAL

    outcome.scopes_seen.clear()
    outcome.settle()
    assert outcome.status is OutcomeStatus.FAILED


def test_outcome_with_skipped_rows_is_partial():
    outcome = CollectorOutcome("billing.focus", "export", scopes_seen=["a.csv"], skipped_row_count=1)
    outcome.settle()
    assert outcome.status is OutcomeStatus.PARTIAL
