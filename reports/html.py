"""The HTML coverage report for executives: one self-contained file rendered from the JSON result.

The page needs nothing beyond itself: CSS sits in a <style> element, bars are CSS widths, and
there is no script, font, image or link to another host. A Content-Security-Policy blocks any
that a template change might add. Autoescaping is on, so names and ids from the inventory are
shown as text, never as markup.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from reports.coverage_figures import (
    count_text,
    currency_figures,
    incomplete_collectors,
    inventory_gap_sentence,
)
from reports.json_report import SEVERITY_ORDER, build_result
from reports.money import format_money

if TYPE_CHECKING:
    from scanner.engine import AuditRun

TEMPLATE = "report.html.j2"
TOP_FINDINGS = 10
TOP_OWNERS = 20
# Enough skipped rows to show what went wrong. The page also prints the total count.
SHOWN_SKIPPED_ROWS = 10


def write_html(run_or_result: AuditRun | dict[str, Any], path: Path) -> None:
    """Write the HTML report of a run, or of a JSON result built or loaded earlier, to `path`."""
    result = run_or_result if isinstance(run_or_result, dict) else build_result(run_or_result)
    Path(path).write_text(render_html(result), encoding="utf-8")


def render_html(result: dict[str, Any]) -> str:
    return _environment().get_template(TEMPLATE).render(_page(result))


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["bar_width"] = bar_width
    environment.globals["count_text"] = count_text
    environment.globals["format_money"] = format_money
    return environment


def _page(result: dict[str, Any]) -> dict[str, Any]:
    """Gather what the template shows, in the order it shows it."""
    findings = result["findings"]
    active_findings = [item for item in findings["items"] if item["suppressed"] is None]
    return {
        "tool": result["tool"],
        "run": result["run"],
        "started_at": display_time(result["run"]["started_at"]),
        "finished_at": display_time(result["run"]["finished_at"]),
        "gap_sentence": inventory_gap_sentence(result),
        "incomplete": incomplete_collectors(result),
        "currencies": currency_figures(result),
        "top_owners": TOP_OWNERS,
        "severity_order": SEVERITY_ORDER,
        "findings_summary": findings["summary"],
        "top_findings": rank_findings(active_findings)[:TOP_FINDINGS],
        "rule_counts": _rule_counts(result["rules"]),
        "collectors": result["collectors"],
        "shown_skipped_rows": SHOWN_SKIPPED_ROWS,
    }


def rank_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order findings most severe first, then by the amount in their evidence, largest first,
    then by rule id and subject. Findings with no readable amount come after those with one."""
    return sorted(findings, key=_finding_rank)


def _finding_rank(finding: dict[str, Any]) -> tuple:
    amount = evidence_amount(finding)
    return (
        SEVERITY_ORDER.index(finding["severity"]),
        amount is None,
        -amount if amount is not None else Decimal(0),
        finding["rule_id"],
        finding["subject"],
    )


def evidence_amount(finding: dict[str, Any]) -> Decimal | None:
    """Read `evidence["amount"]` as a Decimal, or return None when it is missing or not a finite
    number. Evidence is free-form, so a rule may store any value there."""
    value = (finding.get("evidence") or {}).get("amount")
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _rule_counts(rules: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "not_applicable": 0}
    for rule in rules:
        counts[rule["status"]] += 1
    return counts


def display_time(text: str) -> str:
    """Show a result time such as `2025-03-01T12:00:00Z` as `2025-03-01 12:00:00 UTC`."""
    moment = datetime.fromisoformat(text).astimezone(timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def bar_width(amount: Decimal, largest: Decimal) -> str:
    """Return a bar's CSS width in percent of the largest amount, between 0 and 100.

    Credits can make an amount negative, and such an amount gets an empty bar.
    """
    if largest <= 0 or amount <= 0:
        return "0"
    percent = min(amount / largest * 100, Decimal(100))
    return f"{percent:.1f}"
