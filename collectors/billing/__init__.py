"""Billing collectors: FOCUS exports, the common spend format, and each cloud's native export."""

from __future__ import annotations

from collectors.contract import Collector
from scanner.config import AuditConfig


def build_collectors(config: AuditConfig) -> list[Collector]:
    from collectors.billing.focus import FocusCollector

    if not config.focus_sources:
        return []
    return [FocusCollector(config.focus_sources, config)]
