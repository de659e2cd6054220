"""The FOCUS collector: which rows count as AI spend, exact money, and every kind of bad input."""

from __future__ import annotations

import csv
import gzip
import io
import logging
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from collectors.billing.ai_catalogue import load_catalogue
from collectors.billing.focus import FocusCollector, parse_tags
from collectors.contract import CollectContext
from scanner.config import AuditConfig, FocusSource
from scanner.errors import InputError
from scanner.model import OutcomeStatus

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "fixtures" / "focus-sample" / "FOCUS-1.0_focus_sample_1000.csv"

# The columns of a FOCUS 1.1/1.2 export that the collector reads, plus a few it ignores.
FOCUS_COLUMNS = [
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "ChargeCategory",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SubAccountId",
    "Tags",
]


def focus_row(**values: str) -> dict[str, str]:
    """An EC2 usage row of a FOCUS 1.2 export; keyword arguments replace its values."""
    row = {
        "BilledCost": "1.00000000000",
        "BillingAccountId": "111122223333",
        "BillingCurrency": "USD",
        "ChargeCategory": "Usage",
        "ChargePeriodEnd": "2025-03-04T11:00:00Z",
        "ChargePeriodStart": "2025-03-04T10:00:00Z",
        "ConsumedQuantity": "1",
        "ConsumedUnit": "Hours",
        "EffectiveCost": "1.00000000000",
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ListCost": "1.00000000000",
        "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services, Inc.",
        "RegionId": "us-east-1",
        "ResourceId": "i-0abc",
        "ResourceName": "",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "ServiceSubcategory": "Virtual Machines",
        "SubAccountId": "444455556666",
        "Tags": '{"team": "search"}',
    }
    row.update(values)
    return row


def bedrock_row(**values: str) -> dict[str, str]:
    """A Bedrock usage row of a FOCUS 1.2 export."""
    defaults = {
        "ServiceCategory": "AI and Machine Learning",
        "ServiceSubcategory": "Generative AI",
        "ServiceName": "Amazon Bedrock",
        "ResourceId": "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/abc123",
        "ConsumedUnit": "Tokens",
        "ConsumedQuantity": "1000",
    }
    return focus_row(**{**defaults, **values})


def focus_csv_text(rows: list[dict[str, str]], columns: list[str] | None = None, delimiter: str = ",") -> str:
    columns = columns or FOCUS_COLUMNS
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_focus_csv(path: Path, rows: list[dict[str, str]], **options) -> Path:
    path.write_text(focus_csv_text(rows, **options), encoding="utf-8")
    return path


def collect(*paths: Path | str, cost: str = "effective", logger_name: str = "test.focus"):
    """Run the collector with each path as one source and settle its outcome."""
    config = AuditConfig(path=None, base_dir=Path("/"))
    sources = [FocusSource(str(path), cost) for path in paths]
    context = CollectContext(logger=logging.getLogger(logger_name))
    result = FocusCollector(sources, config).collect(context)
    result.outcome.settle()
    return result


def amounts_by_currency(lines) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount
    return totals


# ---------------------------------------------------------------------------------------------
# The FinOps Foundation's FOCUS 1.0 sample

# Worked out by hand, not with the collector: reading the file with Python's csv module, exactly
# 9 of its 1,000 rows have ServiceCategory "AI and Machine Learning". All 9 are ProviderName
# "Microsoft", ServiceName "Azure Machine Learning", BillingCurrency "USD", ChargeCategory
# "Usage". Their EffectiveCost values, summed as Decimal:
#   line  956  -0.01288992000
#   line  963  -0.00000764078
#   line  965  -0.14900000000
#   line  969   0.00000000503
#   line  970  -0.00000000603
#   line  975   0.00500000000
#   line  979   0.00000000729
#   line  995   0.00500000000
#   line 1000  -0.00000000729
#   total      -0.15189756178 USD (BilledCost gives the same figure for these rows)
# Lines count the header as line 1; no field of the file spans lines. No two of the 9 rows share
# a day, unit and tag set, so each becomes its own spend line.
SAMPLE_AI_LINES = [956, 963, 965, 969, 970, 975, 979, 995, 1000]
SAMPLE_AI_TOTAL = Decimal("-0.15189756178")


def test_sample_ai_total_matches_hand_count():
    result = collect(SAMPLE)

    assert result.outcome.status is OutcomeStatus.OK
    assert amounts_by_currency(result.spend_lines) == {"USD": SAMPLE_AI_TOTAL}
    assert sorted(line.source.row for line in result.spend_lines) == SAMPLE_AI_LINES
    assert all(line.source.row_count == 1 for line in result.spend_lines)


