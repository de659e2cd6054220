"""GitHub organisations as code scopes: each repository's default branch, read as one tarball.

Live, PyGithub lists the organisation's repositories (`GET /orgs/{org}/repos`) and requests each
repository's tarball link (`GET /repos/{owner}/{repo}/tarball`, a redirect to the archive); the
archive is read in memory and never written to disk. A snapshot holds the same two responses:
`github/<org>/repos.json` (the repository list as the API returned it) and
`github/<org>/<repo>.tar.gz` (the archive). Both go through `select_repositories` and
`tarball_sources`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

from collectors.code.pipeline import MEBIBYTE, Problem, SourceFile, too_large_reason
from collectors.code.walk import WalkSettings, is_excluded

DEFAULT_API_URL = "https://api.github.com"
DOWNLOAD_TIMEOUT_SECONDS = 120

# github.com rejects a push that contains a file over 100 MB ("this exceeds GitHub's file size
# limit of 100 MB"). An archive member is therefore at most this large, unless the server is a
# GitHub Enterprise Server with another limit. Members up to this size are read into memory.
GITHUB_MAX_FILE_BYTES = 100 * MEBIBYTE


class ScopeUnavailable(Exception):
    """A repository or organisation that cannot be read, with the reason in one line."""


@dataclass(frozen=True)
class OrganisationSettings:
    organization: str
    token_env: str = "GITHUB_TOKEN"
    api_url: str = DEFAULT_API_URL
    repositories: tuple[str, ...] = ()
    include_forks: bool = False
    include_archived: bool = False


@dataclass
class RepositoryArchive:
    """One repository to scan and how to get its archive bytes."""

    full_name: str
    fetch: Callable[[], bytes]


@dataclass
class OrganisationListing:
    organisation: str
    repositories: list[RepositoryArchive] = field(default_factory=list)
    raw_repositories: list[dict[str, Any]] = field(default_factory=list)


def select_repositories(raw_repositories: list[dict[str, Any]], settings: OrganisationSettings) -> list[dict[str, Any]]:
    """Select the repositories of a listing to scan. With a configured list only the named ones
    are scanned, and forks and archived repositories only when the settings include them."""
    wanted = set(settings.repositories)
    selected = []
    for raw in raw_repositories:
        if wanted and raw.get("name") not in wanted:
            continue
        if raw.get("fork") and not settings.include_forks:
            continue
        if raw.get("archived") and not settings.include_archived:
            continue
        selected.append(raw)
    return sorted(selected, key=lambda raw: raw.get("full_name", ""))


def tarball_sources(full_name: str, archive: bytes, walk: WalkSettings, max_file_bytes: int) -> tuple[list[SourceFile], list[Problem]]:
    """Read the files of a repository archive as in-memory sources, with the archive's top folder
    (`<owner>-<repo>-<sha>/`) removed and the walk's exclusions applied."""
    sources: list[SourceFile] = []
    problems: list[Problem] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                parts = PurePosixPath(member.name).parts[1:]
                if not parts:
                    continue
                relative = "/".join(parts)
                if is_excluded(relative, walk):
                    continue
                # A member over max_file_bytes is still handed on, up to GitHub's own file size
                # limit, so the scanner reports it and searches it for key literals.
                if member.size > max(max_file_bytes, GITHUB_MAX_FILE_BYTES):
                    problems.append(Problem(full_name, relative, too_large_reason(member.size, max_file_bytes)))
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                content = handle.read()
                sources.append(SourceFile(full_name, relative, content=content, size=len(content)))
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ScopeUnavailable(f"the repository archive cannot be read ({error})") from None
    return sources, problems


