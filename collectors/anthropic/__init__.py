"""Anthropic organisations through the Admin API: workspaces, API keys, the messages usage report
and the cost report, live or from a recorded snapshot.

Heavy modules (httpx) are imported inside the functions: the CLI imports every family at start.
"""

from __future__ import annotations

import logging
from pathlib import Path

from collectors.contract import Collector
from scanner.config import AuditConfig
from scanner.model import CollectorOutcome


def build_collectors(config: AuditConfig) -> list[Collector]:
    if "anthropic" not in config.sources:
        return []
    from collectors.anthropic.collector import AnthropicCollector

    return [AnthropicCollector(config)]


def record_snapshot(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Save every Admin API page the Anthropic collector reads into `out_dir`, exactly as returned."""
    from collectors.anthropic.collector import record

    return record(config, out_dir, logger)
