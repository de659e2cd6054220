"""`shadowmap code` on AI calls: the rules it runs, its text and SARIF output, and the policy."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from collectors.code.check import CODE_CALL_RULES
from collectors.code.pipeline import FileScanner, ScanOptions, SourceFile
from rules import all_rules
from scanner.cli import main

SARIF_SCHEMA = Path(__file__).parent / "data" / "code" / "sarif-schema-2.1.0.json"

APP = '''import boto3
from openai import OpenAI

bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")


def triage(text, model_id):
    bedrock.converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0", messages=[])
    bedrock.converse(modelId=model_id, messages=[])
    return OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[], user="claims")
'''


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "app.py").write_text(APP)
    return CliRunner()


def invoke(runner, *arguments):
    return runner.invoke(main, list(arguments), catch_exceptions=False)


def test_rules_of_other_families_that_judge_calls_exist():
    ids = {rule.id for rule in all_rules()}
    assert set(CODE_CALL_RULES) <= ids


def test_text_report_lists_call_findings(runner):
    result = invoke(runner, "code", "repo", "--fail-on", "medium")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "repo/app.py:8:5: medium: Bedrock call passes us.anthropic.claude-3-5-haiku-20241022-v1:0 "
        "(system-defined inference profile) as modelId, which no tag can attribute. [aws.bedrock.system-profile-use]",
        "repo/app.py:9:5: low: Bedrock call passes a modelId the code does not resolve, so whether an "
        "application inference profile attributes it is unknown. [code.bedrock.model-id-unresolved]",
        "2 findings (1 medium, 1 low) in 1 file read.",
    ]


def test_default_fail_on_high_passes_attribution_findings(runner):
    assert invoke(runner, "code", "repo").exit_code == 0


def test_gateway_policy_from_the_config(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\npolicy:\n  gateways: [ai-gateway.larkspur.example]\n")
    result = invoke(runner, "code", "repo", "--config", str(config), "--fail-on", "none")
    gateway_lines = [line for line in result.stdout.splitlines() if line.endswith("[code.gateway.direct-call]")]
    assert [line.split(": ")[0] for line in gateway_lines] == ["repo/app.py:8:5", "repo/app.py:9:5", "repo/app.py:10:12"]


def test_sarif_carries_call_findings(runner, tmp_path):
    out = tmp_path / "calls.sarif"
    invoke(runner, "code", "repo", "--format", "sarif", "--output", str(out), "--fail-on", "none")
    sarif = json.loads(out.read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    run = sarif["runs"][0]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]) for r in run["results"]] == [
        ("aws.bedrock.system-profile-use", {"startLine": 8, "startColumn": 5}),
        ("code.bedrock.model-id-unresolved", {"startLine": 9, "startColumn": 5}),
    ]
    assert [rule["properties"] for rule in run["tool"]["driver"]["rules"]] == [{"tags": ["ai", "cost-attribution"]}] * 2
    assert run["results"][0]["properties"]["model_id"] == "us.anthropic.claude-3-5-haiku-20241022-v1:0"


def test_analysers_setting_limits_the_scan(runner, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  code:\n    analysers: [keys]\n")
    result = invoke(runner, "code", "repo", "--config", str(config))
    assert result.stdout == "0 findings in 1 file read.\n"


def test_call_analysers_skip_data_files():
    scanner = FileScanner(ScanOptions(analysers=("python-calls", "js-calls")))
    result = scanner.scan([
        SourceFile("repo", "data/bedrock-runtime.json", content=b'{"service": "bedrock-runtime", "openai": true}'),
        SourceFile("repo", "app.py", content=b"import openai\n"),
    ])
    assert result.stats.files == 2
    assert result.stats.candidate_files == 1