def test_sample_ai_lines_are_azure_machine_learning():
    result = collect(SAMPLE)

    assert len(result.spend_lines) == 9
    assert {line.provider for line in result.spend_lines} == {"azure"}
    assert {line.service for line in result.spend_lines} == {"Azure Machine Learning"}
    assert {line.category for line in result.spend_lines} == {"AI and Machine Learning"}
    assert {line.charge_category for line in result.spend_lines} == {"Usage"}
    assert {line.account for line in result.spend_lines} == {"/subscriptions/64e355d7-997c-491d-b0c1-8414dccfcf42"}


def test_sample_other_rows_are_not_ai():
    result = collect(SAMPLE)

    services = {line.service for line in result.spend_lines}
    assert "Amazon Elastic Compute Cloud" not in services
    assert "Elastic Load Balancing" not in services
    assert "Storage Accounts" not in services
    assert sum(line.source.row_count for line in result.spend_lines) == 9
    assert result.outcome.notes == [f'{SAMPLE}: 9 AI rows counted because ServiceCategory is "AI and Machine Learning"']


def test_sample_line_keeps_exact_values():
    result = collect(SAMPLE)
    line = next(line for line in result.spend_lines if line.source.row == 963)

    assert line.amount == Decimal("-0.00000764078")
    assert str(line.amount) == "-0.00000764078"
    assert line.quantity == Decimal("-0.001528156921268")
    assert line.unit == "GB"
    assert line.region == "eastus2"
    assert line.period_start == datetime(2024, 9, 10, tzinfo=timezone.utc)
    assert line.period_end == datetime(2024, 9, 11, tzinfo=timezone.utc)


def test_sample_tag_key_with_leading_space():
    result = collect(SAMPLE)
    line = next(line for line in result.spend_lines if line.source.row == 969)

    assert line.tags.values == {"org": "trey", "compute-type": "Compute Instance", "cost-allocation-test": "Sameer"}
    assert line.tags.original_keys["org"] == " org"
    assert line.tags.get("org") == "trey"


def test_sample_logs_rows_read(caplog):
    with caplog.at_level(logging.INFO, logger="test.focus"):
        collect(SAMPLE)

    assert f"billing.focus: {SAMPLE}: 1000 rows read, 9 AI rows in 9 spend lines, 0 rows skipped" in caplog.messages


def test_describe_names_sources():
    collector = FocusCollector([FocusSource("exports/*.parquet"), FocusSource("nov.csv", "billed")], AuditConfig(None, Path("/")))

    assert collector.describe() == "FOCUS billing exports: exports/*.parquet, nov.csv"


def test_sample_fixture_config_loads():
    from scanner.config import load_config

    config = load_config(REPO / "fixtures" / "focus-sample" / "audit.yaml")

    assert [source.path for source in config.focus_sources] == ["FOCUS-1.0_focus_sample_1000.csv"]
    assert config.resolve(config.focus_sources[0].path) == SAMPLE
    assert "org" in config.policy.owner_tags


# ---------------------------------------------------------------------------------------------
# Which rows are AI spend


def test_currencies_are_never_mixed(tmp_path):
    rows = [
        bedrock_row(EffectiveCost="1.25", BillingCurrency="USD"),
        bedrock_row(EffectiveCost="2.50", BillingCurrency="EUR"),
        bedrock_row(EffectiveCost="0.75", BillingCurrency="USD", ChargePeriodStart="2025-03-05T10:00:00Z"),
        bedrock_row(EffectiveCost="100", BillingCurrency="JPY"),
    ]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert amounts_by_currency(result.spend_lines) == {
        "USD": Decimal("2.00"),
        "EUR": Decimal("2.5"),
        "JPY": Decimal("100"),
    }
    assert len(result.spend_lines) == 4


