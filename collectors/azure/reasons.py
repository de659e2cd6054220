"""Why Azure AI spend reaches no owner: the reasons specific to Azure, and the classifiers that
pick them for the coverage graph. Importing this module registers both, once."""

from __future__ import annotations

from scanner.config import Policy
from scanner.coverage import REASON_CLASSIFIERS, register_reason
from scanner.model import Asset, SpendLine, Tags

from collectors.azure.assets import ACCOUNT_KIND, DEPLOYMENT_KIND
from collectors.azure.catalogue import PTU_HOURLY_UNIT, PTU_RESERVATION_UNIT

PTU_UNALLOCATED = "ptu_unallocated"
RESOURCE_GROUP_TAG_NOT_INHERITED = "resource_group_tag_not_inherited"
SHARED_DEPLOYMENT = "shared_deployment"

# Units under which FOCUS and cost exports bill provisioned throughput by the hour or through a
# reservation, compared lower-case.
OWN_PTU_UNITS = {PTU_HOURLY_UNIT.lower(), PTU_RESERVATION_UNIT.lower()}
PTU_LINE_UNITS = OWN_PTU_UNITS | {"hours", "hour", "1 hour", "units/hour"}

REASON_SENTENCES = {
    PTU_UNALLOCATED: (
        "Provisioned throughput (PTU) on an Azure OpenAI deployment is billed per hour whatever the use, "
        "and no token metrics by caller split it across the teams that use it."
    ),
    RESOURCE_GROUP_TAG_NOT_INHERITED: (
        "The Azure account's resource group carries an owner tag, but tag inheritance is off in Cost "
        "Management, so the tag never reaches the bill."
    ),
    SHARED_DEPLOYMENT: (
        "Several deployments on one Azure OpenAI account serve callers that no gateway tells apart: "
        "Azure bills the account, never the caller."
    ),
}


def classify_azure_spend(line: SpendLine, asset: Asset | None, policy: Policy) -> str | None:
    """Name the Azure-specific reason an unattributed line has none, or None to pass it on."""
    if line.provider != "azure":
        return None
    if asset is None:
        # A reservation purchase is billed to no resource, so no asset can attribute it.
        return PTU_UNALLOCATED if (line.unit or "").strip().lower() in OWN_PTU_UNITS else None
    if asset.kind not in (ACCOUNT_KIND, DEPLOYMENT_KIND):
        return None

    if asset.kind == DEPLOYMENT_KIND and asset.attributes.get("provisioned"):
        return PTU_UNALLOCATED
    if asset.kind == ACCOUNT_KIND and asset.attributes.get("provisioned_deployments"):
        if (line.unit or "").strip().lower() in PTU_LINE_UNITS:
            return PTU_UNALLOCATED

    if asset.kind == ACCOUNT_KIND and resource_group_owner_not_inherited(asset, policy):
        return RESOURCE_GROUP_TAG_NOT_INHERITED
    if asset.kind == ACCOUNT_KIND and asset.attributes.get("shared") and not asset.attributes.get("gateways"):
        return SHARED_DEPLOYMENT
    return None


def resource_group_owner_not_inherited(account: Asset, policy: Policy) -> str | None:
    """Return the owner tag key on an account's resource group that never reaches costs, or None."""
    if account.attributes.get("resource_group_tag_inheritance"):
        return None
    group_tags = Tags.from_mapping(account.attributes.get("resource_group_tags") or {})
    return next((key for key in policy.owner_tags if group_tags.values.get(key)), None)


def register() -> None:
    for code, sentence in REASON_SENTENCES.items():
        register_reason(code, sentence)
    if classify_azure_spend not in REASON_CLASSIFIERS:
        REASON_CLASSIFIERS.append(classify_azure_spend)


register()
