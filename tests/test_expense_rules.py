"""The expense rules' findings, word for word, on charges read from exports."""

from __future__ import annotations

from pathlib import Path

from collectors.expense.catalogue import load_catalogue
from collectors.expense.collector import spend_lines, vendor_assets
from collectors.expense.review import review_exports
from collectors.expense.settings import BurstSettings, FileSettings
from rules.contract import RuleContext, RuleStatus
from rules.billing_attribution import UNATTRIBUTED_SPEND
from rules.expense_vendors import API_CREDIT_ON_CARD, APP_STORE_SUBSCRIPTION, UNOWNED_SPEND, UNSANCTIONED_VENDOR
from scanner.config import OwnerMapping, Policy
from scanner.coverage import build_coverage
from scanner.model import Inventory

DATA = Path(__file__).parent / "data" / "expense"
POLICY = Policy(sanctioned_vendors=("OpenAI", "Anthropic", "Cursor"))


def context_for(
    *names: str, settings: FileSettings | None = None, policy: Policy = POLICY, owners: list[OwnerMapping] | None = None, folder: Path = DATA
) -> RuleContext:
    exports = [(folder / name, settings or FileSettings(), name) for name in names]
    review = review_exports(exports, load_catalogue(), BurstSettings())
    inventory = Inventory(assets=vendor_assets(review.charges), spend_lines=spend_lines(review))
    return RuleContext(inventory, policy, build_coverage(inventory, policy, owners or []))


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


def test_unowned_spend_message():
    assert messages(UNOWNED_SPEND, context_for("brex_card_transactions.csv")) == [
        "Anthropic charges on the card of Priya Raman (1 charge, USD 100.00 net, department Research) reach no owner, because no mapping under owners covers their vendor, cardholder or department.",
        "Cursor charges on the card of Lena Hoffmann (1 charge, USD 40.00 net, department Engineering) reach no owner, because no mapping under owners covers their vendor, cardholder or department.",
        "Cursor charges on the card of Marco Ruiz (1 charge, USD 40.00 net, department Engineering) reach no owner, because no mapping under owners covers their vendor, cardholder or department.",
        "OpenAI charges on the card of Marco Ruiz (4 charges, USD 80.00 net, department Engineering) reach no owner, because no mapping under owners covers their vendor, cardholder or department.",
    ]


def test_unowned_spend_subjects_are_asset_ids():
    findings = UNOWNED_SPEND.run(context_for("brex_card_transactions.csv")).findings
    assert [finding.subject for finding in findings] == [
        "expense:anthropic:Priya Raman",
        "expense:cursor:Lena Hoffmann",
        "expense:cursor:Marco Ruiz",
        "expense:openai:Marco Ruiz",
    ]


def test_unowned_spend_skips_mapped_department():
    owners = [OwnerMapping(owner="platform", match={"tag": "department=Engineering"})]
    findings = UNOWNED_SPEND.run(context_for("brex_card_transactions.csv", owners=owners)).findings
    assert [finding.subject for finding in findings] == ["expense:anthropic:Priya Raman"]


def test_unowned_spend_skips_department_owner_tag():
    policy = Policy(owner_tags=("team", "department"), sanctioned_vendors=POLICY.sanctioned_vendors)
    result = UNOWNED_SPEND.run(context_for("brex_card_transactions.csv", policy=policy))
    assert result.status is RuleStatus.PASS
    assert result.findings == []


def test_unsanctioned_spend_is_reported_once():
    context = context_for("ramp_transactions.csv", policy=Policy(sanctioned_vendors=("Midjourney",)))
    unowned = [finding.subject for finding in UNOWNED_SPEND.run(context).findings]
    unsanctioned = [finding.subject for finding in UNSANCTIONED_VENDOR.run(context).findings]
    assert unowned == ["expense:midjourney:Sofia Lindqvist"]
    assert unsanctioned == ["expense:mistral:Jonas Weber", "expense:perplexity:Sofia Lindqvist"]