def test_same_key_in_two_currencies_stays_two_lines(tmp_path):
    rows = [bedrock_row(EffectiveCost="1", BillingCurrency="USD"), bedrock_row(EffectiveCost="1", BillingCurrency="EUR")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert sorted(line.currency for line in result.spend_lines) == ["EUR", "USD"]


def test_subcategory_marks_ai(tmp_path):
    rows = [bedrock_row(ServiceCategory="Other", ServiceSubcategory="Generative AI", ServiceName="Acme Models")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert [line.subcategory for line in result.spend_lines] == ["Generative AI"]
    assert result.outcome.notes == [f'{tmp_path / "focus.csv"}: 1 AI rows counted because ServiceSubcategory is "Generative AI"']


def test_bedrock_marketplace_model_counts(tmp_path):
    rows = [
        focus_row(
            ServiceCategory="Other",
            ServiceSubcategory="Other (Other)",
            ServiceName="Claude 3.5 Sonnet (Amazon Bedrock Edition)",
            PublisherName="Amazon Web Services, Inc.",
            EffectiveCost="3.2",
        )
    ]
    path = write_focus_csv(tmp_path / "focus.csv", rows)
    result = collect(path)

    assert [line.service for line in result.spend_lines] == ["Claude 3.5 Sonnet (Amazon Bedrock Edition)"]
    assert [line.category for line in result.spend_lines] == ["Other"]
    assert result.outcome.notes == [
        f'{path}: 1 AI rows counted because ServiceName "Claude 3.5 Sonnet (Amazon Bedrock Edition)" '
        'matches the aws catalogue pattern ".+ \\(Amazon Bedrock Edition\\)"'
    ]


def test_opensearch_and_ec2_are_not_ai(tmp_path):
    rows = [
        focus_row(ServiceCategory="Analytics", ServiceSubcategory="Search", ServiceName="Amazon OpenSearch Service"),
        focus_row(ServiceName="Amazon Elastic Compute Cloud"),
        focus_row(ServiceCategory="Analytics", ServiceSubcategory="Search", ServiceName="Amazon Kendra"),
    ]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert result.spend_lines == []
    assert result.outcome.status is OutcomeStatus.OK


# Provider, publisher, ServiceCategory, ServiceSubcategory, ServiceName, and whether the row is AI
# spend. All cases go into one export, read once; each row's ResourceId is its case number.
CLASSIFICATION_CASES = [
    ("AWS", "Amazon Web Services, Inc.", "AI and Machine Learning", "Generative AI", "Amazon Bedrock", True),
    ("AWS", "Amazon Web Services, Inc.", "Other", "Other (Other)", "Amazon Bedrock", True),
    ("AWS", "Anthropic, PBC", "Other", "Other (Other)", "Claude 3 Haiku", True),
    ("AWS", "Amazon Web Services, Inc.", "Other", "Other (Other)", "Llama 3 70B Instruct (Amazon Bedrock Edition)", True),
    ("AWS", "Amazon Web Services, Inc.", "Compute", "Virtual Machines", "Amazon Elastic Compute Cloud", False),
    ("AWS", "Amazon Web Services, Inc.", "Analytics", "Search", "Amazon OpenSearch Service", False),
    ("AWS", "Amazon Web Services, Inc.", "Other", "Other (Other)", "Amazon Bedrock Edition", False),
    ("AWS", "Amazon Web Services, Inc.", "Other", "Other (Other)", "Open Search", False),
    ("AWS", "Amazon Web Services, Inc.", "Other", "Other (Other)", "AI", False),
    ("Microsoft", "Microsoft", "Other", "Other (Other)", "Azure OpenAI", True),
    ("Microsoft", "Microsoft", "Other", "Other (Other)", "Cognitive Services", True),
    ("Microsoft", "Microsoft", "Other", "Other (Other)", "Foundry Models", True),
    ("Microsoft", "Microsoft", "AI and Machine Learning", "AI Platforms", "Azure AI Services", True),
    ("Microsoft", "Microsoft", "Analytics", "Search", "Azure AI Search", False),
    ("Microsoft", "Microsoft", "Compute", "Virtual Machines", "Virtual Machines", False),
    ("Google Cloud", "Google Cloud", "Other", "Other (Other)", "Vertex AI", True),
    ("Google Cloud", "Google Cloud", "Other", "Other (Other)", "Gemini API", True),
    ("Google Cloud", "Anthropic", "Other", "Other (Other)", "Claude 3.5 Sonnet v2", True),
    ("Google Cloud", "Mistral AI", "Other", "Other (Other)", "Mistral Large (24.11)", True),
    ("Google Cloud", "Meta", "Other", "Other (Other)", "Llama 3.1 API Service", True),
    ("Google Cloud", "Google Cloud", "Compute", "Virtual Machines", "Compute Engine", False),
    ("Google Cloud", "Google Cloud", "Integration", "Other (Integration)", "Cloud Vision API", True),
    ("OpenAI", "OpenAI", "Other", "Other (Other)", "Responses API", True),
    ("Oracle", "Oracle", "Compute", "Virtual Machines", "COMPUTE", False),
    ("Acme Cloud", "Acme Cloud", "Other", "Other (Other)", "Vertex AI", False),
]


@pytest.fixture(scope="module")
def classified_resources(tmp_path_factory) -> set[str]:
    """Return the ResourceIds of the classification cases that became spend lines."""
    rows = [
        focus_row(
            ResourceId=f"case-{index}",
            ProviderName=provider,
            PublisherName=publisher,
            ServiceCategory=category,
            ServiceSubcategory=subcategory,
            ServiceName=service,
        )
        for index, (provider, publisher, category, subcategory, service, _) in enumerate(CLASSIFICATION_CASES)
    ]
    path = write_focus_csv(tmp_path_factory.mktemp("classification") / "focus.csv", rows)
    return {line.resource_id for line in collect(path).spend_lines}


@pytest.mark.parametrize(
    ("index", "case"),
    list(enumerate(CLASSIFICATION_CASES)),
    ids=[f"{provider}: {service}" for provider, _, _, _, service, _ in CLASSIFICATION_CASES],
)
def test_ai_classification(classified_resources, index, case):
    *_, service, is_ai = case

    assert (f"case-{index}" in classified_resources) is is_ai, service


def test_catalogue_patterns_run_in_duckdb():
    catalogue = load_catalogue()
    patterns = [pattern for provider in catalogue.providers for pattern in provider.ai_service_patterns]

    with duckdb.connect(":memory:") as connection:
        for pattern in patterns:
            matched = connection.execute("SELECT regexp_full_match('Amazon Elastic Compute Cloud', ?, 'i')", [pattern]).fetchone()[0]
            assert matched is False, pattern


def test_catalogue_provider_ids():
    catalogue = load_catalogue()

    assert catalogue.provider_id("AWS") == "aws"
    assert catalogue.provider_id("Amazon Web Services, Inc.") == "aws"
    assert catalogue.provider_id("Microsoft") == "azure"
    assert catalogue.provider_id("Google Cloud") == "gcp"
    assert catalogue.provider_id("Oracle") == "oracle"
    assert catalogue.provider_id("OpenAI") == "openai"
    assert catalogue.provider_id("Anthropic, PBC") == "anthropic"
    assert catalogue.provider_id("Databricks, Inc.") == "databricks-inc"
    assert catalogue.provider_id(None) == "unknown"


def test_service_provider_name_is_preferred(tmp_path):
    columns = [*FOCUS_COLUMNS, "ServiceProviderName"]
    rows = [bedrock_row(ProviderName="Reseller Ltd", ServiceProviderName="AWS")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows, columns=columns))

    assert [line.provider for line in result.spend_lines] == ["aws"]


def test_provider_falls_back_to_publisher(tmp_path):
    rows = [bedrock_row(ProviderName="")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert [line.provider for line in result.spend_lines] == ["aws"]


def test_account_falls_back_to_billing_account(tmp_path):
    rows = [bedrock_row(SubAccountId="")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert [line.account for line in result.spend_lines] == ["111122223333"]


def test_model_only_from_explicit_column(tmp_path):
    columns = [*FOCUS_COLUMNS, "x_Model"]
    rows = [bedrock_row(x_Model="anthropic.claude-3-5-sonnet-20240620-v1:0"), bedrock_row(ResourceId="other")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows, columns=columns))
    models = {line.resource_id: line.model for line in result.spend_lines}

    assert models["other"] is None
    assert models[rows[0]["ResourceId"]] == "anthropic.claude-3-5-sonnet-20240620-v1:0"


def test_charge_start_offset_is_converted_to_utc_day(tmp_path):
    rows = [bedrock_row(ChargePeriodStart="2025-03-05T01:30:00+02:00")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    # 01:30 at UTC+2 on 5 March is 23:30 UTC on 4 March.
    assert [line.period_start for line in result.spend_lines] == [datetime(2025, 3, 4, tzinfo=timezone.utc)]


# ---------------------------------------------------------------------------------------------
# Aggregation and money


def test_rows_with_one_key_become_one_line(tmp_path):
    # 50 hourly rows of one profile on one day; costs 0.00000000001 to 0.00000000050.
    rows = [
        bedrock_row(
            EffectiveCost=f"{index * Decimal('0.00000000001'):.11f}",
            ConsumedQuantity="1000",
            ChargePeriodStart=f"2025-03-04T{index % 24:02d}:00:00Z",
        )
        for index in range(1, 51)
    ]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert len(result.spend_lines) == 1
    line = result.spend_lines[0]
    assert line.amount == Decimal("0.00000001275")
    assert line.quantity == Decimal("50000")
    assert line.source.row_count == 50
    assert line.source.row == 2


def test_large_costs_keep_every_digit(tmp_path):
    rows = [bedrock_row(EffectiveCost="12345678901234.12345678901"), bedrock_row(EffectiveCost="0.00000000009")]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert [line.amount for line in result.spend_lines] == [Decimal("12345678901234.12345678910")]


def test_days_and_units_stay_apart(tmp_path):
    rows = [
        bedrock_row(EffectiveCost="1", ConsumedUnit="Input Tokens"),
        bedrock_row(EffectiveCost="2", ConsumedUnit="Output Tokens"),
        bedrock_row(EffectiveCost="4", ConsumedUnit="Input Tokens", ChargePeriodStart="2025-03-05T10:00:00Z"),
    ]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert sorted((line.period_start.day, line.unit, line.amount) for line in result.spend_lines) == [
        (4, "Input Tokens", Decimal("1")),
        (4, "Output Tokens", Decimal("2")),
        (5, "Input Tokens", Decimal("4")),
    ]


def test_tags_in_another_order_merge(tmp_path):
    rows = [
        bedrock_row(EffectiveCost="1", Tags='{"team": "search", "env": "prod"}'),
        bedrock_row(EffectiveCost="2", Tags='{"env":"prod","team":"search"}'),
    ]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert len(result.spend_lines) == 1
    assert result.spend_lines[0].amount == Decimal("3")
    assert result.spend_lines[0].source.row_count == 2
    assert result.spend_lines[0].source.row == 2


def test_billed_cost_when_configured(tmp_path):
    rows = [bedrock_row(EffectiveCost="0.8", BilledCost="1.0")]
    path = write_focus_csv(tmp_path / "focus.csv", rows)

    assert [line.amount for line in collect(path, cost="billed").spend_lines] == [Decimal("1")]
    assert [line.amount for line in collect(path, cost="effective").spend_lines] == [Decimal("0.8")]


def test_missing_cost_column_falls_back_with_note(tmp_path):
    columns = [name for name in FOCUS_COLUMNS if name != "EffectiveCost"]
    path = write_focus_csv(tmp_path / "focus.csv", [bedrock_row(BilledCost="1.5")], columns=columns)
    result = collect(path)

    assert [line.amount for line in result.spend_lines] == [Decimal("1.5")]
    assert f"{path}: has no EffectiveCost column, so BilledCost was summed instead (sources.billing.focus cost: effective)" in result.outcome.notes


def test_invalid_tags_json_keeps_spend(tmp_path):
    rows = [bedrock_row(EffectiveCost="1"), bedrock_row(EffectiveCost="2", ResourceId="p2", Tags="{team: search")]
    path = write_focus_csv(tmp_path / "focus.csv", rows)
    result = collect(path)

    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("3")}
    untagged = next(line for line in result.spend_lines if line.resource_id == "p2")
    assert not untagged.tags
    assert result.outcome.skipped_row_count == 0
    assert f"{path}: 1 AI rows have a Tags value that is not a JSON object (first at line 3); their spend is kept without tags" in result.outcome.notes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, {}),
        ("", {}),
        ("{}", {}),
        ('{"Cost Center": "42", "user:Team": "ml"}', {"cost-center": "42", "team": "ml"}),
        ('{"billable": true, "units": 3}', {"billable": "true", "units": "3"}),
    ],
)
def test_parse_tags(text, expected):
    assert parse_tags(text).values == expected


