"""The code collector: AI keys, AI SDK calls and the AI inventory of local trees and GitHub
organisations, as assets.

Code carries no spend. Each key occurrence becomes a `code.secret` asset whose id is
`<fingerprint>:<path>:<line>`; each file whose oversize content contains key literals a
`code.unscanned_content` asset whose id is `unscanned:<path>`; each AI SDK call a `code.ai_call`
asset whose id is `<path>:<line>:<column>:<provider>`; each package, Terraform resource, .env
setting, MCP server and AI notebook an inventory asset (collectors/code/inventory.py). The code rules
(rules/code_*.py) turn the assets into findings. `shadowmap code` runs this same collector over
the paths, diff or history range it is given.
"""

from __future__ import annotations

import logging
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from collectors.code.baseline import Baseline
from collectors.code.calls import CallOccurrence, apply_env_endpoints, call_asset
from collectors.code.gitdiff import run_git
from collectors.code.github import ScopeUnavailable, list_live, list_snapshot, tarball_sources
from collectors.code.inventory import AI_SETTING, InventoryOccurrence, inventory_asset
from collectors.code.keys import KeyOccurrence, UnscannedKeyHint
from collectors.code.pipeline import Problem, ScanResult, ScanStats, SourceFile, scan_sources
from collectors.code.sdks import load_catalogue, normalise_gateways
from collectors.code.settings import CodeSettings
from collectors.code.terraform import merge_default_tags
from collectors.code.walk import walk_target
from collectors.contract import CollectContext, SourceKind
from scanner.errors import InputError
from scanner.model import Asset, CollectorOutcome, CollectorResult, ScopeGap, SkippedRow, SourceRef

log = logging.getLogger("shadowmap.collector.code")

# Per-file problems logged one by one before the rest are only counted, so a tree of broken
# files does not flood the log.
MAX_LOGGED_PROBLEMS = 20

SourceLoader = Callable[[], "tuple[list[SourceFile], list[Problem]]"]


@dataclass
class Scope:
    """One repository, folder or file to scan, and how to list its files. `load` raises
    ScopeUnavailable when the scope cannot be read at all."""

    name: str
    load: SourceLoader
    repository: str | None = None
    # The local file or folder scanned, so that paths can be made relative to its repository.
    root: Path | None = None


