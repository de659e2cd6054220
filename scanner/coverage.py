"""The coverage graph: every spend line reaches an owner or the reason it has none.

Nodes are spend lines, assets, owners and reasons; an edge from a spend line to an owner says
how the owner was found (a tag, an asset, a configured mapping). Coverage is attributed spend over
all AI spend, per currency, never summed across currencies.

Each currency's figures are broken down by provider, service, model, owner, reason and source
family. A source family is the collector family that produced the spend line (`billing`, `aws`,
`expense`...), so card spend on OpenAI stays apart from OpenAI's own API spend.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Sequence

import networkx as nx

from scanner.config import OwnerMapping, Policy
from scanner.model import Asset, Inventory, SpendLine, decimal_text

# Every reason a spend line can end at, with the sentence reports show for it. Provider modules
# add their own reasons through `register_reason`.
REASONS: dict[str, str] = {
    "untagged": "The spend carries no tags or labels at all.",
    "no_owner_tag": "The spend carries tags, but none of the owner tag keys in policy.owner_tags.",
    "owner_tag_empty": "An owner tag is present but its value is empty.",
    "no_owner_policy": "policy.owner_tags is empty, so no tag can name an owner.",
}


# The source family of spend lines whose collector the caller did not record, such as lines put
# into an inventory by hand.
UNRECORDED_SOURCE = "(not recorded)"


def register_reason(code: str, description: str) -> None:
    REASONS.setdefault(code, description)


def source_family(collector_name: str) -> str:
    """Return the family of a collector: its name before the first dot (`aws.cur` is `aws`)."""
    return collector_name.partition(".")[0]


@dataclass(frozen=True)
class Attribution:
    """The owner a spend line reached and how, or the reason it reached none."""

    owner: str | None
    via: str | None = None
    reason: str | None = None

    @property
    def attributed(self) -> bool:
        return self.owner is not None


# A classifier returns a more specific reason for an unattributed line (a system inference
# profile, a default workspace...) or None to leave the decision to the next one.
ReasonClassifier = Callable[[SpendLine, "Asset | None", Policy], "str | None"]
REASON_CLASSIFIERS: list[ReasonClassifier] = []


@dataclass
class Breakdown:
    total: Decimal = Decimal(0)
    attributed: Decimal = Decimal(0)
    unattributed: Decimal = Decimal(0)
    line_count: int = 0

    def add(self, amount: Decimal, attributed: bool) -> None:
        self.total += amount
        self.line_count += 1
        if attributed:
            self.attributed += amount
        else:
            self.unattributed += amount

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": decimal_text(self.total),
            "attributed": decimal_text(self.attributed),
            "unattributed": decimal_text(self.unattributed),
            "line_count": self.line_count,
        }


@dataclass
class UnattributedSource:
    """Unattributed spend grouped by where it comes from, for the "largest sources" list."""

    provider: str
    account: str | None
    service: str
    resource_id: str | None
    reason: str
    amount: Decimal = Decimal(0)
    line_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "account": self.account,
            "service": self.service,
            "resource_id": self.resource_id,
            "reason": self.reason,
            "amount": decimal_text(self.amount),
            "line_count": self.line_count,
        }


@dataclass
class CurrencyCoverage:
    currency: str
    overall: Breakdown = field(default_factory=Breakdown)
    by_reason: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    by_owner: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    by_provider: dict[str, Breakdown] = field(default_factory=lambda: defaultdict(Breakdown))
    by_service: dict[str, Breakdown] = field(default_factory=lambda: defaultdict(Breakdown))
    by_model: dict[str, Breakdown] = field(default_factory=lambda: defaultdict(Breakdown))
    # Keyed by the source family of the collector that produced each line (see `source_family`).
    by_source: dict[str, Breakdown] = field(default_factory=lambda: defaultdict(Breakdown))
    unattributed_sources: dict[tuple, UnattributedSource] = field(default_factory=dict)
    # The span the spend covers: the earliest period start and the latest period end of its lines.
    period_start: datetime | None = None
    period_end: datetime | None = None

    @property
    def attributed_share(self) -> float | None:
        """Attributed over total, or None when the total is not positive (credits can make it so)."""
        if self.overall.total <= 0:
            return None
        return float(self.overall.attributed / self.overall.total)

    def largest_unattributed(self, limit: int = 10) -> list[UnattributedSource]:
        ranked = sorted(
            self.unattributed_sources.values(),
            key=lambda source: (-source.amount, source.provider, source.service, source.resource_id or ""),
        )
        return ranked[:limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": decimal_text(self.overall.total),
            "attributed": decimal_text(self.overall.attributed),
            "unattributed": decimal_text(self.overall.unattributed),
            "attributed_share": self.attributed_share,
            "line_count": self.overall.line_count,
            "period": {
                "start": self.period_start.isoformat() if self.period_start else None,
                "end": self.period_end.isoformat() if self.period_end else None,
            },
            "by_reason": {k: decimal_text(v) for k, v in sorted(self.by_reason.items())},
            "by_owner": {k: decimal_text(v) for k, v in sorted(self.by_owner.items())},
            "by_provider": {k: v.to_dict() for k, v in sorted(self.by_provider.items())},
            "by_service": {k: v.to_dict() for k, v in sorted(self.by_service.items())},
            "by_model": {k: v.to_dict() for k, v in sorted(self.by_model.items())},
            "by_source": {k: v.to_dict() for k, v in sorted(self.by_source.items())},
            "largest_unattributed": [s.to_dict() for s in self.largest_unattributed()],
        }


@dataclass
class Coverage:
    """The built graph, each line's attribution in inventory order, and figures per currency."""

    graph: nx.DiGraph
    attributions: list[tuple[SpendLine, Attribution]]
    currencies: dict[str, CurrencyCoverage]

    def to_dict(self) -> dict[str, Any]:
        return {currency: self.currencies[currency].to_dict() for currency in sorted(self.currencies)}


