"""Rules over AI charges found in card and expense exports: vendors outside the organisation's
sanctioned list, spend that reaches no owner, prepaid API credit bought on a card, and AI
subscriptions bought through an app store. Each reports one finding per vendor and cardholder (or
card), the grouping of the `expense.vendor_charge` assets."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping

from collectors.expense.attribution import EXPENSE_CATEGORY, UNSANCTIONED_VENDOR as UNSANCTIONED_REASON, is_sanctioned
from collectors.expense.catalogue import APP_STORE, DIRECT, load_catalogue
from collectors.expense.charges import Charge, FileReading
from collectors.expense.collector import ASSET_KIND, spend_lines, vendor_assets
from collectors.expense.review import ExpenseReview, mark_auto_recharges
from collectors.expense.settings import BurstSettings
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import OwnerMapping, Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, SpendLine, count_text, decimal_text, money_text


def _expense_assets(context: RuleContext) -> list[Asset]:
    return context.inventory.assets_of_kind(ASSET_KIND)


def _card_phrase(asset: Asset) -> str:
    """Name the card the charges are on, as a message names it."""
    if _several_cards(asset):
        return f"the cards of {asset.attributes['cardholder']}"
    if asset.attributes.get("cardholder"):
        return f"the card of {asset.attributes['cardholder']}"
    if asset.attributes.get("card"):
        return f"card {asset.attributes['card']}"
    return "a card the export does not name"


def _several_cards(asset: Asset) -> bool:
    """Check whether the charges of one cardholder are on more than one card."""
    return bool(asset.attributes.get("cardholder")) and len(asset.attributes.get("cards", [])) > 1


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
    return _amounts_text(asset.attributes.get("amounts", {}))


def _amounts_text(amounts: Mapping[str, Decimal | str]) -> str:
    return " and ".join(money_text(Decimal(amount), currency) for currency, amount in amounts.items()) or "no amount"


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
                    f"({count_text(asset.attributes['charge_count'], 'charge')}, {_amount_text(asset)} net) go to an AI vendor "
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


def _vendor_asset_id(line: SpendLine) -> str:
    """Return the id of the `expense.vendor_charge` asset a spend line's charges belong to, built
    as `vendor_assets` builds it, so findings of every expense rule share their subject."""
    return f"expense:{line.provider}:{line.account or 'unknown'}"


def _line_card_phrase(account: str | None) -> str:
    """Name the card from a spend line's account, for a line whose asset is not in the inventory."""
    if not account:
        return "a card the export does not name"
    if account.startswith("card "):
        return account
    return f"the card of {account}"


def _departments_text(departments: list[str]) -> str:
    if not departments:
        return ""
    if len(departments) == 1:
        return f", department {departments[0]}"
    return f", departments {', '.join(departments[:-1])} and {departments[-1]}"


def _check_unowned_spend(context: RuleContext) -> Iterable[Violation] | None:
    card_spend = [(line, attribution) for line, attribution in context.coverage.attributions if line.category == EXPENSE_CATEGORY]
    if not card_spend:
        return None

    # Spend with an unsanctioned vendor is expense.unsanctioned-ai-vendor's finding already.
    unowned: dict[str, list[SpendLine]] = defaultdict(list)
    for line, attribution in card_spend:
        if attribution.attributed or attribution.reason == UNSANCTIONED_REASON:
            continue
        unowned[_vendor_asset_id(line)].append(line)

    assets = {asset.id: asset for asset in _expense_assets(context)}
    violations = []
    for asset_id, lines in sorted(unowned.items()):
        amounts = _currency_totals(lines)
        # Charges refunded in full, or a refund alone, leave no spend to own.
        if any(total > 0 for total in amounts.values()):
            violations.append(_unowned_violation(asset_id, lines, amounts, assets.get(asset_id)))
    return violations


