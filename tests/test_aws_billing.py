"""Bedrock spend from CUR exports, the coverage reasons for Bedrock spend, and invocation log
files."""

from __future__ import annotations

import csv
import gzip
import json
import logging
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from collectors.aws import build_collectors, kinds
from collectors.aws.cur import CurCollector, parse_usage_type
from collectors.aws.exports import InvocationLogFilesCollector
from collectors.aws.settings import CurExport
from collectors.contract import CollectContext
from scanner.config import Policy, parse_config
from scanner.coverage import REASONS, attribute, registered_classifiers
from scanner.errors import ConfigError
from scanner.model import Asset, SpendLine, Tags

DATA = Path(__file__).parent / "data" / "aws"
PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/claims7xq2m4k9"
POLICY = Policy(required_tags=("team", "cost-center"), owner_tags=("team", "owner"))
CONTEXT = CollectContext(logger=logging.getLogger("shadowmap.collector.aws.cur"))

LEGACY_HEADER = [
    "identity/LineItemId", "bill/PayerAccountId", "lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate",
    "lineItem/UsageEndDate", "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation", "lineItem/ResourceId",
    "lineItem/UsageAmount", "lineItem/CurrencyCode", "lineItem/UnblendedCost", "product/ProductName", "product/region",
    "pricing/unit", "resourceTags/user:team", "resourceTags/user:CostCenter",
]


def legacy_row(usage_type: str, cost: str, resource: str = "", team: str = "", product: str = "AmazonBedrock",
               name: str = "Amazon Bedrock", day: str = "2026-11-02", kind: str = "Usage", account: str = "111122223333") -> list[str]:
    return [
        "id", "210987654321", account, kind, f"{day}T00:00:00Z", f"{day}T01:00:00Z", product, usage_type, "InvokeModelInference",
        resource, "1000", "USD", cost, name, "us-east-1", "tokens", team, "cc-4100" if team else "",
    ]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def collect_cur(*exports: CurExport):
    result = CurCollector(exports).collect(CONTEXT)
    result.outcome.settle()
    return result


# Usage types


@pytest.mark.parametrize(
    ("usage_type", "region", "model", "unit"),
    [
        ("USE1-Claude3.5Sonnet-input-tokens", "us-east-1", "Claude3.5Sonnet", "input tokens"),
        ("USW2-Claude3.5Sonnet-output-tokens-cross-region", "us-west-2", "Claude3.5Sonnet", "output tokens, cross-region"),
        ("USE1-Claude3Haiku-batch-input-tokens", "us-east-1", "Claude3Haiku", "input tokens, batch"),
        ("EUC1-Claude3.7Sonnet-cache-write-input-token-count", "eu-central-1", "Claude3.7Sonnet", "cache write input tokens"),
        ("USW2-MP:cohere-command-r-plus-input-tokens", "us-west-2", "cohere-command-r-plus", "input tokens"),
        ("EU-TitanEmbeddingsG1-Text-input-tokens", "eu-west-1", "TitanEmbeddingsG1-Text", "input tokens"),
    ],
)
def test_usage_type_is_parsed(usage_type, region, model, unit):
    parsed = parse_usage_type(usage_type)

    assert parsed.region == region
    assert parsed.model == model
    assert parsed.unit == unit


def test_marketplace_usage_type_is_marked():
    assert parse_usage_type("USW2-MP:cohere-command-r-plus-input-tokens").marketplace is True
    assert parse_usage_type("USE1-Claude3Haiku-input-tokens").marketplace is False


# Legacy CUR


def test_real_legacy_cur_has_no_bedrock_spend():
    result = collect_cur(CurExport(str(DATA / "aws_legacy_cur_sample_anonymous.csv")))

    assert result.spend_lines == []
    assert result.outcome.scopes_seen == [str(DATA / "aws_legacy_cur_sample_anonymous.csv")]
    assert result.outcome.status.value == "ok"


