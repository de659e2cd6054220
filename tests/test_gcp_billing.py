"""The Cloud Billing export read from files with DuckDB: newline-delimited JSON as `bq extract`
writes it, Parquet, and flattened CSV; credits, SKU variants, partner models and project labels."""

from __future__ import annotations

import gzip
import logging
import shutil
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from collectors.contract import CollectContext
from collectors.gcp.billing_collector import BillingCollector
from collectors.gcp.catalogue import load_catalogue
from collectors.gcp.settings import BillingSettings, GcpSettings

DATA = Path(__file__).parent / "data" / "gcp"
EXPORT = DATA / "billing-export-2026-11.jsonl"
SEARCH_PROJECT = "//cloudresourcemanager.googleapis.com/projects/418203117561"


def collect(files: tuple[str, ...], cost: str = "net", start: date | None = None, end: date | None = None):
    settings = GcpSettings(billing=BillingSettings(files=files, cost=cost, start=start, end=end), owner_labels=("team", "owner"))
    result = BillingCollector(settings).collect(CollectContext(logger=logging.getLogger("test.gcp")))
    result.outcome.settle()
    return result


def line_for(result, account: str, model: str, day: int = 3):
    matches = [
        line
        for line in result.spend_lines
        if line.account == account and line.model == model and line.period_start.day == day
    ]
    assert len(matches) == 1, [(line.account, line.model) for line in result.spend_lines]
    return matches[0]


def test_json_export_lines_per_model():
    result = collect((str(EXPORT),))

    assert sorted((line.period_start.date().isoformat(), line.account, line.model) for line in result.spend_lines) == [
        ("2026-11-03", "larkspur-claims-ml", "Gemini 2.5 Flash"),
        ("2026-11-03", "larkspur-search-prod", "Claude 3.5 Sonnet"),
        ("2026-11-03", "larkspur-search-prod", "Gemini 2.5 Pro"),
        ("2026-11-03", "larkspur-search-prod", "Gemini 2.5 Pro (batch)"),
        ("2026-11-03", "larkspur-search-prod", "Gemini 2.5 Pro (long context)"),
        ("2026-11-04", "larkspur-data-sandbox", "Gemini 2.0 Flash-Lite"),
        ("2026-11-09", "larkspur-search-prod", "Gemini 2.5 Pro"),
    ]


def test_input_and_output_skus_sum_exactly():
    line = line_for(collect((str(EXPORT),)), "larkspur-search-prod", "Gemini 2.5 Pro")

    assert line.amount == Decimal("0.3")
    assert line.quantity == Decimal("100000")
    assert line.unit == "count"
    assert line.source.row_count == 2


def test_line_fields_follow_the_export():
    line = line_for(collect((str(EXPORT),)), "larkspur-search-prod", "Gemini 2.5 Pro")

    assert line.provider == "gcp"
    assert line.service == "Vertex AI"
    assert line.currency == "USD"
    assert line.region == "europe-west4"
    assert line.resource_id == SEARCH_PROJECT
    assert line.period_start == datetime(2026, 11, 3, tzinfo=timezone.utc)
    assert line.period_end == datetime(2026, 11, 4, tzinfo=timezone.utc)
    assert line.charge_category == "Usage"
    assert line.tags.values == {"cost-center": "cc-3100", "team": "search"}


def test_batch_and_long_context_kept_apart():
    result = collect((str(EXPORT),))

    assert line_for(result, "larkspur-search-prod", "Gemini 2.5 Pro (batch)").amount == Decimal("0.05")
    assert line_for(result, "larkspur-search-prod", "Gemini 2.5 Pro (long context)").amount == Decimal("0.5")


def test_credits_applied_in_net_mode():
    line = line_for(collect((str(EXPORT),)), "larkspur-claims-ml", "Gemini 2.5 Flash")

    assert line.amount == Decimal("0.03")


def test_gross_mode_ignores_credits():
    result = collect((str(EXPORT),), cost="gross")

    assert line_for(result, "larkspur-claims-ml", "Gemini 2.5 Flash").amount == Decimal("0.10")
    assert result.outcome.notes[0] == "Amounts are gross: cost before credits."


