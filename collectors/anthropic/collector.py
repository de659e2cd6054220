"""The Anthropic collector: an organisation's workspaces, API keys, messages usage and costs from
the Admin API, live or from a snapshot folder.

Live calls are GETs only, with the admin key (sk-ant-admin01-...) from the environment variable
the config names. Costs become spend lines whose resource is the workspace (`default` for the
default workspace). Workspaces become assets that carry the team the config maps them to.

Known limits: the cost report leaves out Priority Tier costs, which every outcome notes. The
Claude Code usage report is not read. The Admin API lists no admin keys, so an Anthropic admin
key found in code is never matched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from collectors.anthropic import reasons  # noqa: F401 - registers this family's coverage reasons
from collectors.anthropic.organisation import WorkspaceOwners, api_key_asset, default_workspace_asset, workspace_asset
from collectors.anthropic.spend import MessagesUsage, cost_lines
from collectors.contract import CollectContext
from collectors.openai.admin_collector import AdminApiCollector, first_location, record_organisation
from collectors.openai.admin_costs import CostLines
from collectors.openai.admin_pages import ANTHROPIC_LIST, REPORT, Listing, PageSource, ScopeReader
from scanner.config import AuditConfig
from scanner.model import Asset, CollectorOutcome

API_VERSION = "2023-06-01"
LIST_LIMIT = "100"
# Daily buckets per page: 31 is the most either report allows for 1d buckets.
BUCKET_LIMIT = "31"

PRIORITY_TIER_NOTE = (
    "The Anthropic cost report leaves out Priority Tier costs, so Anthropic spend here can be lower than the invoice."
)


@dataclass
class AnthropicInventory:
    workspaces: Listing | None = None
    api_keys: Listing | None = None


class AnthropicCollector(AdminApiCollector[AnthropicInventory, MessagesUsage]):
    """Reads one Anthropic organisation through the Admin API or a snapshot of it."""

    name = "anthropic"
    label = "Anthropic"
    default_base_url = "https://api.anthropic.com"
    default_key_variable = "ANTHROPIC_ADMIN_KEY"
    admin_keys_page = "https://console.anthropic.com/settings/admin-keys"
    root = "/v1/organizations"
    costs_endpoint = "cost_report"
    resource_kind = reasons.WORKSPACE_KIND
    resource_label = "workspace"
    owners_setting = "workspaces"
    key_kind = "anthropic.api_key"

    owners: WorkspaceOwners

    def _owner_mapping(self, settings: dict[str, Any]) -> WorkspaceOwners:
        return WorkspaceOwners(dict(settings.get("workspaces", {})))

    def _auth_headers(self, admin_key: str) -> dict[str, str]:
        return {"x-api-key": admin_key, "anthropic-version": API_VERSION}

    def _read(self, reader: ScopeReader, pages: PageSource, context: CollectContext) -> tuple[AnthropicInventory, MessagesUsage, Listing | None]:
        inventory = AnthropicInventory(
            workspaces=reader.read("workspaces", "workspaces", [("limit", LIST_LIMIT), ("include_archived", "true")], ANTHROPIC_LIST),
            api_keys=reader.read("API keys", "api_keys", [("limit", LIST_LIMIT)], ANTHROPIC_LIST),
        )
        context.progress(reader.scope("inventory"), 1, 3)
        usage_listing = reader.read(
            "messages usage report",
            "usage_report/messages",
            self._report_params(("workspace_id", "api_key_id", "model", "service_tier")),
            REPORT,
        )
        context.progress(reader.scope("usage"), 2, 3)
        costs = reader.read("cost report", self.costs_endpoint, self._report_params(("workspace_id", "description")), REPORT)
        context.progress(reader.scope("costs"), 3, 3)

        usage = MessagesUsage()
        if usage_listing is not None:
            usage.add_report(usage_listing.items)
        return inventory, usage, costs

    def _report_params(self, group_by: tuple[str, ...]) -> list[tuple[str, str]]:
        params = [
            ("starting_at", _rfc3339(self.window.start)),
            ("ending_at", _rfc3339(self.window.end)),
            ("bucket_width", "1d"),
            ("limit", BUCKET_LIMIT),
        ]
        return params + [("group_by[]", field_name) for field_name in group_by]

    def _assets(self, inventory: AnthropicInventory, usage: MessagesUsage) -> list[Asset]:
        workspaces_location = first_location(inventory.workspaces, "workspaces")
        workspaces = [default_workspace_asset(self.organisation, self.owners, workspaces_location)]
        for workspace in inventory.workspaces.items if inventory.workspaces else []:
            if isinstance(workspace.get("id"), str) and workspace["id"]:
                workspaces.append(workspace_asset(workspace, self.organisation, self.owners, workspaces_location))
        for workspace in workspaces:
            if workspace.id in usage.workspaces:
                workspace.attributes["usage"] = usage.workspaces[workspace.id].to_dict()

        by_id = {workspace.id: workspace for workspace in workspaces}
        keys = []
        for key in inventory.api_keys.items if inventory.api_keys else []:
            asset = api_key_asset(key, by_id, first_location(inventory.api_keys, "api_keys"))
            if asset is None:
                continue
            if asset.id in usage.keys:
                asset.attributes["usage"] = usage.keys[asset.id].to_dict()
            keys.append(asset)
        key_inventory = {"key_inventory_complete": inventory.api_keys is not None and inventory.api_keys.complete, "admin_keys_listed": False}
        return workspaces + keys + [self._organisation_asset(key_inventory)]

    def _cost_lines(self, buckets: list[dict[str, Any]], resources: dict[str, Asset], location: str) -> CostLines:
        return cost_lines(buckets, self.organisation, resources, location)

    def _add_notes(self, inventory: AnthropicInventory, usage: MessagesUsage, assets: list[Asset], outcome: CollectorOutcome) -> None:
        outcome.notes.append(PRIORITY_TIER_NOTE)
        if usage.priority_tokens:
            outcome.notes.append(
                f"The messages usage report shows {usage.priority_tokens:,} Priority Tier tokens in the window; their cost is not in the cost report."
            )
        if usage.tokens_without_key:
            outcome.notes.append(
                f"{usage.tokens_without_key:,} tokens in the window carry no API key (Console use), so no key can be matched to them."
            )
        self._note_unknown_names(inventory.workspaces, outcome)
        self._note_unlisted_keys(usage.keys, assets, "deleted since", outcome)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Read the organisation live and save every page into `out_dir` as the API returned it."""
    return record_organisation(AnthropicCollector(config, record_to=out_dir), logger)