def test_legacy_cur_groups_bedrock_rows(tmp_path):
    path = write_csv(tmp_path / "cur.csv", LEGACY_HEADER, [
        legacy_row("USE1-Claude3.5Sonnet-input-tokens", "0.0030000000", PROFILE, "claims"),
        legacy_row("USE1-Claude3.5Sonnet-input-tokens", "0.0045000000", PROFILE, "claims"),
        legacy_row("USE1-Claude3.5Sonnet-output-tokens", "0.0150000000", PROFILE, "claims"),
        legacy_row("USE1-TimedStorage-ByteHrs", "9.99", product="AmazonS3", name="Amazon Simple Storage Service"),
        legacy_row("USE1-Claude3.5Sonnet-input-tokens", "0.40", kind="Tax"),
    ])

    lines = collect_cur(CurExport(str(path))).spend_lines

    assert [(line.unit, line.amount) for line in lines] == [("input tokens", Decimal("0.0075")), ("output tokens", Decimal("0.015"))]
    assert lines[0].resource_id == PROFILE
    assert lines[0].tags.values == {"team": "claims", "cost-center": "cc-4100"}
    assert lines[0].service == "Amazon Bedrock"
    assert lines[0].model == "Claude3.5Sonnet"
    assert lines[0].source.row_count == 2
    assert lines[0].period_start == datetime(2026, 11, 2, tzinfo=timezone.utc)


def test_legacy_cur_keeps_marketplace_model(tmp_path):
    path = write_csv(tmp_path / "cur.csv", LEGACY_HEADER, [
        legacy_row("USW2-MP:cohere-command-r-plus-input-tokens", "1.25", product="b7ehq3xh0dkvxlgmp2kgr5zbd",
                   name="Cohere Command R+ (Amazon Bedrock Edition)", account="444455556666"),
    ])

    lines = collect_cur(CurExport(str(path))).spend_lines

    assert len(lines) == 1
    assert lines[0].service == "Cohere Command R+ (Amazon Bedrock Edition)"
    assert lines[0].resource_id is None
    assert lines[0].model == "cohere-command-r-plus"


def test_unreadable_cost_is_counted_not_fatal(tmp_path):
    path = write_csv(tmp_path / "cur.csv", LEGACY_HEADER, [
        legacy_row("USE1-Claude3Haiku-input-tokens", "n/a"),
        legacy_row("USE1-Claude3Haiku-input-tokens", "0.50"),
    ])

    result = collect_cur(CurExport(str(path)))

    assert [line.amount for line in result.spend_lines] == [Decimal("0.5")]
    assert result.outcome.skipped_row_count == 1
    assert result.outcome.status.value == "partial"


def test_unreadable_cost_row_is_named(tmp_path):
    path = write_csv(tmp_path / "cur.csv", LEGACY_HEADER, [
        legacy_row("USE1-Claude3Haiku-input-tokens", "0.50"),
        legacy_row("USE1-Claude3Haiku-input-tokens", "not-a-number"),
        legacy_row("USE1-Claude3Haiku-output-tokens", "0.25", day="yesterday"),
        legacy_row("USE1-TimedStorage-ByteHrs", "n/a", product="AmazonS3", name="Amazon Simple Storage Service"),
    ])

    result = collect_cur(CurExport(str(path)))

    assert [row.to_dict() for row in result.outcome.skipped_rows] == [
        {"location": str(path), "row": 3, "reason": "lineItem/UnblendedCost value 'not-a-number' is not a number"},
        {"location": str(path), "row": 4, "reason": "lineItem/UsageStartDate value 'yesterdayT00:00:00Z' is not a date and time"},
    ]
    assert result.outcome.skipped_row_count == 2
    assert result.outcome.notes == [f"{path}: 2 Bedrock rows with an unreadable cost or date were left out"]


