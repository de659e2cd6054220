"""Google Cloud: Vertex AI resources, projects with AI APIs enabled and their labels (Cloud Asset
Inventory, live or from a snapshot), and Vertex AI, Gemini and partner-model spend from the Cloud
Billing export (BigQuery or exported files).

This module stays light: the Google client libraries are imported only when a collector runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scanner.config import AuditConfig
from scanner.model import CollectorOutcome


def build_collectors(config: AuditConfig) -> list:
    """`gcp.assets` when `sources.gcp` names scopes or a snapshot, `gcp.billing` when it names a
    billing export; none when the config has no `sources.gcp`."""
    # The coverage reasons are registered whether or not gcp is configured, because a FOCUS
    # export can carry Vertex AI partner-model rows too.
    from collectors.gcp import attribution  # noqa: F401

    if "gcp" not in config.sources:
        return []
    from collectors.gcp.asset_collector import AssetCollector
    from collectors.gcp.billing_collector import BillingCollector
    from collectors.gcp.settings import read_settings

    settings = read_settings(config)
    collectors: list = []
    if settings.reads_assets:
        collectors.append(AssetCollector(settings))
    if settings.billing is not None and (settings.billing.files or settings.billing.bigquery):
        collectors.append(BillingCollector(settings))
    return collectors


def record_snapshot(config: AuditConfig, out_dir: Path, logger: logging.Logger, client_factory: Any = None, retry: Any = None) -> CollectorOutcome:
    """Record every Cloud Asset ListAssets response of the configured scopes into `out_dir`, one
    folder per scope. `client_factory` replaces the configured client, for tests and embedding."""
    from collectors.gcp.asset_collector import record
    from collectors.gcp.settings import read_settings

    settings = read_settings(config)
    outcome = CollectorOutcome(collector="gcp.assets", source="live")
    if not settings.scopes:
        outcome.errors.append("sources.gcp.scopes is empty, so there is nothing to record; add organizations/, folders/ or projects/ scopes")
        return outcome
    outcome = record(settings, out_dir, logger, client_factory, retry)
    if settings.billing is not None:
        outcome.notes.append(
            "The billing export is not recorded: export the table to files (bq extract) and point sources.gcp.billing.files at them."
        )
    return outcome
