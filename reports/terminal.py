"""The few lines printed on the terminal after a run, read from the JSON result.

Each line is a `rich.text.Text`, so names from the inventory are printed as they are and never
read as rich markup. Styles only add emphasis: the words carry every fact on a console without
colour. Lines are printed with soft wrapping, so a captured log keeps each one whole.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from reports.coverage_figures import (
    CurrencyFigures,
    SourceFamilyRow,
    count_text,
    currency_figures,
    incomplete_collectors,
    inventory_gap_sentence,
)
from reports.json_report import SEVERITY_ORDER

TOP_REASONS = 3


def render_summary(result: dict[str, Any], console: Console) -> None:
    """Print coverage, billing period and spend by source per currency, the top reasons,
    findings by severity and the collectors that did not see everything."""
    for line in summary_lines(result):
        console.print(line, soft_wrap=True)


def summary_lines(result: dict[str, Any]) -> list[Text]:
    lines: list[Text] = []
    gap = inventory_gap_sentence(result)
    if gap:
        lines.append(Text(gap, style="bold yellow"))

    figures = currency_figures(result)
    if not figures:
        lines.append(Text("No AI spend lines were found."))
    for currency in figures:
        lines.extend(currency_lines(currency))

    lines.append(findings_line(result["findings"]["summary"]))
    lines.extend(collector_line(outcome) for outcome in incomplete_collectors(result))
    return lines


def currency_lines(figures: CurrencyFigures) -> list[Text]:
    split = figures.split
    lines = [Text(figures.headline, style="bold")]
    if figures.period_text:
        lines.append(Text(f"  billing period: {figures.period_text}"))
    lines.append(
        Text(
            f"  attributed {split.attributed_text}, unattributed {split.unattributed_text}, "
            f"total {split.total_text}"
        )
    )

    if figures.source_families:
        sources = ", ".join(source_family_text(row) for row in figures.source_families)
        lines.append(Text(f"  by source: {sources}"))

    top = figures.reasons[:TOP_REASONS]
    if top:
        reasons = ", ".join(f"{row.code} {row.text}" for row in top)
        lines.append(Text(f"  top reasons: {reasons}"))
    return lines


def source_family_text(row: SourceFamilyRow) -> str:
    """Write one source family's total and attributed share, such as
    `cards and expenses USD 520.00 (48.1% attributed)`."""
    share = f"{row.share_text} attributed" if row.share_text else "attributed share not meaningful"
    return f"{row.name.brief} {row.split.total_text} ({share})"


def findings_line(summary: dict[str, Any]) -> Text:
    """Count active findings per severity, most severe first, and the suppressed ones apart."""
    by_severity = summary["by_severity"]
    counts = [f"{by_severity[label]} {label}" for label in SEVERITY_ORDER if by_severity[label]]
    text = "Findings: " + (", ".join(counts) if counts else "none")
    if summary["suppressed"]:
        text += f" ({summary['suppressed']} suppressed)"
    return Text(text)


def collector_line(outcome: dict[str, Any]) -> Text:
    """Describe one collector that was partial or failed: the first scope it could not see (or
    its first error) and the rows it skipped."""
    parts = [f"Collector {outcome['collector']} {outcome['status']}"]

    gaps = outcome["scopes_not_seen"]
    if gaps:
        first = gaps[0]
        parts.append(
            f"{count_text(len(gaps), 'scope')} not seen, first {first['scope']} ({first['reason']})"
        )
    elif outcome["errors"]:
        parts.append(f"error: {outcome['errors'][0]}")

    if outcome["skipped_row_count"]:
        parts.append(f"{count_text(outcome['skipped_row_count'], 'row')} skipped")
    return Text("; ".join(parts), style="yellow")
