"""Cohere: no admin, usage or cost API exists, so this family reads nothing and says where Cohere
spend can be found instead (billing exports for Cohere through Bedrock or Azure, and expense or
card exports for direct Cohere accounts)."""

from __future__ import annotations

from collectors.contract import Collector
from scanner.config import AuditConfig


def build_collectors(config: AuditConfig) -> list[Collector]:
    settings = config.sources.get("cohere")
    if settings is None or not settings.get("enabled", True):
        return []
    from collectors.cohere.collector import CohereCollector

    return [CohereCollector(config)]
