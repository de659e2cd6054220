"""Parse an Anthropic organisation's inventory (workspaces and API keys, as the Admin API lists
them) into assets.

Shapes: the Admin API reference, /v1/organizations/workspaces and /v1/organizations/api_keys.
The default workspace is never listed: keys and spend in it carry a null workspace_id, so it
becomes an asset of its own with the ID `default`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collectors.anthropic.reasons import DEFAULT_WORKSPACE_ID, PROVIDER, WORKSPACE_KIND
from collectors.openai.key_hints import hint_attributes
from scanner.model import Asset, SourceRef

OWNER_VIA = "sources.anthropic.workspaces"
DEFAULT_WORKSPACE_NAME = "Default Workspace"


@dataclass
class WorkspaceOwners:
    """The configured workspace-to-team mapping, keyed by workspace ID, name, or `default`."""

    teams: dict[str, str] = field(default_factory=dict)

    def team_of(self, workspace_id: str, name: str | None) -> str | None:
        return self.teams.get(workspace_id) or (self.teams.get(name) if name else None)

    def unknown_names(self, workspaces: list[dict[str, Any]]) -> list[str]:
        known = {w.get("id") for w in workspaces} | {w.get("name") for w in workspaces} | {DEFAULT_WORKSPACE_ID}
        return sorted(name for name in self.teams if name not in known)


def workspace_id(value: Any) -> str:
    """Return the workspace ID of a key or report row, `default` for the null default workspace."""
    return value if isinstance(value, str) and value else DEFAULT_WORKSPACE_ID


def workspace_asset(workspace: dict[str, Any], organisation: str, owners: WorkspaceOwners, location: str) -> Asset:
    return _workspace(
        workspace["id"],
        workspace.get("name"),
        organisation,
        owners,
        location,
        {
            "default": False,
            "created_at": _time_text(workspace.get("created_at")),
            "archived_at": _time_text(workspace.get("archived_at")),
        },
    )


def default_workspace_asset(organisation: str, owners: WorkspaceOwners, location: str) -> Asset:
    return _workspace(DEFAULT_WORKSPACE_ID, DEFAULT_WORKSPACE_NAME, organisation, owners, location, {"default": True})


def _workspace(
    identifier: str, name: str | None, organisation: str, owners: WorkspaceOwners, location: str, attributes: dict[str, Any]
) -> Asset:
    team = owners.team_of(identifier, name)
    if team:
        attributes["owner"] = team
        attributes["owner_via"] = OWNER_VIA
    return Asset(
        kind=WORKSPACE_KIND,
        id=identifier,
        provider=PROVIDER,
        scope=organisation,
        name=name,
        attributes=attributes,
        source=SourceRef(location),
    )


def api_key_asset(key: dict[str, Any], workspaces: dict[str, Asset], location: str) -> Asset | None:
    """Build an API key asset with its workspace, its creator and the principal (a user or a
    service account) it acts as, where the key is bound to one."""
    if not key.get("id"):
        return None
    workspace = workspaces.get(workspace_id(key.get("workspace_id")))
    creator = key.get("created_by") if isinstance(key.get("created_by"), dict) else {}
    principal = key.get("principal") if isinstance(key.get("principal"), dict) else {}
    attributes: dict[str, Any] = {
        "workspace_id": workspace_id(key.get("workspace_id")),
        "workspace_name": workspace.name if workspace else None,
        "status": key.get("status"),
        "created_at": _time_text(key.get("created_at")),
        "expires_at": _time_text(key.get("expires_at")),
        "created_by_type": creator.get("type"),
        "created_by_id": creator.get("id"),
        "principal_type": principal.get("type"),
        "principal_id": principal.get("id"),
        **hint_attributes(PROVIDER, key.get("partial_key_hint")),
    }
    if workspace and workspace.attributes.get("owner"):
        attributes["owner"] = workspace.attributes["owner"]
        attributes["owner_via"] = OWNER_VIA
    return Asset(
        kind="anthropic.api_key",
        id=key["id"],
        provider=PROVIDER,
        scope=attributes["workspace_id"],
        name=key.get("name"),
        attributes=attributes,
        source=SourceRef(location),
    )


def parse_time(value: Any) -> datetime | None:
    """Parse an RFC 3339 timestamp of the Admin API into an aware datetime, or return None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _time_text(value: Any) -> str | None:
    moment = parse_time(value)
    return moment.isoformat() if moment else None
