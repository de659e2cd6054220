"""The JSON result, its schema and loader, the HTML report and the terminal summary."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from collectors.contract import SourceKind
from reports import load_result
from reports.coverage_figures import billing_period_text, currency_figures
from reports.html import render_html, write_html
from reports.json_report import build_result, dumps_result, load_schema, reason_sentence, write_json
from reports.terminal import render_summary
from rules.contract import Rule, Violation
from scanner.config import AuditConfig, Policy, SuppressionRule
from scanner.coverage import REASONS
from scanner.engine import AuditRun, run_audit
from scanner.errors import InputError
from scanner.model import (
    Asset,
    CollectorOutcome,
    CollectorResult,
    Finding,
    Location,
    ScopeGap,
    Severity,
    SkippedRow,
    SourceRef,
    SpendLine,
    Tags,
)

DAY = datetime(2025, 2, 1, tzinfo=timezone.utc)
RUN_ID = "20250301T120000Z-0a1b2c3d"
STARTED_AT = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
FINISHED_AT = datetime(2025, 3, 1, 12, 0, 4, tzinfo=timezone.utc)
HOSTILE = "<script>alert(1)</script>"


class FixedCollector:
    """A collector that returns a prepared result, standing in for a billing export."""

    source = SourceKind.EXPORT

    def __init__(self, name: str, result: CollectorResult) -> None:
        self.name = name
        self.result = result

    def describe(self) -> str:
        return f"prepared result {self.name}"

    def collect(self, context) -> CollectorResult:
        return self.result


def spend(amount: str, tags: dict | None = None, currency: str = "USD", **fields) -> SpendLine:
    defaults = {
        "provider": "aws",
        "service": "Amazon Bedrock",
        "account": "111122223333",
        "region": "us-east-1",
    }
    return SpendLine(
        amount=Decimal(amount),
        currency=currency,
        period_start=DAY,
        period_end=DAY + timedelta(days=1),
        tags=Tags.from_mapping(tags),
        source=SourceRef("exports/focus-2025-02.csv", row=2),
        **{**defaults, **fields},
    )


def outcome(name: str = "focus", gaps: list[ScopeGap] | None = None, skipped: int = 0) -> CollectorOutcome:
    return CollectorOutcome(
        collector=name,
        source="export",
        scopes_seen=["exports/focus-2025-02.csv"],
        scopes_not_seen=gaps or [],
        skipped_rows=[SkippedRow("exports/focus-2025-02.csv", 7 + i, "invalid BilledCost 'n/a'") for i in range(skipped)],
        skipped_row_count=skipped,
    )


def audit(
    lines: list[SpendLine],
    collector_outcome: CollectorOutcome | None = None,
    assets: list[Asset] | None = None,
    rules: list[Rule] | None = None,
    suppressions: list[SuppressionRule] | None = None,
    organisation: str = "Example Org",
) -> AuditRun:
    """Run the real engine over one prepared collector, with a fixed run id and times."""
    result = CollectorResult(collector_outcome or outcome(), assets or [], lines)
    config = AuditConfig(
        path=Path("/audits/audit.yaml"),
        base_dir=Path("/audits"),
        organisation=organisation,
        policy=Policy(owner_tags=("team",)),
        suppressions=suppressions or [],
    )
    run = run_audit(
        config, collectors=[FixedCollector("billing.focus", result)], rules=rules or [], today=date(2025, 3, 1), classifiers=()
    )
    return dataclasses.replace(run, run_id=RUN_ID, started_at=STARTED_AT, finished_at=FINISHED_AT)


def audit_by_collector(lines_by_collector: dict[str, list[SpendLine]]) -> AuditRun:
    """Run the real engine over one prepared collector per name, in the order given."""
    collectors = [
        FixedCollector(name, CollectorResult(outcome(name), [], lines)) for name, lines in lines_by_collector.items()
    ]
    config = AuditConfig(
        path=Path("/audits/audit.yaml"),
        base_dir=Path("/audits"),
        organisation="Example Org",
        policy=Policy(owner_tags=("team",)),
    )
    run = run_audit(config, collectors=collectors, rules=[], today=date(2025, 3, 1), classifiers=())
    return dataclasses.replace(run, run_id=RUN_ID, started_at=STARTED_AT, finished_at=FINISHED_AT)


def make_rule(rule_id: str, violations: list[Violation] | None, severity: Severity = Severity.HIGH) -> Rule:
    return Rule(
        id=rule_id,
        title="AI spend carries an owner",
        severity=severity,
        checks="Every AI spend line reaches an owner.",
        why="Spend with no owner cannot be charged back.",
        remediation="Tag the resource with team.",
        limits="Sees only the spend in the configured exports.",
        check=lambda context: violations,
        samples=(),
    )


def estate_lines() -> list[SpendLine]:
    """Spend where naive rounding of each part would not add up to the rounded total."""
    return [
        spend("7802.465", {"team": "search"}, model="anthropic.claude-3-5-sonnet"),
        spend("3000.00", None, resource_id="arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-haiku"),
        spend("1000.00", {"env": "prod"}),
        spend("543.205", {"team": ""}),
    ]


def estate_run(**options) -> AuditRun:
    export_row = Location("exports/focus-2025-02.csv", 5)
    findings_rule = make_rule(
        "billing.unattributed_spend",
        [
            Violation("line-b", "AI spend line line-b has no owner tag.", evidence={"amount": Decimal("3000.00")}),
            Violation("line-c", "AI spend line line-c has no owner tag.", severity=Severity.MEDIUM),
            Violation("line-d", "AI spend line line-d has an empty owner tag.", location=export_row),
        ],
    )
    accepted = Finding("billing.unattributed_spend", Severity.HIGH, "line-d", "", "", location=export_row).fingerprint
    rules = [
        findings_rule,
        make_rule("billing.focus_present", []),
        make_rule("aws.invocation_logging", None),
    ]
    suppressions = [SuppressionRule(accepted, "shared sandbox, split by hand", date(2025, 12, 31))]
    return audit(estate_lines(), rules=rules, suppressions=suppressions, **options)


def partial_outcome() -> CollectorOutcome:
    gap = ScopeGap("exports/focus-2025-03.csv", "file not found")
    return outcome(gaps=[gap], skipped=2)


def round_trip(result: dict) -> dict:
    return json.loads(dumps_result(result))


# The JSON result and its schema


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(load_schema())


@pytest.mark.parametrize(
    "run_factory",
    [
        pytest.param(estate_run, id="estate"),
        pytest.param(lambda: audit(estate_lines(), collector_outcome=partial_outcome()), id="partial"),
        pytest.param(lambda: audit([]), id="empty"),
    ],
)
def test_result_validates_against_schema(run_factory):
    result = round_trip(build_result(run_factory()))

    jsonschema.Draft202012Validator(load_schema()).validate(result)


def test_result_with_asset_validates_against_schema():
    asset = Asset(
        kind="aws.bedrock.application_profile",
        id="arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123",
        provider="aws",
        scope="111122223333",
        tags=Tags.from_mapping({"Team": "search"}),
        attributes={"model": "anthropic.claude-3-haiku", "created": DAY, "capacity": Decimal("2.5"), "regions": {"us-east-1"}},
        source=SourceRef("snapshots/aws/bedrock.json"),
    )
    result = round_trip(build_result(audit(estate_lines(), assets=[asset])))

    jsonschema.Draft202012Validator(load_schema()).validate(result)
    assert result["inventory"]["assets"][0]["attributes"] == {
        "capacity": "2.5",
        "created": "2025-02-01T00:00:00Z",
        "model": "anthropic.claude-3-haiku",
        "regions": ["us-east-1"],
    }


def test_result_top_level():
    result = build_result(estate_run())

    assert result["schema_version"] == "1"
    assert result["tool"] == {"name": "shadowmap", "version": result["tool"]["version"]}
    assert result["run"] == {
        "id": RUN_ID,
        "label": "scan",
        "started_at": "2025-03-01T12:00:00Z",
        "finished_at": "2025-03-01T12:00:04Z",
        "organisation": "Example Org",
        "config_path": "/audits/audit.yaml",
        "complete": True,
    }


def test_result_coverage_exact_figures():
    coverage = build_result(estate_run())["coverage"]

    assert list(coverage) == ["USD"]
    usd = coverage["USD"]
    assert usd["total"] == "12345.670"
    assert usd["attributed"] == "7802.465"
    assert usd["unattributed"] == "4543.205"
    assert usd["line_count"] == 4
    assert usd["by_owner"] == {"search": "7802.465"}
    assert usd["by_reason"] == {"no_owner_tag": "1000.00", "owner_tag_empty": "543.205", "untagged": "3000.00"}
    assert usd["by_provider"] == {
        "aws": {"total": "12345.670", "attributed": "7802.465", "unattributed": "4543.205", "line_count": 4}
    }
    assert usd["by_model"]["anthropic.claude-3-5-sonnet"]["attributed"] == "7802.465"
    assert usd["largest_unattributed"][0]["amount"] == "3000.00"
    assert usd["largest_unattributed"][0]["reason"] == "untagged"


def test_result_coverage_reason_sentences():
    usd = build_result(estate_run())["coverage"]["USD"]

    assert usd["reasons"] == {
        "no_owner_tag": REASONS["no_owner_tag"],
        "owner_tag_empty": REASONS["owner_tag_empty"],
        "untagged": REASONS["untagged"],
    }


def test_unregistered_reason_gets_placeholder_sentence():
    assert reason_sentence("made_up") == "No description is registered for the reason code 'made_up'."


def test_result_money_never_uses_exponent():
    result = build_result(audit([spend("0.0000001", currency="EUR"), spend("1E+2", currency="EUR")]))

    assert result["coverage"]["EUR"]["total"] == "100.0000001"
    assert result["coverage"]["EUR"]["unattributed"] == "100.0000001"
    amounts = [line["amount"] for line in result["inventory"]["spend_lines"]]
    assert amounts == ["0.0000001", "100"]


def test_result_currencies_kept_apart():
    result = build_result(audit([spend("10.00", currency="USD"), spend("9.00", currency="EUR")]))

    assert list(result["coverage"]) == ["EUR", "USD"]
    assert result["coverage"]["EUR"]["total"] == "9.00"
    assert result["coverage"]["USD"]["total"] == "10.00"


def test_result_spend_line_times_in_utc():
    line = spend("1.00")
    line.period_start = datetime(2025, 2, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))

    result = build_result(audit([line]))

    spend_line = result["inventory"]["spend_lines"][0]
    assert spend_line["period_start"] == "2025-02-01T00:00:00Z"
    assert spend_line["period_end"] == "2025-02-02T00:00:00Z"


def test_result_spend_lines_carry_attribution():
    spend_lines = build_result(estate_run())["inventory"]["spend_lines"]

    attributions = [line["attribution"] for line in spend_lines]
    assert attributions == [
        {"owner": "search", "via": "tag:team", "reason": None},
        {"owner": None, "via": None, "reason": "untagged"},
        {"owner": None, "via": None, "reason": "no_owner_tag"},
        {"owner": None, "via": None, "reason": "owner_tag_empty"},
    ]
    assert spend_lines[0]["amount"] == "7802.465"
    assert spend_lines[0]["tags"] == {"values": {"team": "search"}, "original_keys": {"team": "team"}}


def test_result_findings_sorted_and_counted():
    findings = build_result(estate_run())["findings"]

    assert [(item["severity"], item["subject"]) for item in findings["items"]] == [
        ("high", "line-b"),
        ("high", "line-d"),
        ("medium", "line-c"),
    ]
    assert findings["summary"] == {
        "total": 3,
        "active": 2,
        "suppressed": 1,
        "by_severity": {"critical": 0, "high": 1, "medium": 1, "low": 0, "info": 0},
    }
    assert findings["items"][1]["suppressed"] == {"reason": "shared sandbox, split by hand", "expires": "2025-12-31"}
    assert findings["items"][0]["evidence"] == {"amount": "3000.00"}


def test_result_rules_status_and_counts():
    rules = build_result(estate_run())["rules"]

    assert [(rule["id"], rule["status"], rule["finding_count"]) for rule in rules] == [
        ("aws.invocation_logging", "not_applicable", 0),
        ("billing.focus_present", "pass", 0),
        ("billing.unattributed_spend", "fail", 3),
    ]
    assert rules[0]["remediation"] == "Tag the resource with team."


def test_result_collectors_and_completeness():
    result = build_result(audit(estate_lines(), collector_outcome=partial_outcome()))

    assert result["run"]["complete"] is False
    assert result["collectors"] == [
        {
            "collector": "focus",
            "source": "export",
            "status": "partial",
            "scopes_seen": ["exports/focus-2025-02.csv"],
            "scopes_not_seen": [{"scope": "exports/focus-2025-03.csv", "reason": "file not found"}],
            "skipped_rows": [
                {"location": "exports/focus-2025-02.csv", "row": 7, "reason": "invalid BilledCost 'n/a'"},
                {"location": "exports/focus-2025-02.csv", "row": 8, "reason": "invalid BilledCost 'n/a'"},
            ],
            "skipped_row_count": 2,
            "errors": [],
            "notes": [],
            "asset_count": 0,
            "spend_line_count": 4,
        }
    ]


def test_write_json_is_stable(tmp_path):
    run = estate_run()
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"

    write_json(run, first)
    write_json(run, second)

    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text.index('"collectors"') < text.index('"coverage"') < text.index('"findings"')


# Loading a stored result


def test_load_result_reads_written_result(tmp_path):
    path = tmp_path / "report.json"
    written = write_json(estate_run(), path)

    assert load_result(path) == round_trip(written)


def test_load_result_rejects_other_json(tmp_path):
    path = tmp_path / "package.json"
    path.write_text('{"name": "left-pad", "version": "1.3.0"}', encoding="utf-8")

    with pytest.raises(InputError) as raised:
        load_result(path)

    message = str(raised.value)
    assert message == (
        f"{path}: not a shadowmap result (no tool.name 'shadowmap' at the top level); "
        "pass a result file written by `shadowmap scan`"
    )
    assert "\n" not in message


def test_load_result_rejects_invalid_json(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{"tool": ', encoding="utf-8")

    with pytest.raises(InputError) as raised:
        load_result(path)

    assert str(raised.value) == f"{path}: not a shadowmap result (invalid JSON at line 1 column 10: Expecting value)"


def test_load_result_rejects_schema_violation(tmp_path):
    result = round_trip(build_result(estate_run()))
    result["coverage"]["USD"]["total"] = "12,345.67"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(result), encoding="utf-8")

    with pytest.raises(InputError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f"{path}: invalid shadowmap result at $.coverage.USD.total: '12,345.67' does not have the expected form"
    )


def test_load_result_rejects_other_schema_version(tmp_path):
    result = round_trip(build_result(estate_run()))
    result["schema_version"] = "2"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(result), encoding="utf-8")

    with pytest.raises(InputError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f"{path}: shadowmap result schema version '2' is not supported; "
        "this version of shadowmap reads version '1'"
    )


def test_load_result_missing_file(tmp_path):
    path = tmp_path / "missing.json"

    with pytest.raises(InputError) as raised:
        load_result(path)

    assert str(raised.value) == f"{path}: result file not found; pass an existing file"


# The HTML report


def split_shown(html: str) -> tuple[str, str, str]:
    """Return the attributed, unattributed and total amounts of the first currency's headline."""
    def shown(css_class: str) -> str:
        return re.search(rf'class="{css_class}">([^<]*)<', html).group(1)

    return shown("attributed-amount"), shown("unattributed-amount"), shown("total-amount")


