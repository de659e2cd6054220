"""OpenAI organisations through the Admin API: projects, keys, service accounts, users, admin
keys, usage and costs, live or from a recorded snapshot.

Heavy modules (httpx) are imported inside the functions: the CLI imports every family at start.
"""

from __future__ import annotations

import logging
from pathlib import Path

from collectors.contract import Collector
from scanner.config import AuditConfig
from scanner.model import CollectorOutcome


def build_collectors(config: AuditConfig) -> list[Collector]:
    if "openai" not in config.sources:
        return []
    from collectors.openai.collector import OpenAICollector

    return [OpenAICollector(config)]


def record_snapshot(config: AuditConfig, out_dir: Path, logger: logging.Logger) -> CollectorOutcome:
    """Save every Admin API page the OpenAI collector reads into `out_dir`, exactly as returned."""
    from collectors.openai.collector import record

    return record(config, out_dir, logger)
