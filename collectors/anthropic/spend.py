"""Turn Anthropic cost report buckets into spend lines and messages usage report buckets into
per-key and per-workspace totals.

Shapes: the Admin API reference, /v1/organizations/cost_report (daily buckets whose results carry
`amount` as a decimal string in the currency's lowest unit, cents for USD, grouped by workspace
and description, which adds the model) and /v1/organizations/usage_report/messages (buckets of
token counts grouped by workspace, API key, model and service tier).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from collectors.anthropic.organisation import parse_time, workspace_id
from collectors.anthropic.reasons import PROVIDER, SERVICE
from collectors.openai.admin_costs import CostGroup, CostLines, grouped_spend_lines
from collectors.openai.usage_totals import UsageTotals, whole_number
from scanner.model import Asset, SkippedRow

# Cost report amounts are in the lowest unit of their currency: cents for USD, the only currency
# the report uses today. Any other currency is skipped rather than guessed.
MINOR_UNITS = {"USD": Decimal(100)}

# Service tiers whose cost the cost report leaves out, while the usage report shows their tokens.
PRIORITY_TIERS = frozenset({"priority", "priority_on_demand"})


def cost_lines(buckets: list[dict[str, Any]], organisation: str, workspaces: dict[str, Asset], location: str) -> CostLines:
    """Build one spend line per day, workspace, model and currency, summing the descriptions under it."""
    result = CostLines()
    groups: dict[CostGroup, list[Decimal]] = defaultdict(list)
    row = 0
    for bucket in buckets:
        start, end = parse_time(bucket.get("starting_at")), parse_time(bucket.get("ending_at"))
        for item in bucket.get("results") or []:
            row += 1
            if start is None or end is None:
                result.skipped.append(SkippedRow(location, row, "the bucket has no valid starting_at or ending_at"))
                continue
            if not isinstance(item, dict):
                result.skipped.append(SkippedRow(location, row, "the result is not an object"))
                continue
            amount, currency, problem = _amount(item.get("amount"), item.get("currency"))
            if amount is None:
                result.skipped.append(SkippedRow(location, row, problem))
                continue
            model = item.get("model") if isinstance(item.get("model"), str) else None
            groups[(start, end, workspace_id(item.get("workspace_id")), model, currency)].append(amount)

    result.lines = grouped_spend_lines(
        groups, provider=PROVIDER, service=SERVICE, organisation=organisation, resources=workspaces, location=location
    )
    return result


def _amount(amount: Any, currency: Any) -> tuple[Decimal | None, str, str]:
    """Return the amount in whole currency units and its currency, or the reason it cannot be read."""
    if not isinstance(currency, str) or currency.strip().upper() not in MINOR_UNITS:
        return None, "", f"the currency {currency!r} is not one whose lowest unit is known (USD)"
    if isinstance(amount, bool) or not isinstance(amount, (str, int, Decimal)):
        return None, "", "the result has no amount"
    try:
        cents = Decimal(amount)
    except InvalidOperation:
        return None, "", f"the amount {amount!r} is not a decimal number"
    if not cents.is_finite():
        return None, "", f"the amount {amount!r} is not a finite number"
    code = currency.strip().upper()
    return cents / MINOR_UNITS[code], code, ""


@dataclass
class MessagesUsage:
    """Token totals per API key and per workspace, and what the cost report cannot show."""

    keys: dict[str, UsageTotals] = field(default_factory=lambda: defaultdict(UsageTotals))
    workspaces: dict[str, UsageTotals] = field(default_factory=lambda: defaultdict(UsageTotals))
    priority_tokens: int = 0
    tokens_without_key: int = 0

    def add_report(self, buckets: list[dict[str, Any]]) -> None:
        for bucket in buckets:
            day: datetime | None = parse_time(bucket.get("starting_at"))
            if day is None:
                continue
            for item in bucket.get("results") or []:
                if isinstance(item, dict):
                    self._add_result(day, item)

    def _add_result(self, day: datetime, item: dict[str, Any]) -> None:
        cache_creation = item.get("cache_creation") if isinstance(item.get("cache_creation"), dict) else {}
        input_tokens = (
            whole_number(item.get("uncached_input_tokens"))
            + whole_number(item.get("cache_read_input_tokens"))
            + whole_number(cache_creation.get("ephemeral_5m_input_tokens"))
            + whole_number(cache_creation.get("ephemeral_1h_input_tokens"))
        )
        output_tokens = whole_number(item.get("output_tokens"))
        model = item.get("model") if isinstance(item.get("model"), str) else None

        self.workspaces[workspace_id(item.get("workspace_id"))].add("messages", day, model, None, input_tokens, output_tokens)
        if isinstance(item.get("api_key_id"), str):
            self.keys[item["api_key_id"]].add("messages", day, model, None, input_tokens, output_tokens)
        else:
            # Usage from the Console (Workbench) carries no API key.
            self.tokens_without_key += input_tokens + output_tokens
        if item.get("service_tier") in PRIORITY_TIERS:
            self.priority_tokens += input_tokens + output_tokens
