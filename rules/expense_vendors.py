"""Rules over AI charges found in card and expense exports: vendors outside the organisation's
sanctioned list, prepaid API credit bought on a card, and AI subscriptions bought through an app
store. Each judges the `expense.vendor_charge` assets: one per vendor and cardholder (or card)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Iterable

from collectors.expense.attribution import is_sanctioned
from collectors.expense.catalogue import APP_STORE, DIRECT, load_catalogue
from collectors.expense.charges import Charge, FileReading
from collectors.expense.collector import ASSET_KIND, spend_lines, vendor_assets
from collectors.expense.review import ExpenseReview, mark_auto_recharges
from collectors.expense.settings import BurstSettings
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, money_text


def _expense_assets(context: RuleContext) -> list[Asset]:
    return context.inventory.assets_of_kind(ASSET_KIND)


def _card_phrase(asset: Asset) -> str:
    """Name the card the charges are on, as a message names it."""
    if asset.attributes.get("cardholder"):
        return f"the card of {asset.attributes['cardholder']}"
    if asset.attributes.get("card"):
        return f"card {asset.attributes['card']}"
    return "a card the export does not name"


def _payer(asset: Asset) -> str:
    """Name the person who pays, as a message names them."""
    if asset.attributes.get("cardholder"):
        return asset.attributes["cardholder"]
    if asset.attributes.get("card"):
        return f"The holder of card {asset.attributes['card']}"
    return "A cardholder the export does not name"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _amount_text(asset: Asset) -> str:
    amounts = asset.attributes.get("amounts", {})
    return " and ".join(money_text(Decimal(amount), currency) for currency, amount in amounts.items()) or "no amount"


def _count_text(count: int) -> str:
    return "1 charge" if count == 1 else f"{count} charges"


def _check_unsanctioned(context: RuleContext) -> Iterable[Violation] | None:
    assets = _expense_assets(context)
    sanctioned = context.policy.sanctioned_vendors
    if not assets or not sanctioned:
        return None

    violations = []
    for asset in assets:
        if is_sanctioned(asset.attributes["vendor_names"], sanctioned):
            continue
        violations.append(
            Violation(
                subject=asset.id,
                message=(
                    f"{asset.attributes['vendor_name']} charges on {_card_phrase(asset)} "
                    f"({_count_text(asset.attributes['charge_count'])}, {_amount_text(asset)} net) go to an AI vendor "
                    "that policy.sanctioned_vendors does not list."
                ),
                evidence={
                    "vendor": asset.attributes["vendor"],
                    "amounts": asset.attributes["amounts"],
                    "charge_count": asset.attributes["charge_count"],
                    "files": asset.attributes["files"],
                },
            )
        )
    return violations


def _check_api_credit(context: RuleContext) -> Iterable[Violation] | None:
    assets = _expense_assets(context)
    if not assets:
        return None

    violations = []
    for asset in assets:
        count = asset.attributes.get("api_credit_charge_count", 0)
        if not count:
            continue
        recharges = asset.attributes.get("auto_recharges", [])
        recharge_text = f", {len(recharges)} auto-recharge{'s' if len(recharges) > 1 else ''}" if recharges else ""
        violations.append(
            Violation(
                subject=asset.id,
                message=(
                    f"{_capitalised(_card_phrase(asset))} buys {asset.attributes['vendor_name']} API credit "
                    f"({_count_text(count)}{recharge_text}, {_amount_text(asset)} net) for an API account that no "
                    "managed organisation account or key inventory covers."
                ),
                evidence={
                    "vendor": asset.attributes["vendor"],
                    "api_credit_charge_count": count,
                    "auto_recharges": recharges,
                    "amounts": asset.attributes["amounts"],
                },
            )
        )
    return violations


def _check_app_store(context: RuleContext) -> Iterable[Violation] | None:
    assets = _expense_assets(context)
    if not assets:
        return None

    violations = []
    for asset in assets:
        count = asset.attributes.get("app_store_charge_count", 0)
        if not count:
            continue
        stores = " or ".join(asset.attributes.get("channel_names", [])) or "an app store"
        violations.append(
            Violation(
                subject=asset.id,
                message=(
                    f"{_payer(asset)} pays for {asset.attributes['vendor_name']} through {stores} "
                    f"({_count_text(count)}), a personal subscription the organisation cannot manage, audit or move to a team plan."
                ),
                evidence={"vendor": asset.attributes["vendor"], "app_store_charge_count": count, "amounts": asset.attributes["amounts"]},
            )
        )
    return violations


# Samples: charges as the expense collector reads them from a card export of November 2026.


def _charge(vendor: str, amount: str, day: int, kind: str, channel: str = DIRECT, cardholder: str = "PRIYA RAMAN", row: int = 1) -> Charge:
    return Charge(
        file="amex-corporate-2026-11.csv",
        row=row,
        date=date(2026, 11, day),
        merchant={"openai": "OPENAI", "midjourney": "MIDJOURNEY INC.", "anthropic": "APPLE.COM/BILL"}.get(vendor, vendor.upper()),
        memo="Claude Pro" if channel == APP_STORE else "",
        amount=Decimal(amount),
        currency="USD",
        vendor=load_catalogue().vendors[vendor],
        kind=kind,
        confidence="medium" if channel == APP_STORE else "high",
        channel=channel,
        channel_name="Apple App Store" if channel == APP_STORE else None,
        cardholder=cardholder,
        card="-41004",
        department="Research",
    )


def _context(charges: list[Charge], policy: Policy) -> RuleContext:
    review = ExpenseReview([FileReading("amex-corporate-2026-11.csv", charges=charges)])
    review.auto_recharges = mark_auto_recharges(review.charges, BurstSettings())
    inventory = Inventory(assets=vendor_assets(review.charges), spend_lines=spend_lines(review))
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


_POLICY = Policy(owner_tags=("team",), sanctioned_vendors=("OpenAI", "Anthropic"))


def _seat(vendor: str) -> list[Charge]:
    return [_charge(vendor, "60.00", 14, "seat")]


def _top_ups() -> list[Charge]:
    return [_charge("openai", "20.00", day, "unknown", row=row) for row, day in ((3, 12), (4, 12), (5, 13))]


UNSANCTIONED_VENDOR = Rule(
    id="expense.unsanctioned-ai-vendor",
    title="AI spend with a vendor outside the sanctioned list",
    severity=Severity.HIGH,
    checks="Every AI vendor charged on a card or claimed as an expense is in policy.sanctioned_vendors.",
    why=(
        "An unsanctioned AI vendor receives company data without a reviewed contract, data-processing terms or "
        "retention settings, and its spend sits outside every budget."
    ),
    remediation=(
        "Move the use to a sanctioned vendor and cancel the subscription on the card, or review the vendor "
        "(contract, data handling) and add it to policy.sanctioned_vendors."
    ),
    limits=(
        "Sees only the charges in the configured exports; free plans, and charges on personal cards that are never "
        "claimed, leave no trace. A vendor missing from rules/catalogues/ai_vendors.yaml is not recognised."
    ),
    check=_check_unsanctioned,
    samples=(
        Sample("sanctioned vendor", lambda: _context(_seat("openai"), _POLICY), RuleStatus.PASS),
        Sample("Midjourney subscription", lambda: _context(_seat("midjourney"), _POLICY), RuleStatus.FAIL, 1),
        Sample("no sanctioned list in the policy", lambda: _context(_seat("midjourney"), Policy()), RuleStatus.NOT_APPLICABLE),
        Sample("no expense charges", lambda: _context([], _POLICY), RuleStatus.NOT_APPLICABLE),
    ),
)

API_CREDIT_ON_CARD = Rule(
    id="expense.api-credit-on-card",
    title="Prepaid AI API credit bought on a card",
    severity=Severity.MEDIUM,
    checks="No card or expense claim buys prepaid or metered API credit from an AI vendor, alone or as an auto-recharge.",
    why=(
        "API credit bought on a card funds an API account outside the organisation's managed ones: its keys, usage "
        "and data settings are invisible to the admin inventories, and an auto-recharge keeps it funded unnoticed."
    ),
    remediation=(
        "Move the API use into a managed account (an OpenAI project, an Anthropic workspace or a cloud deployment) "
        "with its own keys and budget, then turn off auto-recharge and remove the card."
    ),
    limits=(
        "A charge is API credit when its descriptor or memo says so, when the vendor sells only API use, or when it "
        "belongs to a burst of top-ups (auto_recharge settings); a single top-up under a plain vendor name stays "
        "of unknown kind and is not flagged."
    ),
    check=_check_api_credit,
    samples=(
        Sample("seat subscription only", lambda: _context(_seat("openai"), _POLICY), RuleStatus.PASS),
        Sample("auto-recharge burst", lambda: _context(_top_ups(), _POLICY), RuleStatus.FAIL, 1),
        Sample("no expense charges", lambda: _context([], _POLICY), RuleStatus.NOT_APPLICABLE),
    ),
)

APP_STORE_SUBSCRIPTION = Rule(
    id="expense.app-store-ai-subscription",
    title="AI subscription bought through an app store",
    severity=Severity.LOW,
    checks="No AI subscription is bought through Apple's or Google's app store and claimed as an expense.",
    why=(
        "An app-store subscription belongs to a personal account: the organisation cannot set its data controls, "
        "see its use, or move it to a team plan, and it stops only when that person cancels it."
    ),
    remediation=(
        "Replace the app-store subscription with a seat on the organisation's team or enterprise plan, and stop "
        "reimbursing app-store AI subscriptions."
    ),
    limits="App-store charges are recognised only when their memo or extended details name the product.",
    check=_check_app_store,
    samples=(
        Sample("subscription billed by the vendor", lambda: _context(_seat("anthropic"), _POLICY), RuleStatus.PASS),
        Sample(
            "Claude Pro through the App Store",
            lambda: _context([_charge("anthropic", "20.00", 26, "seat", channel=APP_STORE, cardholder="DANA WHITFIELD")], _POLICY),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no expense charges", lambda: _context([], _POLICY), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [UNSANCTIONED_VENDOR, API_CREDIT_ON_CARD, APP_STORE_SUBSCRIPTION]
