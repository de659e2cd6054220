"""Why OpenAI spend reaches no owner: the coverage reasons this family adds to the graph.

Imported by the OpenAI collector and by rules/openai_projects.py, so the reasons are registered
before the coverage graph is built, however the run started.
"""

from __future__ import annotations

from collectors.openai.coverage_reasons import register_reasons
from scanner.config import Policy
from scanner.model import Asset, SpendLine

PROVIDER = "openai"
# The service of every spend line this family makes. Spend of the same provider from other
# sources (a card charge, a billing export) is left to those sources' own reasons.
SERVICE = "OpenAI API"
PROJECT_KIND = "openai.project"

REASON_SENTENCES = {
    "default_project": "The spend is in the OpenAI organisation's default project, which every key without a project of its own shares.",
    "project_without_owner": "The OpenAI project has no team in sources.openai.projects.",
    "no_project": "OpenAI reports the cost without a project.",
    "project_not_listed": "The OpenAI project is not in the organisation's project list, so nothing names its owner.",
}


def classify(line: SpendLine, asset: Asset | None, policy: Policy) -> str | None:
    """Name the reason an OpenAI cost line reached no owner, or None for lines of other sources."""
    if line.provider != PROVIDER or line.service != SERVICE:
        return None
    if not line.resource_id:
        return "no_project"
    if asset is None or asset.kind != PROJECT_KIND:
        return "project_not_listed"
    if asset.attributes.get("default"):
        return "default_project"
    return "project_without_owner"


register_reasons(REASON_SENTENCES, classify)
