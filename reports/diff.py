"""The text `shadowmap diff` prints: the findings and the coverage that changed between two runs.

Money is written as in the other reports (currency code, thousands separators, the currency's
minor unit), and each run's attributed and unattributed figures are split as its own report
splits them, so the figures match the two runs' headlines. Changes are the differences of the
displayed figures, so they add up on the page. Each line is printed whole, with soft wrapping,
and never read as rich markup, so names from the inventory are printed as they are.
"""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from scanner.model import count_text
from reports.money import DisplaySplit, format_change, format_money, format_share, split_for_display
from scanner.store import CoverageChange, RunDiff


def render_diff(
    diff: RunDiff,
    console: Console,
    *,
    before_complete: bool | None = None,
    after_complete: bool | None = None,
) -> None:
    """Print what changed from run `diff.before_id` to run `diff.after_id`.

    `before_complete` and `after_complete` are the runs' `run.complete` flags. When either is
    False, a line warns that a change may come from what that run did not see. None means not
    known, and prints no warning.
    """
    for line in diff_lines(diff, before_complete=before_complete, after_complete=after_complete):
        console.print(line, soft_wrap=True, markup=False, highlight=False, emoji=False)


def diff_lines(
    diff: RunDiff, *, before_complete: bool | None = None, after_complete: bool | None = None
) -> list[str]:
    lines = [f"Comparing run {diff.before_id} with run {diff.after_id}"]
    warning = incomplete_runs_line(diff, before_complete, after_complete)
    if warning:
        lines.append(warning)

    if not diff.has_changes:
        lines.append(_no_change_line(len(diff.unchanged)))
        return lines

    lines.extend(_findings_lines(diff))
    for change in diff.coverage:
        if change.changed:
            lines.extend(coverage_lines(change, diff.before_id, diff.after_id))
    return lines


def incomplete_runs_line(
    diff: RunDiff, before_complete: bool | None, after_complete: bool | None
) -> str | None:
    """Warn that a change may come from what a run did not see, or return None when no run is
    known to be incomplete."""
    incomplete = [
        run_id
        for run_id, complete in ((diff.before_id, before_complete), (diff.after_id, after_complete))
        if complete is False
    ]
    if not incomplete:
        return None

    cause = "a collector did not see its whole scope"
    if len(incomplete) == 1:
        return f"Run {incomplete[0]} was incomplete ({cause}), so a change may come from what it did not see."
    return (
        f"Runs {incomplete[0]} and {incomplete[1]} were incomplete ({cause}), "
        "so a change may come from what they did not see."
    )


def _no_change_line(unchanged: int) -> str:
    if unchanged == 0:
        return "No change: no findings in either run, and the same coverage."
    return f"No change: the same {count_text(unchanged, 'finding')} and the same coverage."


def _findings_lines(diff: RunDiff) -> list[str]:
    lines = [f"Findings: {len(diff.new)} new, {len(diff.fixed)} fixed, {len(diff.unchanged)} unchanged"]
    for label, findings in (("new", diff.new), ("fixed", diff.fixed)):
        for finding in findings:
            lines.append(f"  {label:<5} {finding['severity']:<8} {finding['rule_id']}: {finding['message']}")
    return lines


def coverage_lines(change: CoverageChange, before_id: str, after_id: str) -> list[str]:
    """Describe how one currency's coverage changed: each figure before and after with the
    change, and the attributed share when both runs have one."""
    currency = change.currency
    if change.before is None:
        figures = _figures_text(change.after, currency)
        return [f"{currency} coverage: no {currency} spend in run {before_id}; run {after_id} has {figures}"]
    if change.after is None:
        figures = _figures_text(change.before, currency)
        return [f"{currency} coverage: no {currency} spend in run {after_id}; run {before_id} had {figures}"]

    before = _display_split(change.before, currency)
    after = _display_split(change.after, currency)
    lines = [
        f"{currency} coverage:",
        _change_line("attributed", before.attributed, after.attributed, currency),
        _change_line("unattributed", before.unattributed, after.unattributed, currency),
        _change_line("total", before.total, after.total, currency),
    ]

    share_before = format_share(Decimal(change.before["attributed"]), Decimal(change.before["total"]))
    share_after = format_share(Decimal(change.after["attributed"]), Decimal(change.after["total"]))
    if share_before and share_after:
        lines.append(f"  attributed share {share_before} -> {share_after}")
    return lines


def _display_split(figures: dict[str, str], currency: str) -> DisplaySplit:
    return split_for_display(Decimal(figures["total"]), Decimal(figures["attributed"]), currency)


def _figures_text(figures: dict[str, str], currency: str) -> str:
    split = _display_split(figures, currency)
    return (
        f"attributed {split.attributed_text}, unattributed {split.unattributed_text}, "
        f"total {split.total_text}"
    )


def _change_line(label: str, before: Decimal, after: Decimal, currency: str) -> str:
    return (
        f"  {label} {format_money(before, currency)} -> {format_money(after, currency)} "
        f"({format_change(after - before, currency)})"
    )
