"""The command line end to end: demo, scan, report, diff, rules list and the exit codes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner import __version__
from scanner.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.setenv("CI", "true")
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.output == f"shadowmap, version {__version__}\n"


@pytest.mark.parametrize(
    "command", [[], ["scan"], ["demo"], ["report"], ["diff"], ["history"], ["snapshot"], ["rules"], ["rules", "list"], ["code"], ["expenses"]]
)
def test_help_everywhere(runner, command):
    result = invoke(runner, *command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output


def test_demo_writes_reports_that_reconcile(runner, tmp_path):
    out = tmp_path / "demo"
    result = invoke(runner, "demo", "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (out / "report.html").stat().st_size > 0
    assert set(report["coverage"]) == {"EUR", "USD"}
    for currency, figures in report["coverage"].items():
        assert Decimal(figures["attributed"]) + Decimal(figures["unattributed"]) == Decimal(figures["total"]), currency
    assert report["run"]["complete"] is True
    assert [outcome["collector"] for outcome in report["collectors"]] == [
        "billing.focus",
        "aws.bedrock",
        "aws.invocation_logs",
        "azure",
        "azure.costs",
        "gcp.assets",
        "openai",
        "anthropic",
        "cohere",
        "code",
        "expense",
    ]
    assert f"Reports: {out / 'report.json'}" in result.output


def test_demo_attribution_matches_its_tags(runner, tmp_path):
    out = tmp_path / "demo"
    invoke(runner, "demo", "--out", str(out))
    coverage = json.loads((out / "report.json").read_text(encoding="utf-8"))["coverage"]
    assert sorted(coverage["USD"]["by_owner"]) == ["claims", "research", "search", "support"]
    assert sorted(coverage["EUR"]["by_owner"]) == ["research", "support"]
    assert sorted(coverage["EUR"]["by_reason"]) == ["ptu_unallocated", "shared_deployment"]
    assert sorted(coverage["USD"]["by_reason"]) == [
        "default_project",
        "default_workspace",
        "expense_shadow_spend",
        "marketplace_model",
        "partner_model_shared_project",
        "project_without_owner",
        "system_profile",
        "unsanctioned_vendor",
        "workspace_without_owner",
    ]
    assert sorted(coverage["USD"]["by_provider"]) == ["anthropic", "aws", "cursor", "gcp", "midjourney", "openai"]
    assert sorted(coverage["EUR"]["by_provider"]) == ["azure"]


def test_demo_coverage_by_source_family(runner, tmp_path):
    out = tmp_path / "demo"
    result = invoke(runner, "demo", "--out", str(out))
    coverage = json.loads((out / "report.json").read_text(encoding="utf-8"))["coverage"]
    usd = coverage["USD"]
    eur = coverage["EUR"]

    assert usd["by_source"] == {
        "anthropic": {"total": "1392.01680", "attributed": "920.91700", "unattributed": "471.09980", "line_count": 150},
        "billing": {"total": "4882.3355", "attributed": "1904.6965", "unattributed": "2977.6390", "line_count": 150},
        "expense": {"total": "520.00", "attributed": "250.00", "unattributed": "270.00", "line_count": 9},
        "openai": {"total": "1747.1390", "attributed": "1067.6540", "unattributed": "679.4850", "line_count": 120},
    }
    assert eur["by_source"] == {
        "azure": {"total": "3600.0000000000", "attributed": "2943.8001419411", "unattributed": "656.1998580589", "line_count": 84},
        "billing": {"total": "2405.3165", "attributed": "1406.0525", "unattributed": "999.264", "line_count": 90},
    }
    for currency, figures in coverage.items():
        sources = figures["by_source"].values()
        assert sum(Decimal(source["total"]) for source in sources) == Decimal(figures["total"]), currency
        assert sum(Decimal(source["attributed"]) for source in sources) == Decimal(figures["attributed"]), currency
        assert sum(source["line_count"] for source in sources) == figures["line_count"], currency
    assert (
        "  by source: FOCUS bills USD 4,882.34 (39.0% attributed), OpenAI organisation USD 1,747.13 "
        "(61.1% attributed), Anthropic organisation USD 1,392.02 (66.2% attributed), cards and expenses "
        "USD 520.00 (48.1% attributed)\n"
    ) in result.output
    assert "  by source: Azure EUR 3,600.00 (81.8% attributed), FOCUS bills EUR 2,405.32 (58.5% attributed)\n" in result.output
    assert "<td>Card and expense exports <code>expense</code></td>" in (out / "report.html").read_text(encoding="utf-8")


def test_two_demo_runs_diff_without_change(runner, tmp_path):
    invoke(runner, "demo", "--out", str(tmp_path / "one"))
    invoke(runner, "demo", "--out", str(tmp_path / "two"))
    result = invoke(runner, "diff", "--format", "json")
    assert result.exit_code == 0, result.output
    diff = json.loads(result.output)
    assert diff["has_changes"] is False
    assert diff["new"] == []
    assert diff["fixed"] == []
    assert len(diff["unchanged"]) > 0
    text = invoke(runner, "diff")
    assert "No change" in text.output


def test_history_lists_runs(runner, tmp_path):
    invoke(runner, "demo", "--out", str(tmp_path / "one"))
    result = invoke(runner, "history")
    assert result.exit_code == 0
    assert "demo" in result.output
    assert "Larkspur Analytics (demo)" in result.output


def test_report_renders_stored_run_and_file(runner, tmp_path):
    out = tmp_path / "one"
    invoke(runner, "demo", "--out", str(out))
    as_json = invoke(runner, "report", "latest", "--format", "json")
    assert json.loads(as_json.output)["run"]["label"] == "demo"
    html_path = tmp_path / "again.html"
    as_html = invoke(runner, "report", str(out / "report.json"), "--format", "html", "--output", str(html_path))
    assert as_html.exit_code == 0
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_result_without_by_source_renders_and_diffs(runner, tmp_path):
    invoke(runner, "demo", "--out", str(tmp_path / "one"))
    old = json.loads((tmp_path / "one" / "report.json").read_text(encoding="utf-8"))
    for figures in old["coverage"].values():
        del figures["by_source"]
    old["run"]["id"] = "20261201T080000Z-0ld0ld00"
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old), encoding="utf-8")
    invoke(runner, "demo", "--out", str(tmp_path / "two"))

    text = invoke(runner, "report", str(old_path), "--format", "text")
    diff = invoke(runner, "diff", str(old_path), "latest")

    assert text.exit_code == 0, text.output
    assert "48.5% of USD 8,541.49 AI spend is attributed.\n" in text.output
    assert "by source" not in text.output
    assert diff.exit_code == 0, diff.output
    assert "No change" in diff.output


def test_rules_list(runner):
    result = invoke(runner, "rules", "list")
    assert result.exit_code == 0
    assert "billing.ai-spend-unattributed" in result.output
    listed = json.loads(invoke(runner, "rules", "list", "--format", "json").output)
    assert {rule["id"] for rule in listed} >= {"billing.ai-spend-unattributed", "billing.required-tags-missing"}


def test_fail_on_sets_exit_code(runner, tmp_path):
    # The FOCUS sample's findings are one medium and one low.
    config = REPO / "fixtures" / "focus-sample" / "audit.yaml"
    failing = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "a"), "--fail-on", "medium", "--no-history")
    passing = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "b"), "--fail-on", "high", "--no-history")
    assert failing.exit_code == 1
    assert passing.exit_code == 0


def test_quiet_prints_nothing(runner, tmp_path):
    result = invoke(runner, "demo", "--out", str(tmp_path / "q"), "--quiet")
    assert result.exit_code == 0
    assert result.output == ""


def test_missing_config_is_one_line_exit_2(runner, tmp_path):
    result = invoke(runner, "scan", "--config", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2
    assert result.output == f"shadowmap: error: {tmp_path / 'absent.yaml'}: config file not found; pass an existing file to --config\n"


def test_invalid_config_is_one_line_exit_2(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  billing:\n    fokus: []\n", encoding="utf-8")
    result = invoke(runner, "scan", "--config", str(config))
    assert result.exit_code == 2
    assert result.output.startswith(f"shadowmap: error: {config}: line 4: unknown key 'sources.billing.fokus'")
    assert result.output.count("\n") == 1


def test_config_without_sources_is_exit_2(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\n", encoding="utf-8")
    result = invoke(runner, "scan", "--config", str(config))
    assert result.exit_code == 2
    assert result.output == f"shadowmap: error: {config}: no sources configured; add at least one under sources:\n"


def test_missing_export_is_one_line_exit_2(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  billing:\n    focus:\n      - path: nov.csv\n", encoding="utf-8")
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.output.startswith("shadowmap: error: ")
    assert str(tmp_path / "nov.csv") in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "report.json").exists()


def test_every_unusable_export_is_named(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  billing:\n    focus:\n      - path: nov.csv\n      - path: dec.csv\n", encoding="utf-8")
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines == [
        f"shadowmap: warning: billing.focus: {tmp_path / 'dec.csv'}: skipped: file not found; check the path in sources.billing.focus",
        f"shadowmap: error: {tmp_path / 'nov.csv'}: file not found; check the path in sources.billing.focus",
    ]


def test_every_unreadable_expense_export_is_named(runner, tmp_path):
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0 workbook")
    (tmp_path / "card.pdf").write_bytes(b"%PDF-1.4")
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  expense:\n    files:\n      - path: old.xls\n      - path: card.pdf\n", encoding="utf-8")
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "shadowmap: warning: expense: card.pdf: is a PDF statement, which is not read; download the statement as CSV or XLSX",
        "shadowmap: error: old.xls: is an Excel 97-2003 workbook, which is not read; save it as .xlsx or CSV",
    ]


def test_one_missing_export_among_good_ones_is_partial(runner, tmp_path):
    demo_csv = REPO / "fixtures" / "demo" / "billing" / "focus-2026-11.csv"
    config = tmp_path / "audit.yaml"
    config.write_text(
        f"version: 1\npolicy:\n  owner_tags: [team]\nsources:\n  billing:\n    focus:\n"
        f"      - path: {demo_csv}\n      - path: missing.csv\n",
        encoding="utf-8",
    )
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    outcome = report["collectors"][0]
    assert outcome["status"] == "partial"
    assert outcome["scopes_not_seen"][0]["scope"] == str(tmp_path / "missing.csv")
    assert report["run"]["complete"] is False


def test_fail_on_partial_exits_2_after_writing_reports(runner, tmp_path):
    demo_csv = REPO / "fixtures" / "demo" / "billing" / "focus-2026-11.csv"
    config = tmp_path / "audit.yaml"
    config.write_text(
        f"version: 1\nsources:\n  billing:\n    focus:\n      - path: {demo_csv}\n      - path: missing.csv\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"

    result = invoke(runner, "scan", "--config", str(config), "--out", str(out), "--no-history", "--quiet", "--fail-on-partial")

    assert result.exit_code == 2
    assert result.output == (
        f"shadowmap: error: the run is partial (1 of 1 collectors could not see everything), first: {tmp_path / 'missing.csv'}: "
        f"file not found; check the path in sources.billing.focus; {out / 'report.json'} lists what each collector could not see\n"
    )
    assert (out / "report.json").exists()


def test_fail_on_partial_names_skipped_rows(runner, tmp_path):
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount,Currency\n2026-11-03,OPENAI,20.00,USD\n2026-11-04,OPENAI,n/a,USD\n", encoding="utf-8")
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  expense:\n    files:\n      - path: card.csv\n", encoding="utf-8")
    out = tmp_path / "out"

    result = invoke(runner, "scan", "--config", str(config), "--out", str(out), "--no-history", "--quiet", "--fail-on-partial")

    assert result.exit_code == 2
    assert result.output == (
        "shadowmap: error: the run is partial (1 of 1 collectors could not see everything), first: expense: 1 row skipped, "
        f"first card.csv row 2: amount 'n/a' is not an amount; {out / 'report.json'} lists what each collector could not see\n"
    )


def test_fail_on_partial_passes_a_complete_run(runner, tmp_path):
    config = REPO / "fixtures" / "focus-sample" / "audit.yaml"
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history", "--quiet", "--fail-on-partial")
    assert result.exit_code == 0
    assert result.output == ""


def test_scan_of_real_focus_sample(runner, tmp_path):
    """The FinOps Foundation sample, checked by hand: lines 956, 963, 965, 969, 970, 975, 979,
    995 and 1000 are its only AI rows (Azure Machine Learning); their EffectiveCost sums to
    -0.15189756178. Lines 969 and 975 carry the tag " org" = trey, the owner tag of the sample
    config: 0.00000000503 + 0.00500000000 = 0.00500000503 attributed."""
    config = REPO / "fixtures" / "focus-sample" / "audit.yaml"
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    usd = report["coverage"]["USD"]
    assert list(report["coverage"]) == ["USD"]
    assert usd["total"] == "-0.15189756178"
    assert usd["attributed"] == "0.00500000503"
    assert usd["unattributed"] == "-0.15689756681"
    assert usd["by_owner"] == {"trey": "0.00500000503"}
    assert list(usd["by_provider"]) == ["azure"]
    assert list(usd["by_service"]) == ["Azure Machine Learning"]
    rows = sorted(line["source"]["row"] for line in report["inventory"]["spend_lines"])
    assert rows == [956, 963, 965, 969, 970, 975, 979, 995, 1000]


def test_debug_keeps_input_error_exit_code(runner, tmp_path):
    result = invoke(runner, "scan", "--config", str(tmp_path / "absent.yaml"), "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.output
    assert result.output.endswith(f"shadowmap: error: {tmp_path / 'absent.yaml'}: config file not found; pass an existing file to --config\n")


def test_report_into_missing_folder_is_exit_2(runner, tmp_path):
    invoke(runner, "demo", "--out", str(tmp_path / "one"))
    target = tmp_path / "no" / "such" / "report.json"
    result = invoke(runner, "report", "latest", "--format", "json", "--output", str(target))
    assert result.exit_code == 2
    assert result.output.startswith(f"shadowmap: error: {target}: cannot write the report")


def test_read_only_commands_create_no_store(runner, tmp_path):
    store = tmp_path / "nowhere" / "history.sqlite"
    listed = invoke(runner, "history", "--store", str(store))
    compared = invoke(runner, "diff", "--store", str(store))
    assert listed.exit_code == 0
    assert listed.output == f"No runs in {store} yet.\n"
    assert compared.exit_code == 2
    assert "no history store there yet" in compared.output
    assert not (tmp_path / "nowhere").exists()


def test_history_limit_must_be_positive(runner):
    result = invoke(runner, "history", "--limit", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--limit': 0 is not in the range x>=1." in result.output


def test_store_variable_wins_over_history_path(runner, tmp_path, monkeypatch):
    demo_csv = REPO / "fixtures" / "demo" / "billing" / "focus-2026-11.csv"
    config = tmp_path / "audit.yaml"
    config.write_text(f"version: 1\nhistory:\n  path: config-store.sqlite\nsources:\n  billing:\n    focus:\n      - path: {demo_csv}\n", encoding="utf-8")
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "env-store.sqlite"))
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env-store.sqlite").exists()
    assert not (tmp_path / "config-store.sqlite").exists()
