"""Collectors: one subpackage per source family. `build_collectors` picks the configured ones."""

from __future__ import annotations

from collectors.contract import Collector
from scanner.config import AuditConfig


def build_collectors(config: AuditConfig) -> list[Collector]:
    """Instantiate every collector the config names, in a stable order."""
    from collectors.billing.focus import FocusCollector

    collectors: list[Collector] = []
    if config.focus_sources:
        collectors.append(FocusCollector(config.focus_sources, config))
    return collectors
