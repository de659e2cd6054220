"""The coverage figures and sentences the HTML and terminal reports share, read from a JSON result.

Both reports state the same headline for a currency and the same warning when the inventory is
incomplete, so they are worded once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reports.money import DisplaySplit, format_money, format_share, split_for_display


@dataclass(frozen=True)
class AmountRow:
    """One named amount, such as an owner's attributed spend."""

    name: str
    amount: Decimal
    text: str


@dataclass(frozen=True)
class ReasonRow:
    """Unattributed spend that ended at one reason, with the sentence that explains the reason."""

    code: str
    sentence: str
    amount: Decimal
    text: str


@dataclass(frozen=True)
class BreakdownRow:
    """One provider's spend, split into attributed and unattributed for display."""

    name: str
    split: DisplaySplit
    line_count: int


@dataclass(frozen=True)
class SourceRow:
    """One of the largest unattributed sources."""

    provider: str
    account: str | None
    service: str
    resource_id: str | None
    reason: str
    text: str
    line_count: int


@dataclass(frozen=True)
class CurrencyFigures:
    """Everything the reports show about one currency's coverage."""

    currency: str
    split: DisplaySplit
    share_text: str | None
    headline: str
    line_count: int
    providers: list[BreakdownRow]
    reasons: list[ReasonRow]
    owners: list[AmountRow]
    largest_unattributed: list[SourceRow]


def currency_figures(result: dict[str, Any]) -> list[CurrencyFigures]:
    """Build the figures of every currency in the result, ordered by currency code."""
    coverage = result["coverage"]
    return [_figures(coverage[currency]) for currency in sorted(coverage)]


def _figures(block: dict[str, Any]) -> CurrencyFigures:
    currency = block["currency"]
    total = Decimal(block["total"])
    attributed = Decimal(block["attributed"])
    split = split_for_display(total, attributed, currency)
    share_text = format_share(attributed, total)

    return CurrencyFigures(
        currency=currency,
        split=split,
        share_text=share_text,
        headline=coverage_headline(split, share_text, total),
        line_count=block["line_count"],
        providers=_provider_rows(block["by_provider"], currency),
        reasons=_reason_rows(block, currency),
        owners=_ranked_amounts(block["by_owner"], currency),
        largest_unattributed=[_source_row(source, currency) for source in block["largest_unattributed"]],
    )


def coverage_headline(split: DisplaySplit, share_text: str | None, total: Decimal) -> str:
    """State in one sentence how much of a currency's AI spend is attributed.

    When negative amounts make the total zero or negative, or make one part negative, a percentage would
    mislead, so the sentence states what happened instead.
    """
    if share_text is not None:
        return f"{share_text} of {split.total_text} AI spend is attributed."
    if total.is_zero():
        return f"AI spend in {split.currency} nets to zero, so there is no attributed share to report."
    if total < 0:
        return (
            f"AI spend in {split.currency} nets to {split.total_text} because negative amounts "
            "(credits, refunds, corrections) exceed charges, so there is no attributed share to report."
        )
    return (
        f"Negative amounts make one part of the {split.currency} AI spend negative, so there is no "
        f"attributed share to report: {split.attributed_text} attributed and "
        f"{split.unattributed_text} unattributed of {split.total_text}."
    )


def _provider_rows(by_provider: dict[str, Any], currency: str) -> list[BreakdownRow]:
    rows = [
        BreakdownRow(
            name=name,
            split=split_for_display(Decimal(figures["total"]), Decimal(figures["attributed"]), currency),
            line_count=figures["line_count"],
        )
        for name, figures in by_provider.items()
    ]
    return sorted(rows, key=lambda row: (-row.split.total, row.name))


def _reason_rows(block: dict[str, Any], currency: str) -> list[ReasonRow]:
    sentences = block["reasons"]
    return [
        ReasonRow(row.name, sentences.get(row.name, ""), row.amount, row.text)
        for row in _ranked_amounts(block["by_reason"], currency)
    ]


def _ranked_amounts(amounts: dict[str, str], currency: str) -> list[AmountRow]:
    """Rank named amounts largest first, by name on a tie."""
    rows = [
        AmountRow(name, Decimal(amount), format_money(Decimal(amount), currency))
        for name, amount in amounts.items()
    ]
    return sorted(rows, key=lambda row: (-row.amount, row.name))


def _source_row(source: dict[str, Any], currency: str) -> SourceRow:
    return SourceRow(
        provider=source["provider"],
        account=source["account"],
        service=source["service"],
        resource_id=source["resource_id"],
        reason=source["reason"],
        text=format_money(Decimal(source["amount"]), currency),
        line_count=source["line_count"],
    )


def incomplete_collectors(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the outcomes of the collectors that did not see their whole scope, in run order."""
    return [outcome for outcome in result["collectors"] if outcome["status"] != "ok"]


def inventory_gap_sentence(result: dict[str, Any]) -> str | None:
    """Warn that the figures cover only what was seen when a collector was partial or failed.

    Return None when every collector saw its whole scope.
    """
    incomplete = incomplete_collectors(result)
    if not incomplete:
        return None

    partial = sum(1 for outcome in incomplete if outcome["status"] == "partial")
    failed = len(incomplete) - partial
    statuses = []
    if partial:
        statuses.append(f"{partial} partial")
    if failed:
        statuses.append(f"{failed} failed")

    collectors = count_text(len(result["collectors"]), "collector")
    return (
        f"Incomplete inventory: {' and '.join(statuses)} of {collectors}, "
        "so figures cover only what was seen."
    )


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """Write a count with its noun, such as `1 scope` or `3 scopes`."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural or noun + 's'}"