def test_html_headline_and_reconciled_split():
    html = render_html(build_result(estate_run()))

    assert "63.2% of USD 12,345.67 AI spend is attributed." in html
    assert split_shown(html) == ("USD 7,802.47", "USD 4,543.20", "USD 12,345.67")


def test_html_split_reconciles_half_cents():
    run = audit([spend("0.005", {"team": "search"}), spend("0.005")])

    html = render_html(build_result(run))

    attributed, unattributed, total = split_shown(html)
    assert (attributed, unattributed, total) == ("USD 0.01", "USD 0.00", "USD 0.01")
    assert Decimal(attributed[4:]) + Decimal(unattributed[4:]) == Decimal(total[4:])


def test_html_shows_run_identity():
    html = render_html(build_result(estate_run()))

    assert "AI spend attribution: Example Org" in html
    assert RUN_ID in html
    assert "started 2025-03-01 12:00:00 UTC" in html


@pytest.mark.parametrize(
    ("amounts", "headline"),
    [
        (("10.00", "-10.00"), "AI spend in USD nets to zero, so there is no attributed share to report."),
        (
            ("1.00", "-6.00"),
            "AI spend in USD nets to USD -5.00 because negative amounts (credits, refunds, corrections) exceed charges, so there is no attributed share to report.",
        ),
        (
            ("10.00", "-2.00"),
            "Negative amounts make one part of the USD AI spend negative, so there is no attributed share to report: "
            "USD 10.00 attributed and USD -2.00 unattributed of USD 8.00.",
        ),
    ],
    ids=["zero", "negative", "negative-part"],
)
def test_html_headline_without_meaningful_share(amounts, headline):
    attributed, unattributed = amounts
    run = audit([spend(attributed, {"team": "search"}), spend(unattributed)])

    html = render_html(build_result(run))

    assert f'<p class="headline">{headline}</p>' in html
    assert "% of USD" not in html


