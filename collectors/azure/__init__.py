"""Azure: Azure OpenAI and AI services accounts and deployments, the API Management services in
front of them, Cost Management exports, and token metrics that split provisioned throughput.

This module stays light: the Azure SDK is imported only when a collector runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scanner.config import AuditConfig
from scanner.model import CollectorOutcome


def build_collectors(config: AuditConfig, credential: Any = None, client_options: dict[str, Any] | None = None) -> list:
    """The collectors `sources.azure` names: `azure` for a snapshot or live section, `azure.costs`
    for cost exports. `credential` and `client_options` (keyword arguments of the Azure SDK
    clients, such as connection_verify) replace the configured sign-in, for tests and embedding."""
    if "azure" not in config.sources:
        return []
    from collectors.azure.collector import build

    return build(config, credential, client_options)


def record_snapshot(
    config: AuditConfig,
    out_dir: Path,
    logger: logging.Logger,
    credential: Any = None,
    client_options: dict[str, Any] | None = None,
) -> CollectorOutcome:
    """Record every ARM and Azure Monitor response the live Azure collector reads into `out_dir`."""
    from collectors.azure.snapshot import record

    return record(config, out_dir, logger, credential, client_options)
