"""Azure Cost Management exports read with DuckDB, PTU charges split by token metrics, and the
reasons Azure AI spend reaches no owner."""

from __future__ import annotations

import gzip
import logging
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from collectors.azure import build_collectors
from collectors.azure.catalogue import load_catalogue
from collectors.azure.cost_export import ExportUnreadable, parse_tags, read_export
from collectors.azure.ptu import split_exactly
from collectors.azure.token_metrics import TokenMetricsSpec, parse_metrics
from collectors.contract import CollectContext
from scanner.config import parse_config
from scanner.coverage import REASONS, build_coverage
from scanner.model import Inventory

DATA = Path(__file__).parent / "data" / "azure"
EA = DATA / "costs" / "ea-amortized-2026-11.csv"
MCA = DATA / "costs" / "mca-actual-2026-11.csv"
REAL_EA_SAMPLE = DATA / "reference" / "azure_ea_cost_export_sample_anonymous.csv"
METRICS = DATA / "metrics" / "shared-aoai-2026-11.json"
S1 = "11111111-2222-4333-8444-555555555555"
S3 = "33333333-4444-4555-8666-777777777777"
SHARED = f"/subscriptions/{S3}/resourcegroups/platform/providers/microsoft.cognitiveservices/accounts/shared-aoai"
FOUNDRY = f"/subscriptions/{S1}/resourcegroups/rg-foundry/providers/microsoft.cognitiveservices/accounts/foundry-hub"
LOG = logging.getLogger("test.azure.costs")
RULES = load_catalogue().cost_export


def _lines_by_unit(path: Path, resource_id: str) -> dict[str, Decimal]:
    read = read_export(path, RULES)
    found: dict[str, Decimal] = {}
    for line in read.lines:
        if line.resource_id == resource_id:
            found[f"{line.period_start.date()} {line.unit}"] = found.get(f"{line.period_start.date()} {line.unit}", Decimal(0)) + line.amount
    return found


def test_real_ea_sample_has_no_ai_spend():
    read = read_export(REAL_EA_SAMPLE, RULES)

    assert read.lines == []
    assert read.ai_rows == 0
    assert read.skipped_row_count == 0


def test_ea_export_counts_only_ai_rows():
    read = read_export(EA, RULES)

    assert read.ai_rows == 9
    assert sum(line.amount for line in read.lines) == Decimal("625.18")


def test_token_direction_comes_from_the_meter_name():
    by_unit = _lines_by_unit(EA, SHARED)

    assert by_unit["2026-11-03 input tokens"] == Decimal("12.5")
    assert by_unit["2026-11-03 output tokens"] == Decimal("20")
    assert by_unit["2026-11-03 cached input tokens"] == Decimal("1.25")


def test_ptu_charges_apart_from_tokens():
    by_unit = _lines_by_unit(EA, SHARED)

    assert by_unit["2026-11-03 PTU hours"] == Decimal("240")
    assert by_unit["2026-11-04 PTU hours"] == Decimal("240")
    assert by_unit["2026-11-03 PTU reservation"] == Decimal("100")


def test_every_ai_service_name_counts():
    read = read_export(EA, RULES)

    services = sorted({line.service for line in read.lines})
    assert services == ["Azure OpenAI"]
    assert {line.resource_id for line in read.lines if line.resource_id} == {
        SHARED,
        FOUNDRY,
        f"/subscriptions/{S1}/resourcegroups/rg-chat/providers/microsoft.cognitiveservices/accounts/chat-aoai",
    }


def test_model_is_read_from_the_meter_name():
    read = read_export(EA, RULES)

    models = {line.model for line in read.lines if line.resource_id == FOUNDRY}
    assert models == {"gpt-4.1", "text-embedding-3-large"}


def test_unreadable_cost_is_skipped_row():
    read = read_export(EA, RULES)

    assert read.skipped_row_count == 1
    assert read.skipped_rows[0].row == 11
    assert read.skipped_rows[0].reason == "cost 'n/a' is not a number"