def list_live(settings: OrganisationSettings, logger: logging.Logger) -> OrganisationListing:
    """List an organisation's repositories through PyGithub, with the token from the settings'
    environment variable; raise ScopeUnavailable naming GitHub's status code on failure."""
    from github import Auth, Github, GithubException
    from github.GithubException import BadCredentialsException, UnknownObjectException

    token = os.environ.get(settings.token_env, "")
    if not token:
        raise ScopeUnavailable(f"the environment variable {settings.token_env} holding the GitHub token is not set")

    # Requests go one at a time, as GitHub recommends for integrations; PyGithub's default pause of a
    # quarter second between them would add minutes to an organisation of a thousand repositories.
    client = Github(
        base_url=settings.api_url.rstrip("/"), auth=Auth.Token(token), per_page=100, timeout=30, seconds_between_requests=0
    )
    listing = OrganisationListing(settings.organization)
    try:
        organisation = client.get_organization(settings.organization)
        # `_rawData` is the JSON the listing returned; the public `raw_data` would first fetch
        # every repository again, one API call each.
        listed = {repository.full_name: repository for repository in organisation.get_repos(type="all")}
        raw_repositories = [repository._rawData for repository in listed.values()]
    except BadCredentialsException:
        raise ScopeUnavailable(f"GitHub returned 401 Bad credentials for the token in {settings.token_env}; check it") from None
    except UnknownObjectException:
        raise ScopeUnavailable("GitHub returned 404: no such organisation, or the token cannot see it") from None
    except GithubException as error:
        raise ScopeUnavailable(f"GitHub returned {error.status}: {_github_message(error)}") from None

    listing.raw_repositories = raw_repositories
    for raw in select_repositories(raw_repositories, settings):
        listing.repositories.append(RepositoryArchive(raw["full_name"], _live_fetcher(listed[raw["full_name"]])))
    logger.info("code: github %s: %d repositories listed, %d selected", settings.organization, len(raw_repositories), len(listing.repositories))
    return listing


def _live_fetcher(repository: Any) -> Callable[[], bytes]:
    def fetch() -> bytes:
        import requests
        from github import GithubException

        try:
            location = repository.get_archive_link("tarball")
        except GithubException as error:
            raise ScopeUnavailable(f"GitHub returned {error.status} for the tarball link: {_github_message(error)}") from None
        try:
            response = requests.get(location, timeout=DOWNLOAD_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise ScopeUnavailable(f"the archive download failed ({type(error).__name__})") from None
        if response.status_code != 200:
            raise ScopeUnavailable(f"the archive download returned HTTP {response.status_code}")
        return response.content

    return fetch


def _github_message(error: Any) -> str:
    data = getattr(error, "data", None)
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return "unexpected response"


def list_snapshot(folder: Path, settings: OrganisationSettings) -> OrganisationListing:
    """List an organisation recorded in a snapshot folder, through the same selection as live."""
    organisation_folder = folder / "github" / settings.organization
    listing_file = organisation_folder / "repos.json"
    try:
        raw_repositories = json.loads(listing_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScopeUnavailable(f"{listing_file} not found; record it with `shadowmap snapshot --only code`") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ScopeUnavailable(f"{listing_file} cannot be read ({error})") from None
    if not isinstance(raw_repositories, list):
        raise ScopeUnavailable(f"{listing_file} is not a list of repositories as GET /orgs/{{org}}/repos returns")

    listing = OrganisationListing(settings.organization, raw_repositories=raw_repositories)
    for raw in select_repositories(raw_repositories, settings):
        archive_path = organisation_folder / f"{raw['name']}.tar.gz"
        listing.repositories.append(RepositoryArchive(raw["full_name"], _file_fetcher(archive_path)))
    return listing


def _file_fetcher(path: Path) -> Callable[[], bytes]:
    def fetch() -> bytes:
        try:
            return path.read_bytes()
        except OSError as error:
            raise ScopeUnavailable(f"{path} cannot be read ({error.strerror})") from None

    return fetch


def record_listing(listing: OrganisationListing, folder: Path) -> Iterator[tuple[str, str | None]]:
    """Write an organisation's listing and archives into a snapshot folder; yield each
    repository's name with None when recorded, or the reason it was not."""
    organisation_folder = folder / "github" / listing.organisation
    organisation_folder.mkdir(parents=True, exist_ok=True)
    (organisation_folder / "repos.json").write_text(json.dumps(listing.raw_repositories, indent=2) + "\n", encoding="utf-8")
    for repository in listing.repositories:
        name = repository.full_name.split("/", 1)[-1]
        try:
            (organisation_folder / f"{name}.tar.gz").write_bytes(repository.fetch())
        except ScopeUnavailable as gap:
            yield repository.full_name, str(gap)
            continue
        yield repository.full_name, None
