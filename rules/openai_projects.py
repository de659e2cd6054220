"""Rules over OpenAI projects: spend in the default project, and projects no team owns.

The project is OpenAI's unit of cost attribution: the cost report groups spend by project, and
the config maps each project to the team that owns it (sources.openai.projects). Anthropic
workspaces are judged the same way, so rules/anthropic_workspaces.py calls the checks here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable, Iterable

from collectors.openai import reasons  # noqa: F401 - registers the coverage reasons the samples use
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, SpendLine, decimal_text, money_text

PROJECT = "openai.project"


def spend_by_resource(inventory: Inventory, provider: str) -> dict[str, dict[str, Decimal]]:
    """Spend of one provider per resource ID (lower case) and currency; currencies stay apart."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in inventory.spend_lines:
        if line.provider == provider and line.resource_id:
            totals[line.resource_id.lower()][line.currency] += line.amount
    return totals


def spend_text(totals: dict[str, Decimal]) -> str:
    """Amounts per currency as findings write money elsewhere: `USD 271.33`, or `EUR 12.00 and
    USD 271.33`. Evidence keeps the exact amounts."""
    return " and ".join(money_text(amount, currency) for currency, amount in sorted(totals.items()))


def amounts_evidence(totals: dict[str, Decimal] | None) -> dict[str, str]:
    """Return the amounts per currency as decimal text, for a violation's evidence."""
    return {currency: decimal_text(amount) for currency, amount in sorted((totals or {}).items())}


def check_default_spend(
    context: RuleContext, *, kind: str, provider: str, message: Callable[[Asset, str], str]
) -> list[Violation] | None:
    """Report each default project or workspace (assets of `kind`) that spend is billed to.
    `message` builds the sentence from the asset and its spend text. Returns None, for not
    applicable, when no asset of `kind` was read."""
    resources = _of_kind(context, kind)
    if not resources:
        return None

    spend = spend_by_resource(context.inventory, provider)
    violations = []
    for resource in resources:
        totals = spend.get(resource.id.lower())
        if not resource.attributes.get("default") or not totals:
            continue
        violations.append(
            Violation(
                subject=f"{provider}:{resource.scope}:{resource.id}",
                message=message(resource, spend_text(totals)),
                evidence={"amounts": amounts_evidence(totals), "owner": resource.attributes.get("owner")},
            )
        )
    return violations


def check_without_owner(
    context: RuleContext,
    *,
    kind: str,
    provider: str,
    owners_setting: str,
    describe: Callable[[Asset], str],
    is_active: Callable[[Asset], bool],
) -> list[Violation] | None:
    """Report each active project or workspace (assets of `kind`) other than the default one that
    is mapped to no team. One without spend in the window is reported at low severity. Returns
    None, for not applicable, when no asset of `kind` was read."""
    resources = _of_kind(context, kind)
    if not resources:
        return None

    spend = spend_by_resource(context.inventory, provider)
    violations = []
    for resource in resources:
        if resource.attributes.get("default") or resource.attributes.get("owner") or not is_active(resource):
            continue
        totals = spend.get(resource.id.lower())
        consequence = f"{spend_text(totals)} of its spend reaches no owner" if totals else "it had no spend in the window read"
        violations.append(
            Violation(
                subject=f"{provider}:{resource.scope}:{resource.id}",
                message=f"{describe(resource)} has no team in {owners_setting}, so {consequence}.",
                evidence={"amounts": amounts_evidence(totals)},
                severity=None if totals else Severity.LOW,
            )
        )
    return violations


def _of_kind(context: RuleContext, kind: str) -> list[Asset]:
    return sorted(context.inventory.assets_of_kind(kind), key=lambda asset: (asset.scope, asset.id))


def _describe(project: Asset) -> str:
    return f"OpenAI project {project.name or project.id} ({project.id}) of organisation {project.scope}"


def _check_default_project_spend(context: RuleContext) -> Iterable[Violation] | None:
    return check_default_spend(
        context,
        kind=PROJECT,
        provider="openai",
        message=lambda project, spend: (
            f"{_describe(project)} is the default project and carries {spend} of spend "
            "that no project of its own separates from other teams' spend."
        ),
    )


