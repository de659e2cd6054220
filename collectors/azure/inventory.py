"""The Azure AI estate: Cognitive Services accounts of the AI kinds, their deployments, resource
group tags and the API Management services in front of them, read from ARM list responses.

One parser turns the raw pages of a live read or a snapshot into the same inventory. A scope that
cannot be read (a subscription that returns 403, an account whose deployments fail) becomes a
ScopeGap naming the provider's error code, and the read goes on.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from collectors.azure.arm import ArmError, ArmSource, Page
from collectors.azure.catalogue import AzureCatalogue
from scanner.model import ScopeGap, SourceRef, Tags

# The error code of a snapshot file that cannot be read or parsed, and what to do about it.
INVALID_SNAPSHOT_FILE = "InvalidSnapshotFile"
RECORD_AGAIN = "fix the file or record the snapshot again with shadowmap snapshot --only azure"


@dataclass
class Deployment:
    id: str
    name: str
    account_id: str
    sku: str | None
    capacity: int | None
    model: str | None
    model_version: str | None
    model_format: str | None
    provisioned: bool
    routing_scope: str | None
    batch: bool
    tags: dict[str, str] = field(default_factory=dict)
    gateways: list[str] = field(default_factory=list)


@dataclass
class Account:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    kind: str
    location: str | None
    sku: str | None
    tags: dict[str, str]
    endpoint_hosts: set[str]
    local_auth_disabled: bool
    deployments: list[Deployment] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class ApiManagementService:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str | None
    sku: str | None
    tags: dict[str, str]
    backend_urls: list[str] = field(default_factory=list)


@dataclass
class AzureInventory:
    """Everything one read of ARM returned, with the scopes it saw and could not see."""

    subscriptions: dict[str, str] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    api_management: list[ApiManagementService] = field(default_factory=list)
    resource_group_tags: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    scopes_seen: list[str] = field(default_factory=list)
    gaps: list[ScopeGap] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def account(self, account_id: str) -> Account | None:
        wanted = account_id.lower()
        return next((account for account in self.accounts if account.id == wanted), None)


def subscription_scope(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id.lower()}"


def read_inventory(
    arm: ArmSource,
    catalogue: AzureCatalogue,
    logger: logging.Logger,
    wanted_subscriptions: list[str] | None = None,
    concurrency: int = 4,
    location: str = "ARM",
) -> AzureInventory:
    """Read every subscription in parallel (at most `concurrency` at once) into one inventory."""
    inventory = AzureInventory()
    try:
        listed = _subscriptions(arm.subscriptions())
    except ArmError as error:
        if not wanted_subscriptions:
            logger.warning("azure: cannot list subscriptions: %s", error.describe())
            if error.code == INVALID_SNAPSHOT_FILE:
                inventory.errors.append(f"cannot list subscriptions: {error.message}; {RECORD_AGAIN}")
            else:
                inventory.errors.append(f"cannot list subscriptions: {error.describe()}: {error.message}")
            return inventory
        listed = {}
    if wanted_subscriptions:
        listed = {sub.lower(): listed.get(sub.lower(), sub.lower()) for sub in wanted_subscriptions}
    inventory.subscriptions = dict(sorted(listed.items()))

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="azure-sub") as pool:
        futures = {
            subscription_id: pool.submit(_read_subscription, arm, catalogue, subscription_id, location)
            for subscription_id in inventory.subscriptions
        }
        for subscription_id, future in futures.items():
            part = future.result()
            _merge(inventory, part, logger, subscription_id, inventory.subscriptions[subscription_id])

    _link_gateways(inventory)
    return inventory


def _subscriptions(pages: list[Page]) -> dict[str, str]:
    """Enabled subscriptions by ID, from the ARM body or from `az account list` output, which
    names the ID `id` and the display name `name`."""
    found: dict[str, str] = {}
    for page in pages:
        for entry in page.get("value", []):
            subscription_id = str(entry.get("subscriptionId") or entry.get("id") or "").rsplit("/", 1)[-1].lower()
            if subscription_id and str(entry.get("state", "Enabled")).lower() not in ("disabled", "deleted"):
                found[subscription_id] = str(entry.get("displayName") or entry.get("name") or subscription_id)
    return found


def _read_subscription(arm: ArmSource, catalogue: AzureCatalogue, subscription_id: str, location: str) -> AzureInventory:
    """Read one subscription; a failure of the account list loses the subscription, any later
    failure loses only the thing it concerns."""
    part = AzureInventory()
    scope = subscription_scope(subscription_id)
    try:
        account_pages = arm.accounts(subscription_id)
    except ArmError as error:
        part.gaps.append(ScopeGap(scope, _gap_reason("Cognitive Services accounts", error)))
        return part
    part.scopes_seen.append(scope)

    for page in account_pages:
        for entry in page.get("value", []):
            if catalogue.is_ai_account_kind(entry.get("kind")):
                part.accounts.append(_parse_account(entry, subscription_id, location))

    for account in part.accounts:
        try:
            deployment_pages = arm.deployments(account.id)
        except ArmError as error:
            part.gaps.append(ScopeGap(account.id, _gap_reason("deployments", error)))
            continue
        account.deployments = [
            _parse_deployment(entry, account.id, catalogue) for page in deployment_pages for entry in page.get("value", [])
        ]

    try:
        for page in arm.resource_groups(subscription_id):
            for entry in page.get("value", []):
                name = str(entry.get("name") or "").lower()
                part.resource_group_tags[(subscription_id, name)] = _tag_map(entry.get("tags"))
    except ArmError as error:
        part.gaps.append(ScopeGap(f"{scope}/resourceGroups", _gap_reason("resource groups", error)))

    try:
        services = [
            _parse_api_management(entry, subscription_id)
            for page in arm.api_management_services(subscription_id)
            for entry in page.get("value", [])
            if str(entry.get("type", "")).lower() == "microsoft.apimanagement/service"
        ]
    except ArmError as error:
        part.gaps.append(ScopeGap(f"{scope}/apiManagement", _gap_reason("API Management services", error)))
        services = []
    for service in services:
        try:
            service.backend_urls = [
                str(entry.get("properties", {}).get("url") or entry.get("properties", {}).get("resourceId") or "")
                for page in arm.api_management_backends(service.id)
                for entry in page.get("value", [])
            ]
        except ArmError as error:
            part.gaps.append(ScopeGap(service.id, _gap_reason("API Management backends", error)))
    part.api_management = services
    return part


def _gap_reason(what: str, error: ArmError) -> str:
    if error.code == INVALID_SNAPSHOT_FILE:
        # The message names the file; no credential is involved in reading a snapshot.
        return f"cannot list {what}: {error.message}; {RECORD_AGAIN}"
    remedy = {
        "AuthorizationFailed": "grant the credential the Reader role on this scope",
        "InvalidAuthenticationToken": "sign in again or check the credential's tenant",
        "SubscriptionNotFound": "check the subscription ID in sources.azure.live.subscriptions",
        "NotInSnapshot": "record the snapshot again with shadowmap snapshot",
        "CredentialUnavailable": "configure a credential (az login, environment variables or a managed identity)",
    }.get(error.code, "check the credential's access and retry")
    return f"cannot list {what}: {error.describe()}; {remedy}"


def _merge(inventory: AzureInventory, part: AzureInventory, logger: logging.Logger, subscription_id: str, name: str) -> None:
    inventory.accounts.extend(part.accounts)
    inventory.api_management.extend(part.api_management)
    inventory.resource_group_tags.update(part.resource_group_tags)
    inventory.scopes_seen.extend(part.scopes_seen)
    inventory.gaps.extend(part.gaps)
    for gap in part.gaps:
        logger.warning("azure: %s not seen: %s", gap.scope, gap.reason)
    if part.scopes_seen:
        logger.info(
            "azure: subscription %s (%s): %d AI accounts, %d deployments, %d API Management services",
            subscription_id,
            name,
            len(part.accounts),
            sum(len(account.deployments) for account in part.accounts),
            len(part.api_management),
        )


def _tag_map(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def _parse_account(entry: dict[str, Any], subscription_id: str, location: str) -> Account:
    arm_id = str(entry["id"])
    properties = entry.get("properties") or {}
    hosts = set()
    for url in [properties.get("endpoint"), *(properties.get("endpoints") or {}).values()]:
        host = urlparse(str(url or "")).hostname
        if host:
            hosts.add(host.lower())
    subdomain = str(properties.get("customSubDomainName") or "").lower()
    if subdomain:
        hosts |= {f"{subdomain}.openai.azure.com", f"{subdomain}.cognitiveservices.azure.com", f"{subdomain}.services.ai.azure.com"}
    return Account(
        id=arm_id.lower(),
        name=str(entry.get("name") or arm_id.rsplit("/", 1)[-1]),
        subscription_id=subscription_id,
        resource_group=_resource_group(arm_id),
        kind=str(entry.get("kind")),
        location=(entry.get("location") or None),
        sku=(entry.get("sku") or {}).get("name"),
        tags=_tag_map(entry.get("tags")),
        endpoint_hosts=hosts,
        local_auth_disabled=bool(properties.get("disableLocalAuth")),
        source=location,
    )


def _parse_deployment(entry: dict[str, Any], account_id: str, catalogue: AzureCatalogue) -> Deployment:
    sku = entry.get("sku") or {}
    properties = entry.get("properties") or {}
    model = properties.get("model") or {}
    entry_sku = catalogue.sku(sku.get("name"))
    capacity = sku.get("capacity")
    return Deployment(
        id=str(entry.get("id") or f"{account_id}/deployments/{entry.get('name')}").lower(),
        name=str(entry.get("name")),
        account_id=account_id,
        sku=sku.get("name"),
        capacity=int(capacity) if capacity is not None else None,
        model=model.get("name"),
        model_version=model.get("version"),
        model_format=model.get("format"),
        provisioned=bool(entry_sku and entry_sku.provisioned),
        routing_scope=entry_sku.scope if entry_sku else None,
        batch=bool(entry_sku and entry_sku.batch),
        tags=_tag_map(entry.get("tags")),
    )


def _parse_api_management(entry: dict[str, Any], subscription_id: str) -> ApiManagementService:
    arm_id = str(entry["id"])
    return ApiManagementService(
        id=arm_id,
        name=str(entry.get("name")),
        subscription_id=subscription_id,
        resource_group=_resource_group(arm_id),
        location=entry.get("location"),
        sku=(entry.get("sku") or {}).get("name"),
        tags=_tag_map(entry.get("tags")),
    )


def _resource_group(arm_id: str) -> str:
    segments = arm_id.split("/")
    for index, segment in enumerate(segments[:-1]):
        if segment.lower() == "resourcegroups":
            return segments[index + 1].lower()
    return ""


def _link_gateways(inventory: AzureInventory) -> None:
    """Mark the accounts and deployments that an API Management backend points at.

    A backend whose URL is an account's endpoint fronts every deployment of the account; one whose
    path names `/deployments/<name>` fronts only that deployment. A backend may also name the
    account by its ARM resource ID.
    """
    for service in inventory.api_management:
        for url in service.backend_urls:
            parsed = urlparse(url)
            host = (parsed.hostname or "").lower()
            path = parsed.path.lower()
            for account in inventory.accounts:
                names_account = path.rstrip("/") == account.id or path.startswith(account.id + "/")
                if host not in account.endpoint_hosts and not names_account:
                    continue
                pinned = _pinned_deployment(path)
                if pinned is None:
                    _add_once(account.gateways, service.name)
                    for deployment in account.deployments:
                        _add_once(deployment.gateways, service.name)
                    continue
                for deployment in account.deployments:
                    if deployment.name.lower() == pinned:
                        _add_once(deployment.gateways, service.name)


def _pinned_deployment(path: str) -> str | None:
    parts = [part for part in path.split("/") if part]
    if "deployments" in parts:
        index = parts.index("deployments")
        if index + 1 < len(parts) and "microsoft.cognitiveservices" not in parts:
            return parts[index + 1]
    return None


def _add_once(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def tags_of(raw: dict[str, str]) -> Tags:
    return Tags.from_mapping(raw)


def source_ref(location: str) -> SourceRef:
    return SourceRef(location=location)