def test_html_shows_provider_reason_and_owner():
    html = render_html(build_result(estate_run()))

    assert REASONS["untagged"] in html
    assert "<code>untagged</code>" in html
    assert "<td>search</td><td class=\"amount\">USD 7,802.47</td>" in html
    assert "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-haiku" in html
    assert "AI spend line line-b has no owner tag." in html


def test_html_groups_owners_beyond_top_twenty():
    lines = [spend(f"{100 - index}.00", {"team": f"team-{index:02d}"}) for index in range(22)]

    html = render_html(build_result(audit(lines)))

    assert "<td>team-19</td>" in html
    assert "<td>team-20</td>" not in html
    assert '<td class="muted">2 other owners</td><td class="amount">USD 159.00</td>' in html


def test_html_lists_only_active_findings():
    html = render_html(build_result(estate_run()))

    assert "AI spend line line-b has no owner tag." in html
    assert "AI spend line line-c has no owner tag." in html
    assert "AI spend line line-d has an empty owner tag." not in html


def test_html_warns_of_partial_collector_near_headline():
    html = render_html(build_result(audit(estate_lines(), collector_outcome=partial_outcome())))

    warning = "Incomplete inventory: 1 partial of 1 collector, so figures cover only what was seen."
    assert warning in html
    assert html.index(warning) < html.index('class="headline"')
    assert "These figures cover only what the collectors could see" in html
    assert "<code>exports/focus-2025-03.csv</code> (file not found)" in html
    assert "2 rows skipped" in html
    assert "row 8: invalid BilledCost &#39;n/a&#39;" in html


