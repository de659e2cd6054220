"""Parse an OpenAI organisation's inventory (projects, API keys, service accounts, users and admin
keys, as the Admin API lists them) into assets.

Shapes: the Admin API reference, /v1/organization/projects, /projects/{id}/api_keys,
/projects/{id}/service_accounts, /users and /admin_api_keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from collectors.openai.key_hints import hint_attributes
from scanner.model import Asset, SourceRef

PROVIDER = "openai"
OWNER_VIA = "sources.openai.projects"

# The name OpenAI gives the project every organisation starts with. Keys created before projects
# existed, and user keys with no project of their own, bill to it.
DEFAULT_PROJECT_NAME = "default project"


@dataclass
class ProjectOwners:
    """The configured project-to-team mapping, keyed by project ID or project name."""

    teams: dict[str, str] = field(default_factory=dict)
    default_project: str | None = None

    def team_of(self, project: dict[str, Any]) -> str | None:
        return self.teams.get(project.get("id", "")) or self.teams.get(project.get("name", ""))

    def is_default(self, project: dict[str, Any]) -> bool:
        if self.default_project:
            return self.default_project in (project.get("id"), project.get("name"))
        return str(project.get("name", "")).strip().lower() == DEFAULT_PROJECT_NAME

    def unknown_names(self, projects: list[dict[str, Any]]) -> list[str]:
        """Mapping keys that name no listed project."""
        known = {p.get("id") for p in projects} | {p.get("name") for p in projects}
        return sorted(name for name in self.teams if name not in known)


def project_asset(project: dict[str, Any], organisation: str, owners: ProjectOwners, location: str) -> Asset:
    attributes: dict[str, Any] = {
        "status": project.get("status"),
        "created_at": timestamp_text(project.get("created_at")),
        "archived_at": timestamp_text(project.get("archived_at")),
        "default": owners.is_default(project),
    }
    team = owners.team_of(project)
    if team:
        attributes["owner"] = team
        attributes["owner_via"] = OWNER_VIA
    return _listed_asset("openai.project", project, organisation, attributes, location)


def api_key_asset(key: dict[str, Any], project: Asset, location: str) -> Asset | None:
    """Build a project API key asset with the principal it acts as (a user or a service account)."""
    if not key.get("id"):
        return None
    attributes: dict[str, Any] = {
        "project_id": project.id,
        "project_name": project.name,
        "created_at": timestamp_text(key.get("created_at")),
        "last_used_at": timestamp_text(key.get("last_used_at")),
        **principal_attributes(key.get("owner")),
        **hint_attributes(PROVIDER, key.get("redacted_value")),
    }
    if project.attributes.get("owner"):
        attributes["owner"] = project.attributes["owner"]
        attributes["owner_via"] = OWNER_VIA
    return _listed_asset("openai.api_key", key, project.id, attributes, location)


def service_account_asset(account: dict[str, Any], project: Asset, location: str) -> Asset | None:
    if not account.get("id"):
        return None
    attributes = {
        "project_id": project.id,
        "project_name": project.name,
        "role": account.get("role"),
        "created_at": timestamp_text(account.get("created_at")),
    }
    return _listed_asset("openai.service_account", account, project.id, attributes, location)


def user_asset(user: dict[str, Any], organisation: str, location: str) -> Asset | None:
    if not user.get("id"):
        return None
    attributes = {"email": user.get("email"), "role": user.get("role"), "added_at": timestamp_text(user.get("added_at"))}
    return _listed_asset("openai.user", user, organisation, attributes, location)


def admin_key_asset(key: dict[str, Any], organisation: str, location: str) -> Asset | None:
    if not key.get("id"):
        return None
    attributes: dict[str, Any] = {
        "created_at": timestamp_text(key.get("created_at")),
        "last_used_at": timestamp_text(key.get("last_used_at")),
        "expires_at": timestamp_text(key.get("expires_at")),
        **principal_attributes(key.get("owner")),
        **hint_attributes(PROVIDER, key.get("redacted_value")),
    }
    return _listed_asset("openai.admin_api_key", key, organisation, attributes, location)


def _listed_asset(kind: str, item: dict[str, Any], scope: str, attributes: dict[str, Any], location: str) -> Asset:
    """Build the asset of one item of an Admin API listing, which carries its `id` and `name`."""
    return Asset(
        kind=kind,
        id=item["id"],
        provider=PROVIDER,
        scope=scope,
        name=item.get("name"),
        attributes=attributes,
        source=SourceRef(location),
    )


def principal_attributes(owner: Any) -> dict[str, Any]:
    """Who a key acts as. Project keys nest the principal under `user` or `service_account`;
    admin keys give it inline."""
    if not isinstance(owner, dict):
        return {"principal_type": None}
    principal_type = owner.get("type")
    nested = owner.get(principal_type) if isinstance(principal_type, str) else None
    principal = nested if isinstance(nested, dict) else owner
    attributes = {
        "principal_type": principal_type,
        "principal_id": principal.get("id"),
        "principal_name": principal.get("name"),
    }
    if principal.get("email"):
        attributes["principal_email"] = principal["email"]
    return attributes


def timestamp_text(value: Any) -> str | None:
    """Format an Admin API Unix timestamp (seconds) as ISO 8601 UTC, or return None."""
    moment = timestamp(value)
    return moment.isoformat() if moment else None


def timestamp(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc)
