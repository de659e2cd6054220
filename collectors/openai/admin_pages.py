"""Every page of an Admin API listing or report, read from the live API or from a snapshot folder.

A snapshot folder contains each page exactly as the API returned it, at a path that mirrors the
endpoint: the first page of `projects/proj_abc/api_keys` is `projects/proj_abc/api_keys.json`,
its second page `projects/proj_abc/api_keys.page-2.json`. Live reading can record every page
into such a folder as it goes, so that a snapshot and a live run pass the same pages to the same
parsers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from collectors.openai.admin_http import (
    AdminApiClient,
    AdminApiUnreachable,
    AdminKeyHelp,
    ConnectFailure,
    PageError,
    RetryPolicy,
    parse_json,
    read_admin_key,
)
from scanner.errors import InputError
from scanner.model import CollectorOutcome, ScopeGap

# The maximum number of pages of one listing. A provider that keeps returning has_more with new
# cursors past this is looping, so the listing stops there with a reason.
MAX_PAGES = 10_000

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Paging:
    """The paging of one family of endpoints: the query parameter that requests the next page and
    the response field that names it."""

    cursor_param: str
    cursor_field: str


# OpenAI organisation lists (projects, keys, users) page by object ID.
OPENAI_LIST = Paging("after", "last_id")
# Anthropic organisation lists (workspaces, API keys) page by object ID.
ANTHROPIC_LIST = Paging("after_id", "last_id")
# Usage and cost reports of both providers page by an opaque token.
REPORT = Paging("page", "next_page")


@dataclass
class Listing:
    """The items of every page read, and why reading stopped early (None when it reached the end)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    stopped: str | None = None
    locations: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stopped is None


class PageSource(Protocol):
    """A source of pages: the live API or a snapshot folder."""

    def fetch(self, endpoint: str, params: list[tuple[str, str]], page_number: int) -> dict[str, Any]:
        """Return one page as parsed JSON; raise PageError when it cannot be had."""
        ...

    def location(self, endpoint: str, page_number: int) -> str:
        """Name the page for a spend line's source: a URL path or a snapshot file."""
        ...

    def has(self, endpoint: str) -> bool:
        """Return whether the first page of `endpoint` can be requested (always true when live)."""
        ...


def snapshot_path(folder: Path, endpoint: str, page_number: int) -> Path:
    """Return the snapshot file of one page, or raise PageError for an endpoint that would leave the folder.

    Endpoints carry IDs read from API responses (project IDs), so a crafted snapshot or response
    could otherwise name a path such as `../../etc`.
    """
    segments = endpoint.split("/")
    if not all(_SAFE_SEGMENT.match(segment) for segment in segments):
        raise PageError(f"unexpected characters in endpoint {endpoint!r}; the snapshot cannot hold it")
    suffix = ".json" if page_number == 1 else f".page-{page_number}.json"
    return folder.joinpath(*segments[:-1], segments[-1] + suffix)


