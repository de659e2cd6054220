"""Read a set of expense exports and find the auto-recharges among their AI charges.

An API account set to recharge itself charges the card each time its prepaid balance runs low,
so heavy use shows as a burst of top-ups from one vendor on one card within days. Such a burst is
one auto-recharge, and its charges are prepaid API credit whatever their descriptors name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from collectors.expense.catalogue import Vendor, VendorCatalogue
from collectors.expense.charges import Charge, FileReading, read_file
from collectors.expense.settings import BurstSettings, FileSettings


@dataclass
class AutoRecharge:
    """A burst of API top-ups from one vendor on one card, in one currency."""

    id: str
    vendor: Vendor
    cardholder: str | None
    card: str | None
    currency: str
    charges: list[Charge]

    @property
    def account(self) -> str | None:
        return self.charges[0].account

    @property
    def card_text(self) -> str:
        """Name the card in a sentence: `the card of Ana Silva (card 4417)`, or `card 4417`."""
        if self.cardholder and self.card:
            return f"the card of {self.cardholder} (card {self.card})"
        if self.cardholder:
            return f"the card of {self.cardholder}"
        return f"card {self.card}" if self.card else "one card"

    @property
    def amount(self) -> Decimal:
        return sum((charge.amount for charge in self.charges), Decimal(0))

    @property
    def first_date(self) -> date:
        return self.charges[0].date

    @property
    def last_date(self) -> date:
        return self.charges[-1].date


@dataclass
class ExpenseReview:
    """Every export read, with its charges, bad rows and notes, and the auto-recharges found
    across them."""

    files: list[FileReading] = field(default_factory=list)
    auto_recharges: list[AutoRecharge] = field(default_factory=list)

    @property
    def charges(self) -> list[Charge]:
        return [charge for reading in self.files for charge in reading.charges]

    @property
    def bad_row_count(self) -> int:
        return sum(reading.bad_row_count for reading in self.files)

    @property
    def unreadable(self) -> list[FileReading]:
        return [reading for reading in self.files if reading.error]


def review_exports(
    exports: list[tuple[Path, FileSettings, str]],
    catalogue: VendorCatalogue,
    burst: BurstSettings,
) -> ExpenseReview:
    """Read each (path, settings, location) export and mark the auto-recharges."""
    review = ExpenseReview([read_file(path, settings, catalogue, location) for path, settings, location in exports])
    review.auto_recharges = mark_auto_recharges(review.charges, burst)
    return review


def mark_auto_recharges(charges: list[Charge], burst: BurstSettings) -> list[AutoRecharge]:
    """Find bursts of top-ups and mark their charges as API credit of one auto-recharge.

    A burst is at least `burst.min_charges` purchases from one vendor that sells API use, on one
    card (or cardholder) in one currency, each at most `burst.max_gap_days` after the previous
    one. Seat subscriptions and refunds never join a burst.
    """
    groups: dict[tuple[str, str, str, str, str], list[Charge]] = {}
    for charge in charges:
        if charge.vendor.api and charge.kind != "seat" and charge.amount > 0:
            # A file that names no cardholder and no card is taken as one card's statement, so
            # such charges from different files are on different cards.
            file = "" if charge.cardholder or charge.card else charge.file
            key = (charge.vendor.id, charge.cardholder or "", charge.card or "", charge.currency, file)
            groups.setdefault(key, []).append(charge)

    runs: list[list[Charge]] = []
    for group in groups.values():
        group.sort(key=lambda charge: (charge.date, charge.file, charge.row))
        run = [group[0]]
        for charge in group[1:]:
            if (charge.date - run[-1].date).days <= burst.max_gap_days:
                run.append(charge)
                continue
            runs.append(run)
            run = [charge]
        runs.append(run)

    bursts = [run for run in runs if len(run) >= burst.min_charges]
    bursts.sort(key=lambda run: (run[0].date, run[0].vendor.id, run[0].account or "", run[0].currency))
    recharges = []
    for number, run in enumerate(bursts, start=1):
        identifier = f"auto-recharge-{number}"
        for charge in run:
            charge.kind = "api_credit"
            charge.auto_recharge = identifier
        first = run[0]
        recharges.append(AutoRecharge(identifier, first.vendor, first.cardholder, first.card, first.currency, run))
    return recharges
