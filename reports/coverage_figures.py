"""The coverage figures and sentences the HTML and terminal reports share, read from a JSON result.

Both reports state the same headline, billing period and rounded amounts for a currency, and the
same warning when the inventory is incomplete, so they are worded and rounded once, here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from reports.money import (
    DisplaySplit,
    allocate,
    allocate_splits,
    format_money,
    format_share,
    round_money,
    split_for_display,
)
from scanner.coverage import UNRECORDED_SOURCE
from scanner.model import count_text

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


@dataclass(frozen=True)
class AmountRow:
    """One named amount, such as an owner's attributed spend, rounded as displayed."""

    name: str
    amount: Decimal
    text: str


@dataclass(frozen=True)
class ReasonRow:
    """Unattributed spend that ended at one reason, rounded as displayed, with the sentence that
    explains the reason."""

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
class SourceFamilyName:
    """A source family's name as the reports show it: in full in the HTML table, brief on the terminal."""

    full: str
    brief: str


# Names an executive reads without knowing the collectors. A family missing here (a new one, or
# one from a later version's result) is shown by its id.
SOURCE_FAMILY_NAMES: dict[str, SourceFamilyName] = {
    "billing": SourceFamilyName("FOCUS billing exports", "FOCUS bills"),
    "aws": SourceFamilyName("Amazon Web Services", "AWS"),
    "azure": SourceFamilyName("Microsoft Azure", "Azure"),
    "gcp": SourceFamilyName("Google Cloud", "Google Cloud"),
    "openai": SourceFamilyName("OpenAI organisation", "OpenAI organisation"),
    "anthropic": SourceFamilyName("Anthropic organisation", "Anthropic organisation"),
    "cohere": SourceFamilyName("Cohere", "Cohere"),
    "code": SourceFamilyName("Code repositories", "code"),
    "expense": SourceFamilyName("Card and expense exports", "cards and expenses"),
    UNRECORDED_SOURCE: SourceFamilyName("Source not recorded", "source not recorded"),
}


@dataclass(frozen=True)
class SourceFamilyRow:
    """One source family's spend, split into attributed and unattributed for display, with the
    attributed share of its exact figures (None when no share is meaningful)."""

    family: str
    name: SourceFamilyName
    split: DisplaySplit
    share_text: str | None
    line_count: int


@dataclass(frozen=True)
class SourceRow:
    """One of the largest unattributed sources, its amount rounded as displayed."""

    provider: str
    account: str | None
    service: str
    resource_id: str | None
    reason: str
    amount: Decimal
    text: str
    line_count: int


@dataclass(frozen=True)
class CurrencyFigures:
    """Everything the reports show about one currency's coverage."""

    currency: str
    split: DisplaySplit
    share_text: str | None
    headline: str
    period_text: str | None
    line_count: int
    providers: list[BreakdownRow]
    source_families: list[SourceFamilyRow]
    reasons: list[ReasonRow]
    owners: list[AmountRow]
    largest_unattributed: list[SourceRow]


def currency_figures(result: dict[str, Any]) -> list[CurrencyFigures]:
    """Build the figures of every currency in the result, ordered by currency code."""
    coverage = result["coverage"]
    return [_figures(coverage[currency]) for currency in sorted(coverage)]