def test_html_complete_run_has_no_warning():
    html = render_html(build_result(estate_run()))

    assert "Incomplete inventory" not in html
    assert 'role="alert"' not in html


def test_html_escapes_hostile_strings():
    lines = [spend("5.00", resource_id=HOSTILE), spend("1.00", {"team": HOSTILE})]
    rule = make_rule("billing.unattributed_spend", [Violation(HOSTILE, f"Resource {HOSTILE} has no owner.")])
    gap = ScopeGap(HOSTILE, HOSTILE)

    html = render_html(build_result(audit(lines, collector_outcome=outcome(gaps=[gap]), rules=[rule], organisation=HOSTILE)))

    assert HOSTILE not in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_is_self_contained():
    html = render_html(build_result(audit(estate_lines(), collector_outcome=partial_outcome())))

    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert "<link" not in html
    assert "<img" not in html
    assert "src=" not in html
    assert "url(" not in html
    assert "@import" not in html
    assert "default-src 'none'" in html


def test_html_without_spend():
    html = render_html(build_result(audit([])))

    assert "No AI spend lines were found." in html


def test_html_from_stored_result_matches(tmp_path):
    run = estate_run()
    json_path = tmp_path / "report.json"
    html_path = tmp_path / "report.html"
    write_json(run, json_path)

    write_html(load_result(json_path), html_path)

    assert html_path.read_text(encoding="utf-8") == render_html(build_result(run))


