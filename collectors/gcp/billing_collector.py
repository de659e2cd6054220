"""The `gcp.billing` collector: Vertex AI, Gemini and partner-model spend from the Cloud Billing
usage cost export, read from BigQuery or from exported files.

Amounts are net of credits by default (`cost` plus the sum of `credits.amount`, which are
negative); `sources.gcp.billing.cost: gross` counts `cost` alone. Each configured file path and
the BigQuery table is one scope: one that cannot be read is a scope not seen, and the others go
on.
"""

from __future__ import annotations

from typing import Any, Callable

from collectors.contract import CollectContext, SourceKind
from collectors.gcp import billing_files
from collectors.gcp.billing_groups import spend_lines
from collectors.gcp.catalogue import load_catalogue
from collectors.gcp.settings import GcpSettings
from scanner.model import CollectorOutcome, CollectorResult, ScopeGap, SpendLine

BigQueryClientFactory = Callable[[], Any]


class BillingCollector:
    name = "gcp.billing"

    def __init__(self, settings: GcpSettings, bigquery_client_factory: BigQueryClientFactory | None = None) -> None:
        assert settings.billing is not None
        self.settings = settings
        self.billing = settings.billing
        self.source = SourceKind.LIVE if self.billing.bigquery else SourceKind.EXPORT
        self._bigquery_client_factory = bigquery_client_factory

    def describe(self) -> str:
        parts = list(self.billing.files)
        if self.billing.bigquery:
            parts.append(f"BigQuery table {self.billing.bigquery.table}")
        return f"Cloud Billing export ({self.billing.cost} cost) from {', '.join(parts)}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        outcome.notes.append(
            "Amounts are net of credits: cost plus every credit amount."
            if self.billing.cost == "net"
            else "Amounts are gross: cost before credits."
        )
        catalogue = load_catalogue()
        pattern = catalogue.billing_service_pattern()
        lines: list[SpendLine] = []
        total = len(self.billing.files) + (1 if self.billing.bigquery else 0)

        for index, path in enumerate(self.billing.files, start=1):
            lines.extend(self._read_file(path, pattern, outcome, context))
            context.progress(path, index, total)
        if self.billing.bigquery:
            lines.extend(self._query_bigquery(pattern, outcome, context))
            context.progress(self.billing.bigquery.table, total, total)
        return CollectorResult(outcome, spend_lines=lines)

    def _read_file(self, path: str, pattern: str, outcome: CollectorOutcome, context: CollectContext) -> list[SpendLine]:
        try:
            result = billing_files.read_groups(path, pattern, self.billing.start, self.billing.end)
        except billing_files.BillingFileError as error:
            outcome.scopes_not_seen.append(ScopeGap(path, str(error)))
            context.logger.warning("%s: %s: skipped: %s", self.name, path, error)
            return []

        lines = self._lines(result.groups, path)
        outcome.scopes_seen.append(path)
        if result.unreadable_rows:
            outcome.skipped_row_count += result.unreadable_rows
            outcome.notes.append(
                f"{path}: {result.unreadable_rows} AI rows left out because their usage_start_time, cost or currency is missing or invalid."
            )
        context.logger.info(
            "%s: %s: %d files, %d AI row groups, %d spend lines", self.name, path, len(result.files), len(result.groups), len(lines)
        )
        return lines

    def _query_bigquery(self, pattern: str, outcome: CollectorOutcome, context: CollectContext) -> list[SpendLine]:
        from collectors.gcp import billing_bigquery

        settings = self.billing.bigquery
        assert settings is not None
        scope = f"bigquery:{settings.table}"
        try:
            factory = self._bigquery_client_factory or (lambda: billing_bigquery.make_client(settings, self.settings.anonymous))
            groups = billing_bigquery.query_groups(factory(), settings, pattern, self.billing.start, self.billing.end)
        except billing_bigquery.BigQueryError as error:
            outcome.scopes_not_seen.append(ScopeGap(scope, str(error)))
            context.logger.warning("%s: %s: skipped: %s", self.name, scope, error)
            return []

        lines = self._lines(groups, scope)
        outcome.scopes_seen.append(scope)
        context.logger.info("%s: %s: %d AI row groups, %d spend lines", self.name, scope, len(groups), len(lines))
        return lines

    def _lines(self, groups: list[dict[str, Any]], location: str) -> list[SpendLine]:
        return spend_lines(groups, location, self.billing.cost, self.settings.owner_labels, load_catalogue())
