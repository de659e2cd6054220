"""The Terraform analyser: AI resources declared in `.tf` files (Bedrock inference profiles and
agents, Azure Cognitive Services accounts and deployments, Vertex AI endpoints...) with the
tags or labels they set, for the required-tags check.

Resource types and where their tags are come from `terraform` in rules/catalogues/ai_sdks.yaml.
A tag value written as an expression (`var.team`) counts as set; a tags argument that is an
expression as a whole (`tags = local.tags`, `merge(...)`) cannot be read, and is reported as unreadable. The
`default_tags` of AWS provider blocks and the `default_labels` of Google provider blocks apply
to every resource of the same folder; the collector joins them (see `merge_default_tags`).
"""

from __future__ import annotations

import re
from typing import Any

from collectors.code.inventory import IAC_RESOURCE, InventoryOccurrence
from collectors.code.pipeline import Document, ScanOptions
from collectors.code.sdks import load_catalogue

# Provider blocks whose default tags or labels apply to the provider's resources.
DEFAULT_TAGS = {"aws": ("default_tags", "tags"), "google": ("default_labels", None), "google-beta": ("default_labels", None)}
PROVIDER_DEFAULTS = "code.iac_provider_defaults"  # an internal item, never an asset

# hcl2 keeps `${...}` around an expression it cannot evaluate.
INTERPOLATION = re.compile(r"^\$\{.*\}$", re.DOTALL)


class TerraformAnalyser:
    """Lists the AI resources of a Terraform file, with their tags."""

    name = "terraform"
    literals: tuple[str, ...] = ()

    def __init__(self, options: ScanOptions):
        self.catalogue = load_catalogue()

    def accepts_path(self, path: str) -> bool:
        return path.endswith(".tf")

    def analyse(self, document: Document) -> list[InventoryOccurrence]:
        text = document.text
        if not any(name in text for name in self.catalogue.terraform) and not _has_provider_defaults(text):
            return []
        try:
            import hcl2

            parsed = hcl2.loads(text, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
        except Exception as error:  # noqa: BLE001 - hcl2 raises lark errors of many types for bad input
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            document.report(f"not valid Terraform ({message[:120]}); its AI resources were not listed")
            return []

        items = [*self._provider_defaults(parsed, document)]
        for block in parsed.get("resource", []):
            for resource_type, named in block.items():
                resource = self.catalogue.terraform.get(resource_type)
                if resource is None:
                    continue
                for name, body in named.items():
                    items.append(self._resource(document, resource_type, name, body, resource))
        return items

    def _resource(self, document: Document, resource_type: str, name: str, body: dict[str, Any], resource) -> InventoryOccurrence:
        line = _block_line(document.text, "resource", resource_type, name)
        tags: dict[str, str] | None = None
        tags_status = "not_taggable"
        if resource.tags is not None:
            raw = body.get(resource.tags)
            if raw is None:
                tags, tags_status = {}, "absent"
            elif isinstance(raw, dict):
                tags = {str(key): _value(value) for key, value in raw.items() if not str(key).startswith("__")}
                tags_status = "present"
            else:
                tags_status = "unresolved"
        attributes = {
            "resource_type": resource_type,
            "resource_kind": resource.kind,
            "address": f"{resource_type}.{name}",
            "tags_argument": resource.tags,
            "tags_status": tags_status,
            "folder": _folder(document.source.path),
        }
        model = _model_reference(body)
        if model:
            attributes["model"] = model
        return InventoryOccurrence(
            kind=IAC_RESOURCE, scope=document.source.scope, path=document.source.path, line=line, column=1,
            provider=resource.provider, name=f"{resource_type}.{name}", attributes=attributes, tags=tags,
            commit=document.source.commit,
        )

    def _provider_defaults(self, parsed: dict[str, Any], document: Document) -> list[InventoryOccurrence]:
        items = []
        for block in parsed.get("provider", []):
            for provider_name, body in block.items():
                if provider_name not in DEFAULT_TAGS or not isinstance(body, dict):
                    continue
                block_key, inner_key = DEFAULT_TAGS[provider_name]
                raw = body.get(block_key)
                if isinstance(raw, list):
                    raw = raw[0] if raw else None
                if isinstance(raw, dict) and inner_key:
                    raw = raw.get(inner_key)
                if raw is None:
                    continue
                status = "present" if isinstance(raw, dict) else "unresolved"
                tags = {str(key): _value(value) for key, value in raw.items() if not str(key).startswith("__")} if isinstance(raw, dict) else {}
                items.append(
                    InventoryOccurrence(
                        kind=PROVIDER_DEFAULTS, scope=document.source.scope, path=document.source.path,
                        line=_block_line(document.text, "provider", provider_name), column=1,
                        provider="aws" if provider_name == "aws" else "gcp", name=provider_name,
                        attributes={"folder": _folder(document.source.path), "tags_status": status}, tags=tags,
                    )
                )
        return items


def merge_default_tags(items: list[InventoryOccurrence]) -> list[InventoryOccurrence]:
    """Apply each folder's provider default tags to that folder's resources of the same provider,
    and drop the provider-default items. A resource's own tag wins over a default."""
    from dataclasses import replace

    defaults: dict[tuple[str, str, str], list[InventoryOccurrence]] = {}
    for item in items:
        if item.kind == PROVIDER_DEFAULTS:
            defaults.setdefault((item.scope, item.attributes["folder"], item.provider), []).append(item)

    merged = []
    for item in items:
        if item.kind == PROVIDER_DEFAULTS:
            continue
        found = defaults.get((item.scope, item.attributes.get("folder", ""), item.provider)) if item.kind == IAC_RESOURCE else None
        if found and item.attributes.get("tags_argument"):
            default_tags: dict[str, str] = {}
            unresolved = False
            for provider_block in found:
                default_tags.update(provider_block.tags or {})
                unresolved = unresolved or provider_block.attributes["tags_status"] == "unresolved"
            attributes = {**item.attributes, "default_tags": default_tags, "default_tags_unresolved": unresolved}
            tags = {**default_tags, **(item.tags or {})}
            item = replace(item, attributes=attributes, tags=tags)
        merged.append(item)
    return merged


def _has_provider_defaults(text: str) -> bool:
    return "default_tags" in text or "default_labels" in text


def _value(value: Any) -> str:
    """Return a tag value as written; an expression keeps its `${...}` form."""
    if isinstance(value, str):
        return value
    return str(value)


def _model_reference(body: dict[str, Any]) -> str | None:
    """Return the model an AI resource points at, where the resource names one as a literal."""
    for key in ("foundation_model", "model_arn"):
        value = body.get(key)
        if isinstance(value, str) and not INTERPOLATION.match(value):
            return value
    source = body.get("model_source")
    if isinstance(source, list) and source and isinstance(source[0], dict):
        copy_from = source[0].get("copy_from")
        if isinstance(copy_from, str) and not INTERPOLATION.match(copy_from):
            return copy_from
    model = body.get("model")
    if isinstance(model, list) and model and isinstance(model[0], dict):
        name = model[0].get("name")
        if isinstance(name, str) and not INTERPOLATION.match(name):
            return name
    return None


def _block_line(text: str, block: str, *labels: str) -> int:
    pattern = r"^[ \t]*" + re.escape(block) + "".join(r'\s+"?' + re.escape(label) + r'"?' for label in labels) + r"\s*\{"
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