def test_net_mode_is_stated_in_notes():
    assert collect((str(EXPORT),)).outcome.notes[0] == "Amounts are net of credits: cost plus every credit amount."


def test_project_label_names_owner_of_unlabelled_row():
    line = line_for(collect((str(EXPORT),)), "larkspur-claims-ml", "Gemini 2.5 Flash")

    assert line.tags.values == {"team": "claims"}
    assert line.tags.original_keys == {"team": "project.labels.team"}


def test_row_owner_label_wins_over_project_label(tmp_path):
    export = tmp_path / "export.jsonl"
    text = EXPORT.read_text().replace('"labels": [{"key": "env", "value": "prod"}]', '"labels": [{"key": "team", "value": "platform"}]')
    export.write_text(text)

    line = line_for(collect((str(export),)), "larkspur-search-prod", "Gemini 2.5 Pro")

    assert line.tags.values["team"] == "search"
    assert line.tags.original_keys["team"] == "team"


def test_partner_model_keeps_its_service():
    line = line_for(collect((str(EXPORT),)), "larkspur-search-prod", "Claude 3.5 Sonnet")

    assert line.service == "Claude 3.5 Sonnet"
    assert line.amount == Decimal("1.25")
    assert line.region == "us-east5"
    assert line.tags.values == {}


def test_non_ai_services_left_out():
    assert all(line.service != "BigQuery" for line in collect((str(EXPORT),)).spend_lines)


def test_invalid_usage_time_counted_as_skipped():
    result = collect((str(EXPORT),))

    assert result.outcome.skipped_row_count == 1
    assert result.outcome.status.value == "partial"
    assert "1 AI rows left out" in result.outcome.notes[1]


def test_date_range_filters_usage_days():
    result = collect((str(EXPORT),), start=date(2026, 11, 4), end=date(2026, 11, 9))

    assert [line.account for line in result.spend_lines] == ["larkspur-data-sandbox"]


def test_gzip_json_export(tmp_path):
    compressed = tmp_path / "export.jsonl.gz"
    with EXPORT.open("rb") as source, gzip.open(compressed, "wb") as target:
        shutil.copyfileobj(source, target)

    assert len(collect((str(compressed),)).spend_lines) == 7


def test_parquet_export_matches_json(tmp_path):
    parquet = tmp_path / "export.parquet"
    connection = duckdb.connect()
    # Parquet from BigQuery carries FLOAT64 cost and nested records, as DuckDB writes them here.
    connection.execute(
        f"COPY (SELECT * FROM read_json('{EXPORT}', format = 'newline_delimited') WHERE usage_start_time <> 'not a time') "
        f"TO '{parquet}' (FORMAT parquet)"
    )

    from_json = {(line.account, line.model, line.period_start): line.amount for line in collect((str(EXPORT),)).spend_lines}
    from_parquet = {(line.account, line.model, line.period_start): line.amount for line in collect((str(parquet),)).spend_lines}

    assert from_parquet == from_json


def test_flattened_csv_export(tmp_path):
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(
        "usage_start_time,project.id,project.number,project.labels,service.description,sku.description,location.region,labels,cost,currency,usage.amount,usage.unit,credits\n"
        '2026-11-03 08:00:00 UTC,larkspur-claims-ml,771200334455,"[{""key"":""team"",""value"":""claims""}]",Vertex AI,Gemini 2.5 Flash Input Text,europe-west4,[],0.10,USD,1000,count,"[{""name"":""trial"",""amount"":-0.04,""type"":""PROMOTION""}]"\n'
        "2026-11-03 09:00:00 UTC,larkspur-claims-ml,771200334455,[],BigQuery,Analysis,europe-west4,[],3.00,USD,1,tebibyte,[]\n"
    )

    result = collect((str(csv_file),))

    assert len(result.spend_lines) == 1
    assert result.spend_lines[0].amount == Decimal("0.06")
    assert result.spend_lines[0].tags.values == {"team": "claims"}
    assert result.spend_lines[0].model == "Gemini 2.5 Flash"


