"""The history store: every run in SQLite, so that `shadowmap diff` and the reports can show what
is new, what was fixed and how coverage moved.

The store keeps each run's complete JSON result (compressed) beside the columns that diffs and
listings query, so any stored run can be rendered again with the renderer of a later version.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import platformdirs

from scanner.errors import InputError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    organisation TEXT NOT NULL,
    config_path TEXT,
    complete INTEGER NOT NULL,
    tool_version TEXT NOT NULL,
    result BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    suppressed INTEGER NOT NULL,
    PRIMARY KEY (run_id, fingerprint)
);
CREATE TABLE IF NOT EXISTS coverage (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    currency TEXT NOT NULL,
    total TEXT NOT NULL,
    attributed TEXT NOT NULL,
    unattributed TEXT NOT NULL,
    PRIMARY KEY (run_id, currency)
);
CREATE INDEX IF NOT EXISTS runs_by_config ON runs (config_path, started_at);
"""


def environment_store_path() -> Path | None:
    """Return the store path SHADOWMAP_STORE names, or None when it is not set."""
    override = os.environ.get("SHADOWMAP_STORE")
    return Path(override).expanduser() if override else None


def default_store_path() -> Path:
    """Return the store path used when no config is read: SHADOWMAP_STORE, else the user data folder."""
    return environment_store_path() or Path(platformdirs.user_data_dir("shadowmap", appauthor=False)) / "history.sqlite"


@dataclass(frozen=True)
class StoredRun:
    id: str
    label: str
    started_at: str
    organisation: str
    config_path: str | None
    complete: bool


class HistoryStore:
    """A SQLite file of runs; open it with `HistoryStore(path)` and close it with `close()`."""

    def __init__(self, path: Path, create: bool = True):
        """Open the store at `path`. With `create` false (commands that only read history), a
        missing store is an InputError and nothing is created on disk."""
        self.path = path
        if not create and not path.is_file():
            raise InputError(f"{path}: no history store there yet; run shadowmap scan or demo first, or pass --store")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(path)
            self._connection.execute("PRAGMA foreign_keys = ON")
            version = self._connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"{path}: history store written by a newer shadowmap (schema {version}); "
                    "upgrade shadowmap or pass another --store"
                )
            self._connection.executescript(_SCHEMA)
            self._connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as error:
            raise InputError(f"{path}: cannot open the history store ({error}); pass another --store") from None
        except OSError as error:
            raise InputError(f"{path}: cannot create the history store ({error.strerror}: {error.filename}); pass another --store") from None

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def save(self, result: dict[str, Any]) -> None:
        """Store one JSON result as built by reports.json_report.build_result."""
        run = result["run"]
        blob = zlib.compress(json.dumps(result, sort_keys=True).encode("utf-8"))
        with self._connection:
            self._connection.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run["id"],
                    run["label"],
                    run["started_at"],
                    run["finished_at"],
                    run["organisation"],
                    run["config_path"],
                    int(run["complete"]),
                    result["tool"]["version"],
                    blob,
                ),
            )
            self._connection.executemany(
                "INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run["id"],
                        finding["fingerprint"],
                        finding["rule_id"],
                        finding["severity"],
                        finding["subject"],
                        finding["message"],
                        int(finding["suppressed"] is not None),
                    )
                    for finding in result["findings"]["items"]
                ],
            )
            self._connection.executemany(
                "INSERT INTO coverage VALUES (?, ?, ?, ?, ?)",
                [
                    (run["id"], currency, figures["total"], figures["attributed"], figures["unattributed"])
                    for currency, figures in result["coverage"].items()
                ],
            )

    def runs(self, limit: int = 50) -> list[StoredRun]:
        rows = self._connection.execute(
            "SELECT id, label, started_at, organisation, config_path, complete FROM runs "
            "ORDER BY started_at DESC, id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [StoredRun(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def resolve(self, reference: str) -> str:
        """Turn `latest`, a full run id or a unique prefix of one into a run id."""
        if reference == "latest":
            row = self._connection.execute(
                "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise InputError(f"{self.path}: the history store has no runs yet; run shadowmap scan or demo first")
            return row[0]

        matches = [
            row[0]
            for row in self._connection.execute(
                "SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id", (_like_prefix(reference),)
            )
        ]
        if not matches:
            raise InputError(f"run {reference!r} not found in {self.path}; `shadowmap history` lists the runs")
        if len(matches) > 1 and reference not in matches:
            raise InputError(f"run {reference!r} is ambiguous in {self.path}: it starts {len(matches)} run ids; give more characters")
        return reference if reference in matches else matches[0]

    def previous_of(self, run_id: str) -> str:
        """Return the id of the run of the same config just before `run_id`."""
        row = self._connection.execute("SELECT config_path, started_at FROM runs WHERE id = ?", (run_id,)).fetchone()
        earlier = self._connection.execute(
            "SELECT id FROM runs WHERE config_path IS ? AND (started_at < ? OR (started_at = ? AND id < ?)) "
            "ORDER BY started_at DESC, id DESC LIMIT 1",
            (row[0], row[1], row[1], run_id),
        ).fetchone()
        if earlier is None:
            raise InputError(f"run {run_id} has no earlier run of the same config in {self.path}; name two runs to compare")
        return earlier[0]

    def load(self, run_id: str) -> dict[str, Any]:
        row = self._connection.execute("SELECT result FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise InputError(f"run {run_id!r} not found in {self.path}")
        return json.loads(zlib.decompress(row[0]).decode("utf-8"))


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


@dataclass
class CoverageChange:
    currency: str
    before: dict[str, str] | None
    after: dict[str, str] | None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_dict(self) -> dict[str, Any]:
        def delta(key: str) -> str | None:
            if self.before is None or self.after is None:
                return None
            return format(Decimal(self.after[key]) - Decimal(self.before[key]), "f")

        return {
            "currency": self.currency,
            "before": self.before,
            "after": self.after,
            "change": {key: delta(key) for key in ("total", "attributed", "unattributed")},
        }


@dataclass
class RunDiff:
    """The changes between an earlier and a later run."""

    before_id: str
    after_id: str
    new: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[CoverageChange] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.fixed or any(change.changed for change in self.coverage))

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before_id,
            "after": self.after_id,
            "has_changes": self.has_changes,
            "new": self.new,
            "fixed": self.fixed,
            "unchanged": self.unchanged,
            "coverage": [change.to_dict() for change in self.coverage],
        }


def diff_results(before: dict[str, Any], after: dict[str, Any]) -> RunDiff:
    """Compare two JSON results by finding fingerprint and by coverage per currency."""
    before_findings = {finding["fingerprint"]: finding for finding in before["findings"]["items"]}
    after_findings = {finding["fingerprint"]: finding for finding in after["findings"]["items"]}
    diff = RunDiff(before["run"]["id"], after["run"]["id"])
    diff.new = [after_findings[key] for key in sorted(after_findings.keys() - before_findings.keys())]
    diff.fixed = [before_findings[key] for key in sorted(before_findings.keys() - after_findings.keys())]
    diff.unchanged = [after_findings[key] for key in sorted(after_findings.keys() & before_findings.keys())]

    def figures(result: dict[str, Any], currency: str) -> dict[str, str] | None:
        coverage = result["coverage"].get(currency)
        if coverage is None:
            return None
        return {key: coverage[key] for key in ("total", "attributed", "unattributed")}

    for currency in sorted(set(before["coverage"]) | set(after["coverage"])):
        diff.coverage.append(CoverageChange(currency, figures(before, currency), figures(after, currency)))
    return diff