class CodeCollector:
    """Scans scopes for AI keys, AI SDK calls and AI inventory, and returns them as assets."""

    name = "code"

    def __init__(self, settings: CodeSettings, scopes: list[Scope] | None = None, description: str | None = None):
        self.settings = settings
        self.scopes = scopes
        self.source = SourceKind.SNAPSHOT if settings.snapshot else SourceKind.LIVE
        self._description = description
        self.occurrences: list[KeyOccurrence] = []
        self.calls: list[CallOccurrence] = []
        self.inventory: list[InventoryOccurrence] = []
        self.stats = ScanStats()
        # Every file or folder problem of the last collect, for the summary of `shadowmap code`.
        self.problems: list[Problem] = []

    def describe(self) -> str:
        if self._description:
            return self._description
        parts = [f"{len(self.settings.paths)} local paths"]
        if self.settings.organisations:
            where = f"snapshot {self.settings.snapshot}" if self.settings.snapshot else "the GitHub API"
            parts.append(f"{len(self.settings.organisations)} GitHub organisations from {where}")
        return "AI keys, calls and inventory in " + " and ".join(parts)

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        baseline = Baseline.load(self.settings.baseline) if self.settings.baseline else None
        scopes = self.scopes if self.scopes is not None else list(self._configured_scopes(outcome))

        assets: list[Asset] = []
        # A history scan can meet the same key at the same place in several commits; the first
        # (newest) one stands for all.
        seen_ids: set[str] = set()
        logged = 0
        silenced = 0
        for index, scope in enumerate(scopes, start=1):
            try:
                sources, problems = scope.load()
            except ScopeUnavailable as gap:
                context.logger.warning("code: %s: skipped: %s", scope.name, gap)
                outcome.scopes_not_seen.append(ScopeGap(scope.name, str(gap)))
                context.progress(scope.name, index, len(scopes))
                continue

            result = scan_sources(sources, self.settings.scan)
            result.problems[:0] = problems
            occurrences = [o for o in result.occurrences if isinstance(o, KeyOccurrence)]
            if baseline is not None:
                kept = [o for o in occurrences if not baseline.contains(o.path, o.hashed_secret)]
                silenced += len(occurrences) - len(kept)
                occurrences = kept

            hints = [o for o in result.occurrences if isinstance(o, UnscannedKeyHint)]
            calls, inventory = self._calls_and_inventory(result)
            calls, inventory = _on_added_lines(calls, sources), _on_added_lines(inventory, sources)
            self.occurrences.extend(occurrences)
            self.calls.extend(calls)
            self.inventory.extend(inventory)
            self.stats.add(result.stats)
            logged = self._record_problems(result, outcome, context, logged)
            if sources or not result.problems:
                outcome.scopes_seen.append(scope.name)
            else:
                outcome.scopes_not_seen.append(ScopeGap(scope.name, result.problems[0].reason))
            scope_assets = [occurrence_asset(occurrence, scope.repository) for occurrence in occurrences]
            scope_assets += [unscanned_asset(hint, scope.repository) for hint in hints]
            scope_assets += [call_asset(call, scope.repository) for call in calls]
            scope_assets += [inventory_asset(item, scope.repository) for item in inventory]
            repo_paths = repository_paths(scope, sources)
            for asset in scope_assets:
                asset.attributes["repo_path"] = repo_paths.get(asset.attributes["path"], asset.attributes["path"])
                if asset.id not in seen_ids:
                    seen_ids.add(asset.id)
                    assets.append(asset)
            context.logger.info(
                "code: %s: %d files read, %d candidates, %d keys, %d AI calls, %d inventory items, %d skipped",
                scope.name, result.stats.files, result.stats.candidate_files, len(occurrences), len(calls), len(inventory),
                len(result.problems),
            )
            context.progress(scope.name, index, len(scopes))

        if logged < outcome.skipped_row_count:
            context.logger.warning(
                "code: %d more file problems were not logged; the JSON report lists them under skipped_rows",
                outcome.skipped_row_count - logged,
            )
        if silenced:
            outcome.notes.append(f"{silenced} key occurrences listed in the baseline {self.settings.baseline} were not reported.")
        return CollectorResult(outcome, assets=sorted(assets, key=lambda a: (a.scope, a.attributes["path"], a.attributes["line"], a.attributes["column"])))

    def _calls_and_inventory(self, result: ScanResult) -> tuple[list[CallOccurrence], list[InventoryOccurrence]]:
        """Split a scope's call and inventory occurrences, join Terraform provider default tags to
        their resources, and apply `.env` endpoints to calls that use their SDK's default one."""
        calls = [o for o in result.occurrences if isinstance(o, CallOccurrence)]
        inventory = merge_default_tags([o for o in result.occurrences if isinstance(o, InventoryOccurrence)])
        settings = [item for item in inventory if item.kind == AI_SETTING]
        if settings and calls:
            calls = apply_env_endpoints(calls, settings, load_catalogue(), normalise_gateways(self.settings.scan.gateways))
        return calls, inventory

    def _record_problems(self, result: ScanResult, outcome: CollectorOutcome, context: CollectContext, logged: int) -> int:
        for problem in result.problems:
            if not problem.path:
                continue
            self.problems.append(problem)
            outcome.skipped_rows.append(SkippedRow(location=problem.where, row=0, reason=problem.reason))
            outcome.skipped_row_count += 1
            if logged < MAX_LOGGED_PROBLEMS:
                context.logger.warning("code: %s", problem.describe())
                logged += 1
        return logged

    def _configured_scopes(self, outcome: CollectorOutcome) -> Iterable[Scope]:
        for path_text in self.settings.paths:
            root = self._resolve(path_text)
            yield Scope(path_text, _walk_loader(root, path_text, path_text, self.settings), root=root)

        for organisation in self.settings.organisations:
            try:
                if self.settings.snapshot:
                    listing = list_snapshot(self.settings.snapshot, organisation)
                else:
                    listing = list_live(organisation, log)
            except ScopeUnavailable as gap:
                log.warning("code: github %s: skipped: %s", organisation.organization, gap)
                outcome.scopes_not_seen.append(ScopeGap(f"github:{organisation.organization}", str(gap)))
                continue
            for repository in listing.repositories:
                yield Scope(repository.full_name, _archive_loader(repository.full_name, repository.fetch, self.settings), repository.full_name)

    def _resolve(self, path_text: str) -> Path:
        path = Path(path_text).expanduser()
        return path if path.is_absolute() else self.settings.base_dir / path


