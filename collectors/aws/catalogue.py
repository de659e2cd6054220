"""The Bedrock catalogue (rules/catalogues/aws_bedrock.yaml) and what it decides: which kind of
model identifier a `modelId`, an ARN or a CUR resource ID is, and which billing rows are Bedrock.

This module imports no AWS SDK, so the coverage classifiers and the rules can use it cheaply.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable

import yaml

# Kinds of model identifier, as Bedrock accepts them in `modelId`.
APPLICATION_PROFILE = "application_profile"
SYSTEM_PROFILE = "system_profile"
FOUNDATION_MODEL = "foundation_model"
PROVISIONED_THROUGHPUT = "provisioned_throughput"
CUSTOM_MODEL = "custom_model"
IMPORTED_MODEL = "imported_model"
PROMPT_ROUTER = "prompt_router"
MARKETPLACE_ENDPOINT = "marketplace_endpoint"
UNKNOWN = "unknown"

# Only these kinds can carry tags that reach the bill for the tokens a call spends.
ATTRIBUTABLE_KINDS = frozenset({APPLICATION_PROFILE, PROVISIONED_THROUGHPUT})

# The resource type part of a Bedrock ARN (`arn:aws:bedrock:<region>:<account>:<type>/<id>`).
_ARN_RESOURCE_KINDS = {
    "application-inference-profile": APPLICATION_PROFILE,
    "inference-profile": SYSTEM_PROFILE,
    "foundation-model": FOUNDATION_MODEL,
    "provisioned-model": PROVISIONED_THROUGHPUT,
    "custom-model": CUSTOM_MODEL,
    "custom-model-deployment": CUSTOM_MODEL,
    "imported-model": IMPORTED_MODEL,
    "prompt-router": PROMPT_ROUTER,
    "default-prompt-router": PROMPT_ROUTER,
    "marketplace/model-endpoint": MARKETPLACE_ENDPOINT,
}

_BEDROCK_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:"
    r"(?P<type>[a-z-]+(?:/model-endpoint)?)/(?P<id>.+)$"
)


@dataclass(frozen=True)
class Catalogue:
    """The parsed catalogue file."""

    system_profile_prefixes: tuple[str, ...]
    foundation_model_providers: frozenset[str]
    product_codes: frozenset[str]
    product_names: frozenset[str]
    marketplace_name_suffix: str
    usage_type_regions: dict[str, str]
    usage_type_directions: tuple[tuple[str, str], ...]
    usage_type_batch_markers: tuple[str, ...]
    usage_type_cross_region_markers: tuple[str, ...]
    invoke_actions: tuple[str, ...]
    inference_profile_condition_key: str


@functools.cache
def load_catalogue() -> Catalogue:
    text = resources.files("rules").joinpath("catalogues", "aws_bedrock.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    return Catalogue(
        system_profile_prefixes=tuple(raw["system_profile_prefixes"]),
        foundation_model_providers=frozenset(raw["foundation_model_providers"]),
        product_codes=frozenset(code.lower() for code in raw["product_codes"]),
        product_names=frozenset(name.lower() for name in raw["product_names"]),
        marketplace_name_suffix=raw["marketplace_name_suffix"].lower(),
        usage_type_regions=dict(raw["usage_type_regions"]),
        usage_type_directions=tuple((entry["marker"], entry["direction"]) for entry in raw["usage_type_directions"]),
        usage_type_batch_markers=tuple(raw["usage_type_batch_markers"]),
        usage_type_cross_region_markers=tuple(raw["usage_type_cross_region_markers"]),
        invoke_actions=tuple(raw["invoke_actions"]),
        inference_profile_condition_key=raw["inference_profile_condition_key"],
    )


@dataclass(frozen=True)
class BedrockArn:
    partition: str
    region: str
    account: str
    resource_type: str
    resource_id: str


def parse_bedrock_arn(text: str) -> BedrockArn | None:
    match = _BEDROCK_ARN.match(text.strip())
    if match is None:
        return None
    return BedrockArn(
        partition=match["partition"],
        region=match["region"],
        account=match["account"] or "",
        resource_type=match["type"],
        resource_id=match["id"],
    )


def classify_model_id(model_id: str, system_profile_ids: Iterable[str] = ()) -> str:
    """Name the kind of a `modelId` as Bedrock receives it: an ARN or a bare ID.

    `system_profile_ids` are the IDs a live ListInferenceProfiles returned as SYSTEM_DEFINED,
    which covers geographies newer than the catalogue.
    """
    text = model_id.strip()
    if not text:
        return UNKNOWN

    arn = parse_bedrock_arn(text)
    if arn is not None:
        return _ARN_RESOURCE_KINDS.get(arn.resource_type, UNKNOWN)

    catalogue = load_catalogue()
    if text in set(system_profile_ids) or text.startswith(catalogue.system_profile_prefixes):
        return SYSTEM_PROFILE
    provider = text.split(".", 1)[0]
    if "." in text and provider in catalogue.foundation_model_providers:
        return FOUNDATION_MODEL
    return UNKNOWN


def short_model_id(model_id: str) -> str:
    """Return the ID part of a Bedrock ARN (`anthropic.claude-3-haiku...` of a foundation-model
    ARN), or the text itself when it is not an ARN."""
    arn = parse_bedrock_arn(model_id)
    return arn.resource_id if arn else model_id.strip()


def is_bedrock_service(service: str) -> bool:
    """Whether a billing service or product name is Bedrock or a Bedrock marketplace model."""
    catalogue = load_catalogue()
    name = service.strip().lower()
    return name in catalogue.product_names or name.endswith(catalogue.marketplace_name_suffix)


def is_marketplace_model(service: str) -> bool:
    return service.strip().lower().endswith(load_catalogue().marketplace_name_suffix)
