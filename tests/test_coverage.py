"""The coverage graph: owners found by tag, asset and mapping; reasons otherwise; exact totals."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from scanner.config import OwnerMapping, Policy
from scanner.coverage import UNRECORDED_SOURCE, attribute, build_coverage, source_family
from scanner.model import Asset, Inventory, SpendLine, Tags

DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)
NEXT_DAY = datetime(2026, 11, 4, tzinfo=timezone.utc)
POLICY = Policy(owner_tags=("team", "owner"))


def line(amount: str, currency: str = "USD", tags=None, provider="aws", account="111122223333", resource_id=None, model=None):
    return SpendLine(
        amount=Decimal(amount),
        currency=currency,
        period_start=DAY,
        period_end=NEXT_DAY,
        provider=provider,
        service="Amazon Bedrock" if provider == "aws" else "Azure OpenAI",
        account=account,
        resource_id=resource_id,
        model=model,
        tags=Tags.from_mapping(tags or {}),
    )


def test_owner_tag_attributes():
    attribution = attribute(line("1", tags={"Team": "claims"}), None, POLICY, [])
    assert attribution.owner == "claims"
    assert attribution.via == "tag:team"


def test_second_owner_tag_is_tried():
    attribution = attribute(line("1", tags={"owner": "ana"}), None, POLICY, [])
    assert attribution.owner == "ana"
    assert attribution.via == "tag:owner"


def test_empty_owner_tag_is_its_own_reason():
    attribution = attribute(line("1", tags={"team": ""}), None, POLICY, [])
    assert attribution.owner is None
    assert attribution.reason == "owner_tag_empty"


def test_untagged_and_no_owner_tag_reasons():
    assert attribute(line("1"), None, POLICY, []).reason == "untagged"
    assert attribute(line("1", tags={"env": "prod"}), None, POLICY, []).reason == "no_owner_tag"
    assert attribute(line("1", tags={"env": "prod"}), None, Policy(), []).reason == "no_owner_policy"


def test_asset_owner_attributes():
    asset = Asset("openai.project", "proj_abc", "openai", "org-1", attributes={"owner": "search", "owner_via": "mapping"})
    attribution = attribute(line("1", resource_id="proj_abc"), asset, POLICY, [])
    assert attribution.owner == "search"
    assert attribution.via == "asset:openai.project:mapping"


def test_mapping_attributes_by_account_and_tag():
    mappings = [
        OwnerMapping("platform", {"provider": "aws", "tag": "env=shared"}),
        OwnerMapping("research", {"provider": "azure", "account": "/subscriptions/0b9a"}),
    ]
    shared = attribute(line("1", tags={"env": "shared"}), None, POLICY, mappings)
    research = attribute(line("1", provider="azure", account="/subscriptions/0b9a"), None, POLICY, mappings)
    unmatched = attribute(line("1", provider="azure", account="/subscriptions/ffff"), None, POLICY, mappings)
    assert (shared.owner, shared.via) == ("platform", "mapping")
    assert research.owner == "research"
    assert unmatched.owner is None


def test_mapping_ignores_letter_case():
    mappings = [OwnerMapping("data", {"account": "Jane Doe", "tag": "department=data"})]
    matched = attribute(line("1", account="JANE DOE", tags={"department": "Data"}), None, POLICY, mappings)
    untagged = attribute(line("1", account="JANE DOE"), None, POLICY, mappings)
    assert matched.owner == "data"
    assert untagged.owner is None


def test_owners_differing_in_letter_case_are_one():
    mappings = [OwnerMapping("alpha", {"account": "/subscriptions/0b9a"})]
    inventory = Inventory(spend_lines=[
        line("4", tags={"team": "Alpha"}),
        line("2", provider="azure", account="/subscriptions/0b9a"),
    ])
    coverage = build_coverage(inventory, POLICY, mappings)
    assert dict(coverage.currencies["USD"].by_owner) == {"Alpha": Decimal("6")}


def test_owner_tag_wins_over_mapping():
    mappings = [OwnerMapping("platform", {"provider": "aws"})]
    assert attribute(line("1", tags={"team": "claims"}), None, POLICY, mappings).owner == "claims"


def test_reason_classifier_refines_reason():
    def system_profile(spend_line, asset, policy):
        return "system_profile" if "inference-profile/us." in (spend_line.resource_id or "") else None

    spend = line("1", resource_id="arn:aws:bedrock:us-west-2:4:inference-profile/us.anthropic.claude")
    assert attribute(spend, None, POLICY, [], [system_profile]).reason == "system_profile"
    assert attribute(line("1"), None, POLICY, [], [system_profile]).reason == "untagged"


def test_currencies_are_never_summed_together():
    inventory = Inventory(spend_lines=[line("10.10", "USD", {"team": "a"}), line("5.05", "EUR"), line("0.01", "USD")])
    coverage = build_coverage(inventory, POLICY, [], classifiers=())
    assert sorted(coverage.currencies) == ["EUR", "USD"]
    usd = coverage.currencies["USD"]
    eur = coverage.currencies["EUR"]
    assert usd.overall.total == Decimal("10.11")
    assert usd.overall.attributed == Decimal("10.10")
    assert usd.overall.unattributed == Decimal("0.01")
    assert eur.overall.total == Decimal("5.05")
    assert eur.overall.unattributed == Decimal("5.05")


def test_totals_reconcile_exactly_with_many_small_amounts():
    lines = [line("0.00000000729", tags={"team": "a"} if i % 3 else None) for i in range(1000)]
    coverage = build_coverage(Inventory(spend_lines=lines), POLICY, [], classifiers=()).currencies["USD"]
    assert coverage.overall.attributed + coverage.overall.unattributed == coverage.overall.total
    assert coverage.overall.total == Decimal("0.00000729000")
    assert sum(coverage.by_reason.values()) == coverage.overall.unattributed
    assert sum(coverage.by_owner.values()) == coverage.overall.attributed


def test_breakdowns_by_provider_owner_reason_and_model():
    inventory = Inventory(
        spend_lines=[
            line("4.00", tags={"team": "claims"}, model="claude-3-5-sonnet"),
            line("6.00", model="claude-3-5-sonnet"),
            line("3.00", provider="azure", account="/subscriptions/1", tags={"env": "prod"}),
        ]
    )
    usd = build_coverage(inventory, POLICY, [], classifiers=()).currencies["USD"]
    assert usd.by_owner == {"claims": Decimal("4.00")}
    assert usd.by_reason == {"untagged": Decimal("6.00"), "no_owner_tag": Decimal("3.00")}
    assert usd.by_provider["aws"].attributed == Decimal("4.00")
    assert usd.by_provider["aws"].unattributed == Decimal("6.00")
    assert usd.by_provider["azure"].total == Decimal("3.00")
    assert usd.by_model["claude-3-5-sonnet"].total == Decimal("10.00")
    assert usd.by_model["(not stated)"].total == Decimal("3.00")
    largest = usd.largest_unattributed()
    assert [(s.provider, s.amount, s.reason) for s in largest] == [
        ("aws", Decimal("6.00"), "untagged"),
        ("azure", Decimal("3.00"), "no_owner_tag"),
    ]
    assert usd.attributed_share == 4 / 13


def test_negative_total_has_no_share():
    usd = build_coverage(Inventory(spend_lines=[line("-0.15")]), POLICY, [], classifiers=()).currencies["USD"]
    assert usd.overall.total == Decimal("-0.15")
    assert usd.attributed_share is None


def test_graph_joins_spend_to_asset_owner_and_reason():
    profile = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc"
    asset = Asset("aws.bedrock.application_profile", profile, "aws", "111122223333")
    tagged = line("2", tags={"team": "claims"}, resource_id=profile.upper())
    untagged = line("1")
    coverage = build_coverage(Inventory(assets=[asset], spend_lines=[tagged, untagged]), POLICY, [], classifiers=())
    graph = coverage.graph
    assert graph.has_edge(("spend", tagged.key), ("asset", profile))
    assert graph.edges[("spend", tagged.key), ("owner", "claims")]["relation"] == "tag:team"
    assert graph.has_edge(("spend", untagged.key), ("reason", "untagged"))


def test_line_without_resource_joins_its_account_asset():
    project = Asset(
        "gcp.project",
        "//cloudresourcemanager.googleapis.com/projects/412345678901",
        "gcp",
        "organizations/730012458832",
        attributes={"billing_account": "larkspur-search-prod", "owner": "search", "owner_via": "label:team"},
    )
    spend = line("5.00", provider="gcp", account="larkspur-search-prod")
    other_project = line("1.00", provider="gcp", account="larkspur-data-sandbox")
    coverage = build_coverage(Inventory(assets=[project], spend_lines=[spend, other_project]), POLICY, [], classifiers=())
    attributions = [attribution for _, attribution in coverage.attributions]
    assert attributions[0].owner == "search"
    assert attributions[0].via == "asset:gcp.project:label:team"
    assert attributions[1].owner is None
    assert coverage.graph.has_edge(("spend", spend.key), ("asset", project.id))


def test_resource_match_wins_over_account_match():
    account_asset = Asset("gcp.project", "p1", "gcp", "org", attributes={"billing_account": "acct", "owner": "platform"})
    resource_asset = Asset("gcp.vertex.endpoint", "endpoint-9", "gcp", "org", attributes={"owner": "search"})
    spend = line("2.00", provider="gcp", account="acct", resource_id="endpoint-9")
    coverage = build_coverage(Inventory(assets=[account_asset, resource_asset], spend_lines=[spend]), POLICY, [], classifiers=())
    assert coverage.attributions[0][1].owner == "search"


def test_period_spans_all_lines_of_currency():
    early = line("1.00")
    late = line("2.00")
    late.period_start = datetime(2026, 11, 29, tzinfo=timezone.utc)
    late.period_end = datetime(2026, 12, 1, tzinfo=timezone.utc)
    usd = build_coverage(Inventory(spend_lines=[late, early]), POLICY, [], classifiers=()).currencies["USD"]
    assert usd.period_start == DAY
    assert usd.period_end == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert usd.to_dict()["period"] == {"start": "2026-11-03T00:00:00+00:00", "end": "2026-12-01T00:00:00+00:00"}


# Spend by source family


@pytest.mark.parametrize(
    ("collector_name", "family"),
    [
        ("aws.invocation_logs", "aws"),
        ("billing.focus", "billing"),
        ("azure.costs", "azure"),
        ("expense", "expense"),
    ],
)
def test_source_family_is_name_before_first_dot(collector_name, family):
    assert source_family(collector_name) == family


def test_breakdown_by_source_family():
    # The same OpenAI model bought through the API and on a card stays under two families.
    lines = [
        line("40.00", provider="openai", tags={"team": "search"}, model="gpt-4o"),
        line("10.00", provider="openai", model="gpt-4o"),
        line("12.50", provider="openai", tags={"team": "support"}),
        line("7.50", provider="openai"),
        line("30.00", tags={"team": "claims"}),
        line("20.00", currency="EUR"),
    ]
    families = ["openai", "openai", "expense", "expense", "billing", "billing"]

    coverage = build_coverage(Inventory(spend_lines=lines), POLICY, [], classifiers=(), source_families=families)

    usd = coverage.currencies["USD"]
    assert sorted(usd.by_source) == ["billing", "expense", "openai"]
    assert usd.by_source["openai"].to_dict() == {"total": "50.00", "attributed": "40.00", "unattributed": "10.00", "line_count": 2}
    assert usd.by_source["expense"].to_dict() == {"total": "20.00", "attributed": "12.50", "unattributed": "7.50", "line_count": 2}
    assert usd.by_source["billing"].to_dict() == {"total": "30.00", "attributed": "30.00", "unattributed": "0", "line_count": 1}
    assert usd.by_provider["openai"].total == Decimal("70.00")
    assert sum(breakdown.total for breakdown in usd.by_source.values()) == usd.overall.total
    assert sum(breakdown.attributed for breakdown in usd.by_source.values()) == usd.overall.attributed
    assert coverage.currencies["EUR"].by_source["billing"].total == Decimal("20.00")
    assert list(usd.to_dict()["by_source"]) == ["billing", "expense", "openai"]


def test_lines_without_family_are_not_recorded():
    usd = build_coverage(Inventory(spend_lines=[line("3.00"), line("1.00")]), POLICY, [], classifiers=()).currencies["USD"]

    assert list(usd.by_source) == [UNRECORDED_SOURCE]
    assert usd.by_source[UNRECORDED_SOURCE].total == Decimal("4.00")
    assert usd.by_source[UNRECORDED_SOURCE].line_count == 2


def test_source_families_must_match_spend_lines():
    inventory = Inventory(spend_lines=[line("3.00"), line("1.00")])

    with pytest.raises(ValueError) as raised:
        build_coverage(inventory, POLICY, [], classifiers=(), source_families=["billing"])

    assert str(raised.value) == (
        "invalid source_families: 1 given for 2 spend lines; give one family per spend line, in inventory order"
    )


def test_graph_spend_node_names_its_source_family():
    card = line("5.00", provider="openai")

    graph = build_coverage(Inventory(spend_lines=[card]), POLICY, [], classifiers=(), source_families=["expense"]).graph

    assert graph.nodes[("spend", card.key)]["source_family"] == "expense"
