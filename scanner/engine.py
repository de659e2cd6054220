"""One audit run: collectors in parallel, then the coverage graph, then every rule.

A collector that fails never stops the others: its outcome says what it could not see, and every
report shows that gap beside the figures.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable, Sequence

from collectors.contract import CollectContext, Collector, ProgressCallback
from rules import all_rules
from rules.contract import Rule, RuleContext, RuleResult
from scanner import __version__
from scanner.config import AuditConfig
from scanner.coverage import Coverage, ReasonClassifier, build_coverage, source_family
from scanner.errors import InputError
from scanner.model import (
    CollectorOutcome,
    CollectorResult,
    Finding,
    Inventory,
    OutcomeStatus,
    Suppression,
    count_text,
)

log = logging.getLogger("shadowmap.engine")

# Collectors mostly wait on I/O (files, HTTP), so threads overlap them well; the cap keeps a
# config with many sources from opening too many files or connections at once.
MAX_PARALLEL_COLLECTORS = 8


@dataclass
class AuditRun:
    """Everything one run produced, in the order the reports present it."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    config: AuditConfig
    inventory: Inventory
    coverage: Coverage
    rule_results: list[RuleResult]
    tool_version: str = __version__
    label: str = "scan"

    @property
    def findings(self) -> list[Finding]:
        findings = [finding for result in self.rule_results for finding in result.findings]
        return sorted(findings, key=lambda f: (-f.severity, f.rule_id, f.subject))


@dataclass
class CollectorProgress:
    """Callbacks the CLI passes to show progress; each defaults to doing nothing."""

    started: Callable[[Collector], ProgressCallback] = field(
        default=lambda collector: (lambda scope, completed, total: None)
    )
    finished: Callable[[Collector, CollectorOutcome], None] = field(default=lambda collector, outcome: None)


def run_audit(
    config: AuditConfig,
    collectors: list[Collector],
    progress: CollectorProgress | None = None,
    rules: list[Rule] | None = None,
    today: date | None = None,
    label: str = "scan",
    classifiers: Sequence[ReasonClassifier] | None = None,
) -> AuditRun:
    """Run the whole pipeline over `collectors` and return the run; nothing is written here."""
    progress = progress or CollectorProgress()
    started_at = datetime.now(timezone.utc)
    inventory = Inventory()
    source_families: list[str] = []

    for collector, result in zip(collectors, _collect_all(collectors, progress), strict=True):
        inventory.add(result)
        source_families.extend([source_family(collector.name)] * len(result.spend_lines))

    coverage = build_coverage(inventory, config.policy, config.owners, classifiers, source_families)
    context = RuleContext(inventory=inventory, policy=config.policy, coverage=coverage)
    rule_results = [rule.run(context) for rule in (rules if rules is not None else all_rules())]
    _apply_suppressions(rule_results, config, today or started_at.date())

    return AuditRun(
        run_id=_new_run_id(started_at),
        started_at=started_at,
        finished_at=datetime.now(timezone.utc),
        config=config,
        inventory=inventory,
        coverage=coverage,
        rule_results=rule_results,
        label=label,
    )


def _collect_all(collectors: list[Collector], progress: CollectorProgress) -> list[CollectorResult]:
    """Run the collectors in parallel and return their results in the order of `collectors`."""
    if not collectors:
        return []
    workers = min(MAX_PARALLEL_COLLECTORS, len(collectors))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collector") as pool:
        futures = [pool.submit(_collect_one, collector, progress) for collector in collectors]
        return [future.result() for future in futures]


def _collect_one(collector: Collector, progress: CollectorProgress) -> CollectorResult:
    """Run one collector and turn any error it raises into a failed outcome."""
    logger = logging.getLogger(f"shadowmap.collector.{collector.name}")
    context = CollectContext(logger=logger, progress=progress.started(collector))
    logger.info("%s: starting (%s)", collector.name, collector.describe())

    try:
        result = collector.collect(context)
    except InputError as error:
        logger.warning("%s: %s", collector.name, error)
        result = _failed(collector, str(error))
    except Exception as error:  # noqa: BLE001 - one broken collector must not stop the run
        logger.error("%s: failed with an internal error: %s: %s", collector.name, type(error).__name__, error)
        logger.debug("traceback of the failure in %s", collector.name, exc_info=True)
        result = _failed(collector, f"internal error: {type(error).__name__}: {error}")

    result.outcome.settle()
    progress.finished(collector, result.outcome)
    logger.info(
        "%s: %s, %s seen, %d not seen, %s, %s, %s skipped",
        collector.name,
        result.outcome.status.value,
        count_text(len(result.outcome.scopes_seen), "scope"),
        len(result.outcome.scopes_not_seen),
        count_text(len(result.assets), "asset"),
        count_text(len(result.spend_lines), "spend line"),
        count_text(result.outcome.skipped_row_count, "row"),
    )
    return result


def _failed(collector: Collector, message: str) -> CollectorResult:
    outcome = CollectorOutcome(
        collector=collector.name,
        source=collector.source.value,
        status=OutcomeStatus.FAILED,
        errors=[message],
    )
    return CollectorResult(outcome)


def _apply_suppressions(results: list[RuleResult], config: AuditConfig, today: date) -> None:
    """Mark suppressed findings in place; an expired suppression no longer applies."""
    active = {
        rule.fingerprint: rule
        for rule in config.suppressions
        if rule.expires is None or rule.expires >= today
    }
    for result in results:
        for finding in result.findings:
            rule = active.get(finding.fingerprint)
            if rule is not None:
                finding.suppression = Suppression(
                    reason=rule.reason,
                    expires=rule.expires.isoformat() if rule.expires else None,
                )


def _new_run_id(started_at: datetime) -> str:
    return f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