def test_skipped_rows_named_up_to_100_per_file(tmp_path):
    rows = [legacy_row("USE1-Claude3Haiku-input-tokens", "n/a") for _ in range(105)]
    first = write_csv(tmp_path / "cur-1.csv", LEGACY_HEADER, rows)
    second = write_csv(tmp_path / "cur-2.csv", LEGACY_HEADER, rows[:3])

    result = collect_cur(CurExport(str(tmp_path / "cur-*.csv")))

    named = [(row.location, row.row) for row in result.outcome.skipped_rows]
    assert result.outcome.skipped_row_count == 108
    assert named[:100] == [(str(first), line) for line in range(2, 102)]
    assert named[100:] == [(str(second), 2), (str(second), 3), (str(second), 4)]


def test_cost_keeps_the_digits_of_the_export(tmp_path):
    path = write_csv(tmp_path / "cur.csv", LEGACY_HEADER, [
        legacy_row("USE1-Claude3Haiku-input-tokens", "12.50"),
        legacy_row("USE1-Claude3Haiku-output-tokens", "0.1000000000"),
        legacy_row("USE1-Claude3Haiku-output-tokens", "0.25"),
        legacy_row("USE1-Claude3Haiku-input-tokens", "3", day="2026-11-03"),
        legacy_row("USE1-Claude3Haiku-input-tokens", "1.5E-7", day="2026-11-04"),
        legacy_row("USE1-Claude3Haiku-input-tokens", "0.10", day="2026-11-04"),
    ])

    lines = collect_cur(CurExport(str(path))).spend_lines

    assert [str(line.amount) for line in lines] == ["12.50", "0.3500000000", "3", "0.10000015"]
    assert [str(line.quantity) for line in lines] == ["1000", "2000", "1000", "2000"]


def test_parquet_skipped_row_is_numbered_from_one(tmp_path):
    path = tmp_path / "cur2.parquet"
    connection = duckdb.connect()
    connection.execute("""
        COPY (SELECT * FROM (VALUES ('0.003'), ('broken')) AS costs(line_item_unblended_cost)
              CROSS JOIN (SELECT '111122223333' AS line_item_usage_account_id, 'Usage' AS line_item_line_item_type,
                     '2026-11-02T00:00:00Z' AS line_item_usage_start_date, 'AmazonBedrock' AS line_item_product_code,
                     'USD' AS line_item_currency_code, 'USE1-Claude3.5Sonnet-input-tokens' AS line_item_usage_type))
        TO '""" + str(path) + "' (FORMAT parquet)")

    result = collect_cur(CurExport(str(path)))

    assert [(row.row, row.reason) for row in result.outcome.skipped_rows] == [(2, "line_item_unblended_cost value 'broken' is not a number")]
    assert [str(line.amount) for line in result.spend_lines] == ["0.003"]


def test_missing_column_is_a_gap(tmp_path):
    path = write_csv(tmp_path / "cur.csv", ["lineItem/UsageType", "lineItem/ProductCode"], [["USE1-x-input-tokens", "AmazonBedrock"]])

    result = collect_cur(CurExport(str(path)))

    assert result.outcome.scopes_not_seen[0].reason == (
        "missing column lineItem/UsageAccountId, lineItem/CurrencyCode, lineItem/UsageStartDate, lineItem/UnblendedCost for a legacy export"
    )


def test_unmatched_glob_is_a_gap(tmp_path):
    result = collect_cur(CurExport(str(tmp_path / "nothing" / "*.parquet")))

    assert result.outcome.scopes_not_seen[0].reason == "no file matches the path; check sources.aws.cur"
    assert result.outcome.status.value == "failed"


# CUR 2.0