@pytest.mark.parametrize("text", ["{team: search", "[1, 2]", '"team"'])
def test_parse_tags_rejects_non_objects(text):
    assert parse_tags(text) is None


# ---------------------------------------------------------------------------------------------
# File formats and encodings


def test_parquet_export(tmp_path):
    path = tmp_path / "focus.parquet"
    with duckdb.connect(":memory:") as connection:
        connection.execute(
            f"""
            COPY (
              SELECT 'AWS' AS ProviderName, 'Amazon Web Services, Inc.' AS PublisherName,
                     'AI and Machine Learning' AS ServiceCategory, 'Generative AI' AS ServiceSubcategory,
                     'Amazon Bedrock' AS ServiceName, 'USD' AS BillingCurrency,
                     TIMESTAMP '2025-03-04 10:00:00' + to_hours(i) AS ChargePeriodStart,
                     CAST(0.1 AS DOUBLE) AS EffectiveCost, CAST(0.1 AS DOUBLE) AS BilledCost,
                     CAST(1000 AS BIGINT) AS ConsumedQuantity, 'Tokens' AS ConsumedUnit,
                     '444455556666' AS SubAccountId, 'profile-1' AS ResourceId,
                     MAP {{'team': 'search'}} AS Tags
              FROM range(3) AS rows(i)
            ) TO '{path}' (FORMAT parquet)
            """
        )
    result = collect(path)

    assert len(result.spend_lines) == 1
    line = result.spend_lines[0]
    assert line.amount == Decimal("0.3")
    assert line.quantity == Decimal("3000")
    assert line.tags.values == {"team": "search"}
    assert line.source.row == 1
    assert line.source.row_count == 3