def _currency_totals(lines: list[SpendLine]) -> dict[str, Decimal]:
    """Add up the lines per currency, in currency order."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line.currency] += line.amount
    return {currency: totals[currency] for currency in sorted(totals)}


def _unowned_violation(asset_id: str, lines: list[SpendLine], amounts: dict[str, Decimal], asset: Asset | None) -> Violation:
    # The expense collector sets a line's quantity to its number of charges.
    charge_count = int(sum((line.quantity or Decimal(1) for line in lines), Decimal(0)))
    departments = sorted({line.tags.get("department") for line in lines if line.tags.get("department")})
    card = _card_phrase(asset) if asset is not None else _line_card_phrase(lines[0].account)

    return Violation(
        subject=asset_id,
        message=(
            f"{lines[0].service} charges on {card} ({count_text(charge_count, 'charge')}, {_amounts_text(amounts)} net"
            f"{_departments_text(departments)}) reach no owner, because no mapping under owners covers their vendor, "
            "cardholder or department."
        ),
        evidence={
            "vendor": lines[0].provider,
            "account": lines[0].account,
            "amounts": {currency: decimal_text(amount) for currency, amount in amounts.items()},
            "charge_count": charge_count,
            "departments": departments,
            "spend_lines": len(lines),
            "suggested_match": _suggested_match(lines[0], departments),
        },
    )


def _suggested_match(line: SpendLine, departments: list[str]) -> dict[str, str]:
    """Return an owners match that would cover these charges: by their one department, else by
    vendor and cardholder."""
    if len(departments) == 1:
        return {"tag": f"department={departments[0]}"}
    match = {"provider": line.provider}
    if line.account:
        match["account"] = line.account
    return match


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
                    f"{_capitalised(_card_phrase(asset))} {'buy' if _several_cards(asset) else 'buys'} "
                    f"{asset.attributes['vendor_name']} API credit "
                    f"({count_text(count, 'charge')}{recharge_text}, {_amounts_text(asset.attributes.get('api_credit_amounts', asset.attributes['amounts']))} net) "
                    "for an API account that no "
                    "managed organisation account or key inventory covers."
                ),
                evidence={
                    "vendor": asset.attributes["vendor"],
                    "api_credit_charge_count": count,
                    "auto_recharges": recharges,
                    "amounts": asset.attributes.get("api_credit_amounts", asset.attributes["amounts"]),
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
                    f"({count_text(count, 'charge')}), a personal subscription the organisation cannot manage, audit or move to a team plan."
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


def _context(charges: list[Charge], policy: Policy, owners: list[OwnerMapping] | None = None) -> RuleContext:
    review = ExpenseReview([FileReading("amex-corporate-2026-11.csv", charges=charges)])
    review.auto_recharges = mark_auto_recharges(review.charges, BurstSettings())
    inventory = Inventory(assets=vendor_assets(review.charges), spend_lines=spend_lines(review))
    return RuleContext(inventory, policy, build_coverage(inventory, policy, owners or []))


_POLICY = Policy(owner_tags=("team",), sanctioned_vendors=("OpenAI", "Anthropic"))


def _seat(vendor: str) -> list[Charge]:
    return [_charge(vendor, "60.00", 14, "seat")]


def _top_ups() -> list[Charge]:
    return [_charge("openai", "20.00", day, "unknown", row=row) for row, day in ((3, 12), (4, 12), (5, 13))]


_RESEARCH_OWNER = [OwnerMapping(owner="research", match={"tag": "department=Research"})]


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
        "Move the use to a sanctioned vendor and cancel the subscription or remove the card from the vendor's "
        "billing, or review the vendor (contract, data handling) and add it to policy.sanctioned_vendors."
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

UNOWNED_SPEND = Rule(
    id="expense.ai-spend-unowned",
    title="AI spend on cards and expense claims reaches no owner",
    severity=Severity.MEDIUM,
    checks=(
        "Every AI charge on a card or expense claim reaches an owner, through a mapping under owners (by vendor, "
        "cardholder or department) or a department listed in policy.owner_tags."
    ),
    why=(
        "Card spend that reaches no owner sits outside every team's budget and showback, so nobody is asked whether "
        "the subscription is still needed, and the same tool can be bought again on other cards unnoticed."
    ),
    remediation=(
        "Map the spend to an owner under owners: in the config, by department (tag: department=<the department>), "
        "cardholder (account: <the cardholder, as the export writes it>) or vendor (provider: <the vendor id>); each "
        "finding's evidence contains such a match to start from. Or add department to policy.owner_tags so the export's "
        "department column names the owner. Where the use should not stay on a card, move it onto the organisation's "
        "managed team plan or API account, where seats and keys have owners, and cancel the card subscription."
    ),
    limits=(
        "Sees only the charges in the configured exports. Charges never claimed and invoices paid by bank transfer "
        "leave no trace. Spend with a vendor outside policy.sanctioned_vendors is left to "
        "expense.unsanctioned-ai-vendor, so it is reported once. An export without a department column reaches an "
        "owner only through a cardholder or vendor mapping."
    ),
    check=_check_unowned_spend,
    samples=(
        Sample("department mapped to an owner", lambda: _context(_seat("openai"), _POLICY, _RESEARCH_OWNER), RuleStatus.PASS),
        Sample(
            "department is an owner tag",
            lambda: _context(_seat("openai"), Policy(owner_tags=("team", "department"), sanctioned_vendors=("OpenAI",))),
            RuleStatus.PASS,
        ),
        Sample("unowned unsanctioned vendor is left to its own rule", lambda: _context(_seat("midjourney"), _POLICY), RuleStatus.PASS),
        Sample("ChatGPT seat with no mapping", lambda: _context(_seat("openai"), _POLICY), RuleStatus.FAIL, 1),
        Sample(
            "seat and auto-recharge of one card are one finding",
            lambda: _context(_seat("openai") + _top_ups(), _POLICY),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "unowned vendor without a sanctioned list",
            lambda: _context(_seat("midjourney"), Policy(owner_tags=("team",))),
            RuleStatus.FAIL,
            1,
        ),
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
        "Move the API use into an account the organisation manages (the vendor's organisation or team account, "
        "such as an OpenAI project or an Anthropic workspace, or a cloud deployment) with its own keys and budget, "
        "then remove the card from the vendor's billing settings (and turn off "
        "auto-recharge where it is on)."
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

RULES = [UNSANCTIONED_VENDOR, UNOWNED_SPEND, API_CREDIT_ON_CARD, APP_STORE_SUBSCRIPTION]