def cur2_rows() -> list[dict[str, str]]:
    base = {"line_item_usage_account_id": "111122223333", "line_item_line_item_type": "Usage", "line_item_usage_start_date": "2026-11-02T00:00:00Z",
            "line_item_product_code": "AmazonBedrock", "product_product_name": "Amazon Bedrock", "line_item_currency_code": "USD",
            "line_item_usage_amount": "1000", "product_region_code": "us-east-1"}
    return [
        {**base, "line_item_usage_type": "USE1-Claude3.5Sonnet-input-tokens", "line_item_resource_id": PROFILE,
         "line_item_unblended_cost": "0.003", "line_item_net_unblended_cost": "0.0027", "resource_tags": '{"user_team":"claims","user_cost_center":"cc-4100"}'},
        {**base, "line_item_usage_type": "USW2-Claude3.5Sonnet-output-tokens-cross-region", "product_region_code": "us-west-2",
         "line_item_resource_id": "arn:aws:bedrock:us-west-2:444455556666:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
         "line_item_usage_account_id": "444455556666", "line_item_unblended_cost": "0.015", "line_item_net_unblended_cost": "0.015", "resource_tags": "{}"},
    ]


def test_cur2_csv_reads_tag_map(tmp_path):
    rows = cur2_rows()
    path = write_csv(tmp_path / "cur2.csv", list(rows[0]), [list(row.values()) for row in rows])

    lines = collect_cur(CurExport(str(path))).spend_lines

    assert [line.account for line in lines] == ["111122223333", "444455556666"]
    assert lines[0].tags.values == {"team": "claims", "cost-center": "cc-4100"}
    assert lines[1].tags.values == {}
    assert lines[1].region == "us-west-2"
    assert lines[1].unit == "output tokens, cross-region"


def test_cur2_parquet_with_map_column_and_net_cost(tmp_path):
    path = tmp_path / "cur2.parquet"
    connection = duckdb.connect()
    connection.execute("""
        COPY (SELECT '111122223333' AS line_item_usage_account_id, 'Usage' AS line_item_line_item_type,
                     TIMESTAMP '2026-11-02 00:00:00' AS line_item_usage_start_date, 'AmazonBedrock' AS line_item_product_code,
                     'Amazon Bedrock' AS product_product_name, 'USD' AS line_item_currency_code, 1000.0 AS line_item_usage_amount,
                     'USE1-Claude3.5Sonnet-input-tokens' AS line_item_usage_type, ? AS line_item_resource_id,
                     0.003::DOUBLE AS line_item_unblended_cost, 0.0027::DOUBLE AS line_item_net_unblended_cost,
                     MAP {'user_team': 'claims'} AS resource_tags, 'us-east-1' AS product_region_code)
        TO '""" + str(path) + "' (FORMAT parquet)", [PROFILE])

    lines = collect_cur(CurExport(str(path), cost="net_unblended")).spend_lines

    assert [line.amount for line in lines] == [Decimal("0.0027")]
    assert lines[0].tags.values == {"team": "claims"}


def test_cur2_parquet_reads_product_name_from_product_map(tmp_path):
    """CUR 2.0 keeps the product name in the `product` map, not in a column of its own: a
    third-party model sold through AWS Marketplace is found by that name."""
    path = tmp_path / "cur2-marketplace.parquet"
    connection = duckdb.connect()
    connection.execute("""
        COPY (SELECT '444455556666' AS line_item_usage_account_id, 'Usage' AS line_item_line_item_type,
                     TIMESTAMP '2026-11-02 00:00:00' AS line_item_usage_start_date, 'prod-4pmewlybdftbs' AS line_item_product_code,
                     'USD' AS line_item_currency_code, 1000.0 AS line_item_usage_amount,
                     'USW2-MP:cohere-command-r-plus-input-tokens' AS line_item_usage_type, '' AS line_item_resource_id,
                     '12.40' AS line_item_unblended_cost, MAP {'user_env': 'sandbox'} AS resource_tags,
                     MAP {'product_name': 'Cohere Command R+ (Amazon Bedrock Edition)'} AS product,
                     'us-west-2' AS product_region_code)
        TO '""" + str(path) + "' (FORMAT parquet)")

    lines = collect_cur(CurExport(str(path))).spend_lines

    assert [line.service for line in lines] == ["Cohere Command R+ (Amazon Bedrock Edition)"]
    assert [line.amount for line in lines] == [Decimal("12.40")]


