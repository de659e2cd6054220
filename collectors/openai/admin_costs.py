"""Spend lines from an Admin API cost report, the same for OpenAI and Anthropic: cost results
summed per day, project or workspace, model and currency.

Each provider's spend module reads its own result fields and amount format into groups, and
`grouped_spend_lines` turns the groups into spend lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from scanner.model import Asset, SkippedRow, SourceRef, SpendLine

CATEGORY = "AI and Machine Learning"
SUBCATEGORY = "Generative AI"

# The key of one group of cost results: the bucket's start and end, the project or workspace ID
# (None when the provider reports the cost without one), the model and the currency.
CostGroup = tuple[datetime, datetime, str | None, str | None, str]


@dataclass
class CostLines:
    """Spend lines from the cost buckets, and the results that could not be read."""

    lines: list[SpendLine] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)


def grouped_spend_lines(
    groups: dict[CostGroup, list[Decimal]],
    *,
    provider: str,
    service: str,
    organisation: str,
    resources: dict[str, Asset],
    location: str,
) -> list[SpendLine]:
    """Build one spend line per group, ordered by day, resource, model and currency. A group whose
    amounts sum to zero makes no line."""
    lines = []
    for (start, end, resource_id, model, currency), amounts in sorted(groups.items(), key=_group_order):
        total = sum(amounts, Decimal(0))
        if total == 0:
            continue
        resource = resources.get(resource_id) if resource_id else None
        lines.append(
            SpendLine(
                taggable=False,
                amount=total,
                currency=currency,
                period_start=start,
                period_end=end,
                provider=provider,
                service=service,
                account=organisation,
                resource_id=resource_id,
                resource_name=resource.name if resource else None,
                model=model,
                category=CATEGORY,
                subcategory=SUBCATEGORY,
                charge_category="Usage",
                source=SourceRef(location, row_count=len(amounts)),
            )
        )
    return lines


def _group_order(entry: tuple[CostGroup, list[Decimal]]) -> tuple:
    start, end, resource_id, model, currency = entry[0]
    return (start, resource_id or "", model or "", currency)
