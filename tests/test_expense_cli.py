"""`shadowmap expenses`: its three formats, the config it takes and its exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

DATA = Path(__file__).parent / "data" / "expense"


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(main, ["expenses", *map(str, args)], catch_exceptions=False)


def test_help(runner):
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    assert "Find the AI charges in card and expense exports" in result.output


def test_json_charges_have_the_issue_fields(runner):
    result = invoke(runner, DATA / "amex_us_activity.csv", "--format", "json")
    assert result.exit_code == 0, result.output
    charges = json.loads(result.stdout)["charges"]
    first = charges[0]
    assert {key: first[key] for key in ("row", "merchant", "amount", "currency", "vendor", "kind", "confidence")} == {
        "row": 1,
        "merchant": "OPENAI *CHATGPT SUBSCR",
        "amount": "150.00",
        "currency": "USD",
        "vendor": "openai",
        "kind": "seat",
        "confidence": "high",
    }
    assert first["file"] == str(DATA / "amex_us_activity.csv")


def test_json_lists_ai_charges_only(runner):
    document = json.loads(invoke(runner, DATA / "amex_us_activity.csv", "--format", "json").stdout)
    assert [(charge["row"], charge["vendor"], charge["amount"]) for charge in document["charges"]] == [
        (1, "openai", "150.00"),
        (3, "anthropic", "20.00"),
        (4, "midjourney", "60.00"),
        (5, "midjourney", "-60.00"),
    ]


def test_json_auto_recharges_and_totals(runner):
    document = json.loads(invoke(runner, DATA / "brex_card_transactions.csv", "--format", "json").stdout)
    assert document["auto_recharges"] == [
        {
            "id": "auto-recharge-1",
            "vendor": "openai",
            "account": "Marco Ruiz",
            "currency": "USD",
            "amount": "80.00",
            "charge_count": 4,
            "first_date": "2026-11-12",
            "last_date": "2026-11-14",
            "rows": [{"file": str(DATA / "brex_card_transactions.csv"), "row": row} for row in (3, 4, 5, 6)],
        }
    ]
    assert document["totals"][0] == {"vendor": "anthropic", "vendor_name": "Anthropic", "currency": "USD", "amount": "100.00", "charge_count": 1}


def test_json_counts_and_names_bad_rows(runner):
    document = json.loads(invoke(runner, DATA / "generic_bad_rows.csv", "--format", "json").stdout)
    assert document["bad_rows"]["count"] == 6
    assert document["bad_rows"]["named"][0] == {"file": str(DATA / "generic_bad_rows.csv"), "row": 2, "reason": "has no amount"}


def test_json_totals_keep_currencies_apart(runner):
    document = json.loads(invoke(runner, DATA / "ramp_transactions.csv", DATA / "concur_expense_entries.csv", "--format", "json").stdout)
    totals = {(total["vendor"], total["currency"]): total["amount"] for total in document["totals"]}
    assert totals == {
        ("anthropic", "EUR"): "1210.00",
        ("mistral", "EUR"): "18.00",
        ("midjourney", "USD"): "30.00",
        ("perplexity", "USD"): "20.00",
        ("github-copilot", "USD"): "19.00",
    }


def test_csv_has_one_line_per_charge(runner):
    result = invoke(runner, DATA / "ramp_transactions.csv", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["row"], row["vendor"], row["amount"], row["currency"]) for row in rows] == [
        ("1", "midjourney", "30.00", "USD"),
        ("2", "mistral", "18.00", "EUR"),
        ("5", "perplexity", "20.00", "USD"),
    ]
    assert rows[0]["sanctioned"] == ""


def test_text_summarises(runner):
    result = invoke(runner, DATA / "brex_card_transactions.csv")
    assert result.exit_code == 0
    assert result.stdout.startswith("AI charges: 7 in 1 of 1 file, 1 auto-recharge, 0 bad rows.\n")
    assert "  auto-recharge-1: 4 OpenAI top-ups, 80.00 USD, the card of Marco Ruiz (card 3317), 2026-11-12 to 2026-11-14" in result.stdout


def test_text_counts_plural_forms(runner, tmp_path):
    bad = tmp_path / "one_bad.csv"
    bad.write_text("Date,Description,Amount,Currency\n2026-11-03,OPENAI,20.00,USD\n2026-11-04,ANTHROPIC,,USD\n", encoding="utf-8")

    result = invoke(runner, bad, DATA / "ramp_transactions.csv")

    assert result.stdout.startswith("AI charges: 4 in 2 of 2 files, 0 auto-recharges, 1 bad row.\n")


def test_json_brex_iso_dates_report_iso_order(runner):
    document = json.loads(invoke(runner, DATA / "brex_card_transactions.csv", "--format", "json").stdout)
    assert document["files"][0]["date_order"] == "iso"


def test_config_marks_unsanctioned_vendors(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\npolicy:\n  sanctioned_vendors: [OpenAI]\n", encoding="utf-8")
    document = json.loads(invoke(runner, DATA / "amex_us_activity.csv", "--format", "json", "--config", config).stdout)
    assert [(charge["vendor"], charge["sanctioned"]) for charge in document["charges"]] == [
        ("openai", True),
        ("anthropic", False),
        ("midjourney", False),
        ("midjourney", False),
    ]
    text = invoke(runner, DATA / "amex_us_activity.csv", "--config", config).stdout
    assert "Midjourney (not sanctioned)" in text


def test_misspelt_sanctioned_vendor_is_warned(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\npolicy:\n  sanctioned_vendors: [OpenAI, Antrhopic]\n", encoding="utf-8")
    result = invoke(runner, DATA / "ramp_transactions.csv", "--config", config, "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == (
        "shadowmap: warning: expense: policy.sanctioned_vendors: 'Antrhopic' names no vendor of the AI vendor catalogue; "
        "check its spelling against the vendor ids, names and aliases in rules/catalogues/ai_vendors.yaml\n"
    )


def test_config_file_settings_apply(runner, tmp_path):
    shutil.copy(DATA / "generic_ambiguous_dates.csv", tmp_path)
    config = tmp_path / "audit.yaml"
    config.write_text(
        "version: 1\nsources:\n  expense:\n    files:\n      - path: generic_ambiguous_dates.csv\n        date_order: day_first\n",
        encoding="utf-8",
    )
    document = json.loads(invoke(runner, tmp_path / "generic_ambiguous_dates.csv", "--format", "json", "--config", config).stdout)
    assert document["charges"][0]["date"] == "2026-04-03"
    assert document["files"][0]["date_order"] == "day_first"


def test_config_defaults_apply_to_unlisted_files(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  expense:\n    currency: USD\n", encoding="utf-8")
    document = json.loads(invoke(runner, DATA / "generic_bank_card.csv", "--format", "json", "--config", config).stdout)
    assert {charge["currency"] for charge in document["charges"]} == {"USD"}


def test_missing_file_exits_2_with_one_line(runner, tmp_path):
    result = invoke(runner, tmp_path / "missing.csv")
    assert result.exit_code == 2
    assert result.stderr == f"shadowmap: error: {tmp_path / 'missing.csv'}: file not found; check the path\n"
    assert result.stdout == ""


def test_one_unreadable_file_still_prints_the_others(runner, tmp_path):
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    result = invoke(runner, DATA / "ramp_transactions.csv", pdf, "--format", "json")
    assert result.exit_code == 2
    assert len(json.loads(result.stdout)["charges"]) == 3
    assert result.stderr == f"shadowmap: error: {pdf}: is a PDF statement, which is not read; download the statement as CSV or XLSX\n"


def test_every_unreadable_file_gets_a_line(runner, tmp_path):
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    result = invoke(runner, tmp_path / "missing.csv", pdf, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"shadowmap: error: {tmp_path / 'missing.csv'}: file not found; check the path\n"
        f"shadowmap: error: {pdf}: is a PDF statement, which is not read; download the statement as CSV or XLSX\n"
    )


def test_quoted_glob_is_expanded(runner, tmp_path):
    for name in ("ramp_transactions.csv", "brex_card_transactions.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    result = invoke(runner, tmp_path / "*_transactions.csv", "--format", "json")
    assert result.exit_code == 0
    files = [entry["file"] for entry in json.loads(result.stdout)["files"]]
    assert files == [str(tmp_path / "brex_card_transactions.csv"), str(tmp_path / "ramp_transactions.csv")]


def test_file_named_twice_is_read_once(runner):
    path = DATA / "ramp_transactions.csv"
    result = invoke(runner, path, path.parent / ".." / "expense" / path.name, "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["charges"]) == 3
    assert result.stderr == f"shadowmap: warning: expense: {path.parent / '..' / 'expense' / path.name}: named more than once; read once\n"


def test_glob_matching_nothing_says_so(runner, tmp_path):
    result = invoke(runner, tmp_path / "*.csv")
    assert result.exit_code == 2
    assert result.stderr == f"shadowmap: error: {tmp_path / '*.csv'}: no file matches this pattern; check the pattern and the folder it starts from\n"


def test_verbose_logs_each_file(runner):
    result = invoke(runner, DATA / "ramp_transactions.csv", "--verbose")
    assert result.exit_code == 0
    assert f"expense: {DATA / 'ramp_transactions.csv'}: Ramp layout, 5 rows, 3 AI charges, 0 bad rows" in result.stderr


def test_invalid_config_exits_2(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  expense:\n    date_order: sometimes\n", encoding="utf-8")
    result = invoke(runner, DATA / "ramp_transactions.csv", "--config", config)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"shadowmap: error: {config}: line 4: invalid value at 'sources.expense.date_order'")
    assert result.stderr.count("\n") == 1


def test_no_file_is_a_usage_error(runner):
    result = invoke(runner)
    assert result.exit_code == 2
    assert "Missing argument 'FILE...'" in result.output
