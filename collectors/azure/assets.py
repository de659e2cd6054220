"""Assets made from the Azure inventory: accounts, deployments and API Management services.

An account's owner comes from its own owner tag, or from its resource group's owner tag when
`resource_group_tag_inheritance` is on: Azure Cost Management applies resource group tags to costs
only when tag inheritance is enabled, so without it a resource group tag never reaches the bill.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.azure.inventory import Account, ApiManagementService, AzureInventory, Deployment, subscription_scope
from scanner.config import Policy
from scanner.model import Asset, SourceRef, Tags

ACCOUNT_KIND = "azure.openai.account"
DEPLOYMENT_KIND = "azure.openai.deployment"
API_MANAGEMENT_KIND = "azure.apim.service"
PTU_SHARE_KIND = "azure.openai.ptu_share"


@dataclass(frozen=True)
class Owner:
    name: str
    via: str


def account_owner(account: Account, resource_group_tags: dict[str, str], policy: Policy, inheritance: bool) -> Owner | None:
    """The owner an account's tags name, trying policy.owner_tags in order, account tags first."""
    account_tags = Tags.from_mapping(account.tags)
    for key in policy.owner_tags:
        if account_tags.values.get(key):
            return Owner(account_tags.values[key], f"tag:{key}")
    if not inheritance:
        return None
    group_tags = Tags.from_mapping(resource_group_tags)
    for key in policy.owner_tags:
        if group_tags.values.get(key):
            return Owner(group_tags.values[key], f"resource_group_tag:{key}")
    return None


def build_assets(
    inventory: AzureInventory,
    policy: Policy,
    inheritance: bool,
    metered_accounts: set[str],
) -> list[Asset]:
    """Turn the inventory into assets; `metered_accounts` are the account IDs with token metrics
    configured, which is what lets a provisioned deployment's cost be split."""
    assets: list[Asset] = []
    for account in inventory.accounts:
        group_tags = inventory.resource_group_tags.get((account.subscription_id, account.resource_group), {})
        owner = account_owner(account, group_tags, policy, inheritance)
        assets.append(_account_asset(account, group_tags, owner, inheritance))
        for deployment in account.deployments:
            assets.append(_deployment_asset(account, deployment, owner, account.id in metered_accounts))
    assets.extend(_api_management_asset(service) for service in inventory.api_management)
    return assets


def _account_asset(account: Account, group_tags: dict[str, str], owner: Owner | None, inheritance: bool) -> Asset:
    attributes = {
        "account_kind": account.kind,
        "location": account.location,
        "sku": account.sku,
        "resource_group": account.resource_group,
        "resource_group_tags": dict(sorted(group_tags.items())),
        "resource_group_tag_inheritance": inheritance,
        "endpoint_hosts": sorted(account.endpoint_hosts),
        "local_auth_disabled": account.local_auth_disabled,
        "deployment_count": len(account.deployments),
        "provisioned_deployments": sorted(d.name for d in account.deployments if d.provisioned),
        "gateways": list(account.gateways),
        # Azure bills the account, never the caller: several deployments on one account with no
        # gateway in front usually serve several services that the bill cannot tell apart.
        "shared": len(account.deployments) > 1,
    }
    if owner is not None:
        attributes["owner"] = owner.name
        attributes["owner_via"] = owner.via
    return Asset(
        kind=ACCOUNT_KIND,
        id=account.id,
        provider="azure",
        scope=subscription_scope(account.subscription_id),
        name=account.name,
        tags=Tags.from_mapping(account.tags),
        attributes=attributes,
        source=SourceRef(account.source),
    )


def _deployment_asset(account: Account, deployment: Deployment, owner: Owner | None, metered: bool) -> Asset:
    attributes = {
        "account_id": account.id,
        "account_name": account.name,
        "sku": deployment.sku,
        "capacity": deployment.capacity,
        "model": deployment.model,
        "model_version": deployment.model_version,
        "model_format": deployment.model_format,
        "provisioned": deployment.provisioned,
        "routing_scope": deployment.routing_scope,
        "batch": deployment.batch,
        "gateways": list(deployment.gateways),
        "token_metrics": metered,
    }
    if owner is not None:
        attributes["owner"] = owner.name
        attributes["owner_via"] = f"account_{owner.via}"
    return Asset(
        kind=DEPLOYMENT_KIND,
        id=deployment.id,
        provider="azure",
        scope=subscription_scope(account.subscription_id),
        name=f"{account.name}/{deployment.name}",
        tags=Tags.from_mapping({**account.tags, **deployment.tags}),
        attributes=attributes,
        source=SourceRef(account.source),
    )


def _api_management_asset(service: ApiManagementService) -> Asset:
    return Asset(
        kind=API_MANAGEMENT_KIND,
        id=service.id.lower(),
        provider="azure",
        scope=subscription_scope(service.subscription_id),
        name=service.name,
        tags=Tags.from_mapping(service.tags),
        attributes={
            "resource_group": service.resource_group,
            "location": service.location,
            "sku": service.sku,
            "backend_urls": list(service.backend_urls),
        },
    )
