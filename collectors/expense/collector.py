"""The expense collector: AI charges in card and expense exports, as spend lines and assets.

Each configured export (a file or a glob) is one scope. Every AI charge becomes spend of its
vendor (`provider` is the vendor id, `service` its name) billed to the cardholder or card
(`account`), with the department as a tag where the export has one. An auto-recharge burst is one
spend line. Charges of one vendor on one card also make one asset of kind
`expense.vendor_charge`, which the expense rules judge.

Known limits:
- A charge is dated by the day the export gives, taken as a UTC day; exports write local dates
  without a time zone.
- Spend lines of one vendor, card, currency, department and first day are merged into one. A
  merged line's source names the first of its rows, while the charges keep every row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from collectors.contract import CollectContext, SourceKind
from collectors.expense.attribution import EXPENSE_CATEGORY, unknown_sanctioned_names, unknown_sanctioned_warning
from collectors.expense.catalogue import load_catalogue
from collectors.expense.charges import Charge
from collectors.expense.output import reading_counts
from collectors.expense.review import ExpenseReview, review_exports
from collectors.expense.settings import expand_paths, parse_settings
from scanner.config import AuditConfig
from scanner.model import Asset, CollectorOutcome, CollectorResult, ScopeGap, SourceRef, SpendLine, Tags, decimal_text

ASSET_KIND = "expense.vendor_charge"
CATEGORY_LABELS = {
    "chat_assistant": "Chat assistant",
    "coding_assistant": "Coding assistant",
    "image": "Image generation",
    "video": "Video generation",
    "voice": "Voice and audio",
    "writing": "Writing assistant",
    "search": "AI search",
    "api_platform": "API platform",
}


class ExpenseCollector:
    """Reads the exports under `sources.expense.files` of the audit config."""

    name = "expense"
    source = SourceKind.EXPORT

    def __init__(self, config: AuditConfig):
        self.config = config
        self.settings = parse_settings(config.sources.get("expense"))

    def describe(self) -> str:
        paths = ", ".join(entry.path for entry in self.settings.files)
        return f"card and expense exports: {paths}"

    def collect(self, context: CollectContext) -> CollectorResult:
        outcome = CollectorOutcome(collector=self.name, source=self.source.value)
        exports = []
        seen: set[Path] = set()
        for entry in self.settings.files:
            paths = expand_paths(entry, self.config.base_dir)
            if not paths:
                reason = "no file matches this glob; check the path, which is relative to the config file's folder"
                outcome.scopes_not_seen.append(ScopeGap(entry.path, reason))
                context.logger.warning("%s: %s: %s", self.name, entry.path, reason)
            for path in paths:
                if path.resolve() in seen:
                    # Two entries naming one file would count each of its charges twice.
                    outcome.notes.append(f"{self._location(path)}: named by more than one entry of sources.expense.files; read once.")
                    continue
                seen.add(path.resolve())
                exports.append((path, replace(entry, path=str(path)), self._location(path)))

        for name in unknown_sanctioned_names(self.config.policy.sanctioned_vendors):
            warning = unknown_sanctioned_warning(name)
            outcome.notes.append(warning)
            context.logger.warning("%s: %s", self.name, warning)

        review = review_exports(exports, load_catalogue(), self.settings.burst)
        self._record_files(review, outcome, context)
        return CollectorResult(outcome, vendor_assets(review.charges), spend_lines(review))

    def _record_files(self, review: ExpenseReview, outcome: CollectorOutcome, context: CollectContext) -> None:
        for done, reading in enumerate(review.files, start=1):
            context.progress(reading.location, done, len(review.files))
            if reading.error:
                outcome.scopes_not_seen.append(ScopeGap(reading.location, reading.error))
                context.logger.warning("%s: %s: %s", self.name, reading.location, reading.error)
                continue
            outcome.scopes_seen.append(reading.location)
            outcome.skipped_rows.extend(reading.bad_rows)
            outcome.skipped_row_count += reading.bad_row_count
            outcome.notes.extend(reading.notes)
            if reading.bad_row_count > len(reading.bad_rows):
                outcome.notes.append(
                    f"{reading.location}: {reading.bad_row_count} bad rows; the first {len(reading.bad_rows)} are named."
                )
            context.logger.info("%s: %s: %s", self.name, reading.location, reading_counts(reading))
        for recharge in review.auto_recharges:
            outcome.notes.append(
                f"{recharge.id}: {len(recharge.charges)} {recharge.vendor.name} top-ups of {decimal_text(recharge.amount)} {recharge.currency} "
                f"in total on {recharge.card_text} from {recharge.first_date} to {recharge.last_date} are one auto-recharge."
            )

    def _location(self, path: Path) -> str:
        """Name the file as reports show it: relative to the config's folder when it is inside it."""
        try:
            return str(path.resolve().relative_to(self.config.base_dir.resolve()))
        except ValueError:
            return str(path)


