"""The text `shadowmap diff` prints for a run diff."""

from __future__ import annotations

import io

from rich.console import Console

from reports.diff import render_diff
from scanner.store import CoverageChange, RunDiff

BEFORE = "20261101T060000Z-1a2b3c4d"
AFTER = "20261201T060000Z-5e6f7a8b"


def finding(rule_id: str, subject: str, severity: str = "high") -> dict:
    return {
        "fingerprint": f"{rule_id}:{subject}",
        "rule_id": rule_id,
        "severity": severity,
        "subject": subject,
        "message": f"Spend line {subject} has no owner tag.",
    }


def figures(total: str, attributed: str, unattributed: str) -> dict[str, str]:
    return {"total": total, "attributed": attributed, "unattributed": unattributed}


def diff_text(diff: RunDiff, **complete) -> list[str]:
    # Without soft wrapping, rich breaks lines at the console width, which is 80 columns when the
    # output is piped. At 40 columns every long line here would break.
    console = Console(file=io.StringIO(), width=40, color_system=None)
    render_diff(diff, console, **complete)
    return console.file.getvalue().splitlines()


def changed_diff() -> RunDiff:
    return RunDiff(
        BEFORE,
        AFTER,
        new=[finding("billing.unattributed_spend", "line-b")],
        fixed=[finding("aws.bedrock.system-profile-use", "profile-a", "medium")],
        unchanged=[finding("billing.unattributed_spend", "line-c")],
        coverage=[
            CoverageChange(
                "USD",
                figures("8541.49130", "4143.26750", "4398.22380"),
                figures("9012.345", "5000.005", "4012.340"),
            )
        ],
    )


def test_diff_without_change():
    diff = RunDiff(BEFORE, AFTER, unchanged=[finding("billing.unattributed_spend", "line-c")])

    assert diff_text(diff) == [
        f"Comparing run {BEFORE} with run {AFTER}",
        "No change: the same 1 finding and the same coverage.",
    ]


def test_diff_without_change_or_findings():
    assert diff_text(RunDiff(BEFORE, AFTER)) == [
        f"Comparing run {BEFORE} with run {AFTER}",
        "No change: no findings in either run, and the same coverage.",
    ]


def test_diff_lines_are_never_wrapped():
    assert diff_text(changed_diff()) == [
        f"Comparing run {BEFORE} with run {AFTER}",
        "Findings: 1 new, 1 fixed, 1 unchanged",
        "  new   high     billing.unattributed_spend: Spend line line-b has no owner tag.",
        "  fixed medium   aws.bedrock.system-profile-use: Spend line profile-a has no owner tag.",
        "USD coverage:",
        "  attributed USD 4,143.27 -> USD 5,000.01 (USD +856.74)",
        "  unattributed USD 4,398.22 -> USD 4,012.34 (USD -385.88)",
        "  total USD 8,541.49 -> USD 9,012.35 (USD +470.86)",
        "  attributed share 48.5% -> 55.5%",
    ]


def test_diff_figures_match_report_split():
    change = CoverageChange("USD", figures("0.014", "0.005", "0.009"), figures("0.02", "0.01", "0.01"))

    lines = diff_text(RunDiff(BEFORE, AFTER, coverage=[change]))

    assert lines[2:] == [
        "USD coverage:",
        "  attributed USD 0.00 -> USD 0.01 (USD +0.01)",
        "  unattributed USD 0.01 -> USD 0.01 (USD 0.00)",
        "  total USD 0.01 -> USD 0.02 (USD +0.01)",
        "  attributed share 35.7% -> 50.0%",
    ]


def test_diff_leaves_out_share_without_positive_totals():
    change = CoverageChange("EUR", figures("-5.00", "1.00", "-6.00"), figures("1234.5", "1000", "234.5"))

    lines = diff_text(RunDiff(BEFORE, AFTER, coverage=[change]))

    assert lines[2:] == [
        "EUR coverage:",
        "  attributed EUR 1.00 -> EUR 1,000.00 (EUR +999.00)",
        "  unattributed EUR -6.00 -> EUR 234.50 (EUR +240.50)",
        "  total EUR -5.00 -> EUR 1,234.50 (EUR +1,239.50)",
    ]


def test_diff_currency_appears_and_disappears():
    coverage = [
        CoverageChange("EUR", None, figures("6005.3165", "4349.8526419411", "1655.4638580589")),
        CoverageChange("JPY", figures("150000.5", "100000", "50000.5"), None),
    ]

    lines = diff_text(RunDiff(BEFORE, AFTER, coverage=coverage))

    assert lines[2:] == [
        f"EUR coverage: no EUR spend in run {BEFORE}; run {AFTER} has attributed EUR 4,349.85, "
        "unattributed EUR 1,655.47, total EUR 6,005.32",
        f"JPY coverage: no JPY spend in run {AFTER}; run {BEFORE} had attributed JPY 100,000, "
        "unattributed JPY 50,001, total JPY 150,001",
    ]


def test_diff_warns_of_incomplete_before_run():
    lines = diff_text(changed_diff(), before_complete=False, after_complete=True)

    assert lines[1] == (
        f"Run {BEFORE} was incomplete (a collector did not see its whole scope), "
        "so a change may come from what it did not see."
    )
    assert lines[2] == "Findings: 1 new, 1 fixed, 1 unchanged"


def test_diff_warns_of_incomplete_after_run():
    lines = diff_text(changed_diff(), before_complete=True, after_complete=False)

    assert lines[1] == (
        f"Run {AFTER} was incomplete (a collector did not see its whole scope), "
        "so a change may come from what it did not see."
    )


def test_diff_warns_of_two_incomplete_runs():
    lines = diff_text(RunDiff(BEFORE, AFTER), before_complete=False, after_complete=False)

    assert lines == [
        f"Comparing run {BEFORE} with run {AFTER}",
        f"Runs {BEFORE} and {AFTER} were incomplete (a collector did not see its whole scope), "
        "so a change may come from what they did not see.",
        "No change: no findings in either run, and the same coverage.",
    ]


def test_diff_without_completeness_prints_no_warning():
    lines = diff_text(changed_diff(), before_complete=None, after_complete=True)

    assert lines[1] == "Findings: 1 new, 1 fixed, 1 unchanged"
    assert not any("incomplete" in line for line in lines)


def test_diff_prints_markup_literally():
    new = finding("billing.unattributed_spend", "[bold]line-b[/bold] :warning:")

    lines = diff_text(RunDiff(BEFORE, AFTER, new=[new]))

    assert lines[2] == (
        "  new   high     billing.unattributed_spend: Spend line [bold]line-b[/bold] :warning: has no owner tag."
    )