def test_unowned_spend_keeps_currencies_apart(tmp_path):
    (tmp_path / "card.csv").write_text(
        "Date,Description,Amount,Currency,Cardholder,Department\n"
        "2026-11-03,OPENAI *CHATGPT SUBSCR,20.00,USD,Jonas Weber,Claims\n"
        "2026-11-10,OPENAI *CHATGPT SUBSCR,18.00,EUR,Jonas Weber,Claims\n",
        encoding="utf-8",
    )
    finding = UNOWNED_SPEND.run(context_for("card.csv", folder=tmp_path)).findings[0]
    assert finding.message == (
        "OpenAI charges on the card of Jonas Weber (2 charges, EUR 18.00 and USD 20.00 net, department Claims) reach no owner, "
        "because no mapping under owners covers their vendor, cardholder or department."
    )
    assert finding.evidence["amounts"] == {"EUR": "18.00", "USD": "20.00"}
    assert finding.evidence["charge_count"] == 2


def _card_only_export(folder: Path) -> Path:
    path = folder / "card.csv"
    path.write_text("Date,Description,Amount,Currency,Card\n2026-11-03,GITHUB COPILOT,19.00,USD,7731\n", encoding="utf-8")
    return path


def test_unowned_spend_names_card_without_cardholder(tmp_path):
    _card_only_export(tmp_path)
    context = context_for("card.csv", folder=tmp_path, policy=Policy(sanctioned_vendors=("GitHub Copilot",)))
    assert messages(UNOWNED_SPEND, context) == [
        "GitHub Copilot charges on card 7731 (1 charge, USD 19.00 net) reach no owner, because no mapping under owners covers their vendor, cardholder or department."
    ]


def test_billing_rule_leaves_out_expense_spend():
    assert UNATTRIBUTED_SPEND.run(context_for("brex_card_transactions.csv")).status is RuleStatus.NOT_APPLICABLE


def test_api_credit_across_two_cards(tmp_path):
    (tmp_path / "cards.csv").write_text(
        "Date,Description,Amount,Currency,Cardholder,Card\n"
        "2026-11-03,ANTHROPIC,10.00,USD,Ana Silva,1111\n"
        "2026-11-04,ANTHROPIC,10.00,USD,Ana Silva,1111\n"
        "2026-11-05,ANTHROPIC,10.00,USD,Ana Silva,1111\n"
        "2026-11-20,ANTHROPIC,10.00,USD,Ana Silva,2222\n",
        encoding="utf-8",
    )
    assert messages(API_CREDIT_ON_CARD, context_for("cards.csv", folder=tmp_path)) == [
        "The cards of Ana Silva buy Anthropic API credit (3 charges, 1 auto-recharge, USD 30.00 net) for an API account "
        "that no managed organisation account or key inventory covers."
    ]


def test_unowned_finding_suggests_a_match():
    findings = UNOWNED_SPEND.run(context_for("brex_card_transactions.csv")).findings
    assert [finding.evidence["suggested_match"] for finding in findings][:2] == [
        {"tag": "department=Research"},
        {"tag": "department=Engineering"},
    ]


def test_unowned_finding_without_department_suggests_vendor_and_cardholder(tmp_path):
    _card_only_export(tmp_path)
    context = context_for("card.csv", folder=tmp_path, policy=Policy())
    findings = UNOWNED_SPEND.run(context).findings
    assert findings[0].evidence["suggested_match"] == {"provider": "github-copilot", "account": "card 7731"}


def test_refunded_charges_leave_no_unowned_finding(tmp_path):
    (tmp_path / "refund.csv").write_text(
        "Date,Description,Amount,Currency,Cardholder\n"
        "2026-11-03,OPENAI *CHATGPT SUBSCR,20.00,USD,Ana Silva\n"
        "2026-11-09,OPENAI *CHATGPT SUBSCR,-20.00,USD,Ana Silva\n"
        "2026-11-12,ANTHROPIC,-15.00,USD,Ben Okafor\n"
        "2026-11-14,STAPLES,12.00,USD,Ben Okafor\n"
        "2026-11-15,DELTA AIR,300.00,USD,Ben Okafor\n",
        encoding="utf-8",
    )
    assert UNOWNED_SPEND.run(context_for("refund.csv", folder=tmp_path, policy=Policy())).findings == []
