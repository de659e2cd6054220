"""Content too large to scan: files over max_file_mb and lines over max_line_length. A key literal
in it becomes a `code.ai-key-unscanned` finding, high for a whole key shape and low for a prefix
alone, so that `--fail-on` catches what the key analyser skipped."""

from __future__ import annotations

import gzip
import io
import os
import tarfile

import pytest
from click.testing import CliRunner

from collectors.code.github import tarball_sources
from collectors.code.keys import KeyOccurrence, UnscannedKeyHint
from collectors.code.pipeline import MEBIBYTE, OVERSIZE_BLOCK_BYTES, FileScanner, ScanOptions, SourceFile, scan_sources
from collectors.code.plugins import BASE62, URL_SAFE, fake_part
from collectors.code.walk import WalkSettings
from scanner.cli import main

KEYS_ONLY = ScanOptions(analysers=("keys",))
ONE_MEBIBYTE_FILES = ScanOptions(analysers=("keys",), max_file_bytes=MEBIBYTE)
# A minified line with no key literal, 1,425,000 characters (1.4 MiB) long.
MINIFIED = "function f(e,t){return e.map(function(n){return n*t+1})};" * 25_000


def project_key(seed: str) -> str:
    return "sk-" + "proj-" + fake_part(120, URL_SAFE, seed)


def huggingface_token(seed: str) -> str:
    return "hf" + "_" + fake_part(34, BASE62, seed)


def scan_content(content: bytes, options: ScanOptions = ONE_MEBIBYTE_FILES, path: str = "dist/app.bundle.js"):
    return FileScanner(options).scan([SourceFile("web", path, content=content, size=len(content))])


