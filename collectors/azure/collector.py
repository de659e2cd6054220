"""The Azure collectors: `azure` reads the AI estate (live or from a snapshot), `azure.costs` reads
Cost Management exports and splits provisioned throughput charges by token metrics.

Both share one `AzureEstate`, which reads ARM once, for whichever collector needs it first.
"""

from __future__ import annotations

import glob
import logging
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from collectors.azure import reasons  # noqa: F401 - registers the Azure reasons and classifier
from collectors.azure.arm import ArmError, ArmSource, LiveArm, SnapshotArm, parse_json
from collectors.azure.assets import build_assets
from collectors.azure.catalogue import load_catalogue
from collectors.azure.cost_export import ExportUnreadable, read_export
from collectors.azure.inventory import INVALID_SNAPSHOT_FILE, AzureInventory, read_inventory
from collectors.azure.ptu import allocate, is_ptu_line, summary
from collectors.azure.token_metrics import MetricsUnreadable, TokenMetricsSpec, TokenUsage, parse_metrics
from collectors.contract import CollectContext, SourceKind
from scanner.config import AuditConfig
from scanner.errors import InputError
from scanner.model import CollectorOutcome, CollectorResult, ScopeGap, SpendLine

DEFAULT_ENDPOINT = "https://management.azure.com"


@dataclass(frozen=True)
class AzureSettings:
    """`sources.azure` of the config, with paths resolved."""

    snapshot: Path | None
    live: dict[str, Any] | None
    inheritance: bool
    cost_exports: list[tuple[str, str]]
    token_metrics: list[TokenMetricsSpec]

    @classmethod
    def from_config(cls, config: AuditConfig) -> AzureSettings:
        raw = config.sources.get("azure") or {}
        specs = [
            TokenMetricsSpec(
                account_id=entry["account"].lower(),
                caller_dimension=entry["caller_dimension"],
                resource_id=entry.get("resource"),
                file=str(config.resolve(entry["file"])) if entry.get("file") else None,
                namespace=entry.get("namespace"),
                prompt_metric=entry.get("prompt_metric", "ProcessedPromptTokens"),
                completion_metric=entry.get("completion_metric", "GeneratedTokens"),
                deployment_dimension=entry.get("deployment_dimension", "ModelDeploymentName"),
                callers=dict(entry.get("callers") or {}),
            )
            for entry in raw.get("token_metrics", [])
        ]
        return cls(
            snapshot=config.resolve(raw["snapshot"]) if raw.get("snapshot") else None,
            live=raw.get("live") if "live" in raw else None,
            inheritance=bool(raw.get("resource_group_tag_inheritance", False)),
            cost_exports=[(str(config.resolve(e["path"])), e.get("cost", "amortized")) for e in raw.get("cost_exports", [])],
            token_metrics=specs,
        )

    @property
    def has_estate(self) -> bool:
        return self.snapshot is not None or self.live is not None


def make_credential(live: dict[str, Any]) -> Any:
    """Build the azure-identity credential the `live.credential` setting names."""
    method = live.get("credential", "default")
    try:
        return _credential(method, live.get("tenant_id"), live.get("client_id"))
    except ValueError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"sources.azure.live.credential {method}: {reason}") from None


def _credential(method: str, tenant: str | None, client_id: str | None) -> Any:
    import azure.identity as identity

    if method == "cli":
        return identity.AzureCliCredential(tenant_id=tenant)
    if method == "environment":
        return identity.EnvironmentCredential()
    if method == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=client_id) if client_id else identity.ManagedIdentityCredential()
    if method == "workload_identity":
        options = {key: value for key, value in (("tenant_id", tenant), ("client_id", client_id)) if value}
        return identity.WorkloadIdentityCredential(**options)
    if method == "powershell":
        return identity.AzurePowerShellCredential(tenant_id=tenant)
    if method == "developer_cli":
        return identity.AzureDeveloperCliCredential(tenant_id=tenant)
    options: dict[str, Any] = {}
    if tenant:
        options["additionally_allowed_tenants"] = [tenant]
    if client_id:
        options["managed_identity_client_id"] = client_id
    return identity.DefaultAzureCredential(**options)


