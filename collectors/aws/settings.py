"""The validated `sources.aws` settings as typed values, with defaults and paths resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.config import AuditConfig

DEFAULT_ROLE_NAME = "ShadowmapAuditRole"


@dataclass(frozen=True)
class InvocationLogSettings:
    files: tuple[str, ...] = ()
    read_s3: bool = False
    read_cloudwatch: bool = False
    days: int = 7
    max_objects: int = 200
    max_pages: int = 100


@dataclass(frozen=True)
class CurExport:
    path: str
    format: str = "auto"
    cost: str = "unblended"


@dataclass(frozen=True)
class AwsSettings:
    snapshot: Path | None = None
    live: bool = True
    profile: str | None = None
    organization: bool = False
    accounts: tuple[str, ...] = ()
    exclude_accounts: tuple[str, ...] = ()
    role_name: str = DEFAULT_ROLE_NAME
    role_session_name: str = "shadowmap-audit"
    role_duration_seconds: int = 3600
    external_id: str | None = None
    regions: tuple[str, ...] = ()
    home_region: str = "us-east-1"
    partition: str = "aws"
    concurrency: int = 16
    processes: int = 1
    max_attempts: int = 8
    retry_mode: str = "adaptive"
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    endpoints: dict[str, str] = field(default_factory=dict)
    agents: bool = True
    iam: bool = True
    service_control_policies: bool = True
    cost_allocation_tags: bool = True
    invocation_logs: InvocationLogSettings = field(default_factory=InvocationLogSettings)
    cur: tuple[CurExport, ...] = ()

    @property
    def reads_inventory(self) -> bool:
        return self.snapshot is not None or self.live

    def endpoint_for(self, service: str, region: str) -> str | None:
        """Return the configured endpoint URL for a service with `{region}` filled in, or None
        for botocore's default."""
        template = self.endpoints.get(service)
        return template.replace("{region}", region) if template else None


def load_settings(config: AuditConfig) -> AwsSettings:
    """Build AwsSettings from `sources.aws`, which the core has validated against the schema."""
    raw: dict[str, Any] = config.sources.get("aws") or {}
    logs_raw: dict[str, Any] = raw.get("invocation_logs") or {}
    invocation_logs = InvocationLogSettings(
        files=tuple(str(config.resolve(path)) for path in logs_raw.get("files", [])),
        read_s3=logs_raw.get("read_s3", False),
        read_cloudwatch=logs_raw.get("read_cloudwatch", False),
        days=logs_raw.get("days", 7),
        max_objects=logs_raw.get("max_objects", 200),
    )
    cur = tuple(
        CurExport(path=str(config.resolve(entry["path"])), format=entry.get("format", "auto"), cost=entry.get("cost", "unblended"))
        for entry in raw.get("cur", [])
    )
    snapshot = config.resolve(raw["snapshot"]) if raw.get("snapshot") else None
    return AwsSettings(
        snapshot=snapshot,
        live=raw.get("live", True) if snapshot is None else False,
        profile=raw.get("profile"),
        organization=raw.get("organization", False),
        accounts=tuple(raw.get("accounts", [])),
        exclude_accounts=tuple(raw.get("exclude_accounts", [])),
        role_name=raw.get("role_name", DEFAULT_ROLE_NAME),
        role_session_name=raw.get("role_session_name", "shadowmap-audit"),
        role_duration_seconds=raw.get("role_duration_seconds", 3600),
        external_id=raw.get("external_id"),
        regions=tuple(raw.get("regions", [])),
        home_region=raw.get("home_region", "us-east-1"),
        partition=raw.get("partition", "aws"),
        concurrency=raw.get("concurrency", 16),
        processes=raw.get("processes", 1),
        max_attempts=raw.get("max_attempts", 8),
        retry_mode=raw.get("retry_mode", "adaptive"),
        connect_timeout=raw.get("connect_timeout", 10.0),
        read_timeout=raw.get("read_timeout", 30.0),
        endpoints=dict(raw.get("endpoints", {})),
        agents=raw.get("agents", True),
        iam=raw.get("iam", True),
        service_control_policies=raw.get("service_control_policies", True),
        cost_allocation_tags=raw.get("cost_allocation_tags", True),
        invocation_logs=invocation_logs,
        cur=cur,
    )
