"""Recording a live read of Azure as a snapshot folder that `sources.azure.snapshot` reads back."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from collectors.azure.arm import ArmError, LiveArm
from collectors.azure.catalogue import load_catalogue
from collectors.azure.collector import DEFAULT_ENDPOINT, AzureSettings, make_credential
from collectors.azure.inventory import read_inventory
from scanner.config import AuditConfig
from scanner.errors import InputError
from scanner.model import CollectorOutcome, ScopeGap


def record(
    config: AuditConfig,
    out_dir: Path,
    logger: logging.Logger,
    credential: Any = None,
    client_options: dict[str, Any] | None = None,
    today: date | None = None,
) -> CollectorOutcome:
    """Read the live estate with every response saved under `out_dir`, and token metrics that come
    from Azure Monitor for the last full calendar month before `today`."""
    settings = AzureSettings.from_config(config)
    if settings.live is None:
        raise InputError("sources.azure has no live section, so there is nothing to record; add live: {} to read Azure")

    out_dir.mkdir(parents=True, exist_ok=True)

    def save(relative: str, text: str) -> None:
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    live = settings.live
    arm = LiveArm(
        credential if credential is not None else make_credential(live),
        live.get("endpoint", DEFAULT_ENDPOINT),
        client_options,
        recorder=save,
    )
    try:
        inventory = read_inventory(
            arm,
            load_catalogue(),
            logger,
            wanted_subscriptions=live.get("subscriptions"),
            concurrency=int(live.get("concurrency", 4)),
            location=str(out_dir),
        )
        outcome = CollectorOutcome(
            collector="azure",
            source="live",
            scopes_seen=list(inventory.scopes_seen),
            scopes_not_seen=list(inventory.gaps),
            errors=list(inventory.errors),
        )

        start, end = _last_full_month(today or datetime.now(timezone.utc).date())
        for spec in settings.token_metrics:
            if spec.file:
                continue
            resource = spec.resource_id or spec.account_id
            try:
                arm.metrics(resource, spec.query(start, end))
                outcome.scopes_seen.append(f"{resource} token metrics")
            except ArmError as error:
                outcome.scopes_not_seen.append(ScopeGap(f"{resource} token metrics", f"cannot read token metrics: {error.describe()}"))
                logger.warning("azure: token metrics of %s not recorded: %s", resource, error.describe())
        return outcome
    finally:
        arm.close()


def _last_full_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end