def test_cur2_csv_reads_product_name_from_json_product(tmp_path):
    rows = cur2_rows()[:1]
    for row in rows:
        del row["product_product_name"]
        row["line_item_product_code"] = "prod-4pmewlybdftbs"
        row["product"] = '{"product_name": "Cohere Command R+ (Amazon Bedrock Edition)"}'
    path = write_csv(tmp_path / "cur2-marketplace.csv", list(rows[0]), [list(row.values()) for row in rows])

    lines = collect_cur(CurExport(str(path))).spend_lines

    assert [line.service for line in lines] == ["Cohere Command R+ (Amazon Bedrock Edition)"]


# Coverage reasons


def spend(resource_id: str | None, service: str = "Amazon Bedrock", tags: dict[str, str] | None = None) -> SpendLine:
    day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    return SpendLine(Decimal("1.00"), "USD", day, day, "aws", service, account="444455556666", resource_id=resource_id, tags=Tags.from_mapping(tags or {}))


def profile_asset(tags: dict[str, str], statuses: dict[str, str], read: bool = True) -> Asset:
    return Asset(kinds.APPLICATION_PROFILE, PROFILE, "aws", "111122223333", tags=Tags.from_mapping(tags),
                 attributes={"cost_allocation_status": statuses, "cost_allocation_read": read})


@pytest.mark.parametrize(
    ("line", "asset", "reason"),
    [
        (spend("arn:aws:bedrock:us-west-2:444455556666:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"), None, "system_profile"),
        (spend("arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"), None, "foundation_model"),
        (spend(None), None, "bedrock_no_resource"),
        (spend(None, service="Cohere Command R+ (Amazon Bedrock Edition)", tags={"env": "sandbox"}), None, "marketplace_model"),
        (spend(PROFILE), profile_asset({"team": "claims"}, {"team": "Inactive"}), "tag_not_active"),
        (spend(PROFILE), profile_asset({"Owner": "growth"}, {}), "tag_not_active"),
        (spend(PROFILE), profile_asset({"team": "claims"}, {"team": "Active"}), "tag_not_in_billing"),
        (spend(PROFILE), profile_asset({"team": "claims"}, {}, read=False), "tag_activation_unknown"),
        (spend(PROFILE), profile_asset({"env": "prod"}, {"env": "Active"}), "untagged"),
        (spend("i-0a1b2c3d4e5f60718", service="Amazon Elastic Compute Cloud", tags={"env": "prod"}), None, "no_owner_tag"),
    ],
    ids=["system profile", "foundation model", "no resource", "marketplace", "inactive owner tag", "unlisted owner tag",
         "active but not in bill", "activation unknown", "profile without owner tag", "not bedrock"],
)
def test_bedrock_spend_reason(line, asset, reason):
    assert attribute(line, asset, POLICY, [], registered_classifiers()).reason == reason


def test_profile_tag_never_attributes_spend():
    attribution = attribute(spend(PROFILE), profile_asset({"team": "claims"}, {"team": "Inactive"}), POLICY, [], registered_classifiers())

    assert attribution.owner is None


def test_bill_tag_attributes_profile_spend():
    attribution = attribute(spend(PROFILE, tags={"team": "claims"}), profile_asset({"team": "claims"}, {"team": "Active"}), POLICY, [], registered_classifiers())

    assert attribution.owner == "claims"
    assert attribution.via == "tag:team"


def test_reasons_have_sentences():
    for code in ("system_profile", "foundation_model", "bedrock_no_resource", "marketplace_model", "tag_not_active", "tag_not_in_billing"):
        assert REASONS[code].endswith(".")


# Invocation log files


