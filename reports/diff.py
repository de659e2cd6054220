"""Renders a run diff (scanner.store.RunDiff) as text for a terminal."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from scanner.store import RunDiff


def render_diff(diff: RunDiff, console: Console) -> None:
    console.print(f"Comparing run {diff.before_id} with run {diff.after_id}")
    if not diff.has_changes:
        console.print(f"No change: the same {len(diff.unchanged)} findings and the same coverage.")
        return

    console.print(f"{len(diff.new)} new, {len(diff.fixed)} fixed, {len(diff.unchanged)} unchanged findings")
    for label, findings in (("new", diff.new), ("fixed", diff.fixed)):
        for finding in findings:
            console.print(
                f"  {label:<5} {finding['severity']:<8} {finding['rule_id']}: {finding['message']}",
                markup=False,
                highlight=False,
            )

    for change in diff.coverage:
        if not change.changed:
            continue
        if change.before is None or change.after is None:
            state = "appears" if change.before is None else "disappears"
            console.print(f"  {change.currency}: AI spend in this currency {state}")
            continue
        moved = Decimal(change.after["attributed"]) - Decimal(change.before["attributed"])
        console.print(
            f"  {change.currency}: attributed {change.before['attributed']} -> {change.after['attributed']} "
            f"({moved:+}), total {change.before['total']} -> {change.after['total']}",
            highlight=False,
        )