def registered_classifiers() -> tuple[ReasonClassifier, ...]:
    """Import every source family and rule module, then return the classifiers they register,
    so the result does not depend on what the caller imported before."""
    from collectors import family_modules
    from rules import all_rules

    family_modules()
    all_rules()
    return tuple(REASON_CLASSIFIERS)


def build_coverage(
    inventory: Inventory,
    policy: Policy,
    owners: list[OwnerMapping],
    classifiers: Sequence[ReasonClassifier] | None = None,
    source_families: Sequence[str] | None = None,
) -> Coverage:
    """Join every spend line to an owner or a reason and total the result per currency.

    `classifiers` defaults to every registered one; pass an empty sequence to get only the
    generic reasons. `source_families` gives the source family of each spend line, in inventory
    order. Without it, every line counts under UNRECORDED_SOURCE.

    Raise ValueError when `source_families` does not have one entry per spend line.
    """
    if classifiers is None:
        classifiers = registered_classifiers()
    if source_families is None:
        source_families = [UNRECORDED_SOURCE] * len(inventory.spend_lines)
    if len(source_families) != len(inventory.spend_lines):
        raise ValueError(
            f"invalid source_families: {len(source_families)} given for {len(inventory.spend_lines)} "
            "spend lines; give one family per spend line, in inventory order"
        )

    graph = nx.DiGraph()
    assets_by_id = {asset.id.lower(): asset for asset in inventory.assets}
    assets_by_account = _index_billing_accounts(inventory.assets)
    for asset in inventory.assets:
        graph.add_node(("asset", asset.id), kind=asset.kind)

    attributions: list[tuple[SpendLine, Attribution]] = []
    currencies: dict[str, CurrencyCoverage] = {}
    # Owners are named as first written: `Alpha` from one tag and `alpha` from another are one
    # owner, as mappings already match without letter case.
    owner_names: dict[str, str] = {}
    for line, family in zip(inventory.spend_lines, source_families):
        asset = _asset_of(line, assets_by_id, assets_by_account)
        attribution = attribute(line, asset, policy, owners, classifiers)
        if attribution.owner is not None:
            owner = owner_names.setdefault(attribution.owner.casefold(), attribution.owner)
            if owner != attribution.owner:
                attribution = replace(attribution, owner=owner)
        attributions.append((line, attribution))
        _add_to_graph(graph, line, family, asset, attribution)

        coverage = currencies.setdefault(line.currency, CurrencyCoverage(line.currency))
        _add_to_figures(coverage, line, family, attribution)

    return Coverage(graph, attributions, currencies)


def _index_billing_accounts(assets: list[Asset]) -> dict[tuple[str, str], Asset]:
    """Index assets that stand for a whole billing account (a GCP project, an AWS account) by
    provider and the account ID billing shows, from `attributes["billing_account"]`. When two
    assets claim one account, the one with the smallest id wins, so the result is stable."""
    index: dict[tuple[str, str], Asset] = {}
    for asset in sorted(assets, key=lambda item: item.id):
        account = asset.attributes.get("billing_account")
        if account:
            index.setdefault((asset.provider, str(account).lower()), asset)
    return index


