"""AI inventory items found in code besides calls: SDK packages in manifests, AI resources in
Terraform, AI settings in .env files, MCP server configurations and notebooks that use AI.

The analysers (manifests.py, terraform.py, ai_config.py, python_calls.py for notebooks) return
`InventoryOccurrence`s; the collector turns each into an asset of its kind. None carries a
secret: .env values are read only for endpoint variables, and only their host is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanner.model import Asset, SourceRef, Tags

AI_PACKAGE = "code.ai_package"
IAC_RESOURCE = "code.iac_resource"
AI_SETTING = "code.ai_setting"
MCP_SERVER = "code.mcp_server"
NOTEBOOK = "code.notebook"

INVENTORY_KINDS = (AI_PACKAGE, IAC_RESOURCE, AI_SETTING, MCP_SERVER, NOTEBOOK)


@dataclass(frozen=True)
class InventoryOccurrence:
    """One AI item found in a file. `name` identifies it within the file (a package, a Terraform
    address, a variable, a server name); `tags` are a Terraform resource's literal tags or labels."""

    kind: str
    scope: str
    path: str
    line: int
    column: int
    provider: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] | None = None
    commit: str | None = None


def inventory_asset(item: InventoryOccurrence, repository: str | None = None) -> Asset:
    """Build the asset of one inventory item; its id is the kind's short name, file and name."""
    attributes = {**item.attributes, "path": item.path, "line": item.line, "column": item.column}
    if item.commit:
        attributes["commit"] = item.commit
    if repository:
        attributes["repository"] = repository
    short_kind = item.kind.split(".", 1)[1]
    return Asset(
        kind=item.kind,
        id=f"{short_kind}:{item.path}:{item.name}",
        provider=item.provider,
        scope=item.scope,
        name=item.name,
        tags=Tags.from_mapping(item.tags) if item.tags else Tags(),
        attributes=attributes,
        source=SourceRef(location=item.path, row=item.line),
    )
