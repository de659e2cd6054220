"""The expense rules' findings, word for word, on charges read from exports."""

from __future__ import annotations

from pathlib import Path

from collectors.expense.catalogue import load_catalogue
from collectors.expense.collector import spend_lines, vendor_assets
from collectors.expense.review import review_exports
from collectors.expense.settings import BurstSettings, FileSettings
from rules.contract import RuleContext, RuleStatus
from rules.expense_vendors import API_CREDIT_ON_CARD, APP_STORE_SUBSCRIPTION, UNSANCTIONED_VENDOR
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Inventory

DATA = Path(__file__).parent / "data" / "expense"
POLICY = Policy(sanctioned_vendors=("OpenAI", "Anthropic", "Cursor"))


def context_for(*names: str, settings: FileSettings | None = None, policy: Policy = POLICY) -> RuleContext:
    exports = [(DATA / name, settings or FileSettings(), name) for name in names]
    review = review_exports(exports, load_catalogue(), BurstSettings())
    inventory = Inventory(assets=vendor_assets(review.charges), spend_lines=spend_lines(review))
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


def messages(rule, context):
    return [finding.message for finding in rule.run(context).findings]


def test_unsanctioned_vendor_message():
    assert messages(UNSANCTIONED_VENDOR, context_for("ramp_transactions.csv")) == [
        "Midjourney charges on the card of Sofia Lindqvist (1 charge, USD 30.00 net) go to an AI vendor that policy.sanctioned_vendors does not list.",
        "Mistral AI charges on the card of Jonas Weber (1 charge, EUR 18.00 net) go to an AI vendor that policy.sanctioned_vendors does not list.",
        "Perplexity charges on the card of Sofia Lindqvist (1 charge, USD 20.00 net) go to an AI vendor that policy.sanctioned_vendors does not list.",
    ]


def test_sanctioned_names_match_any_case_and_alias():
    policy = Policy(sanctioned_vendors=("midjourney", "le chat", "PERPLEXITY"))
    assert UNSANCTIONED_VENDOR.run(context_for("ramp_transactions.csv", policy=policy)).status is RuleStatus.PASS


def test_card_without_cardholder_is_named_by_card():
    context = context_for("generic_debit_credit.csv", settings=FileSettings(currency="USD"), policy=Policy(sanctioned_vendors=("OpenAI",)))
    assert messages(UNSANCTIONED_VENDOR, context) == [
        "GitHub Copilot charges on card 7731 (2 charges, USD 0.00 net) go to an AI vendor that policy.sanctioned_vendors does not list."
    ]


def test_auto_recharge_message():
    assert messages(API_CREDIT_ON_CARD, context_for("brex_card_transactions.csv")) == [
        "The card of Priya Raman buys Anthropic API credit (1 charge, USD 100.00 net) for an API account that no managed organisation account or key inventory covers.",
        "The card of Marco Ruiz buys OpenAI API credit (4 charges, 1 auto-recharge, USD 80.00 net) for an API account that no managed organisation account or key inventory covers.",
    ]


def test_app_store_message_without_cardholder():
    assert messages(APP_STORE_SUBSCRIPTION, context_for("expensify_classic.csv")) == [
        "A cardholder the export does not name pays for Anthropic through Apple App Store (1 charge), a personal subscription the organisation cannot manage, audit or move to a team plan."
    ]


def test_finding_subjects_are_asset_ids():
    findings = API_CREDIT_ON_CARD.run(context_for("brex_card_transactions.csv")).findings
    assert [finding.subject for finding in findings] == ["expense:anthropic:Priya Raman", "expense:openai:Marco Ruiz"]