def test_ea_tags_without_braces_are_parsed():
    tags, parsed = parse_tags('"team": "chat","cost-center": "cc-100"')

    assert parsed is True
    assert tags.values == {"team": "chat", "cost-center": "cc-100"}


def test_mca_actual_export_is_read():
    read = read_export(MCA, RULES)

    purchase = next(line for line in read.lines if line.charge_category == "Purchase")
    assert len(read.lines) == 2
    assert purchase.amount == Decimal("1840")
    assert purchase.currency == "USD"
    assert purchase.unit == "PTU reservation"
    assert purchase.resource_id is None
    assert purchase.account == f"/subscriptions/{S3}"


def test_parquet_and_gzip_exports_give_the_same_lines(tmp_path):
    parquet = tmp_path / "ea.parquet"
    gzipped = tmp_path / "ea.csv.gz"
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{EA}', all_varchar = true)) TO '{parquet}' (FORMAT PARQUET)")
    with EA.open("rb") as source, gzip.open(gzipped, "wb") as target:
        shutil.copyfileobj(source, target)

    def summary(path):
        return sorted((str(l.period_start.date()), l.resource_id or "", l.unit, str(l.amount)) for l in read_export(path, RULES).lines)

    assert summary(parquet) == summary(EA)
    assert summary(gzipped) == summary(EA)


def test_export_without_cost_columns_is_unreadable(tmp_path):
    bad = tmp_path / "not-azure.csv"
    bad.write_text("Date,MeterName,Amount\n11/3/2026,gpt-4o Inp,1.00\n")

    with pytest.raises(ExportUnreadable) as raised:
        read_export(bad, RULES)

    assert str(raised.value) == (
        f"{bad}: not an Azure cost details export, columns missing (cost: one of CostInBillingCurrency, Cost, PreTaxCost; "
        "currency: one of BillingCurrencyCode, BillingCurrency, Currency; meter_category: one of MeterCategory)"
    )


def test_metrics_sum_prompt_and_completion_tokens_by_caller():
    spec = TokenMetricsSpec(account_id=SHARED, caller_dimension="x-app")
    import json

    usage = parse_metrics(json.loads(METRICS.read_text()), spec)

    assert usage.callers("ptu", datetime(2026, 11, 3).date()) == {
        "support-bot": Decimal("750000.0"),
        "research-agent": Decimal("200000.0"),
        "": Decimal("50000.0"),
    }


def test_split_exactly_keeps_every_digit():
    parts = split_exactly(Decimal("100"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})

    assert sum(parts.values()) == Decimal("100")
    assert parts == {"a": Decimal("33.3333333334"), "b": Decimal("33.3333333333"), "c": Decimal("33.3333333333")}


def test_split_exactly_splits_a_credit():
    parts = split_exactly(Decimal("-10"), {"a": Decimal(2), "b": Decimal(1)})

    assert sum(parts.values()) == Decimal("-10")
    assert parts == {"a": Decimal("-6.6666666667"), "b": Decimal("-3.3333333333")}


def _config(tmp_path: Path, inheritance: bool = False, metrics: bool = True):
    metrics_block = f"""
    token_metrics:
      - account: /subscriptions/{S3}/resourceGroups/platform/providers/Microsoft.CognitiveServices/accounts/shared-aoai
        file: {METRICS}
        caller_dimension: x-app
        callers: {{support-bot: support, research-agent: research}}
""" if metrics else ""
    text = f"""
version: 1
policy:
  owner_tags: [team]
sources:
  azure:
    snapshot: {DATA / 'snapshot'}
    resource_group_tag_inheritance: {str(inheritance).lower()}
    cost_exports:
      - path: {EA}
      - path: {MCA}
        cost: actual
{metrics_block}
"""
    return parse_config(text, tmp_path / "audit.yaml")


