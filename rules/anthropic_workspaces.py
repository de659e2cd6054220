"""Rules over Anthropic workspaces: spend in the default workspace, and workspaces no team owns.

The workspace is Anthropic's unit of cost attribution: the cost report groups spend by workspace
(a null workspace is the default one), and the config maps each workspace to the team that owns
it (sources.anthropic.workspaces).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable

from collectors.anthropic import reasons  # noqa: F401 - registers the coverage reasons the samples use
from collectors.anthropic.reasons import DEFAULT_WORKSPACE_ID, WORKSPACE_KIND
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from rules.openai_projects import check_default_spend, check_without_owner
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, SpendLine


def _describe(workspace: Asset) -> str:
    if workspace.attributes.get("default"):
        return f"The default Anthropic workspace of organisation {workspace.scope}"
    return f"Anthropic workspace {workspace.name or workspace.id} ({workspace.id}) of organisation {workspace.scope}"


def _check_default_workspace_spend(context: RuleContext) -> Iterable[Violation] | None:
    return check_default_spend(
        context,
        kind=WORKSPACE_KIND,
        provider="anthropic",
        message=lambda workspace, spend: (
            f"{_describe(workspace)} carries {spend} of spend, which has no workspace ID "
            "that could separate it from other teams' spend."
        ),
    )


def _check_workspace_without_owner(context: RuleContext) -> Iterable[Violation] | None:
    return check_without_owner(
        context,
        kind=WORKSPACE_KIND,
        provider="anthropic",
        owners_setting="sources.anthropic.workspaces",
        describe=_describe,
        is_active=lambda workspace: not workspace.attributes.get("archived_at"),
    )


# Samples: workspaces and cost lines shaped like the Admin API's, as the collector builds them.

_DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)
_NEXT_DAY = datetime(2026, 11, 4, tzinfo=timezone.utc)
_ORG = "Larkspur Analytics"
_SUPPORT = "wrkspc_01SuPp0rtB0tsK7mQ2xLr9Va"
_RESEARCH = "wrkspc_01ReSe4rchN0teB8kWz3Ty5Hq"


def _workspace(workspace_id: str, name: str, *, owner: str | None = None, archived: bool = False) -> Asset:
    attributes: dict = {"default": workspace_id == DEFAULT_WORKSPACE_ID}
    if archived:
        attributes["archived_at"] = "2026-06-30T00:00:00+00:00"
    if owner:
        attributes.update(owner=owner, owner_via="sources.anthropic.workspaces")
    return Asset(kind=WORKSPACE_KIND, id=workspace_id, provider="anthropic", scope=_ORG, name=name, attributes=attributes)


def _cost(workspace_id: str, amount: str) -> SpendLine:
    return SpendLine(
        amount=Decimal(amount),
        currency="USD",
        period_start=_DAY,
        period_end=_NEXT_DAY,
        provider="anthropic",
        service="Anthropic API",
        account=_ORG,
        resource_id=workspace_id,
        model="claude-sonnet-4-20250514",
    )


def _context(assets: list[Asset], lines: list[SpendLine]) -> RuleContext:
    inventory = Inventory(assets=assets, spend_lines=lines)
    policy = Policy(owner_tags=("team",))
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


def _default() -> Asset:
    return _workspace(DEFAULT_WORKSPACE_ID, "Default Workspace")


DEFAULT_WORKSPACE_SPEND = Rule(
    id="anthropic.default-workspace-spend",
    title="Anthropic spend lands in the default workspace",
    severity=Severity.MEDIUM,
    checks="No Anthropic cost is billed to the organisation's default workspace.",
    why=(
        "Keys created outside any workspace bill to the default workspace, which the Admin API reports with no "
        "workspace ID, so its spend mixes teams and no workspace-to-team mapping can split it."
    ),
    remediation=(
        "Create a workspace per team or product, issue new keys in it, move the callers to them and disable "
        "the keys left in the default workspace."
    ),
    limits="Judges the cost report over the configured window; the cost report leaves out Priority Tier costs.",
    check=_check_default_workspace_spend,
    samples=(
        Sample(
            "spend only in team workspaces",
            lambda: _context([_default(), _workspace(_SUPPORT, "support-bots", owner="support")], [_cost(_SUPPORT, "28.65")]),
            RuleStatus.PASS,
        ),
        Sample(
            "spend in the default workspace",
            lambda: _context([_default(), _workspace(_SUPPORT, "support-bots", owner="support")], [_cost(DEFAULT_WORKSPACE_ID, "7.44")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no Anthropic organisation read", lambda: _context([], []), RuleStatus.NOT_APPLICABLE),
    ),
)

WORKSPACE_WITHOUT_OWNER = Rule(
    id="anthropic.workspace-without-owner",
    title="Anthropic workspace has no owning team",
    severity=Severity.MEDIUM,
    checks="Every Anthropic workspace that is not archived is mapped to a team in sources.anthropic.workspaces.",
    why="The workspace is the unit Anthropic bills by; a workspace with no team leaves all of its spend without an owner.",
    remediation="Add the workspace's ID or name with its owning team under sources.anthropic.workspaces, or archive the workspace if nobody owns it.",
    limits="Archived workspaces and the default workspace (judged by anthropic.default-workspace-spend) are not judged here. A workspace with no spend in the window is reported at low severity.",
    check=_check_workspace_without_owner,
    samples=(
        Sample(
            "every workspace mapped",
            lambda: _context([_default(), _workspace(_SUPPORT, "support-bots", owner="support"), _workspace(_RESEARCH, "old", archived=True)], []),
            RuleStatus.PASS,
        ),
        Sample(
            "unmapped workspace with spend",
            lambda: _context([_default(), _workspace(_RESEARCH, "research-notebooks")], [_cost(_RESEARCH, "7.05")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no Anthropic organisation read", lambda: _context([], []), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [DEFAULT_WORKSPACE_SPEND, WORKSPACE_WITHOUT_OWNER]
