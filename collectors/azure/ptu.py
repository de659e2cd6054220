"""Splitting provisioned throughput (PTU) charges across the callers of a deployment.

A PTU charge is billed to the account, per hour, whatever the use. This module splits one charge
in two steps:
  1. across the account's provisioned deployments, by their capacity (PTU count), since the hourly
     charge is per PTU; equally when a deployment states no capacity;
  2. within each deployment, by each caller's share of that deployment's tokens (prompt plus
     completion) on the charge's days, read from token metrics.
Tokens with no caller value, or with a caller the configured mapping lacks, and days with no
tokens at all stay on the deployment, unallocated. Amounts are split exactly: the parts of a
charge add up to the charge to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from collectors.azure.assets import PTU_SHARE_KIND
from collectors.azure.catalogue import PTU_HOURLY_UNIT, PTU_RESERVATION_UNIT
from collectors.azure.cost_export import plain
from collectors.azure.inventory import Account, Deployment, subscription_scope
from collectors.azure.token_metrics import TokenMetricsSpec, TokenUsage
from scanner.model import Asset, SpendLine, decimal_text

PTU_UNITS = {PTU_HOURLY_UNIT.lower(), PTU_RESERVATION_UNIT.lower()}
METHOD = (
    "split by PTU capacity across the account's provisioned deployments, then by each caller's share "
    "of the deployment's prompt plus completion tokens on the same days"
)


def is_ptu_line(line: SpendLine) -> bool:
    return (line.unit or "").lower() in PTU_UNITS


@dataclass
class Allocation:
    """The lines that replace the split charges, the share assets they point at, and a summary."""

    lines: list[SpendLine] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    allocated: dict[str, Decimal] = field(default_factory=dict)
    unallocated: dict[str, Decimal] = field(default_factory=dict)


def allocate(
    lines: list[SpendLine],
    accounts: dict[str, Account],
    usage: dict[str, tuple[TokenMetricsSpec, TokenUsage]],
    owner_tags: tuple[str, ...],
) -> Allocation:
    """Split every PTU line on a metered account that no owner tag already attributes.

    `accounts` and `usage` are keyed by lower-case account ID. Lines that are not split pass
    through unchanged, in order.
    """
    result = Allocation()
    for line in lines:
        account = accounts.get((line.resource_id or "").lower())
        metered = usage.get(account.id) if account else None
        provisioned = [d for d in account.deployments if d.provisioned] if account else []
        owned = any(line.tags.values.get(key) for key in owner_tags)
        if not is_ptu_line(line) or metered is None or not provisioned or owned:
            result.lines.append(line)
            continue
        _split_line(line, account, provisioned, metered[0], metered[1], result)
    return result


def _split_line(
    line: SpendLine,
    account: Account,
    provisioned: list[Deployment],
    spec: TokenMetricsSpec,
    usage: TokenUsage,
    result: Allocation,
) -> None:
    weights = {d.id: Decimal(d.capacity) if d.capacity else Decimal(1) for d in provisioned}
    by_deployment = split_exactly(line.amount, weights)

    for deployment in provisioned:
        tokens = _tokens_by_owner(deployment, line, spec, usage)
        parts = split_exactly(by_deployment[deployment.id], tokens) if tokens else {None: by_deployment[deployment.id]}
        for owner, amount in parts.items():
            if owner is None:
                result.lines.append(_part(line, deployment, amount, deployment.id, f"{account.name}/{deployment.name}"))
                result.unallocated[line.currency] = result.unallocated.get(line.currency, Decimal(0)) + amount
                continue
            share_id = f"{deployment.id}#caller={owner.lower()}"
            result.assets.setdefault(share_id, _share_asset(share_id, account, deployment, spec, owner))
            result.lines.append(_part(line, deployment, amount, share_id, f"{account.name}/{deployment.name} ({owner})"))
            result.allocated[line.currency] = result.allocated.get(line.currency, Decimal(0)) + amount


def _tokens_by_owner(deployment: Deployment, line: SpendLine, spec: TokenMetricsSpec, usage: TokenUsage) -> dict[str | None, Decimal]:
    """Tokens per owner on the line's days; None collects tokens that name no known owner."""
    tokens: dict[str | None, Decimal] = {}
    first_day = line.period_start.date()
    day_count = max(1, (line.period_end.date() - first_day).days)
    for offset in range(day_count):
        for caller, count in usage.callers(deployment.name, first_day + timedelta(days=offset)).items():
            owner = spec.owner_of(caller)
            tokens[owner] = tokens.get(owner, Decimal(0)) + count
    return {owner: count for owner, count in tokens.items() if count > 0}


def split_exactly(amount: Decimal, weights: dict, places: int | None = None) -> dict:
    """Split `amount` in proportion to `weights` so that the parts add up to `amount` exactly.

    Each part is rounded down to the amount's own precision (at least 10 decimal places) and the
    units left over go to the parts with the largest remainders, earliest key first on ties.
    """
    total = sum(weights.values(), Decimal(0))
    if total <= 0:
        raise ValueError("weights must add up to more than zero")
    exponent = min(amount.as_tuple().exponent, -10) if places is None else -places
    unit = Decimal(1).scaleb(exponent)

    exact = {key: amount * weight / total for key, weight in weights.items()}
    parts = {key: value.quantize(unit, rounding=ROUND_DOWN) for key, value in exact.items()}
    leftover = int((amount - sum(parts.values(), Decimal(0))) / unit)
    ranked = sorted(exact, key=lambda key: -abs(exact[key] - parts[key]))
    step = unit if leftover >= 0 else -unit
    for key in ranked[: abs(leftover)]:
        parts[key] += step
    return parts


def _part(line: SpendLine, deployment: Deployment, amount: Decimal, resource_id: str, name: str) -> SpendLine:
    return replace(
        line,
        amount=plain(amount),
        resource_id=resource_id,
        resource_name=name,
        model=deployment.model or line.model,
        quantity=None,
    )


def _share_asset(share_id: str, account: Account, deployment: Deployment, spec: TokenMetricsSpec, owner: str) -> Asset:
    return Asset(
        kind=PTU_SHARE_KIND,
        id=share_id,
        provider="azure",
        scope=subscription_scope(account.subscription_id),
        name=f"{account.name}/{deployment.name} share of {owner}",
        attributes={
            "deployment_id": deployment.id,
            "account_id": account.id,
            "caller_dimension": spec.caller_dimension,
            "metrics": list(spec.metric_names),
            "method": METHOD,
            "owner": owner,
            "owner_via": f"token_share:{spec.caller_dimension}",
        },
    )


def summary(allocation: Allocation) -> list[str]:
    """Write one note per currency with the PTU spend split and the spend left over."""
    notes = []
    for currency in sorted(set(allocation.allocated) | set(allocation.unallocated)):
        allocated = allocation.allocated.get(currency, Decimal(0))
        left = allocation.unallocated.get(currency, Decimal(0))
        notes.append(
            f"PTU charges {METHOD}: {decimal_text(plain(allocated))} {currency} allocated to callers, "
            f"{decimal_text(plain(left))} {currency} left unallocated."
        )
    return notes
