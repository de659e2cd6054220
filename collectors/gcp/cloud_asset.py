"""Cloud Asset Inventory ListAssets, read live through google-cloud-asset or from a snapshot folder.

Both sources return each scope's pages as the JSON the v1 REST API sends
(`GET /v1/{parent}/assets?contentType=RESOURCE`: `assets`, `readTime`, `nextPageToken`), so one
parser serves both. A snapshot folder contains one subfolder per scope, named after it
(`organizations/730012458832/`), with the pages as `list-assets-0001.json`, `-0002`... and, for a
scope the API refused, the error body the API sent as `error.json`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from collectors.gcp.catalogue import load_catalogue
from scanner.errors import InputError

PAGE_FILE = "list-assets-{:04d}.json"
ERROR_FILE = "error.json"
_PAGE_NAME = re.compile(r"list-assets-(\d{4,})\.json")
_SCOPE_KINDS = ("organizations", "folders", "projects")


@dataclass
class ScopeListing:
    """The ListAssets pages of one scope, and the error that stopped the listing, if any."""

    scope: str
    pages: list[dict[str, Any]] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None
    error_body: dict[str, Any] | None = None
    incomplete: bool = False
    # The snapshot page file that could not be read, when that is what stopped the listing.
    unreadable_page: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_code is not None

    @property
    def unread_part(self) -> str:
        """Name what an incomplete listing did not read: the unreadable snapshot page, or the
        pages from the first one the API did not return."""
        if self.unreadable_page is not None:
            return f"{self.scope}/{self.unreadable_page}"
        return f"{self.scope} from page {len(self.pages) + 1}"

    def assets(self) -> Iterator[dict[str, Any]]:
        for page in self.pages:
            yield from page.get("assets", [])


def asset_types() -> list[str]:
    catalogue = load_catalogue()
    return [catalogue.project_asset_type, catalogue.service_asset_type, catalogue.vertex_asset_types]


# Live API


def make_client(api_endpoint: str | None, anonymous: bool) -> Any:
    """Create an AssetServiceClient on the REST transport. Raise InputError when no credentials exist."""
    import google.auth
    import google.auth.exceptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import asset_v1

    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    if anonymous:
        credentials = AnonymousCredentials()
    else:
        try:
            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        except google.auth.exceptions.DefaultCredentialsError:
            raise InputError(
                "gcp: no Google Cloud credentials found; run `gcloud auth application-default login` "
                "or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
            ) from None
    return asset_v1.AssetServiceClient(credentials=credentials, transport="rest", client_options=options)


def default_retry() -> Any:
    """Retry throttling and transient server errors with exponential backoff, for up to 5 minutes."""
    from google.api_core import exceptions, retry

    return retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.TooManyRequests,
            exceptions.ServiceUnavailable,
            exceptions.InternalServerError,
            exceptions.DeadlineExceeded,
        ),
        initial=1.0,
        maximum=30.0,
        multiplier=2.0,
        timeout=300.0,
    )


def list_scope(client: Any, scope: str, page_size: int, retry: Any, on_page: Callable[[int], None] | None = None) -> ScopeListing:
    """List every Project, Service and Vertex AI asset of `scope`, page after page, to the end."""
    from google.api_core import exceptions
    from google.cloud import asset_v1
    from google.protobuf import json_format

    request = asset_v1.ListAssetsRequest(
        parent=scope,
        asset_types=asset_types(),
        content_type=asset_v1.ContentType.RESOURCE,
        page_size=page_size,
    )
    listing = ScopeListing(scope)
    try:
        pager = client.list_assets(request=request, retry=retry, timeout=60.0)
        for page in pager.pages:
            listing.pages.append(json_format.MessageToDict(asset_v1.ListAssetsResponse.pb(page)))
            if on_page:
                on_page(len(listing.pages))
    except exceptions.GoogleAPICallError as error:
        _record_error(listing, error)
    except exceptions.RetryError as error:
        listing.error_code = "RETRY_EXHAUSTED"
        listing.error_message = str(error.cause or error)
    except Exception as error:  # noqa: BLE001 - transport errors (refused connection, TLS) end only this scope
        if type(error).__module__.split(".")[0] not in {"requests", "urllib3", "google"}:
            raise
        listing.error_code = type(error).__name__
        listing.error_message = str(error)
    listing.incomplete = listing.failed and bool(listing.pages)
    return listing


def _record_error(listing: ScopeListing, error: Any) -> None:
    body = None
    response = getattr(error, "response", None)
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None

    status = None
    if isinstance(body, dict):
        status = (body.get("error") or {}).get("status")
    if status is None and getattr(error, "grpc_status_code", None) is not None:
        status = error.grpc_status_code.name
    listing.error_code = f"{error.code} {status}" if status else str(error.code)
    listing.error_message = error.message
    listing.error_body = body


# Snapshot folder


def scope_folder(root: Path, scope: str) -> Path:
    return root.joinpath(*scope.split("/"))


def scopes_in_snapshot(root: Path) -> list[str]:
    """Return every scope the snapshot folder contains, in a stable order."""
    scopes = []
    for kind in _SCOPE_KINDS:
        kind_folder = root / kind
        if not kind_folder.is_dir():
            continue
        for folder in sorted(kind_folder.iterdir()):
            if folder.is_dir():
                scopes.append(f"{kind}/{folder.name}")
    return scopes


def read_scope(root: Path, scope: str) -> ScopeListing | None:
    """Read one scope's recorded pages, or None when the snapshot does not hold the scope. An
    unreadable file ends the scope, not the run: the listing carries the reason."""
    folder = scope_folder(root, scope)
    if not folder.is_dir():
        return None

    listing = ScopeListing(scope)
    pages = sorted(
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if (match := _PAGE_NAME.fullmatch(path.name))
    )
    error_path = folder / ERROR_FILE
    current_file = error_path
    try:
        for _, current_file in pages:
            listing.pages.append(_read_json(current_file))
        current_file = error_path
        body = _read_json(error_path) if error_path.is_file() else None
    except SnapshotFileError as error:
        # Pages after an unreadable one are not read, like a live listing that stops at an error.
        listing.error_code = "UNREADABLE_SNAPSHOT"
        listing.error_message = str(error)
        listing.unreadable_page = current_file.name
        listing.incomplete = bool(listing.pages)
        return listing

    if body is not None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        listing.error_body = body
        listing.error_code = " ".join(str(part) for part in (error.get("code"), error.get("status")) if part) or "UNKNOWN"
        listing.error_message = error.get("message", "no message recorded")
    elif listing.pages and listing.pages[-1].get("nextPageToken"):
        listing.error_code = "SNAPSHOT_TRUNCATED"
        listing.error_message = f"the last recorded page ({pages[-1][1].name}) has a nextPageToken but no page follows it"
    listing.incomplete = listing.failed and bool(listing.pages)
    return listing


def write_scope(root: Path, listing: ScopeListing) -> None:
    folder = scope_folder(root, listing.scope)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("list-assets-*.json"):
        stale.unlink()
    for number, page in enumerate(listing.pages, start=1):
        (folder / PAGE_FILE.format(number)).write_text(json.dumps(page, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    error_path = folder / ERROR_FILE
    if listing.failed:
        body = listing.error_body or {"error": {"status": listing.error_code, "message": listing.error_message}}
        error_path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    elif error_path.exists():
        error_path.unlink()


class SnapshotFileError(Exception):
    """A snapshot file that cannot be read or is not JSON, named with the reason."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SnapshotFileError(f"{path} is not UTF-8 text, so not valid JSON") from None
    except OSError as error:
        raise SnapshotFileError(f"{path} cannot be read ({error.strerror or error})") from None
    except json.JSONDecodeError as error:
        raise SnapshotFileError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
