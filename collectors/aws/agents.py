"""Parse Bedrock agent responses (the `bedrock-agent` API) into agent assets with the model each
alias invokes.

An agent's tokens are billed to the model or inference profile it invokes, not to the agent, so
the model of every version an alias routes to is what decides whether its spend can be
attributed.
"""

from __future__ import annotations

from typing import Any

from scanner.model import Asset

from collectors.aws import kinds
from collectors.aws.bedrock import iso_utc, resource_asset
from collectors.aws.catalogue import classify_model_id

DRAFT = "DRAFT"


def alias_versions(alias: dict[str, Any]) -> list[str]:
    """Return the agent versions an alias routes to (usually one)."""
    routing = alias.get("routingConfiguration") or []
    return [entry["agentVersion"] for entry in routing if entry.get("agentVersion")]


def agent_asset(
    agent: dict[str, Any],
    aliases: list[dict[str, Any]],
    version_models: dict[str, str],
    tags: dict[str, str] | None,
    account: str,
    region: str,
    system_profile_ids: frozenset[str] = frozenset(),
) -> Asset:
    """An agent from GetAgent, its ListAgentAliases summaries and the foundationModel of each
    version (from GetAgentVersion; the DRAFT version's model is the agent's own)."""
    models_by_version = dict(version_models)
    if agent.get("foundationModel"):
        models_by_version[DRAFT] = agent["foundationModel"]

    alias_records = []
    for alias in sorted(aliases, key=lambda item: item.get("agentAliasId", "")):
        versions = alias_versions(alias)
        alias_records.append(
            {
                "id": alias.get("agentAliasId"),
                "name": alias.get("agentAliasName"),
                "status": alias.get("agentAliasStatus"),
                "versions": versions,
                "models": [models_by_version[version] for version in versions if version in models_by_version],
            }
        )

    models = sorted(set(models_by_version.values()))
    attributes = {
        "agent_id": agent.get("agentId"),
        "status": agent.get("agentStatus"),
        "foundation_model": agent.get("foundationModel"),
        "aliases": alias_records,
        "models": models,
        "model_kinds": {model: classify_model_id(model, system_profile_ids) for model in models},
        "updated_at": iso_utc(agent.get("updatedAt")),
    }
    return resource_asset(
        kinds.AGENT,
        agent.get("agentArn") or f"arn:aws:bedrock:{region}:{account}:agent/{agent['agentId']}",
        agent.get("agentName"),
        tags,
        account,
        region,
        operation="bedrock-agent:GetAgent",
        attributes=attributes,
    )
