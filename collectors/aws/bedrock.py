"""Parse Bedrock control-plane responses into assets: inference profiles, provisioned throughput,
custom and imported models, and each region's invocation-logging configuration.

The functions take the response dictionaries of the `bedrock` API, live or from a snapshot, and
return assets. They make no calls themselves.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from scanner.model import Asset, SourceRef, Tags

from collectors.aws import kinds
from collectors.aws.catalogue import short_model_id


def iso_utc(value: Any) -> str | None:
    """Write a time from boto3 (datetime) or a snapshot (ISO 8601 text) as ISO 8601 in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def tags_from_response(response: dict[str, Any]) -> dict[str, str]:
    """Read tags from `bedrock` ListTagsForResource (a list of {key, value}) or `bedrock-agent`
    ListTagsForResource (a map)."""
    raw = response.get("tags") or {}
    if isinstance(raw, dict):
        return {str(key): "" if value is None else str(value) for key, value in raw.items()}
    return {str(item.get("key")): str(item.get("value") or "") for item in raw if item.get("key")}


def resource_asset(
    kind: str,
    arn: str,
    name: str | None,
    tags: dict[str, str] | None,
    account: str,
    region: str,
    *,
    operation: str,
    attributes: dict[str, Any],
) -> Asset:
    """Build the asset of one tagged Bedrock resource in `account` and `region`. `operation`
    (`bedrock:ListCustomModels`) is the call the resource was read from, and `tags` is None when
    they could not be read."""
    return Asset(
        kind=kind,
        id=arn,
        provider="aws",
        scope=account,
        name=name,
        tags=Tags.from_mapping(tags or {}),
        attributes={"account": account, "region": region, **attributes, "tags_read": tags is not None},
        source=SourceRef(f"aws:{account}:{region}:{operation}"),
    )


def application_profile_asset(profile: dict[str, Any], tags: dict[str, str] | None, account: str, region: str) -> Asset:
    """Build an application inference profile asset from GetInferenceProfile (or its
    ListInferenceProfiles summary) and its tags. `tags` is None when they could not be read."""
    models = [model.get("modelArn", "") for model in profile.get("models") or [] if model.get("modelArn")]
    attributes: dict[str, Any] = {
        "profile_id": profile.get("inferenceProfileId"),
        "status": profile.get("status"),
        "type": profile.get("type"),
        "models": models,
        "model_ids": sorted({short_model_id(model) for model in models}),
        "created_at": iso_utc(profile.get("createdAt")),
        "updated_at": iso_utc(profile.get("updatedAt")),
    }
    asset = resource_asset(
        kinds.APPLICATION_PROFILE,
        profile["inferenceProfileArn"],
        profile.get("inferenceProfileName"),
        tags,
        account,
        region,
        operation="bedrock:GetInferenceProfile",
        attributes=attributes,
    )
    if profile.get("description"):
        asset.attributes["description"] = profile["description"]
    return asset


def provisioned_throughput_asset(summary: dict[str, Any], tags: dict[str, str] | None, account: str, region: str) -> Asset:
    attributes = {
        "model": summary.get("modelArn"),
        "foundation_model": summary.get("foundationModelArn"),
        "model_units": summary.get("modelUnits"),
        "status": summary.get("status"),
        "commitment": summary.get("commitmentDuration"),
        "commitment_expires_at": iso_utc(summary.get("commitmentExpirationTime")),
        "created_at": iso_utc(summary.get("creationTime")),
    }
    return resource_asset(
        kinds.PROVISIONED_THROUGHPUT,
        summary["provisionedModelArn"],
        summary.get("provisionedModelName"),
        tags,
        account,
        region,
        operation="bedrock:ListProvisionedModelThroughputs",
        attributes=attributes,
    )


def custom_model_asset(summary: dict[str, Any], tags: dict[str, str] | None, account: str, region: str) -> Asset:
    attributes = {
        "base_model": summary.get("baseModelArn"),
        "customization_type": summary.get("customizationType"),
        "status": summary.get("modelStatus"),
        "created_at": iso_utc(summary.get("creationTime")),
    }
    return resource_asset(
        kinds.CUSTOM_MODEL,
        summary["modelArn"],
        summary.get("modelName"),
        tags,
        account,
        region,
        operation="bedrock:ListCustomModels",
        attributes=attributes,
    )


def imported_model_asset(summary: dict[str, Any], tags: dict[str, str] | None, account: str, region: str) -> Asset:
    attributes = {"architecture": summary.get("modelArchitecture"), "created_at": iso_utc(summary.get("creationTime"))}
    return resource_asset(
        kinds.IMPORTED_MODEL,
        summary["modelArn"],
        summary.get("modelName"),
        tags,
        account,
        region,
        operation="bedrock:ListImportedModels",
        attributes=attributes,
    )


def logging_settings(response: dict[str, Any]) -> dict[str, Any]:
    """Summarise GetModelInvocationLoggingConfiguration: whether logs are written, and where."""
    config = response.get("loggingConfig") or {}
    s3 = config.get("s3Config") or {}
    cloudwatch = config.get("cloudWatchConfig") or {}
    delivery = {
        name: bool(config.get(f"{name}DataDeliveryEnabled"))
        for name in ("text", "image", "embedding", "video", "audio")
        if f"{name}DataDeliveryEnabled" in config
    }
    return {
        "enabled": bool(s3.get("bucketName") or cloudwatch.get("logGroupName")),
        "s3_bucket": s3.get("bucketName"),
        "s3_prefix": s3.get("keyPrefix"),
        "log_group": cloudwatch.get("logGroupName"),
        "data_delivery": delivery,
    }


def region_asset(account: str, region: str, record: dict[str, Any]) -> Asset:
    """Build the asset of one account and region's Bedrock settings and counts, which the logging
    rule judges."""
    return Asset(
        kind=kinds.REGION,
        id=f"{account}/{region}/bedrock",
        provider="aws",
        scope=account,
        name=f"Bedrock in {account} {region}",
        attributes={"account": account, "region": region, **record},
        source=SourceRef(f"aws:{account}:{region}:bedrock"),
    )