def _run(config):
    inventory = Inventory()
    for collector in build_collectors(config):
        inventory.add(collector.collect(CollectContext(logger=LOG)))
    return inventory, build_coverage(inventory, config.policy, config.owners)


def _owners(coverage, currency="EUR"):
    return {owner: amount for owner, amount in coverage.currencies[currency].by_owner.items()}


def test_ptu_charges_split_by_token_share(tmp_path):
    _, coverage = _run(_config(tmp_path))

    owners = _owners(coverage)
    # 240 EUR hourly and 100 EUR reservation on 3 November: support 75 %, research 20 %, 5 % unnamed.
    assert owners["support"] == Decimal("255")
    assert owners["research"] == Decimal("68")


def test_ptu_without_caller_stays_unallocated(tmp_path):
    _, coverage = _run(_config(tmp_path))

    reasons = coverage.currencies["EUR"].by_reason
    # 12 + 5 EUR of unnamed tokens on 3 November, and all 240 EUR of 4 November.
    assert reasons["ptu_unallocated"] == Decimal("257")


def test_ptu_split_states_its_method(tmp_path):
    inventory, _ = _run(_config(tmp_path))

    costs = next(outcome for outcome in inventory.outcomes if outcome.collector == "azure.costs")
    share = next(asset for asset in inventory.assets if asset.kind == "azure.openai.ptu_share" and asset.attributes["owner"] == "support")
    assert costs.notes[-1] == (
        "PTU charges split by PTU capacity across the account's provisioned deployments, then by each caller's share of the "
        "deployment's prompt plus completion tokens on the same days: 323 EUR allocated to callers, 257 EUR left unallocated."
    )
    assert share.attributes["owner_via"] == "token_share:x-app"
    assert share.id == f"{SHARED}/deployments/ptu#caller=support"


def test_ptu_without_metrics_is_unallocated(tmp_path):
    _, coverage = _run(_config(tmp_path, metrics=False))

    assert coverage.currencies["EUR"].by_reason["ptu_unallocated"] == Decimal("580")


def test_totals_reconcile_after_the_split(tmp_path):
    _, with_split = _run(_config(tmp_path))
    _, without_split = _run(_config(tmp_path, metrics=False))

    assert with_split.currencies["EUR"].overall.total == without_split.currencies["EUR"].overall.total
    assert with_split.currencies["EUR"].overall.total == Decimal("625.18")


def test_shared_account_is_shared_deployment(tmp_path):
    _, coverage = _run(_config(tmp_path))

    assert coverage.currencies["EUR"].by_reason["shared_deployment"] == Decimal("33.75")
    assert REASONS["shared_deployment"].startswith("Several deployments on one Azure OpenAI account")


def test_resource_group_owner_needs_tag_inheritance(tmp_path):
    _, without = _run(_config(tmp_path, inheritance=False))
    _, with_inheritance = _run(_config(tmp_path, inheritance=True))

    assert without.currencies["EUR"].by_reason["resource_group_tag_not_inherited"] == Decimal("8.13")
    assert _owners(without)["research"] == Decimal("68")
    assert _owners(with_inheritance)["research"] == Decimal("76.13")


def test_reservation_purchase_is_ptu_unallocated(tmp_path):
    _, coverage = _run(_config(tmp_path))

    assert coverage.currencies["USD"].by_reason == {"ptu_unallocated": Decimal("1840")}
    assert coverage.currencies["USD"].by_owner == {"chat": Decimal("11")}


def test_missing_export_path_is_a_scope_not_seen(tmp_path):
    config = parse_config(
        f"version: 1\nsources:\n  azure:\n    cost_exports:\n      - path: {tmp_path}/nothing-*.csv\n      - path: {EA}\n",
        tmp_path / "audit.yaml",
    )

    inventory, _ = _run(config)
    outcome = inventory.outcomes[0]
    outcome.settle()

    assert [gap.scope for gap in outcome.scopes_not_seen] == [f"{tmp_path}/nothing-*.csv"]
    assert outcome.status.value == "partial"
    assert len(inventory.spend_lines) == 9


