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

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from collectors.anthropic import reasons  # noqa: F401 - registers this family's coverage reasons
from collectors.anthropic.organisation import WorkspaceOwners, api_key_asset, default_workspace_asset, workspace_asset
from collectors.anthropic.spend import MessagesUsage, cost_lines
from collectors.contract import CollectContext, SourceKind
from collectors.openai.admin_http import AdminKeyHelp, check_base_url
from collectors.openai.admin_pages import ANTHROPIC_LIST, REPORT, Listing, PageSource, ScopeReader, open_pages
from collectors.openai.admin_settings import ReportWindow, report_window, retry_policy
from scanner.config import AuditConfig
from scanner.model import Asset, CollectorOutcome, CollectorResult, SourceRef

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_KEY_VARIABLE = "ANTHROPIC_ADMIN_KEY"
ADMIN_KEYS_PAGE = "https://console.anthropic.com/settings/admin-keys"
API_VERSION = "2023-06-01"
ROOT = "/v1/organizations"
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


class AnthropicCollector:
    """Reads one Anthropic organisation through the Admin API or a snapshot of it."""

    name = "anthropic"

    def __init__(
        self,
        config: AuditConfig,
        *,
        record_to: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        today: date | None = None,
    ):
        settings = config.sources["anthropic"]
        self.settings = settings
        self.organisation: str = settings["organisation"]
        self.snapshot = config.resolve(settings["snapshot"]) if "snapshot" in settings else None
        self.source = SourceKind.SNAPSHOT if self.snapshot else SourceKind.LIVE
        self.base_url = check_base_url("anthropic", settings.get("base_url", DEFAULT_BASE_URL))
        self.key_help = AdminKeyHelp("anthropic", settings.get("admin_key_env", DEFAULT_KEY_VARIABLE), ADMIN_KEYS_PAGE)
        self.window: ReportWindow = report_window("anthropic", settings, today or datetime.now(timezone.utc).date())
        self.owners = WorkspaceOwners(dict(settings.get("workspaces", {})))
        self.record_to = record_to
        self.sleep = sleep

    def describe(self) -> str:
        if self.snapshot:
            return f"Anthropic organisation {self.organisation} from the snapshot {self.snapshot}"
        return f"Anthropic organisation {self.organisation} through the Admin API at {self.base_url}, {self.window.days} days from {self.window.start.date()}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        with self._pages(context.logger) as pages:
            reader = ScopeReader("anthropic", self.organisation, pages, outcome, context.logger)
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
            costs = reader.read("cost report", "cost_report", self._report_params(("workspace_id", "description")), REPORT)
            context.progress(reader.scope("costs"), 3, 3)
            reader.finish()

        usage = MessagesUsage()
        if usage_listing is not None:
            usage.add_report(usage_listing.items)
        assets = self._assets(inventory, usage)
        workspaces = {asset.id: asset for asset in assets if asset.kind == reasons.WORKSPACE_KIND}
        spend_lines = []
        if costs is not None:
            parsed = cost_lines(costs.items, self.organisation, workspaces, costs.locations[0] if costs.locations else "cost_report")
            spend_lines = parsed.lines
            outcome.skipped_rows.extend(parsed.skipped)
            outcome.skipped_row_count += len(parsed.skipped)
        self._add_notes(inventory, usage, assets, outcome)
        context.logger.info(
            "anthropic %s: %d workspaces, %d API keys, %d spend lines",
            self.organisation,
            len(workspaces),
            sum(1 for asset in assets if asset.kind == "anthropic.api_key"),
            len(spend_lines),
        )
        return CollectorResult(outcome, assets, spend_lines)

    def _pages(self, logger: logging.Logger) -> contextlib.AbstractContextManager[PageSource]:
        return open_pages(
            family="anthropic",
            snapshot=self.snapshot,
            base_url=self.base_url,
            root=ROOT,
            key_help=self.key_help,
            auth_headers=lambda key: {"x-api-key": key, "anthropic-version": API_VERSION},
            retry=retry_policy(self.settings),
            logger=logger,
            sleep=self.sleep,
            record_to=self.record_to,
        )

    def _report_params(self, group_by: tuple[str, ...]) -> list[tuple[str, str]]:
        params = [
            ("starting_at", _rfc3339(self.window.start)),
            ("ending_at", _rfc3339(self.window.end)),
            ("bucket_width", "1d"),
            ("limit", BUCKET_LIMIT),
        ]
        return params + [("group_by[]", field_name) for field_name in group_by]

    def _assets(self, inventory: AnthropicInventory, usage: MessagesUsage) -> list[Asset]:
        workspaces_location = _first_location(inventory.workspaces, "workspaces")
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
            asset = api_key_asset(key, by_id, _first_location(inventory.api_keys, "api_keys"))
            if asset is None:
                continue
            if asset.id in usage.keys:
                asset.attributes["usage"] = usage.keys[asset.id].to_dict()
            keys.append(asset)
        return workspaces + keys + [self._organisation_asset(inventory)]

    def _organisation_asset(self, inventory: AnthropicInventory) -> Asset:
        """Build the organisation asset, which records whether its key inventory is whole. The
        key-matching rules read it before they call a key unknown."""
        return Asset(
            kind="anthropic.organization",
            id=self.organisation,
            provider="anthropic",
            scope=self.organisation,
            name=self.organisation,
            attributes={
                "key_inventory_complete": inventory.api_keys is not None and inventory.api_keys.complete,
                "admin_keys_listed": False,
                "source": self.source.value,
            },
            source=SourceRef(str(self.snapshot) if self.snapshot else self.base_url),
        )

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
        if inventory.workspaces and inventory.workspaces.complete:
            for name in self.owners.unknown_names(inventory.workspaces.items):
                outcome.notes.append(
                    f"sources.anthropic.workspaces names {name!r}, which is neither the ID nor the name of a workspace of {self.organisation}."
                )
        known_keys = {asset.id for asset in assets if asset.kind == "anthropic.api_key"}
        unlisted = sorted(set(usage.keys) - known_keys)
        if unlisted:
            outcome.notes.append(
                f"{len(unlisted)} API keys used in the window are not in the key inventory (deleted since): "
                f"{', '.join(unlisted[:5])}{'…' if len(unlisted) > 5 else ''}."
            )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_location(listing: Listing | None, fallback: str) -> str:
    return listing.locations[0] if listing and listing.locations else fallback


def record(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Read the organisation live and save every page into `out_dir` as the API returned it."""
    collector = AnthropicCollector(config, record_to=out_dir)
    if collector.snapshot:
        outcome = CollectorOutcome(collector=collector.name, source=collector.source.value)
        outcome.errors.append("sources.anthropic reads a snapshot; remove sources.anthropic.snapshot to record the live organisation")
        return outcome
    # No mkdir here: the folder appears with the first page written, so a run that reads
    # nothing (no admin key, no connection) leaves no empty folder behind.
    return collector.collect(CollectContext(logger=logger)).outcome