def test_gzip_csv(tmp_path):
    path = tmp_path / "focus.csv.gz"
    path.write_bytes(gzip.compress(focus_csv_text([bedrock_row(EffectiveCost="4.2")]).encode()))
    result = collect(path)

    assert [line.amount for line in result.spend_lines] == [Decimal("4.2")]


def test_glob_reads_every_match(tmp_path):
    write_focus_csv(tmp_path / "2025-01.csv", [bedrock_row(EffectiveCost="1")])
    write_focus_csv(tmp_path / "2025-02.csv", [bedrock_row(EffectiveCost="2")])
    calls = []
    config = AuditConfig(path=None, base_dir=tmp_path)
    context = CollectContext(logger=logging.getLogger("test.focus"), progress=lambda *call: calls.append(call))
    result = FocusCollector([FocusSource("*.csv")], config).collect(context)

    assert result.outcome.scopes_seen == [str(tmp_path / "2025-01.csv"), str(tmp_path / "2025-02.csv")]
    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("3")}
    assert calls == [(str(tmp_path / "2025-01.csv"), 1, 2), (str(tmp_path / "2025-02.csv"), 2, 2)]


def test_utf8_with_bom(tmp_path):
    path = tmp_path / "focus.csv"
    path.write_bytes(b"\xef\xbb\xbf" + focus_csv_text([bedrock_row(EffectiveCost="1.5")]).encode())
    result = collect(path)

    assert [line.amount for line in result.spend_lines] == [Decimal("1.5")]
    assert f"{path}: read as UTF-8 with a byte order mark" in result.outcome.notes


