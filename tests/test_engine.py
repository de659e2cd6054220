"""The engine: collectors run in parallel, a failing one never stops the others, rules and
suppressions apply to the whole inventory."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from collectors.contract import CollectContext, SourceKind
from rules import all_rules
from scanner.config import AuditConfig, Policy, SuppressionRule
from scanner.engine import run_audit
from scanner.errors import InputError
from scanner.model import CollectorOutcome, CollectorResult, OutcomeStatus, SpendLine, Tags

DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)


class StaticCollector:
    """Returns a fixed spend line, optionally waiting for a barrier to prove parallel runs."""

    source = SourceKind.EXPORT

    def __init__(self, name: str, amount: str, barrier: threading.Barrier | None = None):
        self.name = name
        self.amount = amount
        self.barrier = barrier

    def describe(self) -> str:
        return f"static {self.name}"

    def collect(self, context: CollectContext) -> CollectorResult:
        if self.barrier is not None:
            self.barrier.wait(timeout=5)
        context.progress(self.name, 1, 1)
        line = SpendLine(
            amount=Decimal(self.amount),
            currency="USD",
            period_start=DAY,
            period_end=DAY,
            provider="aws",
            service="Amazon Bedrock",
            account=self.name,
            tags=Tags.from_mapping({}),
        )
        return CollectorResult(CollectorOutcome(self.name, "export", scopes_seen=[self.name]), spend_lines=[line])


class BrokenCollector:
    source = SourceKind.LIVE

    def __init__(self, name: str, error: Exception):
        self.name = name
        self.error = error

    def describe(self) -> str:
        return "always fails"

    def collect(self, context: CollectContext) -> CollectorResult:
        raise self.error


def config(**overrides) -> AuditConfig:
    return AuditConfig(path=None, base_dir=Path("."), policy=Policy(owner_tags=("team",)), **overrides)


def test_collectors_run_in_parallel():
    barrier = threading.Barrier(2)
    run = run_audit(config(), [StaticCollector("a", "1", barrier), StaticCollector("b", "2", barrier)], rules=[])
    assert [o.status for o in run.inventory.outcomes] == [OutcomeStatus.OK, OutcomeStatus.OK]
    assert run.coverage.currencies["USD"].overall.total == Decimal("3")


def test_failing_collector_does_not_stop_others(caplog):
    caplog.set_level(logging.INFO, logger="shadowmap")
    collectors = [
        BrokenCollector("aws", RuntimeError("connection reset")),
        StaticCollector("billing", "5"),
        BrokenCollector("azure", InputError("subscriptions.json: not valid JSON at line 3")),
    ]
    run = run_audit(config(), collectors, rules=[])
    outcomes = {o.collector: o for o in run.inventory.outcomes}
    assert outcomes["aws"].status is OutcomeStatus.FAILED
    assert outcomes["aws"].errors == ["internal error: RuntimeError: connection reset"]
    assert outcomes["azure"].errors == ["subscriptions.json: not valid JSON at line 3"]
    assert outcomes["billing"].status is OutcomeStatus.OK
    assert outcomes["billing"].spend_line_count == 1
    assert not run.inventory.complete
    assert any("aws: failed with an internal error" in r.getMessage() for r in caplog.records)
    assert "Traceback" not in caplog.text


def test_rules_run_over_whole_inventory():
    run = run_audit(config(), [StaticCollector("a", "1"), StaticCollector("b", "2")], rules=all_rules())
    unattributed = [f for f in run.findings if f.rule_id == "billing.ai-spend-unattributed"]
    assert sorted(f.subject for f in unattributed) == ["aws:a:Amazon Bedrock:-", "aws:b:Amazon Bedrock:-"]


def test_suppression_marks_finding_until_expiry():
    first = run_audit(config(), [StaticCollector("a", "1")], rules=all_rules())
    fingerprint = first.findings[0].fingerprint
    suppressions = [SuppressionRule(fingerprint, "accepted until migration", date(2026, 12, 31))]

    active = run_audit(config(suppressions=suppressions), [StaticCollector("a", "1")], rules=all_rules(), today=date(2026, 12, 31))
    expired = run_audit(config(suppressions=suppressions), [StaticCollector("a", "1")], rules=all_rules(), today=date(2027, 1, 1))

    assert active.findings[0].suppression.reason == "accepted until migration"
    assert active.findings[0].suppression.expires == "2026-12-31"
    assert expired.findings[0].suppression is None


def test_progress_callbacks_are_called():
    from scanner.engine import CollectorProgress

    seen = []
    progress = CollectorProgress(
        started=lambda collector: (lambda scope, completed, total: seen.append((collector.name, scope, completed, total))),
        finished=lambda collector, outcome: seen.append((collector.name, outcome.status.value)),
    )
    run_audit(config(), [StaticCollector("a", "1")], progress=progress, rules=[])
    assert seen == [("a", "a", 1, 1), ("a", "ok")]


def test_spend_counts_under_its_collector_family():
    collectors = [
        StaticCollector("billing.focus", "7.25"),
        BrokenCollector("aws.cur", RuntimeError("connection reset")),
        StaticCollector("expense", "2.50"),
        StaticCollector("aws.invocation_logs", "0.75"),
    ]

    run = run_audit(config(), collectors, rules=[])

    by_source = run.coverage.currencies["USD"].by_source
    assert sorted(by_source) == ["aws", "billing", "expense"]
    assert by_source["billing"].total == Decimal("7.25")
    assert by_source["expense"].total == Decimal("2.50")
    assert by_source["aws"].total == Decimal("0.75")
    assert by_source["aws"].line_count == 1