# The terminal summary


def summary_text(result: dict) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_summary(result, console)
    return console.file.getvalue()


def test_summary_lines_for_small_run():
    lines = [
        spend("120.00", {"team": "search"}),
        spend("60.00"),
        spend("20.00", {"env": "prod"}),
        spend("0.50", {"team": ""}),
    ]
    rule = make_rule(
        "billing.unattributed_spend",
        [Violation("line-b", "No owner."), Violation("line-c", "No owner.", severity=Severity.MEDIUM)],
    )
    run = audit(lines, collector_outcome=partial_outcome(), rules=[rule])

    assert summary_text(build_result(run)).splitlines() == [
        "Incomplete inventory: 1 partial of 1 collector, so figures cover only what was seen.",
        "59.9% of USD 200.50 AI spend is attributed.",
        "  billing period: 1 Feb 2025",
        "  attributed USD 120.00, unattributed USD 80.50, total USD 200.50",
        "  by source: FOCUS bills USD 200.50 (59.9% attributed)",
        "  top reasons: untagged USD 60.00, no_owner_tag USD 20.00, owner_tag_empty USD 0.50",
        "Findings: 1 high, 1 medium",
        "Collector focus partial; 1 scope not seen, first exports/focus-2025-03.csv (file not found); "
        "2 rows skipped",
    ]


def test_summary_lists_three_reasons_at_most():
    result = round_trip(build_result(estate_run()))
    usd = result["coverage"]["USD"]
    usd["by_reason"]["agent"] = "0.01"
    usd["unattributed"] = "4543.215"
    usd["total"] = "12345.680"

    text = summary_text(result)

    # The attributed part takes the tied half cent of the split, so the reasons add up to
    # USD 4,543.21 and owner_tag_empty (543.205) is rounded down.
    assert "  attributed USD 7,802.47, unattributed USD 4,543.21, total USD 12,345.68\n" in text
    assert "  top reasons: untagged USD 3,000.00, no_owner_tag USD 1,000.00, owner_tag_empty USD 543.20\n" in text
    assert "agent" not in text


def test_summary_for_complete_run_without_spend():
    assert summary_text(build_result(audit([]))).splitlines() == [
        "No AI spend lines were found.",
        "Findings: none",
    ]


def test_summary_counts_suppressed_findings():
    assert "Findings: 1 high, 1 medium (1 suppressed)\n" in summary_text(build_result(estate_run()))


def test_summary_failed_collector_shows_first_error():
    failed = CollectorOutcome(collector="focus", source="export", errors=["exports/: no file matches *.parquet"])

    text = summary_text(build_result(audit([], collector_outcome=failed)))

    assert text.splitlines()[0] == "Incomplete inventory: 1 failed of 1 collector, so figures cover only what was seen."
    assert text.splitlines()[-1] == "Collector focus failed; error: exports/: no file matches *.parquet"


def test_summary_prints_markup_literally():
    result = round_trip(build_result(audit([spend("1.00", {"team": "[bold]search[/bold]"})])))
    result["collectors"][0]["status"] = "partial"
    result["collectors"][0]["scopes_not_seen"] = [{"scope": "[red]eu-west-1[/red]", "reason": "AccessDenied"}]

    text = summary_text(result)

    assert "first [red]eu-west-1[/red] (AccessDenied)" in text


def test_html_lists_collector_notes():
    noted = outcome()
    noted.notes.append("The cost report leaves out Priority Tier spend.")
    html = render_html(build_result(audit(estate_lines(), collector_outcome=noted)))
    assert "<h3>Notes from the collectors</h3>" in html
    assert "What the sources could not show" not in html
    assert "<code>focus</code>: The cost report leaves out Priority Tier spend.</li>" in html


# One rounded figure per quantity

AOAI_ACCOUNT = (
    "/subscriptions/7d6e5f4a-3b2c-4d1e-8f9a-0b1c2d3e4f5a/resourcegroups/platform/providers/"
    "microsoft.cognitiveservices/accounts/larkspur-shared-aoai"
)


def section(html: str, heading: str) -> str:
    """Return the HTML from a table heading to the end of its table."""
    start = html.index(f"<h3>{heading}</h3>")
    return html[start : html.index("</table>", start)]


def amount_cells(html: str) -> list[str]:
    return re.findall(r'<td class="amount">([A-Z]{3} [^<]*)</td>', html)


def shown_sum(texts: list[str]) -> Decimal:
    return sum((Decimal(text[4:].replace(",", "")) for text in texts), Decimal(0))


def eur_lines() -> list[SpendLine]:
    """Spend where each reason rounded on its own would not add up to the headline."""
    return [
        spend("4349.8526419411", {"team": "support"}, currency="EUR", provider="azure", resource_id=AOAI_ACCOUNT),
        spend("999.264", None, currency="EUR", provider="azure", resource_id=AOAI_ACCOUNT),
        spend(
            "656.1998580589",
            {"env": "prod"},
            currency="EUR",
            provider="azure",
            resource_id=f"{AOAI_ACCOUNT}/deployments/gpt-4o-ptu",
        ),
    ]