def _figures(block: dict[str, Any]) -> CurrencyFigures:
    """Round the currency's total once, then allocate every table's rows against the rounded
    figure the table breaks down, so each table adds up to the headline."""
    currency = block["currency"]
    total = Decimal(block["total"])
    attributed = Decimal(block["attributed"])
    split = split_for_display(total, attributed, currency)
    share_text = format_share(attributed, total)
    reasons = _reason_rows(block, split.unattributed)

    return CurrencyFigures(
        currency=currency,
        split=split,
        share_text=share_text,
        headline=coverage_headline(split, share_text, total),
        period_text=billing_period_text(block["period"]),
        line_count=block["line_count"],
        providers=_provider_rows(block["by_provider"], split),
        # Results written before the source breakdown existed have no by_source.
        source_families=_source_family_rows(block.get("by_source", {}), split),
        reasons=reasons,
        owners=_allocated_rows(block["by_owner"], split.attributed, currency),
        largest_unattributed=_source_rows(block, {row.code: row.amount for row in reasons}),
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


def billing_period_text(period: dict[str, str | None]) -> str | None:
    """Write the span a currency's spend covers in words, such as `1–30 November 2026` for one
    calendar month or `3 Nov 2026 – 28 Nov 2026` for any other span.

    The result's end is exclusive, so the last day written is the day of the last moment before
    it. Return None when the result states neither end.
    """
    start = _utc_time(period["start"])
    end = _utc_time(period["end"])
    if start is None and end is None:
        return None
    if end is None:
        return f"{_short_date(start.date())} – unknown end"

    last_day = (end - timedelta(microseconds=1)).date()
    if start is None:
        return f"unknown start – {_short_date(last_day)}"
    if _is_calendar_month(start, end):
        return f"{start.day}–{last_day.day} {MONTH_NAMES[start.month - 1]} {start.year}"
    if last_day <= start.date():
        return _short_date(start.date())
    return f"{_short_date(start.date())} – {_short_date(last_day)}"


def _utc_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _is_calendar_month(start: datetime, end: datetime) -> bool:
    """Tell whether `start` to `end` (exclusive) is exactly one calendar month in UTC."""
    first_of_month = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start != first_of_month:
        return False
    if start.month == 12:
        return end == first_of_month.replace(year=start.year + 1, month=1)
    return end == first_of_month.replace(month=start.month + 1)


def _short_date(day: date) -> str:
    """Write a day as `3 Nov 2026`, with English month names whatever the locale."""
    return f"{day.day} {MONTH_NAMES[day.month - 1][:3]} {day.year}"


def _provider_rows(by_provider: dict[str, Any], split: DisplaySplit) -> list[BreakdownRow]:
    return [
        BreakdownRow(name=name, split=row_split, line_count=figures["line_count"])
        for name, figures, row_split in _ranked_splits(by_provider, split)
    ]


def _source_family_rows(by_source: dict[str, Any], split: DisplaySplit) -> list[SourceFamilyRow]:
    return [
        SourceFamilyRow(
            family=family,
            name=source_family_name(family),
            split=row_split,
            share_text=format_share(Decimal(figures["attributed"]), Decimal(figures["total"])),
            line_count=figures["line_count"],
        )
        for family, figures, row_split in _ranked_splits(by_source, split)
    ]


def source_family_name(family: str) -> SourceFamilyName:
    return SOURCE_FAMILY_NAMES.get(family, SourceFamilyName(family, family))


def _ranked_splits(
    breakdowns: dict[str, Any], split: DisplaySplit
) -> list[tuple[str, dict[str, Any], DisplaySplit]]:
    """Rank a breakdown's keys largest total first, by key on a tie, and allocate the displayed
    split among them, so that each column adds up to the currency's figure."""
    ranked = sorted(breakdowns.items(), key=lambda item: (-Decimal(item[1]["total"]), item[0]))
    exact = [(Decimal(figures["attributed"]), Decimal(figures["unattributed"])) for _, figures in ranked]
    splits = allocate_splits(exact, split) if ranked else []
    return [(key, figures, row_split) for (key, figures), row_split in zip(ranked, splits)]


def _reason_rows(block: dict[str, Any], unattributed: Decimal) -> list[ReasonRow]:
    sentences = block["reasons"]
    return [
        ReasonRow(row.name, sentences.get(row.name, ""), row.amount, row.text)
        for row in _allocated_rows(block["by_reason"], unattributed, block["currency"])
    ]


def _allocated_rows(amounts: dict[str, str], whole: Decimal, currency: str) -> list[AmountRow]:
    """Rank named amounts largest first, by name on a tie, and round them so that they add up
    to `whole`, the displayed figure they break down."""
    if not amounts:
        return []

    exact = [(name, Decimal(amount)) for name, amount in amounts.items()]
    ranked = sorted(exact, key=lambda item: (-item[1], item[0]))
    rounded = allocate([amount for _, amount in ranked], whole, currency)
    return [
        AmountRow(name, shown, format_money(shown, currency))
        for (name, _), shown in zip(ranked, rounded)
    ]


def _source_rows(block: dict[str, Any], reason_amounts: dict[str, Decimal]) -> list[SourceRow]:
    """Round the listed unattributed sources reason by reason, against the reason's displayed
    amount, so that a source holding all of a reason's spend shows the reason's figure.

    The result lists only the largest sources, so the sources of a reason that are not listed
    join the allocation as one hidden part: the reason's amount less its listed sources.
    """
    currency = block["currency"]
    sources = block["largest_unattributed"]
    indexes_by_reason: dict[str, list[int]] = defaultdict(list)
    for index, source in enumerate(sources):
        indexes_by_reason[source["reason"]].append(index)

    rounded_by_index: dict[int, Decimal] = {}
    for reason, indexes in indexes_by_reason.items():
        amounts = [Decimal(sources[index]["amount"]) for index in indexes]
        reason_total = block["by_reason"].get(reason)
        rounded = _round_sources_of_reason(amounts, reason_total, reason_amounts.get(reason), currency)
        rounded_by_index.update(zip(indexes, rounded))

    return [_source_row(source, rounded_by_index[index], currency) for index, source in enumerate(sources)]


def _round_sources_of_reason(
    amounts: list[Decimal], reason_total: str | None, reason_shown: Decimal | None, currency: str
) -> list[Decimal]:
    """Allocate a reason's displayed amount among its listed sources and its unlisted rest, and
    return the listed sources' share. A reason missing from the result's `by_reason` counts as
    exactly its listed sources."""
    listed = sum(amounts, Decimal(0))
    exact_total = listed if reason_total is None else Decimal(reason_total)
    whole = round_money(exact_total, currency) if reason_shown is None else reason_shown
    return allocate([*amounts, exact_total - listed], whole, currency)[: len(amounts)]


def _source_row(source: dict[str, Any], amount: Decimal, currency: str) -> SourceRow:
    return SourceRow(
        provider=source["provider"],
        account=source["account"],
        service=source["service"],
        resource_id=source["resource_id"],
        reason=source["reason"],
        amount=amount,
        text=format_money(amount, currency),
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
