"""The part of the OpenAI and Anthropic collectors that is the same for both providers.

Both read their settings and open the live Admin API or a snapshot folder alike. Both read the
organisation scope by scope, turn the cost report into spend lines and build the organisation
asset. Both note owner mapping names that no listed project or workspace has, and used keys that
the key inventory lacks. Each provider's collector subclasses AdminApiCollector with its own
endpoints, report parameters, authentication headers and parsers.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, Protocol, TypeVar

from collectors.contract import CollectContext, SourceKind
from collectors.openai.admin_costs import CostLines
from collectors.openai.admin_http import AdminKeyHelp, check_base_url
from collectors.openai.admin_pages import Listing, PageSource, ScopeReader, open_pages
from collectors.openai.admin_settings import ReportWindow, report_window, retry_policy
from scanner.config import AuditConfig
from scanner.model import Asset, CollectorOutcome, CollectorResult, SourceRef, SpendLine

InventoryT = TypeVar("InventoryT")
UsageT = TypeVar("UsageT")


class OwnerMapping(Protocol):
    """The configured mapping of projects or workspaces to teams."""

    def unknown_names(self, listed: list[dict[str, Any]]) -> list[str]:
        """Return the mapping keys that name no listed project or workspace."""
        ...


class AdminApiCollector(abc.ABC, Generic[InventoryT, UsageT]):
    """Reads one organisation through a provider's Admin API or a snapshot of it.

    A subclass sets the class attributes below and the abstract methods: the owner mapping, what
    to read, and how the listings become assets and spend lines.
    """

    name: str  # the source family, as in sources.<name>
    label: str  # the provider's name in sentences
    default_base_url: str
    default_key_variable: str
    admin_keys_page: str  # where a user creates an admin key
    root: str  # the path under the base URL that every endpoint is relative to
    costs_endpoint: str  # the cost report's endpoint, which names its spend lines' source when no page was read
    resource_kind: str  # the asset kind that spend is attributed to: a project or a workspace
    resource_label: str  # that kind in sentences, singular
    owners_setting: str  # the setting under sources.<name> that maps resources to teams
    key_kind: str  # the asset kind of an API key

    def __init__(
        self,
        config: AuditConfig,
        *,
        record_to: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        today: date | None = None,
    ):
        settings = config.sources[self.name]
        self.settings = settings
        self.organisation: str = settings["organisation"]
        self.snapshot = config.resolve(settings["snapshot"]) if "snapshot" in settings else None
        self.source = SourceKind.SNAPSHOT if self.snapshot else SourceKind.LIVE
        self.base_url = check_base_url(self.name, settings.get("base_url", self.default_base_url))
        self.key_help = AdminKeyHelp(self.name, settings.get("admin_key_env", self.default_key_variable), self.admin_keys_page)
        self.window: ReportWindow = report_window(self.name, settings, today or datetime.now(timezone.utc).date())
        self.owners = self._owner_mapping(settings)
        self.record_to = record_to
        self.sleep = sleep

    def describe(self) -> str:
        if self.snapshot:
            return f"{self.label} organisation {self.organisation} from the snapshot {self.snapshot}"
        return f"{self.label} organisation {self.organisation} through the Admin API at {self.base_url}, {self.window.days} days from {self.window.start.date()}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        with self._pages(context.logger) as pages:
            reader = ScopeReader(self.name, self.organisation, pages, outcome, context.logger)
            inventory, usage, costs = self._read(reader, pages, context)
            reader.finish()

        assets = self._assets(inventory, usage)
        resources = {asset.id: asset for asset in assets if asset.kind == self.resource_kind}
        spend_lines = self._spend_lines(costs, resources, outcome)
        self._add_notes(inventory, usage, assets, outcome)
        context.logger.info(
            "%s %s: %d %s, %d API keys, %d spend lines",
            self.name,
            self.organisation,
            len(resources),
            f"{self.resource_label}s",
            sum(1 for asset in assets if asset.kind == self.key_kind),
            len(spend_lines),
        )
        return CollectorResult(outcome, assets, spend_lines)

    @abc.abstractmethod
    def _owner_mapping(self, settings: dict[str, Any]) -> OwnerMapping:
        """Read the configured mapping of projects or workspaces to teams."""

    @abc.abstractmethod
    def _auth_headers(self, admin_key: str) -> dict[str, str]:
        """Return the headers that send the admin key."""

    @abc.abstractmethod
    def _read(self, reader: ScopeReader, pages: PageSource, context: CollectContext) -> tuple[InventoryT, UsageT, Listing | None]:
        """Read the organisation's listings, its usage and its cost report, reporting progress."""

    @abc.abstractmethod
    def _assets(self, inventory: InventoryT, usage: UsageT) -> list[Asset]:
        """Build every asset of the organisation, the organisation asset included."""

    @abc.abstractmethod
    def _cost_lines(self, buckets: list[dict[str, Any]], resources: dict[str, Asset], location: str) -> CostLines:
        """Parse the cost report's buckets into spend lines."""

    @abc.abstractmethod
    def _add_notes(self, inventory: InventoryT, usage: UsageT, assets: list[Asset], outcome: CollectorOutcome) -> None:
        """Add the notes about what the run could not see or match."""

    def _pages(self, logger: logging.Logger) -> contextlib.AbstractContextManager[PageSource]:
        return open_pages(
            family=self.name,
            snapshot=self.snapshot,
            base_url=self.base_url,
            root=self.root,
            key_help=self.key_help,
            auth_headers=self._auth_headers,
            retry=retry_policy(self.settings),
            logger=logger,
            sleep=self.sleep,
            record_to=self.record_to,
        )

    def _spend_lines(self, costs: Listing | None, resources: dict[str, Asset], outcome: CollectorOutcome) -> list[SpendLine]:
        if costs is None:
            return []
        parsed = self._cost_lines(costs.items, resources, first_location(costs, self.costs_endpoint))
        outcome.skipped_rows.extend(parsed.skipped)
        outcome.skipped_row_count += len(parsed.skipped)
        return parsed.lines

    def _organisation_asset(self, key_inventory: dict[str, Any]) -> Asset:
        """Build the organisation asset, which records whether its key inventory is whole. The
        key-matching rules read it before they call a key unknown."""
        return Asset(
            kind=f"{self.name}.organization",
            id=self.organisation,
            provider=self.name,
            scope=self.organisation,
            name=self.organisation,
            attributes={**key_inventory, "source": self.source.value},
            source=SourceRef(str(self.snapshot) if self.snapshot else self.base_url),
        )

    def _note_unknown_names(self, resources: Listing | None, outcome: CollectorOutcome) -> None:
        """Note every name in the owner mapping that no project or workspace has. Only a whole
        listing can show that a name is unknown."""
        if resources is None or not resources.complete:
            return
        for name in self.owners.unknown_names(resources.items):
            outcome.notes.append(
                f"sources.{self.name}.{self.owners_setting} names {name!r}, which is neither the ID nor the name of a "
                f"{self.resource_label} of {self.organisation}."
            )

    def _note_unlisted_keys(self, used_keys: Iterable[str], assets: list[Asset], causes: str, outcome: CollectorOutcome) -> None:
        """Note the API keys the usage report names but the key inventory lacks, and what can cause that."""
        known_keys = {asset.id for asset in assets if asset.kind == self.key_kind}
        unlisted = sorted(set(used_keys) - known_keys)
        if unlisted:
            outcome.notes.append(
                f"{len(unlisted)} API keys used in the window are not in the key inventory ({causes}): "
                f"{', '.join(unlisted[:5])}{'…' if len(unlisted) > 5 else ''}."
            )


def first_location(listing: Listing | None, fallback: str) -> str:
    """Return where the listing's first page was read, or `fallback` when no page was."""
    return listing.locations[0] if listing and listing.locations else fallback


def record_organisation(collector: AdminApiCollector, logger: logging.Logger) -> CollectorOutcome:
    """Read the organisation live and save every page into the collector's `record_to` folder as
    the API returned it."""
    if collector.snapshot:
        outcome = CollectorOutcome(collector=collector.name, source=collector.source.value)
        outcome.errors.append(
            f"sources.{collector.name} reads a snapshot; remove sources.{collector.name}.snapshot to record the live organisation"
        )
        return outcome
    # No mkdir here: the folder appears with the first page written, so a run that reads
    # nothing (no admin key, no connection) leaves no empty folder behind.
    return collector.collect(CollectContext(logger=logger)).outcome
