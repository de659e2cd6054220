"""AWS: Amazon Bedrock across every account and region of an estate, read live through boto3 or
from a snapshot folder, plus Bedrock spend from CUR exports and usage from invocation logs.

This module stays light because the CLI imports every source family at start-up: boto3 and DuckDB
are imported only when a collector is built. Importing it registers the Bedrock coverage reasons
(see collectors/aws/attribution.py).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from collectors.aws import attribution  # noqa: F401 - registers the Bedrock coverage reasons
from collectors.contract import Collector
from scanner.config import AuditConfig
from scanner.errors import InputError
from scanner.model import CollectorOutcome

SNAPSHOT_MANIFEST = "snapshot.json"


def build_collectors(config: AuditConfig) -> list[Collector]:
    """Build the AWS collectors the config names: the inventory (live or snapshot), invocation
    log files and CUR exports."""
    if "aws" not in config.sources:
        return []
    from collectors.aws.settings import load_settings

    settings = load_settings(config)
    collectors: list[Collector] = []
    if settings.snapshot is not None:
        collectors.append(_snapshot_collector(settings))
    elif settings.live:
        from collectors.aws.api import LiveReader
        from collectors.aws.inventory import AwsInventoryCollector
        from collectors.contract import SourceKind

        collectors.append(AwsInventoryCollector(settings, LiveReader(settings), SourceKind.LIVE))

    if settings.invocation_logs.files:
        from collectors.aws.exports import InvocationLogFilesCollector

        collectors.append(InvocationLogFilesCollector(settings.invocation_logs.files))
    if settings.cur:
        from collectors.aws.cur import CurCollector

        collectors.append(CurCollector(settings.cur))
    return collectors


def _snapshot_collector(settings) -> Collector:
    from collectors.aws.api import SnapshotReader
    from collectors.aws.inventory import AwsInventoryCollector
    from collectors.contract import SourceKind

    root = settings.snapshot
    if not root.is_dir():
        raise InputError(f"aws: snapshot folder {root} not found; record one with shadowmap snapshot or fix sources.aws.snapshot")
    return AwsInventoryCollector(settings, SnapshotReader(root), SourceKind.SNAPSHOT, now=_recorded_at(root))


def _recorded_at(root: Path) -> datetime | None:
    """When the snapshot was recorded, so that `days` windows mean the same as when it was."""
    manifest = root / SNAPSHOT_MANIFEST
    if not manifest.is_file():
        return None
    try:
        text = json.loads(manifest.read_text(encoding="utf-8")).get("recorded_at")
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except (ValueError, AttributeError, OSError):
        raise InputError(f"{manifest}: invalid snapshot manifest; expected {{\"recorded_at\": \"<ISO 8601 time>\"}}") from None


def record_snapshot(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Run the live inventory once, writing every response it reads into `out_dir`."""
    from collectors.aws.api import LiveReader, RecordingReader
    from collectors.aws.inventory import AwsInventoryCollector
    from collectors.aws.settings import load_settings
    from collectors.contract import CollectContext, SourceKind

    settings = load_settings(config)
    if settings.snapshot is not None:
        raise InputError("sources.aws.snapshot is set, so there is nothing live to record; remove it to record a snapshot")

    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    reader = RecordingReader(LiveReader(settings), out_dir)
    collector = AwsInventoryCollector(settings, reader, SourceKind.LIVE, now=now)
    result = collector.collect(CollectContext(logger=logger))
    manifest = {"recorded_at": now.isoformat().replace("+00:00", "Z"), "files": len(reader.written)}
    (out_dir / SNAPSHOT_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    logger.info("aws: recorded %d responses into %s", len(reader.written), out_dir)
    return result.outcome