@pytest.mark.parametrize(("codec", "label"), [("utf-16-le", "little-endian"), ("utf-16-be", "big-endian")])
def test_utf16_tab_separated(tmp_path, codec, label):
    # Excel's "Unicode text": UTF-16 with a byte order mark, tab-separated, CRLF line breaks.
    text = focus_csv_text([bedrock_row(EffectiveCost="2.5", Tags='{"équipe": "recherche"}')], delimiter="\t")
    path = tmp_path / "focus.txt"
    path.write_bytes("\ufeff".encode(codec) + text.replace("\n", "\r\n").encode(codec))
    result = collect(path)

    assert [line.amount for line in result.spend_lines] == [Decimal("2.5")]
    assert result.spend_lines[0].tags.values == {"équipe": "recherche"}
    assert f"{path}: read as UTF-16 {label}, transcoded to UTF-8 before reading, fields separated by tabs" in result.outcome.notes


def test_utf16_without_byte_order_mark(tmp_path):
    path = tmp_path / "focus.csv"
    path.write_bytes(focus_csv_text([bedrock_row(EffectiveCost="2.5")]).encode("utf-16-le"))
    result = collect(path)

    assert [line.amount for line in result.spend_lines] == [Decimal("2.5")]
    assert f"{path}: read as UTF-16 little-endian without a byte order mark, transcoded to UTF-8 before reading" in result.outcome.notes


def test_windows_1252(tmp_path):
    text = focus_csv_text([bedrock_row(EffectiveCost="7", Tags='{"team": "Café €"}')])
    path = tmp_path / "focus.csv"
    path.write_bytes(text.encode("cp1252"))
    result = collect(path)

    assert [line.tags.values for line in result.spend_lines] == [{"team": "Café €"}]
    assert f"{path}: read as Windows-1252, transcoded to UTF-8 before reading" in result.outcome.notes


def test_semicolon_separated(tmp_path):
    path = write_focus_csv(tmp_path / "focus.csv", [bedrock_row(EffectiveCost="1")], delimiter=";")
    result = collect(path)

    assert [line.amount for line in result.spend_lines] == [Decimal("1")]
    assert f"{path}: fields separated by semicolons" in result.outcome.notes


# ---------------------------------------------------------------------------------------------
# Bad input


def test_missing_file_raises_when_alone(tmp_path):
    with pytest.raises(InputError) as error:
        collect(tmp_path / "nowhere.csv")

    assert str(error.value) == f"{tmp_path / 'nowhere.csv'}: file not found; check the path in sources.billing.focus"


def test_unusable_files_warn_and_raise(tmp_path, caplog):
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    with caplog.at_level(logging.WARNING, logger="test.focus"), pytest.raises(InputError) as error:
        collect(first, second)

    # The first gap becomes the error and is not logged as well.
    assert str(error.value).startswith(f"{first}: file not found")
    assert caplog.messages == [f"billing.focus: {second}: skipped: file not found; check the path in sources.billing.focus"]