def _asset_of(
    line: SpendLine, by_id: dict[str, Asset], by_account: dict[tuple[str, str], Asset]
) -> Asset | None:
    """Return the asset a spend line is billed to: its resource, or else the account it is billed in.

    Some exports name no resource for AI spend (Vertex AI rows carry only the project), so the
    account's asset is the closest thing the line can join.
    """
    if line.resource_id:
        asset = by_id.get(line.resource_id.lower())
        if asset is not None:
            return asset
    if line.account:
        return by_account.get((line.provider, line.account.lower()))
    return None


def attribute(
    line: SpendLine,
    asset: Asset | None,
    policy: Policy,
    owners: list[OwnerMapping],
    classifiers: Sequence[ReasonClassifier] = (),
) -> Attribution:
    """Decide one spend line's owner: its own owner tag first, then its asset's owner, then the
    configured mappings; otherwise the most specific reason it has none."""
    empty_owner_tag = False
    for key in policy.owner_tags:
        value = line.tags.values.get(key)
        if value:
            return Attribution(owner=value, via=f"tag:{key}")
        if value is not None:
            empty_owner_tag = True

    if asset is not None and asset.attributes.get("owner"):
        via = asset.attributes.get("owner_via") or "asset"
        return Attribution(owner=asset.attributes["owner"], via=f"asset:{asset.kind}:{via}")

    for mapping in owners:
        if _mapping_matches(mapping, line):
            return Attribution(owner=mapping.owner, via="mapping")

    for classify in classifiers:
        reason = classify(line, asset, policy)
        if reason:
            return Attribution(owner=None, reason=reason)

    if empty_owner_tag:
        return Attribution(owner=None, reason="owner_tag_empty")
    if not line.tags:
        return Attribution(owner=None, reason="untagged")
    if not policy.owner_tags:
        return Attribution(owner=None, reason="no_owner_policy")
    return Attribution(owner=None, reason="no_owner_tag")


def _mapping_matches(mapping: OwnerMapping, line: SpendLine) -> bool:
    # Values are compared without letter case: exports write one name as JANE DOE in one file and
    # Jane Doe in another, and tag values as Data or data.
    for field_name, expected in mapping.match.items():
        if field_name == "tag":
            key, _, value = expected.partition("=")
            actual = line.tags.get(key)
            if actual is None or actual.casefold() != value.casefold():
                return False
        elif (getattr(line, field_name) or "").casefold() != expected.casefold():
            return False
    return True


def _add_to_graph(
    graph: nx.DiGraph, line: SpendLine, family: str, asset: Asset | None, attribution: Attribution
) -> None:
    spend_node = ("spend", line.key)
    graph.add_node(
        spend_node, amount=line.amount, currency=line.currency, provider=line.provider, source_family=family
    )
    if asset is not None:
        graph.add_edge(spend_node, ("asset", asset.id), relation="billed_to")
    if attribution.owner is not None:
        graph.add_edge(spend_node, ("owner", attribution.owner), relation=attribution.via)
    else:
        graph.add_edge(spend_node, ("reason", attribution.reason), relation="unattributed")


def _add_to_figures(coverage: CurrencyCoverage, line: SpendLine, family: str, attribution: Attribution) -> None:
    attributed = attribution.attributed
    if coverage.period_start is None or line.period_start < coverage.period_start:
        coverage.period_start = line.period_start
    if coverage.period_end is None or line.period_end > coverage.period_end:
        coverage.period_end = line.period_end
    coverage.overall.add(line.amount, attributed)
    coverage.by_provider[line.provider].add(line.amount, attributed)
    coverage.by_service[line.service].add(line.amount, attributed)
    coverage.by_model[line.model or "(not stated)"].add(line.amount, attributed)
    coverage.by_source[family].add(line.amount, attributed)

    if attributed:
        coverage.by_owner[attribution.owner] += line.amount
        return

    coverage.by_reason[attribution.reason] += line.amount
    source_key = (line.provider, line.account, line.service, line.resource_id, attribution.reason)
    source = coverage.unattributed_sources.get(source_key)
    if source is None:
        source = UnattributedSource(line.provider, line.account, line.service, line.resource_id, attribution.reason)
        coverage.unattributed_sources[source_key] = source
    source.amount += line.amount
    source.line_count += 1