def log_record(model_id: str, tokens: int, timestamp: str = "2026-11-02T10:00:00Z") -> dict:
    return {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": timestamp, "accountId": "111122223333",
            "region": "us-east-1", "operation": "Converse", "modelId": model_id, "identity": {"arn": "arn:aws:sts::111122223333:assumed-role/batch/1"},
            "input": {"inputTokenCount": tokens, "cacheReadInputTokenCount": 5}, "output": {"outputTokenCount": tokens // 10}}


def test_log_files_of_every_shape_are_counted(tmp_path):
    (tmp_path / "s3.json.gz").write_bytes(gzip.compress("\n".join(json.dumps(log_record(PROFILE, 100)) for _ in range(3)).encode()))
    (tmp_path / "cloudwatch.json").write_text(json.dumps({"events": [{"timestamp": 1, "message": json.dumps(log_record("anthropic.claude-3-haiku-20240307-v1:0", 40, "2026-11-01T08:00:00Z"))}]}))
    (tmp_path / "broken.jsonl").write_text('{"schemaType": "ModelInvocationLog"}\nnot json\n')

    result = InvocationLogFilesCollector((str(tmp_path / "*"),)).collect(CONTEXT)

    usage = {asset.attributes["model_id"]: asset.attributes for asset in result.assets}
    assert usage[PROFILE]["calls"] == 3
    assert usage[PROFILE]["input_tokens"] == 300
    assert usage[PROFILE]["cache_read_input_tokens"] == 15
    assert usage[PROFILE]["model_kind"] == "application_profile"
    assert usage["anthropic.claude-3-haiku-20240307-v1:0"]["first_seen"] == "2026-11-01T08:00:00Z"
    assert result.outcome.skipped_row_count == 2


def test_missing_log_file_is_a_gap(tmp_path):
    result = InvocationLogFilesCollector((str(tmp_path / "absent.json"),)).collect(CONTEXT)

    assert [(gap.scope, gap.reason) for gap in result.outcome.scopes_not_seen] == [(str(tmp_path / "absent.json"), "file not found")]


# Configuration


def config_text(aws_block: str) -> str:
    return f"version: 1\nsources:\n  aws:\n{aws_block}"


def test_config_builds_each_collector(tmp_path):
    (tmp_path / "snap").mkdir()
    config = parse_config(config_text("    snapshot: snap\n    cur:\n      - path: cur/*.csv\n    invocation_logs:\n      files: [logs/*.json.gz]\n"), tmp_path / "audit.yaml")

    names = [collector.name for collector in build_collectors(config)]

    assert names == ["aws.bedrock", "aws.invocation_logs", "aws.cur"]


def test_missing_snapshot_folder_is_named(tmp_path):
    from scanner.errors import InputError

    config = parse_config(config_text("    snapshot: nowhere\n"), tmp_path / "audit.yaml")

    with pytest.raises(InputError) as raised:
        build_collectors(config)

    assert str(raised.value) == (
        f"aws: snapshot folder {tmp_path / 'nowhere'} not found; record one with shadowmap snapshot or fix sources.aws.snapshot"
    )


def test_config_rejects_unknown_key(tmp_path):
    with pytest.raises(ConfigError) as raised:
        parse_config(config_text("    regoins: [us-east-1]\n"), tmp_path / "audit.yaml")

    assert "unknown key 'sources.aws.regoins'" in str(raised.value)


def test_config_rejects_bad_account_id(tmp_path):
    with pytest.raises(ConfigError) as raised:
        parse_config(config_text("    accounts: ['1234']\n"), tmp_path / "audit.yaml")

    assert "sources.aws.accounts[0]" in str(raised.value)


def test_config_endpoint_fills_region(tmp_path):
    from collectors.aws.settings import load_settings

    config = parse_config(config_text("    endpoints:\n      bedrock: https://vpce-0a1b.bedrock.{region}.vpce.amazonaws.com\n"), tmp_path / "audit.yaml")

    assert load_settings(config).endpoint_for("bedrock", "eu-west-1") == "https://vpce-0a1b.bedrock.eu-west-1.vpce.amazonaws.com"
    assert load_settings(config).endpoint_for("ce", "us-east-1") is None