class AzureEstate:
    """The ARM source the config names, and the inventory read from it, read once."""

    def __init__(self, settings: AzureSettings, credential: Any = None, client_options: dict[str, Any] | None = None):
        self.settings = settings
        self._credential = credential
        self._client_options = client_options
        self._arm: ArmSource | None = None
        self._inventory: AzureInventory | None = None
        self._lock = threading.Lock()

    @property
    def source_kind(self) -> SourceKind:
        return SourceKind.SNAPSHOT if self.settings.snapshot is not None else SourceKind.LIVE

    @property
    def location(self) -> str:
        if self.settings.snapshot is not None:
            return str(self.settings.snapshot)
        return (self.settings.live or {}).get("endpoint", DEFAULT_ENDPOINT)

    def arm(self) -> ArmSource:
        with self._lock:
            if self._arm is None:
                self._arm = self._open()
            return self._arm

    def _open(self) -> ArmSource:
        if self.settings.snapshot is not None:
            if not self.settings.snapshot.is_dir():
                raise InputError(f"azure: snapshot folder {self.settings.snapshot} not found; record one with shadowmap snapshot or fix sources.azure.snapshot")
            return SnapshotArm(self.settings.snapshot)
        live = self.settings.live or {}
        credential = self._credential if self._credential is not None else make_credential(live)
        return LiveArm(credential, live.get("endpoint", DEFAULT_ENDPOINT), self._client_options)

    def inventory(self, logger: logging.Logger) -> AzureInventory:
        arm = self.arm()
        with self._lock:
            if self._inventory is None:
                live = self.settings.live or {}
                self._inventory = read_inventory(
                    arm,
                    load_catalogue(),
                    logger,
                    wanted_subscriptions=live.get("subscriptions"),
                    concurrency=int(live.get("concurrency", 4)),
                    location=self.location,
                )
            return self._inventory


class AzureInventoryCollector:
    """Cognitive Services accounts of the AI kinds in every subscription, with their deployments."""

    name = "azure"

    def __init__(self, estate: AzureEstate, config: AuditConfig):
        self._estate = estate
        self._config = config
        self.source = estate.source_kind

    def describe(self) -> str:
        return f"Azure OpenAI and AI services accounts from {self.source.value} {self._estate.location}"

    def collect(self, context: CollectContext) -> CollectorResult:
        inventory = self._estate.inventory(context.logger)
        outcome = CollectorOutcome(
            collector=self.name,
            source=self.source.value,
            scopes_seen=list(inventory.scopes_seen),
            scopes_not_seen=list(inventory.gaps),
            errors=list(inventory.errors),
        )
        context.progress("subscriptions", len(inventory.scopes_seen), len(inventory.subscriptions))
        settings = self._estate.settings
        metered = {spec.account_id for spec in settings.token_metrics}
        assets = build_assets(inventory, self._config.policy, settings.inheritance, metered)
        outcome.notes.append(
            "Account owners come from account tags"
            + (" and resource group tags (tag inheritance on)." if settings.inheritance else "; resource group tags are not used because tag inheritance is off.")
        )
        return CollectorResult(outcome, assets=assets)


