"""Rules over Google Cloud: projects with Vertex AI enabled and no owner label, Vertex AI resources
no label attributes, partner-model spend in projects several teams share, and policy tag keys that
Google Cloud labels cannot carry."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from collectors.gcp.attribution import is_partner_model_line
from collectors.gcp.cloud_asset import ScopeListing
from collectors.gcp.inventory import PROJECT_KIND, VERTEX_KIND_PREFIX, build_assets, project_asset_id
from collectors.gcp.labels import key_problem
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, SpendLine, Tags, decimal_text, money_text


def _projects(inventory: Inventory) -> list[Asset]:
    return [asset for asset in inventory.assets if asset.kind == PROJECT_KIND and asset.provider == "gcp"]


def _project_name(asset: Asset) -> str:
    return asset.attributes.get("project_id") or f"projects/{asset.attributes.get('project_number')}"


def _check_project_owner_label(context: RuleContext) -> Iterable[Violation] | None:
    owner_labels = context.policy.owner_tags
    projects = [
        project
        for project in _projects(context.inventory)
        if project.attributes.get("vertex_enabled") and project.attributes.get("lifecycle_state") in (None, "ACTIVE")
    ]
    if not owner_labels or not projects:
        return None

    violations = []
    for project in sorted(projects, key=_project_name):
        if any(project.tags.get(key) for key in owner_labels):
            continue
        name = _project_name(project)
        violations.append(
            Violation(
                subject=f"gcp:project:{project.attributes.get('project_number')}",
                message=f"GCP project {name} has the Vertex AI API enabled but no owner label ({', '.join(owner_labels)}).",
                evidence={
                    "project_id": project.attributes.get("project_id"),
                    "project_number": project.attributes.get("project_number"),
                    "labels": _original_labels(project.tags),
                    "ai_services_enabled": project.attributes.get("ai_services_enabled", []),
                    "vertex_resource_count": project.attributes.get("vertex_resource_count", 0),
                },
            )
        )
    return violations


def _original_labels(tags: Tags) -> dict[str, str]:
    return {tags.original_keys[key]: value for key, value in sorted(tags.values.items())}


def _check_resource_owner_label(context: RuleContext) -> Iterable[Violation] | None:
    owner_labels = context.policy.owner_tags
    resources = [asset for asset in context.inventory.assets if asset.kind.startswith(VERTEX_KIND_PREFIX)]
    if not owner_labels or not resources:
        return None

    violations = []
    for resource in sorted(resources, key=lambda asset: asset.id):
        if resource.attributes.get("owner"):
            continue
        type_name = resource.kind.removeprefix(VERTEX_KIND_PREFIX).replace("_", " ")
        shown = f"{resource.name} ({resource.id})" if resource.name else resource.id
        violations.append(
            Violation(
                subject=f"gcp:{resource.id}",
                message=f"Vertex AI {type_name} {shown} in project {resource.scope} has no owner label, and its project has none either.",
                evidence={"asset_type": resource.attributes.get("asset_type"), "labels": _original_labels(resource.tags)},
            )
        )
    return violations


def _check_partner_model_shared_project(context: RuleContext) -> Iterable[Violation] | None:
    partner_lines = [(line, attribution) for line, attribution in context.coverage.attributions if is_partner_model_line(line)]
    if not partner_lines:
        return None

    teams = _teams_by_project(context)
    grouped: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for line, attribution in partner_lines:
        if attribution.attributed or len(teams.get(line.account or "", ())) < 2:
            continue
        grouped[(line.account or "", line.service, line.currency)] += line.amount

    violations = []
    for (project, service, currency), amount in sorted(grouped.items()):
        shared_by = sorted(teams[project])
        violations.append(
            Violation(
                subject=f"gcp:{project}:{service}",
                message=(
                    f"{service} spend of {money_text(amount, currency)} in GCP project {project} carries no owner label, "
                    f"and the project is shared by {', '.join(shared_by)}."
                ),
                evidence={"amount": decimal_text(amount), "currency": currency, "teams": shared_by},
            )
        )
    return violations


def _teams_by_project(context: RuleContext) -> dict[str, set[str]]:
    """Collect the owners each project (by project ID) serves: those its labels and Vertex AI
    resources name, and those its other spend reached."""
    teams: dict[str, set[str]] = defaultdict(set)
    for project in _projects(context.inventory):
        project_id = project.attributes.get("project_id")
        if project_id:
            teams[project_id].update(project.attributes.get("teams") or [])
    for line, attribution in context.coverage.attributions:
        if line.provider == "gcp" and line.account and attribution.attributed:
            teams[line.account].add(attribution.owner)
    return teams


def _check_policy_label_keys(context: RuleContext) -> Iterable[Violation] | None:
    keys = sorted(set(context.policy.owner_tags) | set(context.policy.required_tags))
    uses_gcp = any(asset.provider == "gcp" for asset in context.inventory.assets) or any(
        line.provider == "gcp" for line in context.inventory.spend_lines
    )
    if not keys or not uses_gcp:
        return None

    violations = []
    for key in keys:
        problem = key_problem(key)
        if problem:
            violations.append(
                Violation(
                    subject=f"policy:{key}",
                    message=f"Policy tag key {key} cannot be a Google Cloud label, so no GCP resource or spend can carry it: {problem}.",
                    evidence={"key": key, "problem": problem},
                )
            )
    return violations


# Samples: Cloud Asset ListAssets pages and billing lines shaped like the real ones.

_ORG = "organizations/730012458832"
_DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)
_NEXT_DAY = datetime(2026, 11, 4, tzinfo=timezone.utc)
_POLICY = Policy(required_tags=("team",), owner_tags=("team", "owner"))


def _project_raw(number: str, project_id: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "name": f"//cloudresourcemanager.googleapis.com/projects/{number}",
        "assetType": "cloudresourcemanager.googleapis.com/Project",
        "ancestors": [f"projects/{number}", _ORG],
        "resource": {
            "version": "v1",
            "location": "global",
            "parent": f"//cloudresourcemanager.googleapis.com/{_ORG}",
            "data": {"projectNumber": number, "projectId": project_id, "lifecycleState": "ACTIVE", "name": project_id, "labels": labels},
        },
    }


def _service_raw(number: str, service: str = "aiplatform.googleapis.com") -> dict[str, Any]:
    return {
        "name": f"//serviceusage.googleapis.com/projects/{number}/services/{service}",
        "assetType": "serviceusage.googleapis.com/Service",
        "ancestors": [f"projects/{number}", _ORG],
        "resource": {
            "version": "v1",
            "data": {"name": f"projects/{number}/services/{service}", "parent": f"projects/{number}", "state": "ENABLED", "config": {"name": service}},
        },
    }


def _endpoint_raw(number: str, endpoint: str, display_name: str, labels: dict[str, str]) -> dict[str, Any]:
    name = f"projects/{number}/locations/europe-west4/endpoints/{endpoint}"
    return {
        "name": f"//aiplatform.googleapis.com/{name}",
        "assetType": "aiplatform.googleapis.com/Endpoint",
        "ancestors": [f"projects/{number}", _ORG],
        "resource": {"version": "v1", "location": "europe-west4", "data": {"name": name, "displayName": display_name, "labels": labels}},
    }


def _assets(*raws: dict[str, Any]) -> list[Asset]:
    return build_assets([ScopeListing(_ORG, pages=[{"assets": list(raws)}])], _POLICY.owner_tags)


def _partner_line(project_id: str, number: str, amount: str, labels: dict[str, str] | None = None) -> SpendLine:
    return SpendLine(
        amount=Decimal(amount),
        currency="USD",
        period_start=_DAY,
        period_end=_NEXT_DAY,
        provider="gcp",
        service="Claude 3.5 Sonnet",
        account=project_id,
        resource_id=project_asset_id(number),
        model="Claude 3.5 Sonnet",
        region="us-east5",
        tags=Tags.from_mapping(labels or {}),
    )


def _context(assets: list[Asset], lines: list[SpendLine] | None = None, policy: Policy = _POLICY) -> RuleContext:
    inventory = Inventory(assets=assets, spend_lines=lines or [])
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


PROJECT_OWNER_LABEL_MISSING = Rule(
    id="gcp.vertex.project-owner-label-missing",
    title="Project with Vertex AI enabled has no owner label",
    severity=Severity.MEDIUM,
    checks="Every active GCP project with the Vertex AI API enabled carries one of the owner labels in policy.owner_tags.",
    why=(
        "Spend billed to a project reaches an owner through labels; a project with Vertex AI enabled and no owner label "
        "leaves every unlabelled call and every partner-model row in it without an owner."
    ),
    remediation="Add the owner label to the project (gcloud projects update PROJECT --update-labels=team=TEAM), or disable the Vertex AI API where nobody uses it.",
    limits=(
        "Sees the projects Cloud Asset Inventory lists in the configured scopes; a project outside them, or in a scope "
        "that returned PERMISSION_DENIED, is not judged. Labels are read as they are now, not as they were when the spend was billed."
    ),
    check=_check_project_owner_label,
    samples=(
        Sample(
            "project labelled with its team",
            lambda: _context(_assets(_project_raw("418203117561", "larkspur-search-prod", {"team": "search"}), _service_raw("418203117561"))),
            RuleStatus.PASS,
        ),
        Sample(
            "project with Vertex AI enabled and only an env label",
            lambda: _context(_assets(_project_raw("552930118274", "larkspur-data-sandbox", {"env": "sandbox"}), _service_raw("552930118274"))),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "no project has Vertex AI enabled",
            lambda: _context(_assets(_project_raw("552930118274", "larkspur-data-sandbox", {}))),
            RuleStatus.NOT_APPLICABLE,
        ),
    ),
)

RESOURCE_OWNER_LABEL_MISSING = Rule(
    id="gcp.vertex.resource-owner-label-missing",
    title="Vertex AI resource reaches no owner through labels",
    severity=Severity.LOW,
    checks="Every Vertex AI resource carries an owner label, or sits in a project that carries one.",
    why="Vertex AI resource labels (endpoints, jobs, notebooks) reach the detailed billing export; with no label on the resource or its project, its node hours and jobs reach no owner.",
    remediation="Label the resource with the owning team (for an endpoint: gcloud ai endpoints update ENDPOINT --region=REGION --update-labels=team=TEAM), or label its project.",
    limits="Judges the Vertex AI asset types Cloud Asset Inventory lists; Gemini and partner-model calls are not resources and are judged through their billing rows instead.",
    check=_check_resource_owner_label,
    samples=(
        Sample(
            "endpoint labelled with its team",
            lambda: _context(_assets(_project_raw("418203117561", "larkspur-search-prod", {}), _endpoint_raw("418203117561", "4417", "search-reranker", {"team": "search"}))),
            RuleStatus.PASS,
        ),
        Sample(
            "unlabelled endpoint in a labelled project",
            lambda: _context(_assets(_project_raw("418203117561", "larkspur-search-prod", {"team": "search"}), _endpoint_raw("418203117561", "4418", "reranker-canary", {}))),
            RuleStatus.PASS,
        ),
        Sample(
            "unlabelled endpoint in an unlabelled project",
            lambda: _context(_assets(_project_raw("552930118274", "larkspur-data-sandbox", {"env": "sandbox"}), _endpoint_raw("552930118274", "9001", "churn-test", {}))),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no Vertex AI resources", lambda: _context(_assets(_project_raw("552930118274", "larkspur-data-sandbox", {}))), RuleStatus.NOT_APPLICABLE),
    ),
)

PARTNER_MODEL_SHARED_PROJECT = Rule(
    id="gcp.vertex.partner-model-shared-project",
    title="Partner-model spend in a shared project reaches no owner",
    severity=Severity.MEDIUM,
    checks="Partner-model spend on Vertex AI (Claude, Llama, Mistral) that reaches no owner is not billed to a project several teams share.",
    why=(
        "Partner models are billed as their own marketplace services, and their rows often arrive without request labels; "
        "in a project one team owns the project label still names the owner, but in a shared project nothing does."
    ),
    remediation=(
        "Move each team's partner-model calls to a project of its own, or send request labels with every partner-model call "
        "(the rawPredict request body's labels field) and check that they reach the billing export."
    ),
    limits=(
        "A project counts as shared when its labels, its Vertex AI resources and its attributed spend name two or more owners; "
        "a project whose other teams leave no such trace looks unshared."
    ),
    check=_check_partner_model_shared_project,
    samples=(
        Sample(
            "partner model in a project one team owns",
            lambda: _context(
                _assets(_project_raw("418203117561", "larkspur-search-prod", {"team": "search"})),
                [_partner_line("larkspur-search-prod", "418203117561", "17.95")],
            ),
            RuleStatus.PASS,
        ),
        Sample(
            "partner model in a project two teams share",
            lambda: _context(
                _assets(
                    _project_raw("418203117561", "larkspur-search-prod", {"env": "prod"}),
                    _endpoint_raw("418203117561", "4417", "search-reranker", {"team": "search"}),
                    _endpoint_raw("418203117561", "4419", "growth-uplift", {"team": "growth"}),
                ),
                [_partner_line("larkspur-search-prod", "418203117561", "17.95")],
            ),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "labelled partner-model call in a shared project",
            lambda: _context(
                _assets(
                    _project_raw("418203117561", "larkspur-search-prod", {"env": "prod"}),
                    _endpoint_raw("418203117561", "4417", "search-reranker", {"team": "search"}),
                    _endpoint_raw("418203117561", "4419", "growth-uplift", {"team": "growth"}),
                ),
                [_partner_line("larkspur-search-prod", "418203117561", "17.95", {"team": "growth"})],
            ),
            RuleStatus.PASS,
        ),
        Sample("no partner-model spend", lambda: _context(_assets(_project_raw("418203117561", "larkspur-search-prod", {}))), RuleStatus.NOT_APPLICABLE),
    ),
)

POLICY_LABEL_KEY_INVALID = Rule(
    id="gcp.labels.policy-key-invalid",
    title="Policy tag key cannot be a Google Cloud label",
    severity=Severity.LOW,
    checks="Every key in policy.owner_tags and policy.required_tags, as normalised, is a valid Google Cloud label key.",
    why="A key Google Cloud labels cannot carry (one starting with a digit, containing ':' or longer than 63 characters) can never be met by GCP resources or spend.",
    remediation="Use keys of lowercase letters, digits, '_' and '-' that start with a letter, such as team or cost-center.",
    limits="Checks the key's syntax only; whether teams actually set the label is judged by the other rules.",
    check=_check_policy_label_keys,
    samples=(
        Sample("team and cost-center keys", lambda: _context(_assets(_project_raw("1", "p", {})), policy=Policy(required_tags=("team", "cost-center"))), RuleStatus.PASS),
        Sample("key starting with a digit", lambda: _context(_assets(_project_raw("1", "p", {})), policy=Policy(required_tags=("2fa-exempt",))), RuleStatus.FAIL, 1),
        Sample("no GCP inventory", lambda: _context([], policy=Policy(required_tags=("2fa-exempt",))), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [PROJECT_OWNER_LABEL_MISSING, RESOURCE_OWNER_LABEL_MISSING, PARTNER_MODEL_SHARED_PROJECT, POLICY_LABEL_KEY_INVALID]
