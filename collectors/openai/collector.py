"""The OpenAI collector: an organisation's projects, keys, service accounts, users, admin keys,
usage and costs from the Admin API, live or from a snapshot folder.

Live calls are GETs only, with the admin key from the environment variable the config names.
Costs become spend lines whose resource is the project. Projects become assets that carry the
team the config maps them to, which is how the coverage graph reaches an owner.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.contract import CollectContext
from collectors.openai import reasons  # noqa: F401 - registers this family's coverage reasons
from collectors.openai.admin_collector import AdminApiCollector, first_location, record_organisation
from collectors.openai.admin_costs import CostLines
from collectors.openai.admin_pages import OPENAI_LIST, REPORT, Listing, PageSource, ScopeReader
from collectors.openai.organisation import (
    ProjectOwners,
    admin_key_asset,
    api_key_asset,
    project_asset,
    service_account_asset,
    user_asset,
)
from collectors.openai.spend import USAGE_GROUPING, UsageByKey, cost_lines
from scanner.config import AuditConfig
from scanner.model import Asset, CollectorOutcome

LIST_LIMIT = "100"
# Daily buckets per page: 31 is the most the usage reports allow for 1d buckets.
BUCKET_LIMIT = "31"
DEFAULT_CONCURRENCY = 4


@dataclass
class OpenAIInventory:
    """The organisation listings as read, before they become assets."""

    projects: Listing | None = None
    project_keys: dict[str, Listing | None] = field(default_factory=dict)
    service_accounts: dict[str, Listing | None] = field(default_factory=dict)
    users: Listing | None = None
    admin_keys: Listing | None = None


class OpenAICollector(AdminApiCollector[OpenAIInventory, UsageByKey]):
    """Reads one OpenAI organisation through the Admin API or a snapshot of it."""

    name = "openai"
    label = "OpenAI"
    default_base_url = "https://api.openai.com/v1"
    default_key_variable = "OPENAI_ADMIN_KEY"
    admin_keys_page = "https://platform.openai.com/settings/organization/admin-keys"
    root = "/organization"
    costs_endpoint = "costs"
    resource_kind = reasons.PROJECT_KIND
    resource_label = "project"
    owners_setting = "projects"
    key_kind = "openai.api_key"

    owners: ProjectOwners

    def _owner_mapping(self, settings: dict[str, Any]) -> ProjectOwners:
        return ProjectOwners(dict(settings.get("projects", {})), settings.get("default_project"))

    def _auth_headers(self, admin_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {admin_key}"}

    def _read(self, reader: ScopeReader, pages: PageSource, context: CollectContext) -> tuple[OpenAIInventory, UsageByKey, Listing | None]:
        inventory = self._read_inventory(reader, context)
        usage = self._read_usage(reader, pages, context)
        costs = reader.read("costs", self.costs_endpoint, self._report_params(("project_id", "line_item")), REPORT)
        context.progress(reader.scope("costs"), 1, 1)
        return inventory, usage, costs

    def _read_inventory(self, reader: ScopeReader, context: CollectContext) -> OpenAIInventory:
        inventory = OpenAIInventory()
        inventory.projects = reader.read("projects", "projects", [("limit", LIST_LIMIT), ("include_archived", "true")], OPENAI_LIST)
        project_ids = [p["id"] for p in (inventory.projects.items if inventory.projects else []) if isinstance(p.get("id"), str)]

        def read_project(project_id: str) -> tuple[str, Listing | None, Listing | None]:
            keys = reader.read(f"project {project_id} API keys", f"projects/{project_id}/api_keys", [("limit", LIST_LIMIT)], OPENAI_LIST)
            accounts = reader.read(
                f"project {project_id} service accounts", f"projects/{project_id}/service_accounts", [("limit", LIST_LIMIT)], OPENAI_LIST
            )
            return project_id, keys, accounts

        concurrency = self.settings.get("concurrency", DEFAULT_CONCURRENCY)
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="openai") as pool:
            for done, (project_id, keys, accounts) in enumerate(pool.map(read_project, project_ids), start=1):
                inventory.project_keys[project_id] = keys
                inventory.service_accounts[project_id] = accounts
                context.progress(reader.scope("projects"), done, len(project_ids))

        inventory.users = reader.read("users", "users", [("limit", LIST_LIMIT)], OPENAI_LIST)
        inventory.admin_keys = reader.read("admin API keys", "admin_api_keys", [("limit", LIST_LIMIT)], OPENAI_LIST)
        return inventory

    def _read_usage(self, reader: ScopeReader, pages: PageSource, context: CollectContext) -> UsageByKey:
        usage = UsageByKey()
        for done, report in enumerate(self._usage_reports(pages), start=1):
            listing = reader.read(f"usage {report}", f"usage/{report}", self._report_params(USAGE_GROUPING[report]), REPORT)
            if listing is not None:
                usage.add_report(report, listing.items)
            context.progress(reader.scope("usage"), done, None)
        return usage

    def _usage_reports(self, pages: PageSource) -> list[str]:
        """Return the configured usage reports; by default every report live, and those a snapshot contains."""
        if "usage" in self.settings:
            return list(self.settings["usage"])
        return [report for report in USAGE_GROUPING if pages.has(f"usage/{report}")]

    def _report_params(self, group_by: tuple[str, ...]) -> list[tuple[str, str]]:
        params = [
            ("start_time", str(int(self.window.start.timestamp()))),
            ("end_time", str(int(self.window.end.timestamp()))),
            ("bucket_width", "1d"),
            ("limit", BUCKET_LIMIT),
        ]
        return params + [("group_by", field_name) for field_name in group_by]

    def _assets(self, inventory: OpenAIInventory, usage: UsageByKey) -> list[Asset]:
        assets: list[Asset] = []
        project_assets = []
        for project in inventory.projects.items if inventory.projects else []:
            if isinstance(project.get("id"), str):
                asset = project_asset(project, self.organisation, self.owners, first_location(inventory.projects, "projects"))
                if asset.id in usage.projects:
                    asset.attributes["usage"] = usage.projects[asset.id].to_dict()
                project_assets.append(asset)
        assets.extend(project_assets)

        for project in project_assets:
            keys = inventory.project_keys.get(project.id)
            for key in keys.items if keys else []:
                asset = api_key_asset(key, project, first_location(keys, "api_keys"))
                if asset is None:
                    continue
                if asset.id in usage.keys:
                    asset.attributes["usage"] = usage.keys[asset.id].to_dict()
                assets.append(asset)
            accounts = inventory.service_accounts.get(project.id)
            for account in accounts.items if accounts else []:
                asset = service_account_asset(account, project, first_location(accounts, "service_accounts"))
                if asset is not None:
                    assets.append(asset)

        for user in inventory.users.items if inventory.users else []:
            asset = user_asset(user, self.organisation, first_location(inventory.users, "users"))
            if asset is not None:
                assets.append(asset)
        for key in inventory.admin_keys.items if inventory.admin_keys else []:
            asset = admin_key_asset(key, self.organisation, first_location(inventory.admin_keys, "admin_api_keys"))
            if asset is not None:
                assets.append(asset)

        assets.append(self._organisation_asset(self._key_inventory(inventory)))
        return assets

    def _cost_lines(self, buckets: list[dict[str, Any]], resources: dict[str, Asset], location: str) -> CostLines:
        return cost_lines(buckets, self.organisation, resources, location)

    def _key_inventory(self, inventory: OpenAIInventory) -> dict[str, Any]:
        """Return the organisation asset's key inventory attributes: whether every project's keys
        and the admin keys were read whole, and the projects whose keys were not."""
        unread = sorted(project_id for project_id, keys in inventory.project_keys.items() if keys is None or not keys.complete)
        complete = (
            inventory.projects is not None
            and inventory.projects.complete
            and not unread
            and inventory.admin_keys is not None
            and inventory.admin_keys.complete
        )
        return {"key_inventory_complete": complete, "projects_with_unread_keys": unread}

    def _add_notes(self, inventory: OpenAIInventory, usage: UsageByKey, assets: list[Asset], outcome: CollectorOutcome) -> None:
        self._note_unknown_names(inventory.projects, outcome)
        self._note_unlisted_keys(usage.keys, assets, "deleted since, or in a project not read", outcome)


def record(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Read the organisation live and save every page into `out_dir` as the API returned it."""
    return record_organisation(OpenAICollector(config, record_to=out_dir), logger)
