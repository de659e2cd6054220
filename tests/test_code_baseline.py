"""Baselines written by `shadowmap code --format baseline`, read back by the real detect-secrets:
its rescan and its report must find the keys with shadowmap's own plugins and filters.

detect-secrets keeps its settings in a process-wide singleton, so each of its runs here is a
subprocess, as in a user's shell or pre-commit hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.code import filters, plugins
from collectors.code.plugins import URL_SAFE, fake_part
from scanner.cli import main


def project_key(seed: str) -> str:
    return "sk-" + "proj-" + fake_part(120, URL_SAFE, seed)


def git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(root), *arguments], check=True, capture_output=True)


def detect_secrets(repo: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "detect_secrets", *arguments], cwd=repo, capture_output=True, text=True, timeout=120)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A committed git repository with one OpenAI project key, and the current folder set to it."""
    root = tmp_path / "claims-api"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@larkspur.example")
    git(root, "config", "user.name", "Larkspur Dev")
    (root / "settings.py").write_text(f'OPENAI_API_KEY = "{project_key("baseline")}"\nTIMEOUT = 30\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "settings")
    monkeypatch.chdir(root)
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    return root


def write_baseline(repo: Path) -> dict:
    result = CliRunner().invoke(main, ["code", ".", "--format", "baseline", "--output", ".secrets.baseline"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads((repo / ".secrets.baseline").read_text())


def test_baseline_format_exits_zero_with_keys(repo):
    result = CliRunner().invoke(main, ["code", ".", "--format", "baseline", "--fail-on", "low"], catch_exceptions=False)
    assert result.exit_code == 0
    assert list(json.loads(result.stdout)["results"]) == ["settings.py"]


def test_baseline_lists_shadowmap_plugins_and_filters(repo):
    document = write_baseline(repo)
    plugin_path = "file://" + os.path.abspath(plugins.__file__)
    filter_path = "file://" + os.path.abspath(filters.__file__)
    assert [entry["name"] for entry in document["plugins_used"]] == sorted((p.__name__ for p in plugins.PLUGINS), key=str.lower)
    assert {entry["path"] for entry in document["plugins_used"]} == {plugin_path}
    assert [entry["path"] for entry in document["filters_used"]] == [
        "detect_secrets.filters.allowlist.is_line_allowlisted",
        "detect_secrets.filters.heuristic.is_potential_uuid",
        "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign",
        "detect_secrets.filters.heuristic.is_sequential_string",
        "detect_secrets.filters.heuristic.is_templated_secret",
        f"{filter_path}::is_allowed_inline",
        f"{filter_path}::is_placeholder",
    ]


def test_detect_secrets_rescan_keeps_the_keys(repo):
    written = write_baseline(repo)

    completed = detect_secrets(repo, "scan", "--baseline", ".secrets.baseline")
    assert completed.returncode == 0, completed.stderr
    assert "No plugins to scan with" not in completed.stderr
    rescanned = json.loads((repo / ".secrets.baseline").read_text())
    assert rescanned["results"] == written["results"]


def test_detect_secrets_report_reads_the_baseline(repo):
    write_baseline(repo)

    # `detect-secrets audit --report` of detect-secrets 1.5.0 cannot load custom plugins (see
    # docs/code.md); its report function, called after the baseline is loaded, can.
    script = (
        "import json, sys\n"
        "from detect_secrets.audit.report import generate_report\n"
        "report = generate_report('.secrets.baseline')\n"
        "json.dump([(e['filename'], e['types'], sorted(e['lines'])) for e in report['results']], sys.stdout)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout) == [["settings.py", ["AI key: OpenAI"], [1]]]


def test_detect_secrets_hook_blocks_a_new_key(repo):
    write_baseline(repo)
    (repo / "worker.py").write_text(f'OPENAI_API_KEY = "{project_key("new")}"\n')

    hook = subprocess.run(
        [sys.executable, "-m", "detect_secrets.pre_commit_hook", "--baseline", ".secrets.baseline", "settings.py", "worker.py"],
        cwd=repo, capture_output=True, text=True, timeout=120,
    )
    assert hook.returncode == 1
    assert "Secret Type: AI key: OpenAI\nLocation:    worker.py:1" in hook.stdout
    assert "settings.py" not in hook.stdout
