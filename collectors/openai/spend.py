"""Turn OpenAI cost buckets into spend lines and usage buckets into per-key and per-project totals.

Shapes: the Admin API reference, /v1/organization/costs (daily buckets of results with an
`amount` {value, currency}, grouped by `project_id` and `line_item`) and
/v1/organization/usage/<report> (daily buckets of results grouped by project, key and model).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from collectors.openai.admin_costs import CostGroup, CostLines, grouped_spend_lines
from collectors.openai.organisation import PROVIDER, timestamp
from collectors.openai.reasons import SERVICE
from collectors.openai.usage_totals import UsageTotals, whole_number
from scanner.model import Asset, SkippedRow

# A cost line item names its model before a comma ("gpt-4o-2024-08-06, input"). Line items of
# tools ("web search tool calls") or of products with spaces in their name carry no model.
_MODEL_LINE_ITEM = re.compile(r"^(?P<model>[A-Za-z0-9][A-Za-z0-9._:-]*),\s")

# The usage reports the Admin API offers and what each can be grouped by.
USAGE_GROUPING = {
    "completions": ("project_id", "api_key_id", "model"),
    "embeddings": ("project_id", "api_key_id", "model"),
    "moderations": ("project_id", "api_key_id", "model"),
    "images": ("project_id", "api_key_id", "model"),
    "audio_speeches": ("project_id", "api_key_id", "model"),
    "audio_transcriptions": ("project_id", "api_key_id", "model"),
    "vector_stores": ("project_id",),
    "code_interpreter_sessions": ("project_id",),
}


def model_of_line_item(line_item: Any) -> str | None:
    if not isinstance(line_item, str):
        return None
    match = _MODEL_LINE_ITEM.match(line_item.strip())
    return match.group("model") if match else None


def cost_lines(buckets: list[dict[str, Any]], organisation: str, projects: dict[str, Asset], location: str) -> CostLines:
    """Build one spend line per day, project, model and currency, summing the line items under it."""
    result = CostLines()
    groups: dict[CostGroup, list[Decimal]] = defaultdict(list)
    row = 0
    for bucket in buckets:
        start, end = timestamp(bucket.get("start_time")), timestamp(bucket.get("end_time"))
        for item in bucket.get("results") or []:
            row += 1
            if start is None or end is None:
                result.skipped.append(SkippedRow(location, row, "the bucket has no start_time or end_time"))
                continue
            amount, currency = _amount(item.get("amount") if isinstance(item, dict) else None)
            if amount is None:
                result.skipped.append(SkippedRow(location, row, "the result has no amount with a numeric value and a currency"))
                continue
            key = (start, end, item.get("project_id"), model_of_line_item(item.get("line_item")), currency)
            groups[key].append(amount)

    result.lines = grouped_spend_lines(
        groups, provider=PROVIDER, service=SERVICE, organisation=organisation, resources=projects, location=location
    )
    return result


def _amount(amount: Any) -> tuple[Decimal | None, str]:
    if not isinstance(amount, dict) or not isinstance(amount.get("currency"), str):
        return None, ""
    value = amount.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        return None, ""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None, ""
    if not number.is_finite():
        return None, ""
    return number, amount["currency"].strip().upper()


@dataclass
class UsageByKey:
    """Usage totals per API key ID and per project ID, from every usage report read."""

    keys: dict[str, UsageTotals] = field(default_factory=lambda: defaultdict(UsageTotals))
    projects: dict[str, UsageTotals] = field(default_factory=lambda: defaultdict(UsageTotals))

    def add_report(self, report: str, buckets: list[dict[str, Any]]) -> None:
        for bucket in buckets:
            day: datetime | None = timestamp(bucket.get("start_time"))
            if day is None:
                continue
            for item in bucket.get("results") or []:
                if isinstance(item, dict):
                    self._add_result(report, day, item)

    def _add_result(self, report: str, day: datetime, item: dict[str, Any]) -> None:
        counts = (
            whole_number(item.get("num_model_requests")),
            whole_number(item.get("input_tokens")),
            whole_number(item.get("output_tokens")),
        )
        model = item.get("model") if isinstance(item.get("model"), str) else None
        if isinstance(item.get("api_key_id"), str):
            self.keys[item["api_key_id"]].add(report, day, model, *counts)
        if isinstance(item.get("project_id"), str):
            self.projects[item["project_id"]].add(report, day, model, *counts)