Located = TypeVar("Located", CallOccurrence, InventoryOccurrence)


def _on_added_lines(occurrences: list[Located], sources: list[SourceFile]) -> list[Located]:
    """Keep the occurrences of a diff that start on a line the change adds, as keys are kept; an
    occurrence of a file with no added-line limit is kept."""
    added = {source.path: source.added_lines for source in sources if source.added_lines is not None}
    if not added:
        return occurrences
    return [o for o in occurrences if o.path not in added or o.line in added[o.path]]


def repository_paths(scope: Scope, sources: list[SourceFile]) -> dict[str, str]:
    """Map each source's shown path to its path relative to the repository: the git top level
    when the scanned root is inside a work tree, else the scanned root itself. A GitHub file's
    path is relative to its repository already."""
    paths = {source.path: source.repo_path for source in sources if source.repo_path}
    unknown = [source for source in sources if not source.repo_path and source.location]
    if scope.root is None or not unknown:
        return paths
    base = scope.root if scope.root.is_dir() else scope.root.parent
    absolute = os.path.abspath(base)
    real = os.path.realpath(absolute)
    try:
        top = run_git(Path(real), "rev-parse", "--show-toplevel").strip()
    except InputError:
        top = ""
    inside = os.path.relpath(real, os.path.realpath(top)) if top else "."
    for source in unknown:
        relative = os.path.relpath(os.path.abspath(source.location), absolute)
        paths[source.path] = posixpath.normpath(posixpath.join(inside.replace(os.sep, "/"), relative.replace(os.sep, "/")))
    return paths


def _walk_loader(root: Path, scope: str, prefix: str, settings: CodeSettings) -> SourceLoader:
    def load() -> tuple[list[SourceFile], list[Problem]]:
        walked = walk_target(root, scope, prefix, settings.walk)
        if not walked.sources and walked.problems and not walked.problems[0].path:
            raise ScopeUnavailable(walked.problems[0].reason)
        return walked.sources, walked.problems

    return load


def _archive_loader(full_name: str, fetch: Callable[[], bytes], settings: CodeSettings) -> SourceLoader:
    def load() -> tuple[list[SourceFile], list[Problem]]:
        return tarball_sources(full_name, fetch(), settings.walk, settings.scan.max_file_bytes)

    return load


def unscanned_asset(hint: UnscannedKeyHint, repository: str | None = None) -> Asset:
    """Build the `code.unscanned_content` asset of a file whose oversize content contains key
    literals. It names the literals and the key formats, never any part of a key."""
    attributes = {
        "path": hint.path,
        "line": hint.lines[0],
        "column": 1,
        "lines": list(hint.lines),
        "whole_file": hint.whole_file,
        "limit": hint.limit,
        "literals": list(hint.literals),
        "key_labels": list(hint.key_labels),
    }
    if hint.commit:
        attributes["commit"] = hint.commit
    if repository:
        attributes["repository"] = repository
    return Asset(
        kind="code.unscanned_content",
        id=f"unscanned:{hint.path}",
        provider=hint.provider,
        scope=hint.scope,
        name=hint.path,
        attributes=attributes,
        source=SourceRef(location=hint.path, row=hint.lines[0]),
    )


def occurrence_asset(occurrence: KeyOccurrence, repository: str | None = None) -> Asset:
    """Build the `code.secret` asset of one key occurrence. It keeps no more of the key than its
    prefix and last four characters."""
    attributes = {
        "key_type": occurrence.key_type,
        "redacted": occurrence.redacted,
        "prefix": occurrence.prefix,
        "last4": occurrence.last4,
        "fingerprint": occurrence.fingerprint,
        "path": occurrence.path,
        "line": occurrence.line,
        "column": occurrence.column,
        "end_column": occurrence.end_column,
        "label": occurrence.label,
        "format": occurrence.format_id,
    }
    if occurrence.ai_context is not None:
        attributes["ai_context"] = occurrence.ai_context
    if occurrence.commit:
        attributes["commit"] = occurrence.commit
    if repository:
        attributes["repository"] = repository
    return Asset(
        kind="code.secret",
        id=f"{occurrence.fingerprint}:{occurrence.path}:{occurrence.line}",
        provider=occurrence.provider,
        scope=occurrence.scope,
        name=occurrence.label,
        attributes=attributes,
        source=SourceRef(location=occurrence.path, row=occurrence.line),
    )
