"""`sources.gcp` of the audit config, validated by `config.schema.json`, as typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scanner.config import AuditConfig
from scanner.errors import ConfigError

DEFAULT_PAGE_SIZE = 500
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class BigQuerySettings:
    table: str
    project: str
    location: str | None = None
    api_endpoint: str | None = None


@dataclass(frozen=True)
class BillingSettings:
    files: tuple[str, ...] = ()
    bigquery: BigQuerySettings | None = None
    start: date | None = None
    end: date | None = None
    cost: str = "net"


@dataclass(frozen=True)
class GcpSettings:
    scopes: tuple[str, ...] = ()
    snapshot: Path | None = None
    api_endpoint: str | None = None
    anonymous: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    page_size: int = DEFAULT_PAGE_SIZE
    billing: BillingSettings | None = None
    owner_labels: tuple[str, ...] = field(default=())

    @property
    def reads_assets(self) -> bool:
        return bool(self.scopes) or self.snapshot is not None


def read_settings(config: AuditConfig) -> GcpSettings:
    """Build the settings from `config.sources["gcp"]`; relative paths resolve from the config."""
    section: dict[str, Any] = config.sources.get("gcp") or {}
    snapshot = config.resolve(section["snapshot"]) if "snapshot" in section else None
    return GcpSettings(
        scopes=tuple(section.get("scopes", [])),
        snapshot=snapshot,
        api_endpoint=section.get("api_endpoint"),
        anonymous=section.get("credentials") == "anonymous",
        concurrency=section.get("concurrency", DEFAULT_CONCURRENCY),
        page_size=section.get("page_size", DEFAULT_PAGE_SIZE),
        billing=_billing(section.get("billing"), config),
        owner_labels=config.policy.owner_tags,
    )


def _billing(section: dict[str, Any] | None, config: AuditConfig) -> BillingSettings | None:
    if not section:
        return None

    bigquery = None
    if "bigquery" in section:
        table = section["bigquery"]["table"]
        bigquery = BigQuerySettings(
            table=table,
            project=section["bigquery"].get("project") or table.rsplit(".", 2)[0],
            location=section["bigquery"].get("location"),
            api_endpoint=section["bigquery"].get("api_endpoint"),
        )

    start = _day(section, "start", config)
    end = _day(section, "end", config)
    if start and end and start >= end:
        raise ConfigError(f"{config.path or '<config>'}: sources.gcp.billing.start ({start}) must be before end ({end})")

    return BillingSettings(
        files=tuple(str(config.resolve(path)) for path in section.get("files", [])),
        bigquery=bigquery,
        start=start,
        end=end,
        cost=section.get("cost", "net"),
    )


def _day(section: dict[str, Any], key: str, config: AuditConfig) -> date | None:
    if key not in section:
        return None
    try:
        return date.fromisoformat(section[key])
    except ValueError:
        raise ConfigError(
            f"{config.path or '<config>'}: sources.gcp.billing.{key} {section[key]!r} is not a valid date; use YYYY-MM-DD"
        ) from None
