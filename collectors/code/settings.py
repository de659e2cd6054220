"""The `sources.code` settings of an audit config, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.code.github import DEFAULT_API_URL, OrganisationSettings
from collectors.code.pipeline import ALL_ANALYSERS, MEBIBYTE, ScanOptions
from collectors.code.walk import WalkSettings
from scanner.config import AuditConfig


@dataclass(frozen=True)
class CodeSettings:
    paths: tuple[str, ...] = ()
    organisations: tuple[OrganisationSettings, ...] = ()
    snapshot: Path | None = None
    baseline: Path | None = None
    walk: WalkSettings = field(default_factory=WalkSettings)
    scan: ScanOptions = field(default_factory=ScanOptions)
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def has_sources(self) -> bool:
        return bool(self.paths or self.organisations)


def code_settings(config: AuditConfig | None) -> CodeSettings:
    """Read `sources.code` of a validated config; defaults when there is no config or section."""
    if config is None or "code" not in config.sources:
        if config is None:
            return CodeSettings()
        return CodeSettings(base_dir=config.base_dir, scan=ScanOptions(gateways=config.policy.gateways))
    raw: dict[str, Any] = config.sources["code"] or {}

    organisations = tuple(
        OrganisationSettings(
            organization=entry["organization"],
            token_env=entry.get("token_env", "GITHUB_TOKEN"),
            api_url=entry.get("api_url", DEFAULT_API_URL),
            repositories=tuple(entry.get("repositories", ())),
            include_forks=bool(entry.get("include_forks", False)),
            include_archived=bool(entry.get("include_archived", False)),
        )
        for entry in raw.get("github", [])
    )
    defaults = ScanOptions()
    return CodeSettings(
        paths=tuple(raw.get("paths", ())),
        organisations=organisations,
        snapshot=config.resolve(raw["snapshot"]) if "snapshot" in raw else None,
        baseline=config.resolve(raw["baseline"]) if "baseline" in raw else None,
        walk=WalkSettings(skip_vendored=bool(raw.get("skip_vendored", True)), exclude=tuple(raw.get("exclude", ()))),
        scan=ScanOptions(
            max_file_bytes=int(float(raw.get("max_file_mb", defaults.max_file_bytes / MEBIBYTE)) * MEBIBYTE),
            max_line_length=int(raw.get("max_line_length", defaults.max_line_length)),
            analysers=tuple(name for name in ALL_ANALYSERS if name in raw.get("analysers", ALL_ANALYSERS)),
            workers=raw.get("workers"),
            gateways=config.policy.gateways,
        ),
        base_dir=config.base_dir,
    )
