"""The expense collector in an audit: its config, scopes, spend lines, assets and coverage."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from collectors import build_collectors
from collectors.contract import CollectContext
from collectors.expense.attribution import SHADOW_SPEND, UNSANCTIONED_VENDOR
from collectors.expense.collector import ASSET_KIND, ExpenseCollector
from collectors.expense.layouts import LAYOUT_NAMES
from scanner.config import parse_config
from scanner.engine import run_audit
from scanner.errors import ConfigError
from scanner.model import OutcomeStatus

DATA = Path(__file__).parent / "data" / "expense"

CONFIG = """\
version: 1
organisation: Larkspur Analytics (test)
policy:
  owner_tags: [team]
  sanctioned_vendors: [OpenAI, anthropic, Cursor]
owners:
  - owner: research
    match:
      tag: department=Research
sources:
  expense:
    files:
      - path: exports/brex_card_transactions.csv
      - path: exports/ramp_*.csv
      - path: exports/missing_*.csv
      - path: exports/notes.csv
"""


@pytest.fixture
def audit_dir(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(DATA / "brex_card_transactions.csv", exports)
    shutil.copy(DATA / "ramp_transactions.csv", exports)
    (exports / "notes.csv").write_text("Name,Team\nPriya,Research\n", encoding="utf-8")
    config_path = tmp_path / "audit.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    return tmp_path


def config_at(audit_dir: Path, text: str = CONFIG):
    return parse_config(text, audit_dir / "audit.yaml")


def collect(audit_dir: Path):
    collector = build_collectors(config_at(audit_dir))[0]
    return collector.collect(CollectContext(logger=logging.getLogger("shadowmap.collector.expense")))


def test_no_expense_source_builds_no_collector(audit_dir):
    config = config_at(audit_dir, "version: 1\nsources:\n  expense:\n    date_order: day_first\n")
    assert [c for c in build_collectors(config) if c.name == "expense"] == []


def test_expense_source_builds_one_collector(audit_dir):
    collectors = [c for c in build_collectors(config_at(audit_dir)) if c.name == "expense"]
    assert len(collectors) == 1
    assert isinstance(collectors[0], ExpenseCollector)
    assert collectors[0].describe() == (
        "card and expense exports: exports/brex_card_transactions.csv, exports/ramp_*.csv, exports/missing_*.csv, exports/notes.csv"
    )


def test_config_rejects_unknown_key_with_line(audit_dir):
    text = CONFIG.replace("      - path: exports/notes.csv\n", "      - path: exports/notes.csv\n        dateorder: day_first\n")
    with pytest.raises(ConfigError, match=r"line 17: unknown key 'sources.expense.files\[3\].dateorder'"):
        config_at(audit_dir, text)


def test_config_rejects_wrong_date_order(audit_dir):
    text = CONFIG.replace("      - path: exports/notes.csv\n", "      - path: exports/notes.csv\n        date_order: dmy\n")
    with pytest.raises(ConfigError, match="date_order': dmy is not one of auto, month_first, day_first"):
        config_at(audit_dir, text)


def test_scopes_seen_and_not_seen(audit_dir):
    outcome = collect(audit_dir).outcome
    assert outcome.scopes_seen == ["exports/brex_card_transactions.csv", "exports/ramp_transactions.csv"]
    assert [(gap.scope, gap.reason) for gap in outcome.scopes_not_seen] == [
        ("exports/missing_*.csv", "no file matches this glob; check the path, which is relative to the config file's folder"),
        (
            "exports/notes.csv",
            "no header row of a known export in the first 30 lines: expected a date, a description or merchant, "
            "and an amount column; map the columns under sources.expense in the config",
        ),
    ]


def test_partial_outcome_settles_partial(audit_dir):
    outcome = collect(audit_dir).outcome
    outcome.settle()
    assert outcome.status is OutcomeStatus.PARTIAL


def test_auto_recharge_is_one_spend_line(audit_dir):
    lines = collect(audit_dir).spend_lines
    openai = [line for line in lines if line.provider == "openai"]
    assert len(openai) == 1
    line = openai[0]
    assert line.amount == Decimal("80.00")
    assert line.quantity == Decimal(4)
    assert line.unit == "charges"
    assert line.period_start == datetime(2026, 11, 12, tzinfo=timezone.utc)
    assert line.period_end == datetime(2026, 11, 15, tzinfo=timezone.utc)
    assert line.source.location == "exports/brex_card_transactions.csv"
    assert line.source.row == 3
    assert line.source.row_count == 4


def test_spend_line_fields(audit_dir):
    lines = {(line.provider, line.account): line for line in collect(audit_dir).spend_lines}
    mistral = lines[("mistral", "Jonas Weber")]
    assert mistral.service == "Mistral AI"
    assert mistral.currency == "EUR"
    assert mistral.resource_id is None
    assert mistral.category == "Expense"
    assert mistral.subcategory == "Chat assistant"
    assert mistral.charge_category == "Purchase"
    assert mistral.tags.get("department") == "Research"


def test_one_asset_per_vendor_and_cardholder(audit_dir):
    assets = collect(audit_dir).assets
    assert {asset.kind for asset in assets} == {ASSET_KIND}
    assert sorted(asset.id for asset in assets) == [
        "expense:anthropic:Priya Raman",
        "expense:cursor:Lena Hoffmann",
        "expense:cursor:Marco Ruiz",
        "expense:midjourney:Sofia Lindqvist",
        "expense:mistral:Jonas Weber",
        "expense:openai:Marco Ruiz",
        "expense:perplexity:Sofia Lindqvist",
    ]


def test_asset_attributes(audit_dir):
    asset = next(asset for asset in collect(audit_dir).assets if asset.id == "expense:openai:Marco Ruiz")
    assert asset.provider == "openai"
    assert asset.scope == "Marco Ruiz"
    assert asset.attributes["kinds"] == ["api_credit"]
    assert asset.attributes["auto_recharges"] == ["auto-recharge-1"]
    assert asset.attributes["amounts"] == {"USD": "80.00"}
    assert asset.attributes["charge_count"] == 4
    assert asset.attributes["departments"] == ["Engineering"]
    assert "owner" not in asset.attributes


def test_outcome_notes_name_layout_and_auto_recharge(audit_dir):
    notes = collect(audit_dir).outcome.notes
    assert "exports/brex_card_transactions.csv: Brex layout, UTF-8, comma-separated, header on line 1." in notes
    assert (
        "auto-recharge-1: 4 OpenAI top-ups of 80.00 USD in total on the card of Marco Ruiz (card 3317) from 2026-11-12 to 2026-11-14 are one auto-recharge."
    ) in notes


def test_logs_files_and_gaps(audit_dir, caplog):
    with caplog.at_level(logging.INFO, logger="shadowmap.collector.expense"):
        collect(audit_dir)
    messages = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert ("INFO", "expense: exports/brex_card_transactions.csv: 9 rows, 7 AI charges, 0 bad rows") in messages
    assert ("WARNING", "expense: exports/missing_*.csv: no file matches this glob; check the path, which is relative to the config file's folder") in messages


def test_coverage_reasons_and_mapping(audit_dir):
    run = run_audit(config_at(audit_dir), [c for c in build_collectors(config_at(audit_dir)) if c.name == "expense"])
    attributions = {(line.provider, line.account): attribution for line, attribution in run.coverage.attributions}
    assert attributions[("anthropic", "Priya Raman")].owner == "research"
    assert attributions[("anthropic", "Priya Raman")].via == "mapping"
    assert attributions[("cursor", "Marco Ruiz")].reason == SHADOW_SPEND
    assert attributions[("midjourney", "Sofia Lindqvist")].reason == UNSANCTIONED_VENDOR
    assert attributions[("mistral", "Jonas Weber")].owner == "research"


def test_coverage_keeps_currencies_apart(audit_dir):
    run = run_audit(config_at(audit_dir), [c for c in build_collectors(config_at(audit_dir)) if c.name == "expense"])
    assert sorted(run.coverage.currencies) == ["EUR", "USD"]
    assert run.coverage.currencies["EUR"].overall.total == Decimal("18.00")
    assert run.coverage.currencies["USD"].overall.total == Decimal("310.00")


def test_account_mapping_attributes_cardholder(audit_dir):
    text = CONFIG.replace("      tag: department=Research\n", "      tag: department=Research\n  - owner: platform\n    match:\n      provider: cursor\n      account: Marco Ruiz\n")
    run = run_audit(config_at(audit_dir, text), [c for c in build_collectors(config_at(audit_dir, text)) if c.name == "expense"])
    attributions = {(line.provider, line.account): attribution for line, attribution in run.coverage.attributions}
    assert attributions[("cursor", "Marco Ruiz")].owner == "platform"
    assert attributions[("cursor", "Lena Hoffmann")].reason == SHADOW_SPEND


def test_audit_reports_expense_findings(audit_dir):
    run = run_audit(config_at(audit_dir), [c for c in build_collectors(config_at(audit_dir)) if c.name == "expense"])
    by_rule = {}
    for finding in run.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding.subject)
    assert by_rule["expense.unsanctioned-ai-vendor"] == [
        "expense:midjourney:Sofia Lindqvist",
        "expense:mistral:Jonas Weber",
        "expense:perplexity:Sofia Lindqvist",
    ]
    assert by_rule["expense.api-credit-on-card"] == ["expense:anthropic:Priya Raman", "expense:openai:Marco Ruiz"]


def test_schema_formats_are_the_layouts():
    schema = json.loads((Path(__file__).parent.parent / "collectors" / "expense" / "config.schema.json").read_text(encoding="utf-8"))
    file_format = schema["properties"]["files"]["items"]["properties"]["format"]["enum"]
    assert file_format == ["auto", "generic", "amex", "amex_uk", "brex", "ramp", "expensify", "expensify_new", "concur", "concur_sae"]
    assert set(file_format) - {"auto"} == set(LAYOUT_NAMES)


def test_file_named_by_two_entries_is_read_once(audit_dir):
    text = CONFIG.replace("      - path: exports/ramp_*.csv\n", "      - path: exports/ramp_*.csv\n      - path: exports/ramp_transactions.csv\n")
    collector = build_collectors(config_at(audit_dir, text))[0]
    result = collector.collect(CollectContext(logger=logging.getLogger("shadowmap.collector.expense")))
    assert result.outcome.scopes_seen.count("exports/ramp_transactions.csv") == 1
    assert "exports/ramp_transactions.csv: named by more than one entry of sources.expense.files; read once." in result.outcome.notes
