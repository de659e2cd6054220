"""Turn Cloud Asset ListAssets pages into assets: projects (with their labels and the AI services
they have enabled) and Vertex AI resources (with their labels and the owner those name).

An owner comes from the resource's own owner label first, then from its project's owner label,
and is recorded with how it was found (`label:team`, `project_label:team`). A project's `teams`
are the owners its own labels and its Vertex AI resources name, so rules and reasons can tell a
project one team owns from one several teams share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from collectors.gcp.catalogue import load_catalogue
from collectors.gcp.cloud_asset import ScopeListing
from scanner.model import Asset, SourceRef, Tags

PROJECT_KIND = "gcp.project"
VERTEX_KIND_PREFIX = "gcp.vertex."
PROJECT_ASSET_PREFIX = "//cloudresourcemanager.googleapis.com/projects/"

_PROJECT_NUMBER = re.compile(r"(?:^|/)projects/(\d+)(?:/|$)")
_LOCATION = re.compile(r"/locations/([^/]+)/")
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def project_asset_id(project_number: str) -> str:
    """Return the Cloud Asset name of a project, which billing lines use as their resource ID."""
    return f"{PROJECT_ASSET_PREFIX}{project_number}"


def vertex_kind(asset_type: str) -> str:
    """`aiplatform.googleapis.com/BatchPredictionJob` becomes `gcp.vertex.batch_prediction_job`."""
    type_name = asset_type.rsplit("/", 1)[-1]
    return VERTEX_KIND_PREFIX + _WORD_BOUNDARY.sub("_", type_name).lower()


@dataclass
class _Project:
    number: str
    project_id: str | None = None
    display_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    lifecycle_state: str | None = None
    ancestors: list[str] = field(default_factory=list)
    services: set[str] = field(default_factory=set)
    seen_in: str | None = None
    listed: bool = False


@dataclass
class _VertexResource:
    name: str
    asset_type: str
    project_number: str | None
    location: str | None
    data: dict[str, Any]
    ancestors: list[str]
    seen_in: str


def build_assets(listings: Iterable[ScopeListing], owner_labels: tuple[str, ...]) -> list[Asset]:
    """Build every project and Vertex AI resource in `listings`, each once even when scopes overlap."""
    catalogue = load_catalogue()
    projects: dict[str, _Project] = {}
    resources: dict[str, _VertexResource] = {}

    for listing in listings:
        for raw in listing.assets():
            asset_type = raw.get("assetType", "")
            if asset_type == catalogue.project_asset_type:
                _add_project(projects, raw, listing.scope)
            elif asset_type == catalogue.service_asset_type:
                _add_service(projects, raw, listing.scope, catalogue.ai_services)
            elif asset_type.startswith("aiplatform.googleapis.com/") and raw.get("name") not in resources:
                resources[raw["name"]] = _vertex_resource(raw, listing.scope)

    vertex_assets = [_vertex_asset(resource, projects, owner_labels) for resource in resources.values()]
    project_assets = [
        _project_asset(project, [a for a in vertex_assets if a.attributes.get("project_number") == project.number], owner_labels)
        for project in projects.values()
    ]
    teams_by_number = {asset.attributes["project_number"]: asset.attributes["teams"] for asset in project_assets}
    for asset in vertex_assets:
        asset.attributes["project_teams"] = teams_by_number.get(asset.attributes["project_number"], [])
    return sorted(project_assets, key=lambda a: a.id) + sorted(vertex_assets, key=lambda a: a.id)


def _project_number_of(raw: dict[str, Any]) -> str | None:
    for ancestor in raw.get("ancestors", []):
        if ancestor.startswith("projects/"):
            return ancestor.split("/", 1)[1]
    match = _PROJECT_NUMBER.search(raw.get("name", ""))
    return match.group(1) if match else None


def _add_project(projects: dict[str, _Project], raw: dict[str, Any], scope: str) -> None:
    data = (raw.get("resource") or {}).get("data") or {}
    number = str(data.get("projectNumber") or "") or _project_number_of(raw)
    if not number:
        return
    project = projects.setdefault(number, _Project(number))
    if project.listed:
        return
    project.listed = True
    project.project_id = data.get("projectId")
    project.display_name = data.get("name")
    project.labels = dict(data.get("labels") or {})
    project.lifecycle_state = data.get("lifecycleState")
    project.ancestors = list(raw.get("ancestors") or [])
    project.seen_in = scope


def _add_service(projects: dict[str, _Project], raw: dict[str, Any], scope: str, ai_services: dict[str, str]) -> None:
    data = (raw.get("resource") or {}).get("data") or {}
    service = (data.get("config") or {}).get("name") or raw.get("name", "").rsplit("/", 1)[-1]
    if service not in ai_services or data.get("state") != "ENABLED":
        return
    parent = _PROJECT_NUMBER.search(data.get("parent") or "")
    number = _project_number_of(raw) or (parent.group(1) if parent else None)
    if not number:
        return
    project = projects.setdefault(number, _Project(number, seen_in=scope))
    project.services.add(service)


def _vertex_resource(raw: dict[str, Any], scope: str) -> _VertexResource:
    resource = raw.get("resource") or {}
    location = resource.get("location")
    if not location:
        match = _LOCATION.search(raw["name"])
        location = match.group(1) if match else None
    return _VertexResource(
        name=raw["name"],
        asset_type=raw["assetType"],
        project_number=_project_number_of(raw),
        location=location,
        data=resource.get("data") or {},
        ancestors=list(raw.get("ancestors") or []),
        seen_in=scope,
    )


def _owner(tags: Tags, owner_labels: tuple[str, ...]) -> tuple[str, str] | None:
    """Return the first owner label with a value, as (key, value)."""
    for key in owner_labels:
        value = tags.get(key)
        if value:
            return key, value
    return None


def _vertex_asset(resource: _VertexResource, projects: dict[str, _Project], owner_labels: tuple[str, ...]) -> Asset:
    project = projects.get(resource.project_number or "")
    tags = Tags.from_mapping(resource.data.get("labels") or {})
    attributes: dict[str, Any] = {
        "asset_type": resource.asset_type,
        "location": resource.location,
        "project_number": resource.project_number,
        "project_id": project.project_id if project else None,
    }
    if resource.data.get("state"):
        attributes["state"] = resource.data["state"]
    deployed = [model.get("model") for model in resource.data.get("deployedModels") or [] if model.get("model")]
    if deployed:
        attributes["deployed_models"] = deployed

    own_owner = _owner(tags, owner_labels)
    project_owner = _owner(Tags.from_mapping(project.labels), owner_labels) if project else None
    if own_owner:
        attributes["owner"], attributes["owner_via"] = own_owner[1], f"label:{own_owner[0]}"
    elif project_owner:
        attributes["owner"], attributes["owner_via"] = project_owner[1], f"project_label:{project_owner[0]}"

    scope = (project.project_id if project and project.project_id else None) or f"projects/{resource.project_number}"
    return Asset(
        kind=vertex_kind(resource.asset_type),
        id=resource.name,
        provider="gcp",
        scope=scope,
        name=resource.data.get("displayName"),
        tags=tags,
        attributes=attributes,
        source=SourceRef(f"{resource.seen_in} ListAssets"),
    )


def _project_asset(project: _Project, vertex_assets: list[Asset], owner_labels: tuple[str, ...]) -> Asset:
    catalogue = load_catalogue()
    tags = Tags.from_mapping(project.labels)
    owner = _owner(tags, owner_labels)
    teams = {owner[1]} if owner else set()
    for asset in vertex_assets:
        resource_owner = _owner(asset.tags, owner_labels)
        if resource_owner:
            teams.add(resource_owner[1])

    attributes: dict[str, Any] = {
        "project_id": project.project_id,
        "project_number": project.number,
        "display_name": project.display_name,
        "lifecycle_state": project.lifecycle_state,
        "ancestors": project.ancestors,
        "ai_services_enabled": sorted(project.services),
        "vertex_enabled": catalogue.vertex_service in project.services,
        "vertex_resource_count": len(vertex_assets),
        "teams": sorted(teams),
        "listed": project.listed,
        # The account value billing exports give this project's spend (FOCUS SubAccountId, the
        # Cloud Billing export's project.id), for joining spend that names no resource.
        "billing_account": project.project_id,
    }
    if owner:
        attributes["owner"], attributes["owner_via"] = owner[1], f"project_label:{owner[0]}"

    return Asset(
        kind=PROJECT_KIND,
        id=project_asset_id(project.number),
        provider="gcp",
        scope=project.project_id or f"projects/{project.number}",
        name=project.project_id,
        tags=tags,
        attributes=attributes,
        source=SourceRef(f"{project.seen_in} ListAssets") if project.seen_in else None,
    )