class AzureCostCollector:
    """AI spend from Azure Cost Management exports, with PTU charges split by token metrics."""

    name = "azure.costs"
    source = SourceKind.EXPORT

    def __init__(self, settings: AzureSettings, config: AuditConfig, estate: AzureEstate | None):
        self._settings = settings
        self._config = config
        self._estate = estate

    def describe(self) -> str:
        return f"{len(self._settings.cost_exports)} Azure cost export path(s)"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        lines = self._read_exports(context, outcome)

        if any(is_ptu_line(line) for line in lines) and self._settings.token_metrics:
            lines, share_assets = self._allocate(lines, context.logger, outcome)
        else:
            share_assets = []
        return CollectorResult(outcome, assets=share_assets, spend_lines=lines)

    def _read_exports(self, context: CollectContext, outcome: CollectorOutcome) -> list[SpendLine]:
        rules = load_catalogue().cost_export
        files: list[tuple[Path, str]] = []
        for pattern, cost in self._settings.cost_exports:
            if glob.has_magic(pattern):
                matches = sorted(glob.glob(pattern))
            else:
                matches = [pattern] if Path(pattern).exists() else []
            if not matches:
                outcome.scopes_not_seen.append(ScopeGap(pattern, "no file matches this path; check sources.azure.cost_exports"))
                context.logger.warning("azure.costs: %s: no file matches", pattern)
            files.extend((Path(match), cost) for match in matches)

        lines: list[SpendLine] = []
        for number, (path, cost) in enumerate(files, start=1):
            try:
                read = read_export(path, rules)
            except ExportUnreadable as error:
                outcome.scopes_not_seen.append(ScopeGap(str(path), str(error)))
                context.logger.warning("azure.costs: %s", error)
                continue
            outcome.scopes_seen.append(str(path))
            outcome.skipped_rows.extend(read.skipped_rows)
            outcome.skipped_row_count += read.skipped_row_count
            if read.tag_parse_failures:
                outcome.notes.append(f"{path}: {read.tag_parse_failures} AI rows have a Tags cell that is not JSON; they count as untagged.")
            if cost == "actual":
                outcome.notes.append(f"{path}: actual cost, so PTU reservation purchases count on the day they were bought.")
            lines.extend(read.lines)
            context.logger.info(
                "azure.costs: %s: %d AI rows in %d spend lines, %d rows skipped",
                path, read.ai_rows, len(read.lines), read.skipped_row_count,
            )
            context.progress("cost exports", number, len(files))
        return lines

    def _allocate(self, lines: list[SpendLine], logger: logging.Logger, outcome: CollectorOutcome) -> tuple[list[SpendLine], list]:
        if self._estate is None:
            outcome.notes.append("PTU charges are not split: sources.azure has no snapshot or live section to list provisioned deployments.")
            return lines, []
        try:
            inventory = self._estate.inventory(logger)
        except InputError as error:
            outcome.notes.append(f"PTU charges are not split: {error}")
            return lines, []
        accounts = {account.id: account for account in inventory.accounts}

        usage: dict[str, tuple[TokenMetricsSpec, TokenUsage]] = {}
        for spec in self._settings.token_metrics:
            days = [line.period_start.date() for line in lines if is_ptu_line(line) and (line.resource_id or "").lower() == spec.account_id]
            if not days:
                continue
            try:
                usage[spec.account_id] = (spec, parse_metrics(self._metrics_response(spec, min(days), max(days) + timedelta(days=1)), spec))
            except (ArmError, MetricsUnreadable, OSError, ValueError) as error:
                where = spec.file or spec.resource_id or spec.account_id
                if isinstance(error, ArmError):
                    # A snapshot file that is not valid JSON is named by its message.
                    detail = error.message if error.code == INVALID_SNAPSHOT_FILE else error.describe()
                else:
                    detail = str(error)
                outcome.scopes_not_seen.append(ScopeGap(f"{where} token metrics", f"cannot read token metrics: {detail}; PTU charges of this account stay unallocated"))
                logger.warning("azure.costs: token metrics of %s not read: %s", spec.account_id, detail)

        allocation = allocate(lines, accounts, usage, self._config.policy.owner_tags)
        outcome.notes.extend(summary(allocation))
        return allocation.lines, list(allocation.assets.values())

    def _metrics_response(self, spec: TokenMetricsSpec, start: date, end: date) -> Any:
        if spec.file:
            return parse_json(Path(spec.file).read_text(encoding="utf-8-sig"))
        return self._estate.arm().metrics(spec.resource_id or spec.account_id, spec.query(start, end))


def build(config: AuditConfig, credential: Any = None, client_options: dict[str, Any] | None = None) -> list:
    settings = AzureSettings.from_config(config)
    estate = AzureEstate(settings, credential, client_options) if settings.has_estate else None
    collectors: list = []
    if estate is not None:
        collectors.append(AzureInventoryCollector(estate, config))
    if settings.cost_exports:
        collectors.append(AzureCostCollector(settings, config, estate))
    return collectors
