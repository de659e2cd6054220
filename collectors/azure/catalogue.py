"""The Azure OpenAI catalogue: account kinds, deployment SKUs and cost-export meter rules, loaded
from `rules/catalogues/azure_openai.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


# The units spend lines carry for provisioned throughput charged by the hour or through a
# reservation, so that coverage can tell them from per-token charges.
PTU_HOURLY_UNIT = "PTU hours"
PTU_RESERVATION_UNIT = "PTU reservation"


@dataclass(frozen=True)
class DeploymentSku:
    """A deployment SKU's billing model (reserved throughput or tokens) and routing scope."""

    name: str
    provisioned: bool
    scope: str
    batch: bool = False


@dataclass(frozen=True)
class CostExportRules:
    """The cost-export rules: which rows are AI spend and how a row's meter is read."""

    meter_categories: tuple[str, ...]
    consumed_services: tuple[str, ...]
    openai_service_name: str
    openai_pattern: str
    ptu_reservation_pattern: str
    ptu_hourly_pattern: str
    direction_patterns: tuple[tuple[str, str], ...]
    token_pattern: str
    model_patterns: tuple[str, ...]


@dataclass(frozen=True)
class AzureCatalogue:
    account_kinds: tuple[str, ...]
    deployment_skus: dict[str, DeploymentSku]
    cost_export: CostExportRules

    def is_ai_account_kind(self, kind: str | None) -> bool:
        return (kind or "").strip().lower() in {k.lower() for k in self.account_kinds}

    def sku(self, name: str | None) -> DeploymentSku | None:
        """Find the SKU entry for `name`, compared case-insensitively, or None for a SKU not catalogued."""
        wanted = (name or "").strip().lower()
        for sku_name, sku in self.deployment_skus.items():
            if sku_name.lower() == wanted:
                return sku
        return None


def any_of(patterns: list[str]) -> str:
    """Join `patterns` into one case-insensitive regular expression, valid in RE2 and `re`."""
    for pattern in patterns:
        re.compile(pattern)
    return "(?i)" + "|".join(f"(?:{pattern})" for pattern in patterns)


@lru_cache(maxsize=1)
def load_catalogue() -> AzureCatalogue:
    text = resources.files("rules").joinpath("catalogues", "azure_openai.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)

    skus = {
        name: DeploymentSku(name, bool(entry["provisioned"]), str(entry["scope"]), bool(entry.get("batch", False)))
        for name, entry in document["deployment_skus"].items()
    }

    export = document["cost_export"]
    kinds = export["charge_kinds"]
    rules = CostExportRules(
        meter_categories=tuple(name.strip().lower() for name in export["meter_categories"]),
        consumed_services=tuple(name.strip().lower() for name in export["consumed_services"]),
        openai_service_name=export["openai_service_name"],
        openai_pattern=any_of(export["openai_patterns"]),
        ptu_reservation_pattern=any_of(kinds["ptu_reservation"]),
        ptu_hourly_pattern=any_of(kinds["ptu_hourly"]),
        direction_patterns=tuple(
            (direction.replace("_", " ") + " tokens", any_of(patterns))
            for direction, patterns in export["token_directions"].items()
        ),
        token_pattern=any_of(export["token_patterns"]),
        model_patterns=tuple(export["model_patterns"]),
    )
    return AzureCatalogue(tuple(document["account_kinds"]), skus, rules)