def spend_lines(review: ExpenseReview) -> list[SpendLine]:
    """Build one spend line per charge, or per auto-recharge, merging lines with the same key."""
    units: list[list[Charge]] = [recharge.charges for recharge in review.auto_recharges]
    units.extend([charge] for charge in review.charges if charge.auto_recharge is None)

    merged: dict[str, SpendLine] = {}
    for charges in units:
        line = _spend_line(charges)
        existing = merged.get(line.key)
        if existing is None:
            merged[line.key] = line
            continue
        existing.amount += line.amount
        existing.quantity = (existing.quantity or Decimal(0)) + (line.quantity or Decimal(0))
        existing.period_end = max(existing.period_end, line.period_end)
        if existing.charge_category != line.charge_category:
            existing.charge_category = "Purchase"
        existing.source = replace(existing.source, row_count=existing.source.row_count + line.source.row_count)
    return list(merged.values())


def _spend_line(charges: list[Charge]) -> SpendLine:
    first = charges[0]
    amount = sum((charge.amount for charge in charges), Decimal(0))
    start = datetime.combine(min(charge.date for charge in charges), time(), tzinfo=timezone.utc)
    end = datetime.combine(max(charge.date for charge in charges), time(), tzinfo=timezone.utc) + timedelta(days=1)
    return SpendLine(
        taggable=False,
        amount=amount,
        currency=first.currency,
        period_start=start,
        period_end=end,
        provider=first.vendor.id,
        service=first.vendor.name,
        account=first.account,
        category=EXPENSE_CATEGORY,
        subcategory=CATEGORY_LABELS[first.vendor.category],
        charge_category="Credit" if amount < 0 else "Purchase",
        quantity=Decimal(len(charges)),
        unit="charges",
        tags=Tags.from_mapping({"department": first.department} if first.department else {}),
        source=SourceRef(first.file, first.row, len(charges)),
    )


def vendor_assets(charges: list[Charge]) -> list[Asset]:
    """Build one asset per vendor and card (or cardholder), summing its charges per currency."""
    groups: dict[tuple[str, str], list[Charge]] = defaultdict(list)
    for charge in charges:
        groups[(charge.vendor.id, charge.account or "")].append(charge)

    assets = []
    for (vendor_id, account), group in sorted(groups.items()):
        vendor = group[0].vendor
        amounts: dict[str, Decimal] = defaultdict(Decimal)
        api_credit_amounts: dict[str, Decimal] = defaultdict(Decimal)
        for charge in group:
            amounts[charge.currency] += charge.amount
            if charge.kind == "api_credit":
                api_credit_amounts[charge.currency] += charge.amount
        departments = sorted({charge.department for charge in group if charge.department})
        first = min(group, key=lambda charge: (charge.file, charge.row))
        assets.append(
            Asset(
                kind=ASSET_KIND,
                id=f"expense:{vendor_id}:{account or 'unknown'}",
                provider=vendor_id,
                scope=account or "(no cardholder or card in the export)",
                name=f"{vendor.name} charges of {account}" if account else f"{vendor.name} charges",
                tags=Tags.from_mapping({"department": departments[0]} if len(departments) == 1 else {}),
                attributes={
                    "vendor": vendor_id,
                    "vendor_name": vendor.name,
                    "vendor_names": list(vendor.all_names),
                    "category": vendor.category,
                    "cardholder": first.cardholder,
                    "card": first.card,
                    "cards": sorted({charge.card for charge in group if charge.card}),
                    "departments": departments,
                    "kinds": sorted({charge.kind for charge in group}),
                    "channels": sorted({charge.channel for charge in group}),
                    "channel_names": sorted({charge.channel_name for charge in group if charge.channel_name}),
                    "confidences": sorted({charge.confidence for charge in group}),
                    "charge_count": len(group),
                    "refund_count": sum(1 for charge in group if charge.refund),
                    "api_credit_charge_count": sum(1 for charge in group if charge.kind == "api_credit"),
                    "app_store_charge_count": sum(1 for charge in group if charge.channel == "app_store"),
                    "auto_recharges": sorted({charge.auto_recharge for charge in group if charge.auto_recharge}),
                    "amounts": {currency: decimal_text(amounts[currency]) for currency in sorted(amounts)},
                    "api_credit_amounts": {currency: decimal_text(api_credit_amounts[currency]) for currency in sorted(api_credit_amounts)},
                    "first_date": min(charge.date for charge in group).isoformat(),
                    "last_date": max(charge.date for charge in group).isoformat(),
                    "files": sorted({charge.file for charge in group}),
                },
                source=SourceRef(first.file, first.row, len(group)),
            )
        )
    return assets

