"""Why AWS Bedrock spend reaches no owner: the reasons the coverage graph shows for it.

Importing this module registers the reasons and appends one classifier to
`scanner.coverage.REASON_CLASSIFIERS`, once per process. The collectors package imports it, and
the CLI imports every collectors package at start-up, so Bedrock spend from any billing source
(FOCUS, CUR) is classified even when `sources.aws` is not configured.

Owners come only from tags the bill shows. A profile's own tags never attribute its spend here:
a tag that is set on the profile but not activated as a cost-allocation tag is missing from the
bill, and that gap is the reason `tag_not_active`.
"""

from __future__ import annotations

from scanner.config import Policy
from scanner.coverage import REASON_CLASSIFIERS, register_reason
from scanner.model import Asset, SpendLine

from collectors.aws import kinds
from collectors.aws.catalogue import (
    FOUNDATION_MODEL,
    SYSTEM_PROFILE,
    classify_model_id,
    is_bedrock_service,
    is_marketplace_model,
)

ACTIVE = "Active"

REASONS = {
    "system_profile": (
        "Bedrock spend through a system-defined (cross-region) inference profile, which cannot carry tags."
    ),
    "foundation_model": (
        "Bedrock spend on a foundation model called by its bare model ID, which no application inference profile carries."
    ),
    "bedrock_no_resource": "Amazon Bedrock spend with no resource ID, so no inference profile or tag can be joined to it.",
    "marketplace_model": (
        "A third-party model sold through AWS Marketplace for Bedrock, billed with no resource ID and no profile tags."
    ),
    "tag_not_active": (
        "The resource carries an owner tag, but that tag key is not activated as a cost-allocation tag, so the bill does not show it."
    ),
    "tag_not_in_billing": (
        "The resource carries an owner tag that is activated for cost allocation, but this spend's billing rows lack it "
        "(activation is not retroactive)."
    ),
    "tag_activation_unknown": (
        "The resource carries an owner tag, but whether it is activated for cost allocation could not be read "
        "(Cost Explorer ListCostAllocationTags)."
    ),
}


def classify_bedrock_spend(line: SpendLine, asset: Asset | None, policy: Policy) -> str | None:
    """Return the reason an unattributed AWS spend line has no owner, or None when it is not Bedrock spend."""
    if line.provider != "aws":
        return None

    if asset is not None and asset.kind in kinds.TAGGED_BILLING_UNITS:
        return owner_tag_reason(asset, policy)

    if line.resource_id:
        kind = classify_model_id(line.resource_id)
        if kind == SYSTEM_PROFILE:
            return "system_profile"
        if kind == FOUNDATION_MODEL:
            return "foundation_model"
        return None

    if is_marketplace_model(line.service):
        return "marketplace_model"
    if is_bedrock_service(line.service):
        return "bedrock_no_resource"
    return None


def owner_tag_reason(asset: Asset, policy: Policy) -> str | None:
    """Explain why an owner tag set on a profile or provisioned throughput did not reach the bill,
    or return None when the asset carries no owner tag at all."""
    statuses: dict[str, str] = asset.attributes.get("cost_allocation_status") or {}
    for key in policy.owner_tags:
        if not asset.tags.values.get(key):
            continue
        original_key = asset.tags.original_keys.get(key, key)
        status = statuses.get(original_key)
        if status == ACTIVE:
            return "tag_not_in_billing"
        if status is None and not asset.attributes.get("cost_allocation_read", False):
            return "tag_activation_unknown"
        return "tag_not_active"
    return None


def _register() -> None:
    for code, sentence in REASONS.items():
        register_reason(code, sentence)
    if not any(getattr(classifier, "__name__", "") == classify_bedrock_spend.__name__ for classifier in REASON_CLASSIFIERS):
        REASON_CLASSIFIERS.append(classify_bedrock_spend)


_register()