def test_csv_without_cost_column_is_not_seen(tmp_path):
    csv_file = tmp_path / "export.csv"
    csv_file.write_text("usage_start_time,service.description,currency\n2026-11-03 08:00:00 UTC,Vertex AI,USD\n")

    result = collect((str(csv_file),))

    assert result.outcome.status.value == "failed"
    assert result.outcome.scopes_not_seen[0].reason.startswith(f"{csv_file}: the CSV has no cost column")


def test_missing_file_does_not_stop_others(tmp_path):
    result = collect((str(tmp_path / "absent.jsonl"), str(EXPORT)))

    assert result.outcome.scopes_seen == [str(EXPORT)]
    assert result.outcome.scopes_not_seen[0].reason == f"{tmp_path / 'absent.jsonl'}: no file found; check sources.gcp.billing.files"
    assert len(result.spend_lines) == 7


def test_unknown_extension_is_not_seen(tmp_path):
    other = tmp_path / "export.xlsx"
    other.write_text("x")

    result = collect((str(other),))

    assert "unknown billing export format" in result.outcome.scopes_not_seen[0].reason


def test_glob_reads_every_match(tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        shutil.copy(EXPORT, tmp_path / name)

    line = line_for(collect((str(tmp_path / "*.jsonl"),)), "larkspur-search-prod", "Gemini 2.5 Pro")

    assert line.amount == Decimal("0.6")
    assert line.source.row_count == 4


def test_unrelated_json_not_seen(tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": "world"}\n')

    result = collect((str(other),))

    assert result.spend_lines == []
    assert result.outcome.status.value == "failed"
    assert result.outcome.scopes_not_seen[0].reason == f"{other}: no row has service.description; is it a Cloud Billing usage cost export?"


@pytest.mark.parametrize(
    ("service", "sku", "model"),
    [
        ("Vertex AI", "Gemini 2.5 Flash Lite Input Text", "Gemini 2.5 Flash Lite"),
        ("Vertex AI", "Gemini 2.0 Flash-Lite Output Text", "Gemini 2.0 Flash-Lite"),
        ("Vertex AI", "Gemini 1.5 Pro Input Text Long", "Gemini 1.5 Pro (long context)"),
        ("Vertex AI", "Gemini 2.5 Flash Batch Output Text", "Gemini 2.5 Flash (batch)"),
        ("Vertex AI", "Vertex AI Online Prediction n1-standard-4", None),
        ("Vertex AI", "Custom batch prediction hours", "Custom batch prediction hours (batch)"),
        ("Vertex AI", "Online/Batch Prediction: Custom model n1-standard-4 node hours", None),
        ("Claude 3.5 Sonnet", "Claude 3.5 Sonnet Input Tokens", "Claude 3.5 Sonnet"),
        ("Llama 3.1 405B", "Llama 3.1 405B Batch Input Tokens", "Llama 3.1 405B (batch)"),
    ],
)
def test_model_of_sku(service, sku, model):
    assert load_catalogue().model_of(service, sku) == model


def test_partner_publishers_from_catalogue():
    catalogue = load_catalogue()

    assert catalogue.partner_model("Claude 3.5 Sonnet").publisher == "Anthropic"
    assert catalogue.partner_model("Mistral Large (24.11)").publisher == "Mistral AI"
    assert catalogue.partner_model("Vertex AI") is None


SYSTEM_EXPORT = DATA / "billing-export-system-labels.jsonl"
PREDICTION = "Vertex AI Online Prediction n1-standard-4"


def prediction_line(result, account: str):
    matches = [line for line in result.spend_lines if line.account == account and line.model is None]
    assert len(matches) == 1, [(line.account, line.model) for line in result.spend_lines]
    return matches[0]


def test_system_labels_shared_by_every_row_become_system_tags():
    line = prediction_line(collect((str(SYSTEM_EXPORT),)), "larkspur-search-prod")

    assert line.tags.values == {
        "system:compute-googleapis-com-cores": "4",
        "system:compute-googleapis-com-machine-spec": "n1-standard-4",
        "system:compute-googleapis-com-memory": "15360",
    }
    assert line.tags.original_keys["system:compute-googleapis-com-machine-spec"] == "system:compute.googleapis.com/machine_spec"
    assert line.tags.get("system:compute.googleapis.com/machine_spec") == "n1-standard-4"


def test_system_labels_do_not_split_a_line():
    line = prediction_line(collect((str(SYSTEM_EXPORT),)), "larkspur-search-prod")

    assert line.amount == Decimal("0.38")
    assert line.source.row_count == 2
    assert line.quantity == Decimal("7200")


def test_system_labels_sit_beside_team_labels():
    line = prediction_line(collect((str(SYSTEM_EXPORT),)), "larkspur-claims-ml")

    assert line.tags.values == {
        "team": "claims",
        "system:compute-googleapis-com-cores": "8",
        "system:compute-googleapis-com-machine-spec": "n1-highmem-8",
        "system:compute-googleapis-com-memory": "53248",
    }


def test_row_without_system_labels_gets_none():
    line = line_for(collect((str(SYSTEM_EXPORT),)), "larkspur-search-prod", "Gemini 2.5 Pro", day=5)

    assert line.tags.values == {"team": "search"}


def test_system_label_named_as_owner_tag_is_left_out():
    settings = GcpSettings(
        billing=BillingSettings(files=(str(SYSTEM_EXPORT),)),
        owner_labels=("team", "system:compute-googleapis-com-machine-spec"),
    )
    result = BillingCollector(settings).collect(CollectContext(logger=logging.getLogger("test.gcp")))

    line = prediction_line(result, "larkspur-search-prod")

    assert "system:compute-googleapis-com-machine-spec" not in line.tags.values
    assert line.tags.values["system:compute-googleapis-com-cores"] == "4"


def test_line_with_only_system_labels_ends_at_its_own_reason():
    from collectors.gcp import attribution  # noqa: F401  (registers the GCP reasons)
    from scanner.config import Policy
    from scanner.coverage import REASON_CLASSIFIERS, REASONS, attribute

    line = prediction_line(collect((str(SYSTEM_EXPORT),)), "larkspur-search-prod")

    result = attribute(line, None, Policy(owner_tags=("team", "owner")), [], REASON_CLASSIFIERS)

    assert result.owner is None
    assert result.reason == "system_labels_only"
    assert REASONS["system_labels_only"].startswith("The spend carries only system labels")


def test_team_label_beside_system_labels_names_the_owner():
    from collectors.gcp import attribution  # noqa: F401
    from scanner.config import Policy
    from scanner.coverage import REASON_CLASSIFIERS, attribute

    line = prediction_line(collect((str(SYSTEM_EXPORT),)), "larkspur-claims-ml")

    result = attribute(line, None, Policy(owner_tags=("team", "owner")), [], REASON_CLASSIFIERS)

    assert result.owner == "claims"
    assert result.via == "tag:team"


def test_parquet_system_labels_match_json(tmp_path):
    parquet = tmp_path / "export.parquet"
    connection = duckdb.connect()
    connection.execute(f"COPY (SELECT * FROM read_json('{SYSTEM_EXPORT}', format = 'newline_delimited')) TO '{parquet}' (FORMAT parquet)")

    def tags(path):
        return {(line.account, line.model): line.tags.to_dict() for line in collect((str(path),)).spend_lines}

    from_parquet = tags(parquet)

    assert from_parquet == tags(SYSTEM_EXPORT)
    assert from_parquet[("larkspur-search-prod", None)]["values"]["system:compute-googleapis-com-machine-spec"] == "n1-standard-4"


def test_flattened_csv_reads_system_labels(tmp_path):
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(
        "usage_start_time,project.id,project.number,service.description,sku.description,location.region,labels,system_labels,cost,currency,usage.amount,usage.unit\n"
        f'2026-11-05 08:00:00 UTC,larkspur-search-prod,418203117561,Vertex AI,{PREDICTION},us-central1,[],"[{{""key"":""compute.googleapis.com/machine_spec"",""value"":""n1-standard-4""}}]",0.19,USD,3600,seconds\n'
    )

    line = collect((str(csv_file),)).spend_lines[0]

    assert line.tags.values == {"system:compute-googleapis-com-machine-spec": "n1-standard-4"}