def test_glob_without_match(tmp_path):
    with pytest.raises(InputError, match="no file matches this pattern"):
        collect(tmp_path / "exports" / "*.parquet")


def test_bad_file_does_not_stop_others(tmp_path, caplog):
    good = write_focus_csv(tmp_path / "good.csv", [bedrock_row(EffectiveCost="1")])
    missing = tmp_path / "missing.csv"
    with caplog.at_level(logging.WARNING, logger="test.focus"):
        result = collect(missing, good)

    assert result.outcome.status is OutcomeStatus.PARTIAL
    assert result.outcome.scopes_seen == [str(good)]
    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [str(missing)]
    assert f"billing.focus: {missing}: skipped: file not found; check the path in sources.billing.focus" in caplog.messages
    assert len(result.spend_lines) == 1


def test_broken_rows_are_skipped_and_named(tmp_path):
    text = focus_csv_text([bedrock_row(EffectiveCost=str(index)) for index in range(1, 6)])
    lines = text.splitlines()
    lines[2] += ",an extra field"  # line 3
    lines[4] = lines[4].replace(",4,", ",four,")  # line 5: EffectiveCost "four"
    path = tmp_path / "focus.csv"
    path.write_text("\n".join(lines) + "\n")
    result = collect(path)

    assert result.outcome.status is OutcomeStatus.PARTIAL
    assert result.outcome.skipped_row_count == 2
    assert [(row.location, row.row) for row in result.outcome.skipped_rows] == [(str(path), 3), (str(path), 5)]
    assert result.outcome.skipped_rows[0].reason == "wrong number of fields: expected 21, found 22"
    assert result.outcome.skipped_rows[1].reason == "EffectiveCost value 'four' is not a number"
    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("9")}
    assert result.spend_lines[0].source.row == 2
    assert result.spend_lines[0].source.row_count == 3


def test_row_numbers_count_rejected_rows(tmp_path):
    rows = [bedrock_row(EffectiveCost="1"), focus_row(), bedrock_row(EffectiveCost="2", ChargePeriodStart="2025-03-06T10:00:00Z")]
    lines = focus_csv_text(rows).splitlines()
    lines[2] += ",extra"  # line 3, the EC2 row, is rejected
    path = tmp_path / "focus.csv"
    path.write_text("\n".join(lines) + "\n")
    result = collect(path)

    assert sorted(line.source.row for line in result.spend_lines) == [2, 4]


def test_unterminated_quote(tmp_path):
    lines = focus_csv_text([bedrock_row(EffectiveCost=str(index)) for index in range(1, 5)]).splitlines()
    lines[4] = lines[4].replace("Amazon Bedrock", '"Amazon Bedrock', 1)  # line 5, the last
    path = tmp_path / "focus.csv"
    path.write_text("\n".join(lines) + "\n")
    result = collect(path)

    assert result.outcome.skipped_row_count == 1
    assert [(row.row, row.reason) for row in result.outcome.skipped_rows] == [
        (5, "a quote that is not closed, or one inside an unquoted field (Value with unterminated quote found.)")
    ]
    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("6")}


def test_ai_row_without_currency_is_skipped(tmp_path):
    rows = [bedrock_row(EffectiveCost="1"), bedrock_row(EffectiveCost="2", BillingCurrency="")]
    path = write_focus_csv(tmp_path / "focus.csv", rows)
    result = collect(path)

    assert result.outcome.skipped_row_count == 1
    assert [(row.row, row.reason) for row in result.outcome.skipped_rows] == [(3, "AI spend with no BillingCurrency value")]
    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("1")}


def test_unreadable_charge_period(tmp_path):
    rows = [bedrock_row(EffectiveCost="1"), bedrock_row(EffectiveCost="2", ChargePeriodStart="yesterday")]
    path = write_focus_csv(tmp_path / "focus.csv", rows)
    result = collect(path)

    assert [(row.row, row.reason) for row in result.outcome.skipped_rows] == [
        (3, "ChargePeriodStart value 'yesterday' is not a date and time")
    ]
    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("1")}


def test_skipped_rows_capped_but_counted(tmp_path):
    rows = [bedrock_row(EffectiveCost="1") for _ in range(300)]
    rows += [bedrock_row(EffectiveCost="n/a") for _ in range(150)]
    result = collect(write_focus_csv(tmp_path / "focus.csv", rows))

    assert result.outcome.skipped_row_count == 150
    assert len(result.outcome.skipped_rows) == 100
    assert result.outcome.skipped_rows[0].row == 302
    assert amounts_by_currency(result.spend_lines) == {"USD": Decimal("300")}


