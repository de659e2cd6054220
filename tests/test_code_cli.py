"""`shadowmap code` end to end: output formats, exit codes, git modes, baselines, and no key in
any output."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from collectors.code.plugins import BASE62, HEX, URL_SAFE, fake_part
from scanner.cli import main

SARIF_SCHEMA = Path(__file__).parent / "data" / "code" / "sarif-schema-2.1.0.json"


def admin_key(seed: str) -> str:
    return "sk-" + "admin-" + fake_part(120, URL_SAFE, seed)


def project_key(seed: str) -> str:
    return "sk-" + "proj-" + fake_part(120, URL_SAFE, seed)


def anthropic_key(seed: str) -> str:
    return "sk-" + "ant-" + "api03-" + fake_part(93, URL_SAFE, seed) + "AA"


def git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(root), *arguments], check=True, capture_output=True, text=True).stdout


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@larkspur.example")
    git(root, "config", "user.name", "Larkspur Dev")


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def invoke(runner, *arguments):
    return runner.invoke(main, list(arguments), catch_exceptions=False)


@pytest.fixture
def planted(tmp_path):
    """A small tree with an admin key, a project key and an Anthropic key."""
    keys = {"admin": admin_key("cli-admin"), "project": project_key("cli-project"), "anthropic": anthropic_key("cli-ant")}
    (tmp_path / "repo" / "src").mkdir(parents=True)
    (tmp_path / "repo" / "src" / "settings.py").write_text(
        f'ADMIN = "{keys["admin"]}"\nPROJECT = "{keys["project"]}"\n'
    )
    (tmp_path / "repo" / ".env").write_text(f"ANTHROPIC_API_KEY={keys['anthropic']}\n")
    return keys


def test_text_report_lists_findings_and_fails_on_high(runner, planted):
    result = invoke(runner, "code", "repo")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"repo/src/settings.py:1:10: critical: OpenAI admin key sk-admin-…{planted['admin'][-4:]} is written in plain text in this file. [code.ai-admin-key-exposed]"
    assert lines[-1] == "3 findings (1 critical, 2 high) in 2 files read."


def test_fail_on_critical_passes_without_critical(runner, tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.py").write_text(f'K = "{project_key("only-high")}"\n')
    assert invoke(runner, "code", "repo", "--fail-on", "critical").exit_code == 0
    assert invoke(runner, "code", "repo", "--fail-on", "high").exit_code == 1


def test_clean_tree_exits_zero(runner, tmp_path):
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "a.py").write_text('OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\n')
    result = invoke(runner, "code", "clean")
    assert result.exit_code == 0
    assert result.stdout == "0 findings in 1 file read.\n"


def test_missing_only_path_is_one_error_line(runner):
    result = invoke(runner, "code", "nowhere")
    assert result.exit_code == 2
    assert result.stderr == "shadowmap: error: nowhere: path not found; pass an existing file or folder\n"


def test_missing_path_beside_a_good_one_is_a_warning(runner, planted):
    result = invoke(runner, "code", "nowhere", "repo", "--fail-on", "none")
    assert result.exit_code == 0
    assert "shadowmap: warning: code: nowhere: skipped: path not found" in result.stderr
    assert result.stdout.splitlines()[-1] == "3 findings (1 critical, 2 high) in 2 files read."


def test_json_report_holds_code_secret_assets(runner, planted, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "code", "repo", "--format", "json", "--output", str(out), "--fail-on", "none")
    assert result.exit_code == 0
    report = json.loads(out.read_text())
    assets = [asset for asset in report["inventory"]["assets"] if asset["kind"] == "code.secret"]
    assert sorted(asset["attributes"]["key_type"] for asset in assets) == ["admin", "project", "project"]
    admin = next(asset for asset in assets if asset["attributes"]["key_type"] == "admin")
    assert admin["kind"] == "code.secret"
    assert admin["provider"] == "openai"
    assert admin["scope"] == "repo"
    assert admin["id"] == f"{admin['attributes']['fingerprint']}:repo/src/settings.py:1"
    assert admin["attributes"]["redacted"] == f"sk-admin-…{planted['admin'][-4:]}"
    assert admin["attributes"]["last4"] == planted["admin"][-4:]
    assert report["findings"]["summary"]["by_severity"]["critical"] == 1


def test_sarif_validates_against_the_schema(runner, planted, tmp_path):
    out = tmp_path / "out.sarif"
    invoke(runner, "code", "repo", "--format", "sarif", "--output", str(out))
    sarif = json.loads(out.read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    results = sarif["runs"][0]["results"]
    assert sorted((r["ruleId"], r["level"]) for r in results) == [
        ("code.ai-admin-key-exposed", "error"), ("code.ai-key-exposed", "error"), ("code.ai-key-exposed", "error"),
    ]
    first = next(r for r in results if r["ruleId"] == "code.ai-admin-key-exposed")
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "repo/src/settings.py"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 10}


def test_baseline_round_trip_silences_known_keys(runner, planted, tmp_path):
    baseline = tmp_path / "secrets.baseline"
    invoke(runner, "code", "repo", "--format", "baseline", "--output", str(baseline))
    document = json.loads(baseline.read_text())
    assert sorted(document["results"]) == ["repo/.env", "repo/src/settings.py"]
    assert {entry["type"] for entries in document["results"].values() for entry in entries} == {"AI key: OpenAI", "AI key: Anthropic"}

    (tmp_path / "repo" / "new.py").write_text(f'K = "{project_key("new")}"\n')
    result = invoke(runner, "code", "repo", "--baseline", str(baseline))
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:-1]] == ["repo/new.py"]


def test_detect_secrets_baseline_with_its_own_types_silences(runner, planted, tmp_path):
    from detect_secrets.core.potential_secret import PotentialSecret

    baseline = tmp_path / ".secrets.baseline"
    baseline.write_text(json.dumps({
        "version": "1.5.0", "plugins_used": [], "filters_used": [],
        "results": {"repo/.env": [{"type": "Secret Keyword", "filename": "repo/.env", "is_verified": False, "line_number": 9,
                                   "hashed_secret": PotentialSecret.hash_secret(planted["anthropic"])}]},
    }))
    result = invoke(runner, "code", "repo", "--baseline", str(baseline), "--fail-on", "none")
    assert "repo/.env" not in result.stdout
    assert result.stdout.splitlines()[-1] == "2 findings (1 critical, 1 high) in 2 files read."


def test_broken_baseline_is_one_error_line(runner, planted, tmp_path):
    (tmp_path / "bad.baseline").write_text("{not json")
    result = invoke(runner, "code", "repo", "--baseline", "bad.baseline")
    assert result.exit_code == 2
    assert result.stderr.startswith("shadowmap: error: bad.baseline: line 1: the baseline is not valid JSON")


def test_diff_base_reports_only_added_lines(runner, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    init_repo(repo)
    old = project_key("diff-old")
    (repo / "app.py").write_text(f'OLD = "{old}"\n')
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    new = project_key("diff-new")
    (repo / "app.py").write_text(f'OLD = "{old}"\nNEW = "{new}"\n')
    (repo / "extra.py").write_text(f'X = "{admin_key("diff-extra")}"\n')
    commit_all(repo, "feature")

    result = invoke(runner, "code", "repo", "--diff-base", "main", "--fail-on", "none")
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines[:-1]] == ["repo/extra.py:1:6", "repo/app.py:2:8"]
    assert f"…{old[-4:]}" not in result.stdout


def test_diff_base_unknown_ref_is_one_error_line(runner, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    init_repo(repo)
    (repo / "a.py").write_text("print(1)\n")
    commit_all(repo, "one")
    result = invoke(runner, "code", "repo", "--diff-base", "nosuchref")
    assert result.exit_code == 2
    assert result.stderr == (
        f"shadowmap: error: --diff-base nosuchref: revision not found in {repo}; pass an existing branch, tag or commit\n"
    )


def test_diff_base_unfetched_remote_branch_says_fetch(runner, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    init_repo(repo)
    (repo / "a.py").write_text("print(1)\n")
    commit_all(repo, "one")
    git(repo, "remote", "add", "origin", "https://git.larkspur.example/claims-api.git")
    result = invoke(runner, "code", "repo", "--diff-base", "origin/main")
    assert result.exit_code == 2
    assert result.stderr == (
        f"shadowmap: error: --diff-base origin/main: revision not found in {repo}; fetch it first (`git fetch origin main`)\n"
    )


def test_diff_base_unrelated_history_says_no_common_ancestor(runner, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    init_repo(repo)
    (repo / "a.py").write_text("print(1)\n")
    commit_all(repo, "one")
    git(repo, "checkout", "-q", "--orphan", "rewrite")
    commit_all(repo, "rewritten")
    result = invoke(runner, "code", "repo", "--diff-base", "main")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"shadowmap: error: --diff-base main: no common ancestor with HEAD in {repo};")


def test_history_finds_a_key_deleted_later(runner, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    init_repo(repo)
    (repo / "a.py").write_text("print(1)\n")
    commit_all(repo, "start")
    key = anthropic_key("history")
    (repo / "a.py").write_text(f"print(1)\nKEY = '{key}'\n")
    leaked = commit_all(repo, "oops")
    (repo / "a.py").write_text("print(1)\n")
    commit_all(repo, "remove")

    assert invoke(runner, "code", "repo", "--fail-on", "none").stdout.startswith("0 findings")
    result = invoke(runner, "code", "repo", "--history", "HEAD~2..HEAD")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"repo/a.py:2:8: high: Anthropic API key sk-ant-api03-…{key[-4:]} is written in plain text in this file (commit {leaked[:12]}). [code.ai-key-exposed]"
    )


def test_diff_base_and_history_together_are_rejected(runner, planted):
    result = invoke(runner, "code", "repo", "--diff-base", "main", "--history", "HEAD")
    assert result.exit_code == 2
    assert result.stderr == "shadowmap: error: --diff-base and --history cannot be combined; pass one of them\n"


def test_config_settings_apply(runner, planted, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  code:\n    paths: [repo]\n    exclude: ['src/*']\n")
    result = invoke(runner, "code", "--config", str(config), "--fail-on", "none")
    assert result.stdout.splitlines()[-1] == "1 finding (1 high) in 1 file read."


def test_scan_command_runs_the_code_collector(runner, planted, tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\norganisation: Larkspur Analytics\nsources:\n  code:\n    paths: [repo]\n")
    result = invoke(runner, "scan", "--config", str(config), "--out", str(tmp_path / "out"), "--no-history")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert sorted(f["rule_id"] for f in report["findings"]["items"]) == ["code.ai-admin-key-exposed", "code.ai-key-exposed", "code.ai-key-exposed"]


def test_no_planted_key_appears_in_any_output(runner, tmp_path, caplog):
    keys = {
        "openai": admin_key("leak-1"),
        "anthropic": anthropic_key("leak-2"),
        "google": "AI" + "za" + fake_part(35, URL_SAFE, "leak-3"),
        "azure": fake_part(32, HEX, "leak-4"),
        "mistral": fake_part(32, BASE62, "leak-5"),
    }
    repo = tmp_path / "leaky"
    repo.mkdir()
    (repo / "config.py").write_text(
        f'ADMIN = "{keys["openai"]}"\nimport google.generativeai as genai\ngenai.configure(api_key="{keys["google"]}")\n'
        f'AZURE_OPENAI_API_KEY = "{keys["azure"]}"\nMISTRAL_API_KEY = "{keys["mistral"]}"\n'
    )
    (repo / "bad.py").write_bytes(b"\xff\xfe KEY='sk-ant-api03-" + keys["anthropic"][13:].encode() + b"'\n")
    (repo / ".env").write_text(f"ANTHROPIC_API_KEY={keys['anthropic']}\n")

    outputs = []
    caplog.set_level(logging.DEBUG)
    for output_format in ("text", "json", "sarif", "cyclonedx", "baseline"):
        target = tmp_path / f"report.{output_format}"
        result = runner.invoke(main, ["code", "leaky", "--format", output_format, "--output", str(target), "--verbose", "--debug"])
        outputs += [result.stdout, result.stderr, target.read_text()]
        result = runner.invoke(main, ["code", "leaky", "--format", output_format, "--verbose"])
        outputs += [result.stdout, result.stderr]
    outputs.append(runner.invoke(main, ["code", "leaky", "--history", "HEAD"]).stderr)
    outputs.append(caplog.text)

    text = "\n".join(outputs)
    assert "AI key: OpenAI" in text
    assert "not valid UTF-8" in text
    for name, key in keys.items():
        assert key not in text, name
        assert key[len(key) // 4:] not in text, name
