"""`shadowmap code` in git modes and across runs: only added lines are reported, and finding
fingerprints do not change when lines move or when the path is typed another way."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

SYSTEM_PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
FOUNDATION_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"

OLD_CALL = '''import boto3

bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")


def triage(text):
    return bedrock.converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0", messages=[])
'''

NEW_CALL = '''

def summarise(text):
    return bedrock.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[])
'''

TERRAFORM = '''resource "aws_bedrock_inference_profile" "claims" {
  name = "claims"
  tags = { team = "claims" }
}
'''

NEW_TERRAFORM = '''
resource "aws_bedrock_inference_profile" "triage" {
  name = "triage"
  tags = { team = "claims" }
}
'''

GEMINI = """from vertexai.generative_models import GenerativeModel

GenerativeModel("gemini-1.5-pro-002").generate_content("hi")
"""

POLICY = "version: 1\npolicy:\n  required_tags: [team, cost-center]\n"


def git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(root), *arguments], check=True, capture_output=True, text=True).stdout


def init_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@larkspur.example")
    git(root, "config", "user.name", "Larkspur Dev")


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    return CliRunner()


def findings(runner, *arguments) -> list[dict]:
    result = runner.invoke(main, ["code", *arguments, "--format", "json", "--fail-on", "none"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["findings"]["items"]


@pytest.fixture
def changed_repo(tmp_path, monkeypatch):
    """A repository whose feature branch adds a call and a Terraform resource to files that
    already contain one each on main."""
    repo = tmp_path / "claims-api"
    init_repo(repo)
    (repo / "src").mkdir()
    (repo / "src" / "triage.py").write_text(OLD_CALL)
    (repo / "infra").mkdir()
    (repo / "infra" / "bedrock.tf").write_text(TERRAFORM)
    commit_all(repo, "first call")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "src" / "triage.py").write_text(OLD_CALL + NEW_CALL)
    (repo / "infra" / "bedrock.tf").write_text(TERRAFORM + NEW_TERRAFORM)
    commit_all(repo, "second call")
    (tmp_path / "audit.yaml").write_text(POLICY)
    monkeypatch.chdir(repo)
    return repo


def test_diff_base_keeps_added_call_only(runner, changed_repo):
    items = findings(runner, ".", "--diff-base", "main")
    calls = [(item["rule_id"], item["location"]["line"]) for item in items if item["rule_id"].startswith("aws.bedrock.")]
    assert calls == [("aws.bedrock.foundation-model-use", 11)]


def test_diff_base_keeps_added_resource_only(runner, changed_repo, tmp_path):
    items = findings(runner, ".", "--diff-base", "main", "--config", str(tmp_path / "audit.yaml"))
    resources = [item["location"]["line"] for item in items if item["rule_id"] == "code.terraform.ai-resource-missing-tags"]
    assert resources == [6]


def test_full_scan_reports_both_calls(runner, changed_repo):
    items = findings(runner, ".")
    calls = sorted(item["location"]["line"] for item in items if item["rule_id"].startswith("aws.bedrock."))
    assert calls == [7, 11]


@pytest.fixture
def calls_tree(tmp_path, monkeypatch):
    root = tmp_path / "calls"
    (root / "src").mkdir(parents=True)
    (root / "src" / "bedrock_calls.py").write_text(OLD_CALL + NEW_CALL)
    (root / "src" / "gemini.py").write_text(GEMINI)
    monkeypatch.chdir(root)
    return root


def test_bedrock_fingerprint_survives_inserted_lines(runner, calls_tree):
    before = {item["rule_id"]: item["fingerprint"] for item in findings(runner, ".")}
    source = calls_tree / "src" / "bedrock_calls.py"
    source.write_text("# Triage and summaries for claims.\n\n\n" + source.read_text())
    after = {item["rule_id"]: item["fingerprint"] for item in findings(runner, ".")}
    assert after["aws.bedrock.system-profile-use"] == before["aws.bedrock.system-profile-use"]
    assert after["aws.bedrock.foundation-model-use"] == before["aws.bedrock.foundation-model-use"]


def test_bedrock_subject_names_call_and_model(runner, calls_tree):
    subjects = {item["rule_id"]: item["subject"] for item in findings(runner, ".")}
    assert subjects["aws.bedrock.system-profile-use"] == f"src/bedrock_calls.py:boto3.client.converse:{SYSTEM_PROFILE}#1"
    assert subjects["aws.bedrock.foundation-model-use"] == f"src/bedrock_calls.py:boto3.client.converse:{FOUNDATION_MODEL}#1"


def fingerprints(items: list[dict]) -> dict[str, str]:
    return {f"{item['rule_id']} {item['location']['line']}": item["fingerprint"] for item in items}


def test_path_spelling_keeps_fingerprints_outside_git(runner, calls_tree):
    dotted = fingerprints(findings(runner, "."))
    absolute = fingerprints(findings(runner, str(calls_tree)))
    assert len(dotted) == 3
    assert dotted == absolute


def test_path_spelling_keeps_fingerprints_in_git(runner, calls_tree):
    init_repo(calls_tree)
    commit_all(calls_tree, "calls")
    from_top = findings(runner, ".")
    from_folder = findings(runner, str(calls_tree / "src"))
    assert len(from_top) == 3
    assert [item["subject"] for item in from_folder] == [item["subject"] for item in from_top]
    assert fingerprints(from_folder) == fingerprints(from_top)


def test_sarif_call_message_omits_location(runner, calls_tree):
    result = runner.invoke(main, ["code", ".", "--format", "sarif", "--fail-on", "none"], catch_exceptions=False)
    messages = sorted(item["message"]["text"] for item in json.loads(result.stdout)["runs"][0]["results"])
    assert messages[0] == (
        f"Bedrock call passes {FOUNDATION_MODEL} (foundation model called by its bare ID) as modelId, which no tag can attribute."
    )
    assert all("bedrock_calls.py" not in message and "gemini.py" not in message for message in messages)