def _check_project_without_owner(context: RuleContext) -> Iterable[Violation] | None:
    return check_without_owner(
        context,
        kind=PROJECT,
        provider="openai",
        owners_setting="sources.openai.projects",
        describe=_describe,
        is_active=lambda project: project.attributes.get("status") == "active",
    )


# Samples: projects and cost lines shaped like the Admin API's, as the collector builds them.

_DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)
_NEXT_DAY = datetime(2026, 11, 4, tzinfo=timezone.utc)
_ORG = "org-LarkspurAnalytics"


def _project(project_id: str, name: str, *, default: bool = False, owner: str | None = None, status: str = "active") -> Asset:
    attributes: dict = {"status": status, "default": default}
    if owner:
        attributes.update(owner=owner, owner_via="sources.openai.projects")
    return Asset(kind=PROJECT, id=project_id, provider="openai", scope=_ORG, name=name, attributes=attributes)


def _cost(project_id: str | None, amount: str) -> SpendLine:
    return SpendLine(
        amount=Decimal(amount),
        currency="USD",
        period_start=_DAY,
        period_end=_NEXT_DAY,
        provider="openai",
        service="OpenAI API",
        account=_ORG,
        resource_id=project_id,
        model="gpt-4o-2024-08-06",
    )


def _context(assets: list[Asset], lines: list[SpendLine]) -> RuleContext:
    inventory = Inventory(assets=assets, spend_lines=lines)
    policy = Policy(owner_tags=("team",))
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


_DEFAULT = "proj_7Qm2XbLk9RvT4nWc8YsD1hFa"
_CLAIMS = "proj_Ck4vN8pZ2qLm6TxR9wBe3JsU"
_GROWTH = "proj_Gr5tE1kY7uPo3VaQ8mNz2LcX"

DEFAULT_PROJECT_SPEND = Rule(
    id="openai.default-project-spend",
    title="OpenAI spend lands in the default project",
    severity=Severity.MEDIUM,
    checks="No OpenAI cost is billed to the organisation's default project.",
    why=(
        "Every key created without a project of its own, including older user keys, bills to the default project, "
        "so its spend mixes teams and no project-to-team mapping can split it."
    ),
    remediation=(
        "Create a project per team or product, issue new keys in it (service-account keys for services), "
        "move the callers to them and revoke the keys left in the default project."
    ),
    limits=(
        "Judges the cost report over the configured window; the default project is recognised by its name "
        "\"Default project\" unless sources.openai.default_project names it."
    ),
    check=_check_default_project_spend,
    samples=(
        Sample(
            "spend only in team projects",
            lambda: _context([_project(_DEFAULT, "Default project", default=True), _project(_CLAIMS, "claims-assistant", owner="claims")], [_cost(_CLAIMS, "41.20")]),
            RuleStatus.PASS,
        ),
        Sample(
            "spend in the default project",
            lambda: _context([_project(_DEFAULT, "Default project", default=True)], [_cost(_DEFAULT, "8.95"), _cost(_DEFAULT, "3.10")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no OpenAI organisation read", lambda: _context([], [_cost(None, "1.00")]), RuleStatus.NOT_APPLICABLE),
    ),
)

PROJECT_WITHOUT_OWNER = Rule(
    id="openai.project-without-owner",
    title="OpenAI project has no owning team",
    severity=Severity.MEDIUM,
    checks="Every active OpenAI project other than the default project is mapped to a team in sources.openai.projects.",
    why="The project is the unit OpenAI bills by; a project with no team leaves all of its spend without an owner.",
    remediation="Add the project's ID or name with its owning team under sources.openai.projects, or archive the project if nobody owns it.",
    limits="Archived projects are not judged. A project with no spend in the window is reported at low severity.",
    check=_check_project_without_owner,
    samples=(
        Sample(
            "every project mapped",
            lambda: _context([_project(_CLAIMS, "claims-assistant", owner="claims"), _project(_GROWTH, "old-test", status="archived")], [_cost(_CLAIMS, "12.00")]),
            RuleStatus.PASS,
        ),
        Sample(
            "unmapped project with spend",
            lambda: _context([_project(_CLAIMS, "claims-assistant", owner="claims"), _project(_GROWTH, "growth-experiments")], [_cost(_GROWTH, "14.00")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no OpenAI organisation read", lambda: _context([], []), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [DEFAULT_PROJECT_SPEND, PROJECT_WITHOUT_OWNER]
