"""Load the AI service catalogue, the rules in rules/catalogues/ai_services.yaml that tell AI spend
from other billing rows and give providers their short IDs."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

CATALOGUE_PACKAGE = "rules"
CATALOGUE_PATH = "catalogues/ai_services.yaml"


@dataclass(frozen=True)
class ProviderEntry:
    """One provider of the catalogue: the names exports give it and its AI services."""

    id: str
    names: tuple[str, ...]
    ai_services: tuple[str, ...] = ()
    ai_service_patterns: tuple[str, ...] = ()
    ai_vendor: bool = False


@dataclass(frozen=True)
class AiServiceCatalogue:
    """The rules that tell AI spend from other billing rows, and the short IDs of providers."""

    service_categories: tuple[str, ...]
    service_subcategories: tuple[str, ...]
    model_columns: tuple[str, ...]
    providers: tuple[ProviderEntry, ...]

    @functools.cached_property
    def _provider_ids(self) -> dict[str, str]:
        return {name.lower(): provider.id for provider in self.providers for name in provider.names}

    def provider_id(self, name: str | None) -> str:
        """Return the short ID of a provider name, or a lower-case slug of a name not listed."""
        if not name or not name.strip():
            return "unknown"
        known = self._provider_ids.get(name.strip().lower())
        if known:
            return known
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"

    def vendor_names(self) -> list[str]:
        return [name for provider in self.providers if provider.ai_vendor for name in provider.names]

    def matching_pattern(self, provider_id: str, service: str) -> str | None:
        """Return the first pattern of the provider that matches the whole service name."""
        for provider in self.providers:
            if provider.id != provider_id:
                continue
            for pattern in provider.ai_service_patterns:
                if re.fullmatch(pattern, service.strip(), re.IGNORECASE):
                    return pattern
        return None


@functools.cache
def load_catalogue() -> AiServiceCatalogue:
    """Load and check the AI service catalogue shipped in the `rules` package."""
    text = resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_PATH).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


def parse_catalogue(document: dict[str, Any]) -> AiServiceCatalogue:
    if document.get("version") != 1:
        raise ValueError(f"{CATALOGUE_PATH}: expected version 1, got {document.get('version')!r}")

    providers = []
    for provider_id, entry in sorted(document.get("providers", {}).items()):
        patterns = tuple(entry.get("ai_service_patterns", ()))
        for pattern in patterns:
            _check_pattern(provider_id, pattern)
        providers.append(
            ProviderEntry(
                id=provider_id,
                names=tuple(entry["names"]),
                ai_services=tuple(entry.get("ai_services", ())),
                ai_service_patterns=patterns,
                ai_vendor=bool(entry.get("ai_vendor", False)),
            )
        )

    return AiServiceCatalogue(
        service_categories=tuple(document["service_categories"]),
        service_subcategories=tuple(document["service_subcategories"]),
        model_columns=tuple(document.get("model_columns", ())),
        providers=tuple(providers),
    )


def _check_pattern(provider_id: str, pattern: str) -> None:
    """Reject a pattern Python cannot compile or that uses syntax RE2 (DuckDB) lacks."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{CATALOGUE_PATH}: invalid pattern {pattern!r} for {provider_id}: {error}") from None
    if re.search(r"\(\?[=!<]|\\[1-9]", pattern):
        raise ValueError(
            f"{CATALOGUE_PATH}: pattern {pattern!r} for {provider_id} uses a look-around or a "
            "back-reference, which DuckDB's RE2 does not support"
        )