def test_every_row_unreadable(tmp_path):
    rows = [bedrock_row(EffectiveCost="0,5") for _ in range(3)]
    path = write_focus_csv(tmp_path / "focus.csv", rows, delimiter=";")

    with pytest.raises(InputError) as error:
        collect(path)

    assert str(error.value) == f"{path}: no row could be read (line 2: EffectiveCost value '0,5' is not a number)"


def test_mostly_broken_csv_is_set_aside(tmp_path):
    lines = focus_csv_text([bedrock_row() for _ in range(20)]).splitlines()
    lines[1:] = [line + ",x" for line in lines[1:]]  # an extra field on every data row
    path = tmp_path / "focus.csv"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(InputError) as error:
        collect(path)

    assert str(error.value) == (
        f"{path}: most of its first rows cannot be read as CSV separated by ',' "
        "(line 2: wrong number of fields: expected 21, found 22); check that it is a FOCUS CSV export"
    )


def test_parquet_without_focus_columns(tmp_path):
    path = tmp_path / "costs.parquet"
    with duckdb.connect(":memory:") as connection:
        connection.execute(f"COPY (SELECT 'x' AS product, 1.5 AS cost) TO '{path}' (FORMAT parquet)")

    with pytest.raises(InputError) as error:
        collect(path)

    assert str(error.value) == (
        f"{path}: does not look like a FOCUS export (FOCUS 1.0–1.2): missing required columns "
        "BillingCurrency, ChargePeriodStart, ServiceCategory, ServiceName, EffectiveCost or BilledCost, "
        "ProviderName or ServiceProviderName; export the cost data in FOCUS format"
    )


def test_csv_without_focus_columns(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text("lineItem/UsageStartDate,lineItem/UnblendedCost,product/ProductName\n2025-03-04,1.0,Amazon Bedrock\n")

    with pytest.raises(InputError, match="does not look like a FOCUS export"):
        collect(path)


def test_duplicate_column_in_header(tmp_path):
    path = write_focus_csv(tmp_path / "focus.csv", [bedrock_row()], columns=[*FOCUS_COLUMNS, "tags"])

    with pytest.raises(InputError) as error:
        collect(path)

    assert str(error.value) == f"{path}: has column 'tags' more than once in its header; keep one"


def test_png_is_not_an_export(tmp_path):
    path = tmp_path / "chart.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))

    with pytest.raises(InputError) as error:
        collect(path)

    assert str(error.value) == (
        f"{path}: is a PNG image, not a CSV or Parquet file; export the billing data in FOCUS format as CSV or Parquet"
    )


def test_xlsx_is_not_an_export(tmp_path):
    path = tmp_path / "focus.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(60))

    with pytest.raises(InputError, match="is a ZIP archive \\(an XLSX workbook is one\\), not a CSV or Parquet file"):
        collect(path)


def test_folder_is_not_an_export(tmp_path):
    with pytest.raises(InputError) as error:
        collect(tmp_path)

    assert str(error.value) == f"{tmp_path}: is a folder; give a file, or a glob such as exports/*.parquet"


def test_random_bytes_are_not_an_export(tmp_path):
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes((index * 73 + 11) % 256 for index in range(4096)))

    with pytest.raises(InputError, match="contains binary data, not CSV text or Parquet"):
        collect(path)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "focus.parquet"
    with duckdb.connect(":memory:") as connection:
        connection.execute(f"COPY (SELECT 1 AS BilledCost) TO '{path}' (FORMAT parquet)")
    path.write_bytes(path.read_bytes()[:20])

    with pytest.raises(InputError, match="cannot be read as Parquet"):
        collect(path)


def test_empty_file_is_failed_export(tmp_path):
    path = tmp_path / "focus.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError) as caught:
        collect(path)
    assert str(caught.value) == (
        f"{path}: is empty (0 bytes); export it again, since even a period with no charges has a header row"
    )


def test_empty_file_beside_good_one_is_scope_not_seen(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    good = write_focus_csv(tmp_path / "good.csv", [])
    result = collect(empty, good)

    assert result.outcome.scopes_seen == [str(good)]
    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [str(empty)]


def test_text_file_named_parquet(tmp_path):
    path = tmp_path / "focus.parquet"
    path.write_text("BilledCost,BillingCurrency\n1,USD\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        collect(path)
    assert str(caught.value) == (
        f"{path}: is named .parquet but is not a Parquet file (no PAR1 header); check the export or rename the file"
    )


def test_header_only(tmp_path):
    path = write_focus_csv(tmp_path / "focus.csv", [])
    result = collect(path)

    assert result.outcome.status is OutcomeStatus.OK
    assert result.spend_lines == []
    assert result.outcome.notes == [f"{path}: the file has a header but no data rows"]