def provider_lines() -> list[SpendLine]:
    """Spend over six providers where each cell rounded on its own breaks the column sums."""
    split = [
        ("aws", "claims", "1232.392", "2453.1400"),
        ("openai", "support", "1217.6540", "779.4850"),
        ("anthropic", "research", "1020.91700", "491.09980"),
        ("gcp", "search", "672.3045", "524.4990"),
        ("cursor", None, None, "120.00"),
        ("midjourney", None, None, "30.00"),
    ]
    lines = []
    for provider, team, attributed, unattributed in split:
        if attributed:
            lines.append(spend(attributed, {"team": team}, provider=provider))
        lines.append(spend(unattributed, None, provider=provider, resource_id=f"{provider}-shared"))
    return lines


def test_html_reason_rows_add_up_to_headline():
    html = render_html(build_result(audit(eur_lines())))

    reasons = amount_cells(section(html, "Unattributed spend by reason"))
    assert split_shown(html) == ("EUR 4,349.85", "EUR 1,655.47", "EUR 6,005.32")
    assert reasons == ["EUR 999.27", "EUR 656.20"]
    assert shown_sum(reasons) == Decimal("1655.47")


def test_html_source_shows_its_reason_figure():
    html = render_html(build_result(audit(eur_lines())))

    sources = amount_cells(section(html, "Largest unattributed sources"))
    assert sources == ["EUR 999.27", "EUR 656.20"]


def test_summary_reasons_match_html_figures():
    text = summary_text(build_result(audit(eur_lines())))

    assert "  attributed EUR 4,349.85, unattributed EUR 1,655.47, total EUR 6,005.32\n" in text
    assert "  top reasons: untagged EUR 999.27, no_owner_tag EUR 656.20\n" in text


def test_html_provider_columns_add_up_to_headline():
    html = render_html(build_result(audit(provider_lines())))

    rows = re.findall(
        r'<td>([a-z]+)</td>\s*<td class="amount">([^<]*)</td>\s*<td class="amount">([^<]*)</td>'
        r'\s*<td class="amount">([^<]*)</td>',
        section(html, "Spend by provider"),
    )
    assert split_shown(html) == ("USD 4,143.27", "USD 4,398.22", "USD 8,541.49")
    assert rows == [
        ("aws", "USD 1,232.39", "USD 2,453.14", "USD 3,685.53"),
        ("openai", "USD 1,217.65", "USD 779.48", "USD 1,997.13"),
        ("anthropic", "USD 1,020.92", "USD 491.10", "USD 1,512.02"),
        ("gcp", "USD 672.31", "USD 524.50", "USD 1,196.81"),
        ("cursor", "USD 0.00", "USD 120.00", "USD 120.00"),
        ("midjourney", "USD 0.00", "USD 30.00", "USD 30.00"),
    ]
    assert shown_sum([row[1] for row in rows]) == Decimal("4143.27")
    assert shown_sum([row[2] for row in rows]) == Decimal("4398.22")
    assert shown_sum([row[3] for row in rows]) == Decimal("8541.49")


def test_html_owner_rows_add_up_to_attributed():
    html = render_html(build_result(audit(provider_lines())))

    owners = amount_cells(section(html, "Attributed spend by owner"))
    assert owners == ["USD 1,232.39", "USD 1,217.65", "USD 1,020.92", "USD 672.31"]
    assert shown_sum(owners) == Decimal("4143.27")


def test_html_sources_add_up_when_all_listed():
    html = render_html(build_result(audit(provider_lines())))

    sources = amount_cells(section(html, "Largest unattributed sources"))
    assert sources == ["USD 2,453.14", "USD 779.48", "USD 524.50", "USD 491.10", "USD 120.00", "USD 30.00"]
    assert shown_sum(sources) == Decimal("4398.22")


def test_listed_sources_share_reason_with_unlisted_rest():
    lines = [spend("0.005", None, resource_id=f"key-{index:02d}") for index in range(12)]
    lines.append(spend("1.00", {"team": "search"}))

    figures = currency_figures(build_result(audit(lines)))[0]

    assert [row.text for row in figures.reasons] == ["USD 0.06"]
    assert len(figures.largest_unattributed) == 10
    assert [row.resource_id for row in figures.largest_unattributed[:5]] == [f"key-{index:02d}" for index in range(5)]
    assert [row.text for row in figures.largest_unattributed] == ["USD 0.01"] * 5 + ["USD 0.00"] * 5


def test_headline_unit_goes_to_larger_remainder():
    lines = [spend("0.005", {"team": "search"}), spend("0.009")]

    html = render_html(build_result(audit(lines)))

    assert split_shown(html) == ("USD 0.00", "USD 0.01", "USD 0.01")


