"""The rule contract: metadata beside the check, and samples the test suite runs for every rule.

A check receives a `RuleContext` and returns `None` when what it checks does not exist in the
inventory (`not applicable`), otherwise the violations it found (an empty list means pass).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from scanner.model import Finding, Inventory, Location, Severity

if TYPE_CHECKING:
    from scanner.config import Policy
    from scanner.coverage import Coverage


class RuleStatus(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


@dataclass
class Violation:
    """One thing a check found wrong; the rule turns it into a Finding with its own metadata."""

    subject: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    severity: Severity | None = None


@dataclass
class RuleContext:
    """What a check sees: the whole inventory, the organisation policy and the coverage graph."""

    inventory: Inventory
    policy: Policy
    coverage: Coverage


@dataclass(frozen=True)
class Sample:
    """An inventory a rule must judge as `expect`, with the number of findings for a fail."""

    name: str
    build: Callable[[], RuleContext]
    expect: RuleStatus
    finding_count: int | None = None


Check = Callable[[RuleContext], "Iterable[Violation] | None"]


@dataclass(frozen=True)
class Rule:
    """A rule's metadata, its check and its samples."""

    id: str
    title: str
    severity: Severity
    checks: str
    why: str
    remediation: str
    limits: str
    check: Check
    samples: tuple[Sample, ...]

    def run(self, context: RuleContext) -> RuleResult:
        violations = self.check(context)
        if violations is None:
            return RuleResult(self, RuleStatus.NOT_APPLICABLE, [])

        findings = [
            Finding(
                rule_id=self.id,
                severity=violation.severity or self.severity,
                subject=violation.subject,
                message=violation.message,
                remediation=self.remediation,
                evidence=violation.evidence,
                location=violation.location,
            )
            for violation in violations
        ]
        status = RuleStatus.FAIL if findings else RuleStatus.PASS
        return RuleResult(self, status, findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.label,
            "checks": self.checks,
            "why": self.why,
            "remediation": self.remediation,
            "limits": self.limits,
        }


@dataclass
class RuleResult:
    rule: Rule
    status: RuleStatus
    findings: list[Finding]
