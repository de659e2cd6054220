"""The `gcp.assets` collector: Cloud Asset Inventory over organisations, folders and projects,
live or from a snapshot, into project and Vertex AI assets.

A scope the API refuses (403 PERMISSION_DENIED, an unknown organisation) becomes a scope not
seen with the API's error code; the other scopes go on. Scopes are listed concurrently, each on
its own client, because the REST transport's session is not shared safely across threads.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from collectors.contract import CollectContext, SourceKind
from collectors.gcp import cloud_asset
from collectors.gcp.cloud_asset import ScopeListing
from collectors.gcp.inventory import PROJECT_KIND, build_assets
from collectors.gcp.settings import GcpSettings
from scanner.errors import InputError
from scanner.model import CollectorOutcome, CollectorResult, ScopeGap

ClientFactory = Callable[[], Any]


class AssetCollector:
    """Projects, their enabled AI services and labels, and Vertex AI resources."""

    name = "gcp.assets"

    def __init__(self, settings: GcpSettings, client_factory: ClientFactory | None = None, retry: Any = None) -> None:
        self.settings = settings
        self.source = SourceKind.SNAPSHOT if settings.snapshot is not None else SourceKind.LIVE
        self._client_factory = client_factory or (lambda: cloud_asset.make_client(settings.api_endpoint, settings.anonymous))
        self._retry = retry

    def describe(self) -> str:
        if self.settings.snapshot is not None:
            return f"Cloud Asset Inventory snapshot {self.settings.snapshot}"
        return f"Cloud Asset Inventory ListAssets over {', '.join(self.settings.scopes)}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        listings = self._snapshot_listings(outcome) if self.settings.snapshot is not None else self.live_listings(context)

        for listing in listings:
            _record_outcome(listing, outcome, context.logger, self.name)

        assets = build_assets(listings, self.settings.owner_labels)
        projects = [asset for asset in assets if asset.kind == PROJECT_KIND]
        context.logger.info(
            "%s: %d projects (%d with Vertex AI enabled), %d Vertex AI resources",
            self.name,
            len(projects),
            sum(1 for project in projects if project.attributes["vertex_enabled"]),
            len(assets) - len(projects),
        )
        return CollectorResult(outcome, assets=assets)

    def _snapshot_listings(self, outcome: CollectorOutcome) -> list[ScopeListing]:
        root = self.settings.snapshot
        assert root is not None
        if not root.is_dir():
            raise InputError(f"gcp: snapshot folder {root} not found; record one with shadowmap snapshot or fix sources.gcp.snapshot")

        scopes = list(self.settings.scopes) or cloud_asset.scopes_in_snapshot(root)
        if not scopes:
            raise InputError(f"{root}: no organizations/, folders/ or projects/ scope folder found in the snapshot; record one with `shadowmap snapshot --only gcp`")

        listings = []
        for scope in scopes:
            listing = cloud_asset.read_scope(root, scope)
            if listing is None:
                outcome.scopes_not_seen.append(ScopeGap(scope, f"not in the snapshot {root}; record it again with this scope in sources.gcp.scopes"))
                continue
            listings.append(listing)
        return listings

    def live_listings(self, context: CollectContext) -> list[ScopeListing]:
        scopes = list(self.settings.scopes)
        retry = self._retry or cloud_asset.default_retry()
        completed = 0

        def list_one(scope: str) -> ScopeListing:
            client = self._client_factory()
            return cloud_asset.list_scope(client, scope, self.settings.page_size, retry)

        listings = []
        workers = max(1, min(self.settings.concurrency, len(scopes)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gcp-assets") as pool:
            for listing in pool.map(list_one, scopes):
                completed += 1
                context.progress(listing.scope, completed, len(scopes))
                listings.append(listing)
        return listings


def _record_outcome(listing: ScopeListing, outcome: CollectorOutcome, logger: logging.Logger, name: str) -> None:
    """Count a scope as seen, as not seen, or, when the listing stopped after some pages, as seen
    with the part it did not read as a scope not seen."""
    count = sum(1 for _ in listing.assets())
    pages = _count(len(listing.pages), "page")
    if not listing.failed:
        outcome.scopes_seen.append(listing.scope)
        logger.info("%s: %s: %s in %s", name, listing.scope, _count(count, "asset"), pages)
        return

    reason = gap_reason(listing)
    if listing.incomplete:
        outcome.scopes_seen.append(listing.scope)
        outcome.scopes_not_seen.append(ScopeGap(listing.unread_part, reason))
        logger.info("%s: %s: %s in %s", name, listing.scope, _count(count, "asset"), pages)
        logger.warning("%s: %s: skipped: %s", name, listing.unread_part, reason)
        return

    outcome.scopes_not_seen.append(ScopeGap(listing.scope, reason))
    logger.warning("%s: %s: skipped: %s", name, listing.scope, reason)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def gap_reason(listing: ScopeListing) -> str:
    """Describe in one line why the scope was not seen: the API's error code and what to do."""
    code = listing.error_code or "UNKNOWN"
    message = (listing.error_message or "").strip().splitlines()[0][:200] if listing.error_message else "no message"
    if code == "UNREADABLE_SNAPSHOT":
        # The message names the file and what is wrong with it; a long path must not be cut.
        pages_kept = ""
        if listing.incomplete:
            before = "the page before it" if len(listing.pages) == 1 else f"the {len(listing.pages)} pages before it"
            pages_kept = f"; the assets of {before} are kept"
        return f"{listing.error_message}{pages_kept}; fix the file or record the snapshot again with `shadowmap snapshot --only gcp`"

    partial = ""
    if listing.incomplete:
        pages_kept = "the assets of that page are kept" if len(listing.pages) == 1 else "the assets of those pages are kept"
        partial = f" after {_count(len(listing.pages), 'page')}; {pages_kept}"
    if "PERMISSION_DENIED" in code or code.startswith("403"):
        action = f"grant roles/cloudasset.viewer on {listing.scope} to the identity running shadowmap"
    elif "NOT_FOUND" in code or code.startswith("404") or "INVALID_ARGUMENT" in code:
        action = "check the scope name in sources.gcp.scopes"
    elif code in {"UNREADABLE_SNAPSHOT", "SNAPSHOT_TRUNCATED"}:
        action = "record the snapshot again with `shadowmap snapshot --only gcp`"
    else:
        action = "run again later; throttling and server errors were already retried"
    return f"Cloud Asset ListAssets failed with {code} ({message}){partial}; {action}"


def record(settings: GcpSettings, out_dir: Path, logger: logging.Logger, client_factory: ClientFactory | None = None, retry: Any = None) -> CollectorOutcome:
    """List every configured scope live and write its pages (or its error) under `out_dir`."""
    collector = AssetCollector(settings, client_factory, retry)
    context = CollectContext(logger=logger)
    outcome = CollectorOutcome(collector=collector.name, source=SourceKind.LIVE.value)
    for listing in collector.live_listings(context):
        cloud_asset.write_scope(out_dir, listing)
        _record_outcome(listing, outcome, logger, collector.name)
    return outcome