# The billing period


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "1–30 November 2026"),
        ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "1–31 December 2026"),
        ("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", "1–29 February 2028"),
        ("2026-11-03T00:00:00Z", "2026-11-29T00:00:00Z", "3 Nov 2026 – 28 Nov 2026"),
        ("2026-11-03T08:00:00Z", "2026-11-28T17:30:00Z", "3 Nov 2026 – 28 Nov 2026"),
        ("2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z", "1 Oct 2026 – 30 Nov 2026"),
        ("2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z", "1 Nov 2026 – 29 Nov 2026"),
        ("2026-12-30T00:00:00Z", "2027-01-02T00:00:00Z", "30 Dec 2026 – 1 Jan 2027"),
        ("2026-09-03T00:00:00Z", "2026-09-04T00:00:00Z", "3 Sep 2026"),
        ("2026-09-03T10:00:00Z", "2026-09-03T10:00:00Z", "3 Sep 2026"),
        ("2026-11-03T00:00:00Z", None, "3 Nov 2026 – unknown end"),
        (None, "2026-11-29T00:00:00Z", "unknown start – 28 Nov 2026"),
        (None, None, None),
    ],
)
def test_billing_period_text(start, end, shown):
    assert billing_period_text({"start": start, "end": end}) == shown


def november_lines() -> list[SpendLine]:
    lines = [spend("120.00", {"team": "search"}), spend("80.00")]
    for line in lines:
        line.period_start = datetime(2026, 11, 1, tzinfo=timezone.utc)
        line.period_end = datetime(2026, 12, 1, tzinfo=timezone.utc)
    return lines


def test_html_shows_billing_period_under_headline():
    html = render_html(build_result(audit(november_lines())))

    assert '<p class="period">Billing period: 1–30 November 2026</p>' in html
    assert html.index('class="headline"') < html.index('class="period"') < html.index('class="split"')


def test_summary_shows_billing_period():
    lines = summary_text(build_result(audit(november_lines()))).splitlines()

    assert lines[:3] == [
        "60.0% of USD 200.00 AI spend is attributed.",
        "  billing period: 1–30 November 2026",
        "  attributed USD 120.00, unattributed USD 80.00, total USD 200.00",
    ]


# Top findings and counts


def finding_rows(html: str) -> list[tuple[str, str]]:
    """Return (rule id, subject) of each row of the top findings table."""
    row = r'<td><code>([^<]+)</code></td>\s*<td>[^<]*<br><span class="muted">Subject <code>([^<]+)</code>'
    return re.findall(row, html)


def test_html_top_findings_by_severity_then_amount():
    findings_rule = make_rule(
        "billing.unattributed_spend",
        [
            Violation("line-a", "Line line-a has no owner.", evidence={"amount": Decimal("20.00")}),
            Violation("line-b", "Line line-b has no owner.", evidence={"amount": Decimal("300.00")}),
            Violation("line-c", "Line line-c has no owner."),
            Violation("line-d", "Line line-d has no owner.", evidence={"amount": "n/a"}),
            Violation(
                "line-e", "Line line-e has no owner.", severity=Severity.MEDIUM, evidence={"amount": Decimal("5000")}
            ),
            Violation("line-f", "Line line-f has no owner.", severity=Severity.CRITICAL),
        ],
    )
    other_rule = make_rule(
        "aws.bedrock.system-profile-use",
        [Violation("profile-a", "Profile profile-a is a system profile.", evidence={"amount": Decimal("20.00")})],
    )

    html = render_html(build_result(audit(estate_lines(), rules=[findings_rule, other_rule])))

    assert finding_rows(html) == [
        ("billing.unattributed_spend", "line-f"),
        ("billing.unattributed_spend", "line-b"),
        ("aws.bedrock.system-profile-use", "profile-a"),
        ("billing.unattributed_spend", "line-a"),
        ("billing.unattributed_spend", "line-c"),
        ("billing.unattributed_spend", "line-d"),
        ("billing.unattributed_spend", "line-e"),
    ]


@pytest.mark.parametrize(
    ("count", "sentence"),
    [
        (11, "1 more active finding not listed here: see the JSON result."),
        (12, "2 more active findings not listed here: see the JSON result."),
    ],
)
def test_html_counts_unlisted_findings(count, sentence):
    violations = [Violation(f"line-{index:02d}", "No owner.") for index in range(count)]
    rule = make_rule("billing.unattributed_spend", violations)

    html = render_html(build_result(audit(estate_lines(), rules=[rule])))

    assert f'<p class="muted">{sentence}</p>' in html


# Spend by source family


def family_lines() -> dict[str, list[SpendLine]]:
    """Spend from four collector families, the card spend on OpenAI among them, where each cell
    rounded on its own would break the column sums."""
    split = [
        ("billing.focus", "aws", "claims", "1904.6965", "2977.6390"),
        ("openai", "openai", "support", "1067.6540", "679.4850"),
        ("anthropic", "anthropic", "research", "920.91700", "471.09980"),
        ("expense", "openai", "search", "250.00", "270.00"),
    ]
    return {
        collector: [
            spend(attributed, {"team": team}, provider=provider),
            spend(unattributed, None, provider=provider, resource_id=f"{collector}-shared"),
        ]
        for collector, provider, team, attributed, unattributed in split
    }


