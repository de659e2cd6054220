"""Why Anthropic spend reaches no owner: the coverage reasons this family adds to the graph.

Imported by the Anthropic collector and by rules/anthropic_workspaces.py, so the reasons are
registered before the coverage graph is built, however the run started.
"""

from __future__ import annotations

from collectors.openai.coverage_reasons import register_reasons
from scanner.config import Policy
from scanner.model import Asset, SpendLine

PROVIDER = "anthropic"
# The service of every spend line this family makes. Spend of the same provider from other
# sources (a card charge, a billing export) is left to those sources' own reasons.
SERVICE = "Anthropic API"
WORKSPACE_KIND = "anthropic.workspace"
# The resource ID of spend in the default workspace, which the Admin API reports as a null
# workspace_id. The workspace asset of the default workspace carries the same ID.
DEFAULT_WORKSPACE_ID = "default"

REASON_SENTENCES = {
    "default_workspace": "The spend is in the Anthropic organisation's default workspace, which has no workspace ID and is shared by every key created outside a workspace.",
    "workspace_without_owner": "The Anthropic workspace has no team in sources.anthropic.workspaces.",
    "workspace_not_listed": "The Anthropic workspace is not in the organisation's workspace list, so nothing names its owner.",
}


def classify(line: SpendLine, asset: Asset | None, policy: Policy) -> str | None:
    """Name the reason an Anthropic cost line reached no owner, or None for lines of other sources."""
    if line.provider != PROVIDER or line.service != SERVICE:
        return None
    if asset is None or asset.kind != WORKSPACE_KIND:
        return "workspace_not_listed"
    if asset.attributes.get("default"):
        return "default_workspace"
    return "workspace_without_owner"


register_reasons(REASON_SENTENCES, classify)
