"""The demo organisation's card export (fixtures/demo/expense/) through `shadowmap scan`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"

# The policy, owner mapping and source the demo config (fixtures/demo/audit.yaml) carries for
# the expense family.
CONFIG = f"""\
version: 1
organisation: Larkspur Analytics (demo)
policy:
  required_tags: [team, cost-center]
  owner_tags: [team, owner]
  sanctioned_vendors: [OpenAI, Anthropic, Cursor, GitHub Copilot]
owners:
  - owner: research
    match:
      tag: department=Research
sources:
  expense:
    files:
      - path: {DEMO / "expense" / "brex-card-2026-11.csv"}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    config = folder / "audit.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["scan", "--config", str(config), "--out", str(folder / "out"), "--no-history", "--quiet"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads((folder / "out" / "report.json").read_text(encoding="utf-8"))


def test_demo_expense_coverage_reconciles(report):
    usd = report["coverage"]["USD"]
    assert Decimal(usd["total"]) == Decimal("520.00")
    assert Decimal(usd["attributed"]) + Decimal(usd["unattributed"]) == Decimal(usd["total"])


def test_demo_expense_owners_and_reasons(report):
    usd = report["coverage"]["USD"]
    assert usd["by_owner"] == {"research": "250.00"}
    assert usd["by_reason"] == {"expense_shadow_spend": "240.00", "unsanctioned_vendor": "30.00"}


def test_demo_expense_findings(report):
    findings = {(item["rule_id"], item["subject"]) for item in report["findings"]["items"]}
    assert ("expense.unsanctioned-ai-vendor", "expense:midjourney:Sofia Lindqvist") in findings
    assert ("expense.api-credit-on-card", "expense:openai:Marco Ruiz") in findings
    assert ("expense.api-credit-on-card", "expense:anthropic:Priya Raman") in findings
    assert ("expense.app-store-ai-subscription", "expense:anthropic:Dana Whitfield") in findings


def test_demo_unowned_card_spend(report):
    unowned = sorted(item["subject"] for item in report["findings"]["items"] if item["rule_id"] == "expense.ai-spend-unowned")
    # Research is mapped to an owner, and Midjourney is reported as an unsanctioned vendor instead.
    assert unowned == [
        "expense:anthropic:Dana Whitfield",
        "expense:cursor:Lena Hoffmann",
        "expense:cursor:Marco Ruiz",
        "expense:cursor:Tomás Alvarez",
        "expense:openai:Marco Ruiz",
    ]


def test_demo_card_spend_has_no_billing_finding(report):
    billing = [item["subject"] for item in report["findings"]["items"] if item["rule_id"] == "billing.ai-spend-unattributed"]
    assert billing == []


def test_demo_look_alikes_are_not_ai(report):
    providers = {line["provider"] for line in report["inventory"]["spend_lines"]}
    assert providers == {"anthropic", "cursor", "midjourney", "openai"}


def test_demo_export_through_expenses_command():
    result = CliRunner().invoke(main, ["expenses", str(DEMO / "expense" / "brex-card-2026-11.csv"), "--format", "json"], catch_exceptions=False)
    document = json.loads(result.stdout)
    assert [(charge["row"], charge["vendor"], charge["kind"], charge["amount"]) for charge in document["charges"]] == [
        (1, "openai", "seat", "150.00"),
        (2, "cursor", "seat", "40.00"),
        (3, "cursor", "seat", "40.00"),
        (4, "cursor", "seat", "40.00"),
        (6, "midjourney", "seat", "60.00"),
        (9, "anthropic", "seat", "20.00"),
        (12, "openai", "api_credit", "20.00"),
        (13, "openai", "api_credit", "20.00"),
        (14, "openai", "api_credit", "20.00"),
        (15, "openai", "api_credit", "20.00"),
        (16, "openai", "api_credit", "20.00"),
        (19, "midjourney", "seat", "-30.00"),
        (20, "anthropic", "api_credit", "100.00"),
    ]
    assert document["bad_rows"]["count"] == 0
    assert document["files"][0]["left_out_rows"] == 1
