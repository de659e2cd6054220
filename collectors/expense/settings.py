"""The expense family's settings (`sources.expense` in the audit config, described by
config.schema.json beside this file): which exports to read, and how to read the ones whose
layout, date order or currency the file itself does not show."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from collectors.expense.layouts import CONFIG_FIELD_NAMES

# Keys a file entry shares with the family's defaults.
FILE_KEYS = ("format", "date_order", "currency", "decimal_mark", "charge_sign", "encoding", "sheet", "columns")

DEFAULT_BURST_MIN_CHARGES = 3
DEFAULT_BURST_MAX_GAP_DAYS = 2


@dataclass(frozen=True)
class FileSettings:
    """How to read one export. None means: decide it from the file."""

    path: str = ""
    format: str | None = None
    date_order: str | None = None
    currency: str | None = None
    decimal_mark: str | None = None
    charge_sign: int | None = None
    encoding: str | None = None
    sheet: str | None = None
    columns: dict[str, tuple[str | int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class BurstSettings:
    """When top-ups of API credit on one card are one auto-recharge: at least `min_charges`
    charges, each at most `max_gap_days` after the one before."""

    min_charges: int = DEFAULT_BURST_MIN_CHARGES
    max_gap_days: int = DEFAULT_BURST_MAX_GAP_DAYS


@dataclass(frozen=True)
class ExpenseSettings:
    """The whole family's settings: the configured files, the defaults for any file, and the
    auto-recharge rule."""

    files: tuple[FileSettings, ...] = ()
    defaults: FileSettings = field(default_factory=FileSettings)
    burst: BurstSettings = field(default_factory=BurstSettings)

    def for_path(self, path: Path, base_dir: Path) -> FileSettings:
        """Return the settings for a file named on the command line: those of the configured
        entry that names it, else the defaults."""
        target = path.resolve()
        for entry in self.files:
            pattern = str(_absolute(entry.path, base_dir))
            if target == Path(pattern).resolve() or (glob.has_magic(pattern) and Path(target).match(pattern)):
                return replace(entry, path=str(path))
        return replace(self.defaults, path=str(path))


def parse_settings(raw: dict[str, Any] | None) -> ExpenseSettings:
    """Build settings from the validated `sources.expense` mapping (or none)."""
    raw = raw or {}
    defaults = _file_settings(raw, FileSettings())
    files = tuple(_file_settings(entry, defaults) for entry in raw.get("files", []))
    burst_raw = raw.get("auto_recharge", {})
    burst = BurstSettings(
        min_charges=burst_raw.get("min_charges", DEFAULT_BURST_MIN_CHARGES),
        max_gap_days=burst_raw.get("max_gap_days", DEFAULT_BURST_MAX_GAP_DAYS),
    )
    return ExpenseSettings(files, defaults, burst)


def expand_paths(entry: FileSettings, base_dir: Path) -> list[Path]:
    """List the files a configured path or glob names, sorted. A plain path is returned even
    when it does not exist, so that reading it reports it as missing."""
    pattern = _absolute(entry.path, base_dir)
    if not glob.has_magic(str(pattern)):
        return [pattern]
    return sorted(Path(found) for found in glob.glob(str(pattern), recursive=True) if Path(found).is_file())


def _file_settings(raw: dict[str, Any], defaults: FileSettings) -> FileSettings:
    values: dict[str, Any] = {key: getattr(defaults, key) for key in FILE_KEYS}
    for key in FILE_KEYS:
        if key in raw:
            values[key] = raw[key]
    if values["format"] == "auto":
        values["format"] = None
    if values["date_order"] == "auto":
        values["date_order"] = None
    if values["encoding"] == "auto":
        values["encoding"] = None
    if isinstance(values["charge_sign"], str):
        values["charge_sign"] = 1 if values["charge_sign"] == "positive" else -1
    values["columns"] = _columns(raw["columns"]) if "columns" in raw else defaults.columns
    return FileSettings(path=raw.get("path", ""), **values)


def _columns(raw: dict[str, Any]) -> dict[str, tuple[str | int, ...]]:
    """Map config field names to header names or column numbers. `merchant` and `memo` may name
    several columns, and `cardholder` the parts of a name (first and last name) to join."""
    columns = {}
    for name, headers in raw.items():
        field_name = CONFIG_FIELD_NAMES.get(name, name)
        if field_name == "cardholder" and isinstance(headers, list):
            field_name = "cardholder_parts"
        columns[field_name] = tuple(headers) if isinstance(headers, list) else (headers,)
    return columns


def _absolute(path: str, base_dir: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base_dir / candidate
