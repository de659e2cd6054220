"""The GCP catalogue (`rules/catalogues/gcp_vertex.yaml`) loaded once into typed, compiled form."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml


@dataclass(frozen=True)
class PartnerModel:
    """A publisher whose models Vertex AI bills as their own marketplace services."""

    publisher: str
    service_pattern: str
    request_labels: str

    def matches(self, service: str) -> bool:
        return re.fullmatch(self.service_pattern, service.strip(), re.IGNORECASE) is not None


@dataclass(frozen=True)
class LabelSyntax:
    """Google Cloud's label rules, with characters checked by Unicode general category."""

    max_key_length: int
    max_value_length: int
    max_labels: int
    max_labels_partner_call: int
    key_first_categories: frozenset[str]
    character_categories: frozenset[str]
    extra_characters: str


@dataclass(frozen=True)
class Catalogue:
    project_asset_type: str
    service_asset_type: str
    vertex_asset_types: str
    ai_services: dict[str, str]
    vertex_service: str
    billing_ai_services: frozenset[str]
    partner_models: tuple[PartnerModel, ...]
    sku_models: tuple[re.Pattern[str], ...]
    sku_variants: tuple[tuple[str, re.Pattern[str]], ...]
    labels: LabelSyntax

    def partner_model(self, service: str | None) -> PartnerModel | None:
        """Return the partner whose marketplace service `service` is, or None for Google's own."""
        if not service:
            return None
        return next((partner for partner in self.partner_models if partner.matches(service)), None)

    def is_ai_billing_service(self, service: str | None) -> bool:
        if not service:
            return False
        return service.strip().lower() in self.billing_ai_services or self.partner_model(service) is not None

    def billing_service_pattern(self) -> str:
        """Build one case-insensitive pattern (RE2 syntax, whole value) that matches every AI
        service description in the billing export, for the SQL filter."""
        names = [re.escape(name) for name in sorted(self.billing_ai_services)]
        partners = [partner.service_pattern for partner in self.partner_models]
        return "(?i)^\\s*(" + "|".join(f"(?:{part})" for part in names + partners) + ")\\s*$"

    def model_of(self, service: str, sku: str | None) -> str | None:
        """Return the model a billing row is for, with its pricing variant when it is not
        standard: `Gemini 2.5 Pro (batch)`. Partner-model rows take their service description."""
        model = service.strip() if self.partner_model(service) else None
        if model is None and sku:
            for pattern in self.sku_models:
                match = pattern.fullmatch(sku.strip())
                if match:
                    model = match.group("model")
                    break

        variant = self.variant_of(sku)
        if variant is None:
            return model
        # A batch or long-context SKU whose model is unknown keeps its own description, so that
        # it never merges with standard usage.
        return f"{model or (sku or '').strip()} ({variant})"

    def variant_of(self, sku: str | None) -> str | None:
        if not sku:
            return None
        for name, pattern in self.sku_variants:
            if pattern.search(sku):
                return name
        return None


@functools.cache
def load_catalogue() -> Catalogue:
    text = resources.files("rules").joinpath("catalogues", "gcp_vertex.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)

    labels = document["labels"]
    return Catalogue(
        project_asset_type=document["asset_types"]["project"],
        service_asset_type=document["asset_types"]["service"],
        vertex_asset_types=document["asset_types"]["vertex"],
        ai_services=dict(document["ai_services"]),
        vertex_service=document["vertex_service"],
        billing_ai_services=frozenset(name.strip().lower() for name in document["billing_ai_services"]),
        partner_models=tuple(
            PartnerModel(entry["publisher"], entry["service_pattern"], entry["request_labels"])
            for entry in document["partner_models"]
        ),
        sku_models=tuple(re.compile(pattern, re.IGNORECASE) for pattern in document["sku_models"]),
        sku_variants=tuple(
            (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in document["sku_variants"].items()
        ),
        labels=LabelSyntax(
            max_key_length=labels["max_key_length"],
            max_value_length=labels["max_value_length"],
            max_labels=labels["max_labels"],
            max_labels_partner_call=labels["max_labels_partner_call"],
            key_first_categories=frozenset(labels["key_first_categories"]),
            character_categories=frozenset(labels["character_categories"]),
            extra_characters=labels["extra_characters"],
        ),
    )