def source_rows(html: str) -> list[tuple[str, ...]]:
    """Return (name, family, attributed, unattributed, total, share) of each row of the source table."""
    row = (
        r'<td>([^<]*) <code>([^<]*)</code></td>\s*<td class="amount">([^<]*)</td>\s*<td class="amount">([^<]*)</td>'
        r'\s*<td class="amount">([^<]*)</td>\s*<td class="share">([^<]*)</td>'
    )
    return re.findall(row, section(html, "Spend by source"))


def test_result_coverage_by_source_exact_figures():
    usd = build_result(audit_by_collector(family_lines()))["coverage"]["USD"]

    assert usd["by_source"] == {
        "anthropic": {"total": "1392.01680", "attributed": "920.91700", "unattributed": "471.09980", "line_count": 2},
        "billing": {"total": "4882.3355", "attributed": "1904.6965", "unattributed": "2977.6390", "line_count": 2},
        "expense": {"total": "520.00", "attributed": "250.00", "unattributed": "270.00", "line_count": 2},
        "openai": {"total": "1747.1390", "attributed": "1067.6540", "unattributed": "679.4850", "line_count": 2},
    }
    assert sum(Decimal(figures["total"]) for figures in usd["by_source"].values()) == Decimal(usd["total"])
    assert usd["by_provider"]["openai"]["total"] == "2267.1390"


def test_result_with_by_source_validates_against_schema():
    result = round_trip(build_result(audit_by_collector(family_lines())))

    jsonschema.Draft202012Validator(load_schema()).validate(result)


def test_html_source_columns_add_up_to_headline():
    html = render_html(build_result(audit_by_collector(family_lines())))

    rows = source_rows(html)
    assert split_shown(html) == ("USD 4,143.27", "USD 4,398.22", "USD 8,541.49")
    assert rows == [
        ("FOCUS billing exports", "billing", "USD 1,904.70", "USD 2,977.64", "USD 4,882.34", "39.0%"),
        ("OpenAI organisation", "openai", "USD 1,067.65", "USD 679.48", "USD 1,747.13", "61.1%"),
        ("Anthropic organisation", "anthropic", "USD 920.92", "USD 471.10", "USD 1,392.02", "66.2%"),
        ("Card and expense exports", "expense", "USD 250.00", "USD 270.00", "USD 520.00", "48.1%"),
    ]
    assert shown_sum([row[2] for row in rows]) == Decimal("4143.27")
    assert shown_sum([row[3] for row in rows]) == Decimal("4398.22")
    assert shown_sum([row[4] for row in rows]) == Decimal("8541.49")


def test_html_source_table_comes_before_providers():
    html = render_html(build_result(audit_by_collector(family_lines())))

    assert html.index("<h3>Spend by source</h3>") < html.index("<h3>Spend by provider</h3>")


def test_html_source_without_meaningful_share():
    lines = {"billing.focus": [spend("10.00", {"team": "search"})], "expense": [spend("-4.00")]}

    html = render_html(build_result(audit_by_collector(lines)))

    assert source_rows(html) == [
        ("FOCUS billing exports", "billing", "USD 10.00", "USD 0.00", "USD 10.00", "100.0%"),
    ]
    assert (
        '<td>Card and expense exports <code>expense</code></td>\n'
        '        <td class="amount">USD 0.00</td>\n'
        '        <td class="amount">USD -4.00</td>\n'
        '        <td class="amount">USD -4.00</td>\n'
        '        <td class="share"><span class="muted">not meaningful</span></td>'
    ) in html


def test_html_unknown_family_shown_by_its_id():
    html = render_html(build_result(audit_by_collector({"mlflow.runs": [spend("3.00")]})))

    assert '<td><code>mlflow</code></td>' in section(html, "Spend by source")


def test_summary_lists_sources_largest_first():
    text = summary_text(build_result(audit_by_collector(family_lines())))

    assert (
        "  by source: FOCUS bills USD 4,882.34 (39.0% attributed), OpenAI organisation USD 1,747.13 "
        "(61.1% attributed), Anthropic organisation USD 1,392.02 (66.2% attributed), cards and expenses "
        "USD 520.00 (48.1% attributed)\n"
    ) in text


def test_summary_source_without_meaningful_share():
    lines = {"billing.focus": [spend("10.00", {"team": "search"})], "expense": [spend("-4.00")]}

    text = summary_text(build_result(audit_by_collector(lines)))

    assert (
        "  by source: FOCUS bills USD 10.00 (100.0% attributed), "
        "cards and expenses USD -4.00 (attributed share not meaningful)\n"
    ) in text


def test_result_written_before_by_source_still_renders(tmp_path):
    result = round_trip(build_result(audit_by_collector(family_lines())))
    del result["coverage"]["USD"]["by_source"]
    path = tmp_path / "report.json"
    path.write_text(dumps_result(result), encoding="utf-8")

    loaded = load_result(path)
    html = render_html(loaded)
    text = summary_text(loaded)

    assert currency_figures(loaded)[0].source_families == []
    assert "Spend by source" not in html
    assert "<h3>Spend by provider</h3>" in html
    assert "by source" not in text
    assert "  attributed USD 4,143.27, unattributed USD 4,398.22, total USD 8,541.49\n" in text
