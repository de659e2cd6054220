"""The coverage reasons of expense spend lines that no owner mapping covers, and the check of
whether a vendor is sanctioned.

A card or expense charge has no resource, tag or project that could name its owner, so it is
shadow spend until the config maps it: by `provider` (the vendor id), `account` (the cardholder,
or the card) or `tag: department=...`. Importing this module registers the reasons once.
"""

from __future__ import annotations

from typing import Iterable

from scanner.config import Policy
from scanner.coverage import REASON_CLASSIFIERS, register_reason
from scanner.model import Asset, SpendLine

# The SpendLine.category of every line made from an expense export, which distinguishes them
# from billing lines of the same provider.
EXPENSE_CATEGORY = "Expense"

SHADOW_SPEND = "expense_shadow_spend"
UNSANCTIONED_VENDOR = "unsanctioned_vendor"

register_reason(
    SHADOW_SPEND,
    "AI spend paid by card or expense claim, outside every managed AI account; no owner mapping in the config covers its vendor, cardholder or department.",
)
register_reason(UNSANCTIONED_VENDOR, "The spend goes to an AI vendor that policy.sanctioned_vendors does not list.")


def is_sanctioned(vendor_names: Iterable[str], sanctioned: Iterable[str]) -> bool:
    """Check whether any name of a vendor is in policy.sanctioned_vendors, case-insensitively."""
    allowed = {name.strip().casefold() for name in sanctioned}
    return any(name.casefold() in allowed for name in vendor_names)


def unknown_sanctioned_names(sanctioned: Iterable[str]) -> list[str]:
    """Return the names in policy.sanctioned_vendors that name no vendor of the catalogue, such as
    a misspelt `Antrhopic`, which would otherwise leave that vendor unsanctioned in silence."""
    from collectors.expense.catalogue import load_catalogue  # noqa: PLC0415 - loaded on first use

    catalogue = load_catalogue()
    return [name for name in sanctioned if catalogue.vendor_for_name(name) is None]


def unknown_sanctioned_warning(name: str) -> str:
    """Return the warning for a sanctioned name that names no catalogued vendor."""
    return (
        f"policy.sanctioned_vendors: {name!r} names no vendor of the AI vendor catalogue; check its spelling "
        "against the vendor ids, names and aliases in rules/catalogues/ai_vendors.yaml"
    )


def vendor_names(vendor_id: str, service: str) -> tuple[str, ...]:
    """Return every name of a spend line's vendor: its catalogue names, else its id and service."""
    from collectors.expense.catalogue import load_catalogue  # noqa: PLC0415 - loaded on first use

    vendor = load_catalogue().vendors.get(vendor_id)
    return vendor.all_names if vendor else (vendor_id, service)


def classify_expense_spend(line: SpendLine, asset: Asset | None, policy: Policy) -> str | None:
    """Return the reason an unattributed expense line has no owner, or None for other lines."""
    if line.category != EXPENSE_CATEGORY:
        return None
    if policy.sanctioned_vendors and not is_sanctioned(vendor_names(line.provider, line.service), policy.sanctioned_vendors):
        return UNSANCTIONED_VENDOR
    return SHADOW_SPEND


if not any(getattr(classify, "__qualname__", "") == classify_expense_spend.__qualname__ and classify.__module__ == __name__ for classify in REASON_CLASSIFIERS):
    REASON_CLASSIFIERS.append(classify_expense_spend)
