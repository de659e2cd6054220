"""The OpenAI collector: an organisation's projects, keys, service accounts, users, admin keys,
usage and costs from the Admin API, live or from a snapshot folder.

Live calls are GETs only, with the admin key from the environment variable the config names.
Costs become spend lines whose resource is the project. Projects become assets that carry the
team the config maps them to, which is how the coverage graph reaches an owner.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from collectors.contract import CollectContext, SourceKind
from collectors.openai import reasons  # noqa: F401 - registers this family's coverage reasons
from collectors.openai.admin_http import AdminKeyHelp, check_base_url
from collectors.openai.admin_pages import OPENAI_LIST, REPORT, Listing, PageSource, ScopeReader, open_pages
from collectors.openai.admin_settings import ReportWindow, report_window, retry_policy
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
from scanner.model import Asset, CollectorOutcome, CollectorResult, SourceRef

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_VARIABLE = "OPENAI_ADMIN_KEY"
ADMIN_KEYS_PAGE = "https://platform.openai.com/settings/organization/admin-keys"
ROOT = "/organization"
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


class OpenAICollector:
    """Reads one OpenAI organisation through the Admin API or a snapshot of it."""

    name = "openai"

    def __init__(
        self,
        config: AuditConfig,
        *,
        record_to: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        today: date | None = None,
    ):
        settings = config.sources["openai"]
        self.settings = settings
        self.organisation: str = settings["organisation"]
        self.snapshot = config.resolve(settings["snapshot"]) if "snapshot" in settings else None
        self.source = SourceKind.SNAPSHOT if self.snapshot else SourceKind.LIVE
        self.base_url = check_base_url("openai", settings.get("base_url", DEFAULT_BASE_URL))
        self.key_help = AdminKeyHelp("openai", settings.get("admin_key_env", DEFAULT_KEY_VARIABLE), ADMIN_KEYS_PAGE)
        self.window: ReportWindow = report_window("openai", settings, today or datetime.now(timezone.utc).date())
        self.owners = ProjectOwners(dict(settings.get("projects", {})), settings.get("default_project"))
        self.concurrency = settings.get("concurrency", DEFAULT_CONCURRENCY)
        self.record_to = record_to
        self.sleep = sleep

    def describe(self) -> str:
        if self.snapshot:
            return f"OpenAI organisation {self.organisation} from the snapshot {self.snapshot}"
        return f"OpenAI organisation {self.organisation} through the Admin API at {self.base_url}, {self.window.days} days from {self.window.start.date()}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        with self._pages(context.logger) as pages:
            reader = ScopeReader("openai", self.organisation, pages, outcome, context.logger)
            inventory = self._read_inventory(reader, context)
            usage = self._read_usage(reader, pages, context)
            costs = reader.read("costs", "costs", self._report_params(("project_id", "line_item")), REPORT)
            context.progress(reader.scope("costs"), 1, 1)
            reader.finish()

        assets = self._assets(inventory, usage)
        projects = {asset.id: asset for asset in assets if asset.kind == "openai.project"}
        spend_lines = []
        if costs is not None:
            parsed = cost_lines(costs.items, self.organisation, projects, costs.locations[0] if costs.locations else "costs")
            spend_lines = parsed.lines
            outcome.skipped_rows.extend(parsed.skipped)
            outcome.skipped_row_count += len(parsed.skipped)
        self._add_notes(inventory, usage, assets, outcome)
        context.logger.info(
            "openai %s: %d projects, %d API keys, %d spend lines",
            self.organisation,
            len(projects),
            sum(1 for asset in assets if asset.kind == "openai.api_key"),
            len(spend_lines),
        )
        return CollectorResult(outcome, assets, spend_lines)

    def _pages(self, logger: logging.Logger) -> contextlib.AbstractContextManager[PageSource]:
        return open_pages(
            family="openai",
            snapshot=self.snapshot,
            base_url=self.base_url,
            root=ROOT,
            key_help=self.key_help,
            auth_headers=lambda key: {"Authorization": f"Bearer {key}"},
            retry=retry_policy(self.settings),
            logger=logger,
            sleep=self.sleep,
            record_to=self.record_to,
        )

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

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai") as pool:
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
                asset = project_asset(project, self.organisation, self.owners, _first_location(inventory.projects, "projects"))
                if asset.id in usage.projects:
                    asset.attributes["usage"] = usage.projects[asset.id].to_dict()
                project_assets.append(asset)
        assets.extend(project_assets)

        for project in project_assets:
            keys = inventory.project_keys.get(project.id)
            for key in keys.items if keys else []:
                asset = api_key_asset(key, project, _first_location(keys, "api_keys"))
                if asset is None:
                    continue
                if asset.id in usage.keys:
                    asset.attributes["usage"] = usage.keys[asset.id].to_dict()
                assets.append(asset)
            accounts = inventory.service_accounts.get(project.id)
            for account in accounts.items if accounts else []:
                asset = service_account_asset(account, project, _first_location(accounts, "service_accounts"))
                if asset is not None:
                    assets.append(asset)

        for user in inventory.users.items if inventory.users else []:
            asset = user_asset(user, self.organisation, _first_location(inventory.users, "users"))
            if asset is not None:
                assets.append(asset)
        for key in inventory.admin_keys.items if inventory.admin_keys else []:
            asset = admin_key_asset(key, self.organisation, _first_location(inventory.admin_keys, "admin_api_keys"))
            if asset is not None:
                assets.append(asset)

        assets.append(self._organisation_asset(inventory))
        return assets

    def _organisation_asset(self, inventory: OpenAIInventory) -> Asset:
        """Build the organisation asset, which records whether its key inventory is whole. The
        key-matching rules read it before they call a key unknown."""
        unread = sorted(project_id for project_id, keys in inventory.project_keys.items() if keys is None or not keys.complete)
        complete = (
            inventory.projects is not None
            and inventory.projects.complete
            and not unread
            and inventory.admin_keys is not None
            and inventory.admin_keys.complete
        )
        return Asset(
            kind="openai.organization",
            id=self.organisation,
            provider="openai",
            scope=self.organisation,
            name=self.organisation,
            attributes={
                "key_inventory_complete": complete,
                "projects_with_unread_keys": unread,
                "source": self.source.value,
            },
            source=SourceRef(str(self.snapshot) if self.snapshot else self.base_url),
        )

    def _add_notes(self, inventory: OpenAIInventory, usage: UsageByKey, assets: list[Asset], outcome: CollectorOutcome) -> None:
        projects = inventory.projects.items if inventory.projects else []
        for name in self.owners.unknown_names(projects) if inventory.projects and inventory.projects.complete else []:
            outcome.notes.append(f"sources.openai.projects names {name!r}, which is neither the ID nor the name of a project of {self.organisation}.")

        known_keys = {asset.id for asset in assets if asset.kind == "openai.api_key"}
        unlisted = sorted(set(usage.keys) - known_keys)
        if unlisted:
            outcome.notes.append(
                f"{len(unlisted)} API keys used in the window are not in the key inventory (deleted since, or in a project not read): "
                f"{', '.join(unlisted[:5])}{'…' if len(unlisted) > 5 else ''}."
            )



def _first_location(listing: Listing | None, fallback: str) -> str:
    return listing.locations[0] if listing and listing.locations else fallback


def record(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Read the organisation live and save every page into `out_dir` as the API returned it."""
    collector = OpenAICollector(config, record_to=out_dir)
    if collector.snapshot:
        outcome = CollectorOutcome(collector=collector.name, source=collector.source.value)
        outcome.errors.append("sources.openai reads a snapshot; remove sources.openai.snapshot to record the live organisation")
        return outcome
    # No mkdir here: the folder appears with the first page written, so a run that reads
    # nothing (no admin key, no connection) leaves no empty folder behind.
    result = collector.collect(CollectContext(logger=logger))
    return result.outcome