def test_costs_without_inventory_keep_ptu_whole(tmp_path):
    config = parse_config(
        f"""version: 1
sources:
  azure:
    cost_exports: [{{path: {EA}}}]
    token_metrics:
      - account: {SHARED}
        file: {METRICS}
        caller_dimension: x-app
""",
        tmp_path / "audit.yaml",
    )

    inventory, _ = _run(config)

    assert inventory.outcomes[0].notes == [
        "PTU charges are not split: sources.azure has no snapshot or live section to list provisioned deployments."
    ]
    assert sum(1 for line in inventory.spend_lines if line.unit == "PTU hours") == 2


def test_unreadable_metrics_file_is_a_scope_not_seen(tmp_path):
    broken = tmp_path / "metrics.json"
    broken.write_text("{not json")
    config = _config(tmp_path)
    config.sources["azure"]["token_metrics"][0]["file"] = str(broken)

    inventory, coverage = _run(config)
    costs = next(outcome for outcome in inventory.outcomes if outcome.collector == "azure.costs")

    assert [gap.scope for gap in costs.scopes_not_seen] == [f"{broken} token metrics"]
    assert coverage.currencies["EUR"].by_reason["ptu_unallocated"] == Decimal("580")


def test_token_metrics_from_snapshot(tmp_path):
    config = _config(tmp_path)
    del config.sources["azure"]["token_metrics"][0]["file"]

    _, coverage = _run(config)

    assert _owners(coverage)["support"] == Decimal("255")
    assert coverage.currencies["EUR"].by_reason["ptu_unallocated"] == Decimal("257")


def test_invalid_snapshot_metrics_file_is_named(tmp_path):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(DATA / "snapshot", snapshot)
    metrics = next((snapshot / "metrics").rglob("*.json"))
    metrics.write_text("{not json")
    config = _config(tmp_path)
    del config.sources["azure"]["token_metrics"][0]["file"]
    config.sources["azure"]["snapshot"] = str(snapshot)

    inventory, _ = _run(config)
    costs = next(outcome for outcome in inventory.outcomes if outcome.collector == "azure.costs")

    assert [gap.reason for gap in costs.scopes_not_seen] == [
        f"cannot read token metrics: {metrics} is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2); "
        "PTU charges of this account stay unallocated"
    ]


def test_malformed_csv_rows_are_skipped_by_line(tmp_path):
    export = tmp_path / "broken.csv"
    export.write_text(
        "MeterCategory,MeterName,CostInBillingCurrency,BillingCurrencyCode,Date\n"
        "Cognitive Services,gpt-4o-0513-Inp-glbl Tokens,1.5,EUR,11/3/2026\n"
        "Cognitive Services,gpt-4o-0513-Inp-glbl Tokens,2,EUR\n"
        "Cognitive Services,gpt-4o-0513-Outp-glbl Tokens,2.5,EUR,11/3/2026,extra\n"
        "Cognitive Services,gpt-4o-0513-Outp-glbl Tokens,oops,EUR,11/4/2026\n"
        "Cognitive Services,gpt-4o-0513-Outp-glbl Tokens,3.5,EUR,11/4/2026\n"
    )

    read = read_export(export, RULES)

    assert [(row.row, row.reason) for row in read.skipped_rows] == [
        (3, "malformed CSV row: Expected Number of Columns: 5 Found: 4"),
        (4, "malformed CSV row: Expected Number of Columns: 5 Found: 6"),
        (5, "cost 'oops' is not a number"),
    ]
    assert read.skipped_row_count == 3
    assert [(line.amount, line.source.row) for line in read.lines] == [(Decimal("1.5"), 2), (Decimal("3.5"), 6)]