def test_key_across_block_boundary_is_key_shaped():
    key = project_key("boundary")
    filler = ("var a=1;\n" * (OVERSIZE_BLOCK_BYTES // 9 + 1))[: OVERSIZE_BLOCK_BYTES - 40]
    content = (filler + f'const k="{key}";\n' + filler).encode()
    result = scan_content(content)
    assert result.occurrences == [
        UnscannedKeyHint("web", "dist/app.bundle.js", True, "1 MiB", (filler.count("\n") + 1,), ("sk-proj-",), ("OpenAI project key",), "openai")
    ]


def test_prefix_alone_in_oversize_file_is_reported():
    content = ("import { hf_hub } from './hub';\n" + MINIFIED).encode()
    result = scan_content(content)
    assert result.occurrences == [UnscannedKeyHint("web", "dist/app.bundle.js", True, "1 MiB", (1,), ("hf_",), (), "huggingface")]


def test_placeholder_in_oversize_file_is_no_key_shape():
    content = (MINIFIED + '\nconst k = "sk-proj-' + "x" * 60 + '";\n').encode()
    result = scan_content(content)
    assert [hint.key_labels for hint in result.occurrences] == [()]
    assert [hint.lines for hint in result.occurrences] == [(2,)]


def test_oversize_file_without_literal_has_no_hint():
    result = scan_content(MINIFIED.encode())
    assert result.occurrences == []
    assert [problem.reason.split(";")[0] for problem in result.problems] == ["1.4 MiB is larger than the 1 MiB limit"]


def test_binary_oversize_file_is_not_inspected():
    content = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + MINIFIED.encode() + project_key("png").encode()
    result = scan_content(content, path="assets/logo.dat")
    assert result.occurrences == []
    assert len(result.problems) == 1


def test_oversize_file_on_disk_is_read_in_blocks(tmp_path):
    big = tmp_path / "dump.sql"
    big.write_text(MINIFIED + "\n" + MINIFIED + f"\nINSERT INTO keys VALUES ('{huggingface_token('dump')}');\n")
    source = SourceFile("db", "dump.sql", location=str(big), size=big.stat().st_size)
    result = scan_sources([source], ONE_MEBIBYTE_FILES)
    assert result.occurrences == [UnscannedKeyHint("db", "dump.sql", True, "1 MiB", (3,), ("hf_",), ("Hugging Face access token",), "huggingface")]


def test_over_long_line_with_key_is_key_shaped():
    content = (f"const k='{project_key('long')}';" + MINIFIED + "\nconst ok = 1;\n").encode()
    result = scan_content(content, KEYS_ONLY)
    assert result.occurrences == [
        UnscannedKeyHint("web", "dist/app.bundle.js", False, "1000000 characters", (1,), ("sk-proj-",), ("OpenAI project key",), "openai")
    ]
    assert [(problem.reason.split(" (")[0], problem.skipped) for problem in result.problems] == [
        ("line 1 is longer than 1000000 characters and was not scanned for keys", False)
    ]


def test_long_line_without_literal_is_silent():
    key = project_key("short")
    content = (MINIFIED + f"\nconst k = '{key}';\n").encode()
    result = scan_content(content, KEYS_ONLY)
    assert [(type(o).__name__, o.line) for o in result.occurrences] == [("KeyOccurrence", 2)]
    assert result.problems == []


def test_over_long_lines_outside_a_diff_are_ignored():
    content = (f"const k='{project_key('old')}';" + MINIFIED + "\nconst ok = 1;\n").encode()
    source = SourceFile("web", "dist/app.bundle.js", content=content, size=len(content), added_lines=frozenset({2}))
    result = FileScanner(KEYS_ONLY).scan([source])
    assert result.occurrences == []
    assert result.problems == []


def test_oversize_archive_member_is_inspected():
    text = MINIFIED + f"\nHF_TOKEN={huggingface_token('archive')}\n"
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        info = tarfile.TarInfo("larkspur-analytics-search-ui-0a1b2c3/data/seed.env")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text.encode()))

    sources, problems = tarball_sources("larkspur-analytics/search-ui", buffer.getvalue(), WalkSettings(), MEBIBYTE)
    assert problems == []
    result = scan_sources(sources, ONE_MEBIBYTE_FILES)
    assert [(hint.path, hint.key_labels) for hint in result.occurrences] == [("data/seed.env", ("Hugging Face access token",))]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_key_in_over_long_line_fails_check(runner, tmp_path):
    (tmp_path / "long2.js").write_text(MINIFIED + f";var k='{project_key('cli-long')}';\n")
    result = runner.invoke(main, ["code", "long2.js"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "long2.js:1:1: high: long2.js was only partly scanned for keys: line 1 is longer than 1000000 characters and was "
        "skipped, but it contains text shaped like an OpenAI project key. [code.ai-key-unscanned]",
        "1 finding (1 high) in 1 file read; 1 file partly scanned (see the warnings).",
    ]
    assert result.stderr == (
        "shadowmap: warning: code: long2.js: line 1 is longer than 1000000 characters and was not scanned for keys "
        "(raise sources.code.max_line_length in the audit config to scan it)\n"
    )


def test_key_in_oversize_file_fails_check(runner, tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "bundle.js").write_text(MINIFIED + f"\nconst k = '{project_key('cli-big')}';\n")
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\nsources:\n  code:\n    max_file_mb: 1\n")
    result = runner.invoke(main, ["code", "repo", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "repo/bundle.js:2:1: high: repo/bundle.js is larger than the 1 MiB limit and was not scanned for keys, but it "
        "contains text shaped like an OpenAI project key. [code.ai-key-unscanned]",
        "1 finding (1 high) in 0 files read; 1 path skipped (see the warnings).",
    ]


def test_prefix_alone_is_low_finding(runner, tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "bundle.js").write_text("import { hf_hub } from './hub';" + MINIFIED + "\n")
    default = runner.invoke(main, ["code", "repo"], catch_exceptions=False)
    strict = runner.invoke(main, ["code", "repo", "--fail-on", "low"], catch_exceptions=False)
    assert default.exit_code == 0
    assert strict.exit_code == 1
    assert default.stdout.splitlines()[0] == (
        "repo/bundle.js:1:1: low: repo/bundle.js was only partly scanned for keys: line 1 is longer than 1000000 "
        "characters and was skipped, but it contains the AI key prefix hf_. [code.ai-key-unscanned]"
    )


def test_symlink_loop_warning_names_path_once(runner, tmp_path):
    (tmp_path / "app.py").write_text("print('claims')\n")
    os.symlink(".", tmp_path / "a")
    result = runner.invoke(main, ["code", "."], catch_exceptions=False)
    assert result.stderr == "shadowmap: warning: code: a: symbolic link loop (the link points to a folder that contains it); skipped\n"
    assert result.stdout == "0 findings in 1 file read; 1 path skipped (see the warnings).\n"


def test_quiet_summary_does_not_point_at_hidden_warnings(runner, tmp_path):
    (tmp_path / "app.py").write_text("print('claims')\n")
    os.symlink(".", tmp_path / "a")
    result = runner.invoke(main, ["code", ".", "--quiet"], catch_exceptions=False)
    assert result.stderr == ""
    assert result.stdout == "0 findings in 1 file read; 1 path skipped (run without --quiet to see why).\n"