class LivePages:
    """Pages from the Admin API under `root` (such as `/organization`), optionally recorded."""

    def __init__(self, client: AdminApiClient, root: str, record_to: Path | None = None):
        self.client = client
        self.root = root.rstrip("/")
        self.record_to = record_to

    def fetch(self, endpoint: str, params: list[tuple[str, str]], page_number: int) -> dict[str, Any]:
        target = snapshot_path(self.record_to, endpoint, page_number) if self.record_to else None
        response = self.client.get(f"{self.root}/{endpoint}", params, label=endpoint)
        try:
            page = parse_json(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PageError(f"{self.root}/{endpoint} returned {response.status_code} with a body that is not JSON") from None
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(response.content)
        return page

    def location(self, endpoint: str, page_number: int) -> str:
        return f"{self.root}/{endpoint}"

    def has(self, endpoint: str) -> bool:
        return True


class SnapshotPages:
    """Pages saved in a snapshot folder, one JSON file per page."""

    def __init__(self, folder: Path):
        self.folder = folder

    def fetch(self, endpoint: str, params: list[tuple[str, str]], page_number: int) -> dict[str, Any]:
        path = snapshot_path(self.folder, endpoint, page_number)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise PageError(f"{path} is missing from the snapshot; record the snapshot again") from None
        except OSError as error:
            raise PageError(f"{path}: cannot read ({error.strerror})") from None
        try:
            return parse_json(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise PageError(f"{path}: not valid JSON ({error}); record the snapshot again") from None

    def location(self, endpoint: str, page_number: int) -> str:
        try:
            return str(snapshot_path(self.folder, endpoint, page_number))
        except PageError:
            return endpoint

    def has(self, endpoint: str) -> bool:
        try:
            return snapshot_path(self.folder, endpoint, 1).is_file()
        except PageError:
            return False


def read_all(
    source: PageSource,
    endpoint: str,
    params: list[tuple[str, str]],
    paging: Paging,
    max_pages: int = MAX_PAGES,
) -> Listing:
    """Read `endpoint` page by page until a page says it is the last.

    A page with `has_more` but no cursor, a cursor seen before, or a later page that cannot be
    read stops the listing with a reason instead of returning a silently short result. Raises
    PageError when the first page cannot be read.
    """
    listing = Listing()
    cursor: str | None = None
    seen_cursors: set[str] = set()

    while True:
        page_number = listing.pages + 1
        page_params = list(params) + ([(paging.cursor_param, cursor)] if cursor else [])
        try:
            page = source.fetch(endpoint, page_params, page_number)
        except PageError as error:
            if page_number == 1:
                raise
            # The pages read so far are kept, because a cost report short of its last page is still
            # most of the spend. The stop turns the scope into a gap with this reason.
            listing.stopped = f"page {page_number} could not be read ({error.reason}); the totals are short"
            return listing
        items = page.get("data") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise PageError(f"{source.location(endpoint, page_number)}: the response has no data list")

        listing.pages = page_number
        listing.locations.append(source.location(endpoint, page_number))
        listing.items.extend(item for item in items if isinstance(item, dict))

        if not page.get("has_more"):
            return listing

        cursor = page.get(paging.cursor_field)
        if not isinstance(cursor, str) or not cursor:
            listing.stopped = (
                f"page {page_number} says has_more but gives no {paging.cursor_field}, so later pages "
                "cannot be asked for; the totals are short"
            )
            return listing
        if cursor in seen_cursors:
            listing.stopped = f"page {page_number} repeats the {paging.cursor_field} of an earlier page; stopped to avoid a loop"
            return listing
        if page_number >= max_pages:
            listing.stopped = f"stopped after {max_pages} pages although the API says more follow"
            return listing
        seen_cursors.add(cursor)


class ScopeReader:
    """Reads one listing per scope and records the outcome: the scope seen, or the scope not seen
    with its reason, one INFO or WARNING log line each.

    Once the Admin API cannot be reached, later reads return None without a request, and
    `finish` records every scope left unread as one gap with one WARNING line.
    """

    def __init__(self, provider: str, organisation: str, source: PageSource, outcome: CollectorOutcome, logger: logging.Logger):
        self.provider = provider
        self.organisation = organisation
        self.source = source
        self.outcome = outcome
        self.logger = logger
        self.unreachable: ConnectFailure | None = None
        self.unread: list[str] = []
        self._lock = threading.Lock()

    def scope(self, label: str) -> str:
        return f"{self.provider} {self.organisation}: {label}"

    def read(self, label: str, endpoint: str, params: list[tuple[str, str]], paging: Paging) -> Listing | None:
        """Return the listing (possibly stopped early, which is then a scope gap), or None when
        not even its first page could be read."""
        scope = self.scope(label)
        with self._lock:
            if self.unreachable is not None:
                self.unread.append(label)
                return None

        try:
            listing = read_all(self.source, endpoint, params, paging)
        except AdminApiUnreachable as error:
            with self._lock:
                self.unreachable = self.unreachable or error.failure
                self.unread.append(label)
            return None
        except PageError as error:
            self.gap(scope, error.reason)
            return None

        if listing.stopped:
            self.gap(scope, f"{listing.stopped} ({len(listing.items)} items read)")
        else:
            with self._lock:
                self.outcome.scopes_seen.append(scope)
            self.logger.info("%s: %d items in %d page(s)", scope, len(listing.items), listing.pages)
        return listing

    def gap(self, scope: str, reason: str) -> None:
        with self._lock:
            self.outcome.scopes_not_seen.append(ScopeGap(scope, reason))
        self.logger.warning("%s: not fully read: %s", scope, reason)

    def finish(self) -> None:
        """Record the scopes left unread because the Admin API could not be reached, as one gap
        named after the organisation. Call it once, after the last read."""
        if self.unreachable is None:
            return

        count = len(self.unread)
        named = ", ".join(self.unread[:3]) + (f" and {count - 3} more" if count > 3 else "")
        verb = "scope was" if count == 1 else "scopes were"
        scope = f"{self.provider} {self.organisation}"
        reason = f"{self.unreachable.summary()}, so {count} {verb} not read ({named}); {self.unreachable.advice}"
        self.outcome.scopes_not_seen.append(ScopeGap(scope, reason))
        self.logger.warning("%s: %s", scope, reason)

        if count > 3:
            self.outcome.notes.append(f"Not read because {self.unreachable.host} could not be reached: {', '.join(self.unread)}.")


@contextlib.contextmanager
def open_pages(
    *,
    family: str,
    snapshot: Path | None,
    base_url: str,
    root: str,
    key_help: AdminKeyHelp,
    auth_headers: Callable[[str], dict[str, str]],
    retry: RetryPolicy,
    logger: logging.Logger,
    sleep: Callable[[float], None],
    record_to: Path | None = None,
) -> Iterator[PageSource]:
    """Yield the snapshot folder's pages, or live pages through a client holding the admin key.

    Raises InputError for a missing snapshot folder and AdminKeyError for a missing admin key.
    """
    if snapshot is not None:
        if not snapshot.is_dir():
            raise InputError(f"sources.{family}.snapshot: folder {snapshot} not found; record one with `shadowmap snapshot`")
        yield SnapshotPages(snapshot)
        return

    key = read_admin_key(key_help)
    with AdminApiClient(
        base_url=base_url,
        headers=auth_headers(key),
        key_help=key_help,
        logger=logger,
        retry=retry,
        sleep=sleep,
    ) as client:
        yield LivePages(client, root, record_to=record_to)
