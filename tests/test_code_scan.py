"""The scanning pipeline over real trees: walking, .gitignore, exclusions and bad input."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
from pathlib import Path

import pytest

from collectors.code.keys import KeyOccurrence, UnscannedKeyHint
from collectors.code.pipeline import FileScanner, Problem, ScanOptions, SourceFile, scan_sources
from collectors.code.plugins import BASE62, URL_SAFE, fake_part
from collectors.code.walk import WalkSettings, walk_target


# These tests are about walking and reading; only the key analyser runs.
KEYS_ONLY = ScanOptions(analysers=("keys",))


def openai_key(seed: str) -> str:
    return "sk-" + "proj-" + fake_part(100, URL_SAFE, seed)


def groq_key(seed: str) -> str:
    return "gsk" + "_" + fake_part(52, BASE62, seed)


def scan_tree(root: Path, settings: WalkSettings | None = None, options: ScanOptions | None = None):
    walked = walk_target(root, "repo", "", settings or WalkSettings())
    result = scan_sources(walked.sources, options or KEYS_ONLY)
    result.problems[:0] = walked.problems
    return walked, result


def git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(root), *arguments], check=True, capture_output=True)


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@larkspur.example")
    git(root, "config", "user.name", "Larkspur Dev")


def test_key_in_tree_is_found_with_its_place(tmp_path):
    key = openai_key("place")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "settings.py").write_text(f'import os\nOPENAI_API_KEY = "{key}"\n')
    _, result = scan_tree(tmp_path)
    assert [(o.path, o.line, o.column) for o in result.occurrences] == [("app/settings.py", 2, 19)]


def test_gitignored_file_is_skipped_in_git_repo(tmp_path):
    init_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("local.env\n")
    (tmp_path / "local.env").write_text(f"OPENAI_API_KEY={openai_key('ignored')}\n")
    (tmp_path / "app.env").write_text(f"OPENAI_API_KEY={openai_key('kept')}\n")
    _, result = scan_tree(tmp_path)
    assert [o.path for o in result.occurrences] == ["app.env"]


def test_gitignore_applies_outside_git(tmp_path):
    (tmp_path / ".gitignore").write_text("secrets/\n*.local\n!keep.local\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "a.py").write_text(f'K = "{openai_key("a")}"\n')
    (tmp_path / "b.local").write_text(f'K = "{openai_key("b")}"\n')
    (tmp_path / "keep.local").write_text(f'K = "{openai_key("c")}"\n')
    _, result = scan_tree(tmp_path)
    assert [o.path for o in result.occurrences] == ["keep.local"]


def test_vendored_and_binary_files_are_skipped(tmp_path):
    (tmp_path / "node_modules" / "lib").mkdir(parents=True)
    (tmp_path / "node_modules" / "lib" / "index.js").write_text(f'const k = "{openai_key("vendored")}";\n')
    (tmp_path / "logo.png").write_bytes(openai_key("png").encode())
    (tmp_path / "blob.dat").write_bytes(b"\0\1" + openai_key("nul").encode())
    walked, result = scan_tree(tmp_path)
    assert result.occurrences == []
    assert walked.skipped == 2
    assert result.stats.binary_files == 1


def test_vendored_files_are_scanned_when_asked(tmp_path):
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "x.py").write_text(f'K = "{openai_key("v")}"\n')
    _, result = scan_tree(tmp_path, WalkSettings(skip_vendored=False))
    assert [o.path for o in result.occurrences] == ["vendor/x.py"]


def test_exclude_glob_leaves_files_out(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "fixture.py").write_text(f'K = "{openai_key("fx")}"\n')
    _, result = scan_tree(tmp_path, WalkSettings(exclude=("tests/*",)))
    assert result.occurrences == []


def test_notebook_cell_key_points_into_the_notebook(tmp_path):
    key = groq_key("nb")
    notebook = (
        '{\n "cells": [\n  {\n   "cell_type": "code",\n   "metadata": {},\n   "source": [\n'
        f'    "import os\\n",\n    "client = Groq(api_key=\\"{key}\\")\\n"\n'
        '   ]\n  }\n ],\n "nbformat": 4\n}\n'
    )
    (tmp_path / "explore.ipynb").write_text(notebook)
    _, result = scan_tree(tmp_path)
    assert [(o.path, o.line, o.provider) for o in result.occurrences] == [("explore.ipynb", 8, "groq")]


def test_invalid_utf8_candidate_is_reported_and_skipped(tmp_path):
    (tmp_path / "latin1.py").write_bytes(b"# caf\xe9\nKEY = 'sk-proj-" + b"x" * 3 + b"'\n")
    (tmp_path / "good.py").write_text(f'K = "{openai_key("good")}"\n')
    _, result = scan_tree(tmp_path)
    assert [o.path for o in result.occurrences] == ["good.py"]
    assert [(p.path, p.reason) for p in result.problems] == [("latin1.py", "not valid UTF-8 (byte 5); skipped")]


def test_invalid_utf8_without_candidate_costs_no_report(tmp_path):
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 au lait\n")
    _, result = scan_tree(tmp_path)
    assert result.problems == []


def test_unreadable_file_is_reported_and_skipped(tmp_path):
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        sources = [
            SourceFile("repo", "s.sock", location=str(sock_path)),
            SourceFile("repo", "folder", location=str(tmp_path)),
            SourceFile("repo", "ok.py", content=f'K = "{openai_key("ok")}"\n'.encode()),
        ]
        result = FileScanner(KEYS_ONLY).scan(sources)
    finally:
        server.close()
    assert [o.path for o in result.occurrences] == ["ok.py"]
    assert [p.path for p in result.problems] == ["s.sock", "folder"]
    assert result.problems[1].reason == "cannot be read (Is a directory); skipped"


def test_fifty_megabyte_line_is_reported_and_skipped(tmp_path):
    big = tmp_path / "bundle.min.js"
    with open(big, "wb") as handle:
        chunk = b"function f(e,t){return e.map(function(n){return n*t+1})};"
        handle.write(b"var a='sk-proj-';" + chunk * (50 * 1024 * 1024 // len(chunk) + 1) + b"\n")
        handle.write(f'const k = "{openai_key("after")}";\n'.encode())
    _, default = scan_tree(tmp_path)
    assert default.occurrences == [
        UnscannedKeyHint("repo", "bundle.min.js", True, "20 MiB", (2,), ("sk-proj-",), ("OpenAI project key",), "openai")
    ]
    assert default.problems[0].reason == (
        "50.0 MiB is larger than the 20 MiB limit; skipped (raise sources.code.max_file_mb in the audit config to scan it)"
    )

    _, raised = scan_tree(tmp_path, options=ScanOptions(max_file_bytes=64 * 1024 * 1024, analysers=("keys",)))
    assert [o.line for o in raised.occurrences if isinstance(o, KeyOccurrence)] == [2]
    assert [o for o in raised.occurrences if isinstance(o, UnscannedKeyHint)] == [
        UnscannedKeyHint("repo", "bundle.min.js", False, "1000000 characters", (1,), ("sk-proj-",), (), "openai")
    ]
    assert raised.problems[0].reason == (
        "line 1 is longer than 1000000 characters and was not scanned for keys "
        "(raise sources.code.max_line_length in the audit config to scan it)"
    )
    assert raised.problems[0].skipped is False


def test_symlink_loops_are_reported_and_skipped(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(f'K = "{openai_key("loop")}"\n')
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    os.symlink("..", tmp_path / "src" / "up")
    walked, result = scan_tree(tmp_path)
    reasons = sorted((p.path, p.reason.split(" (")[0]) for p in walked.problems)
    assert reasons == [("a", "symbolic link loop"), ("b", "symbolic link loop"), ("src/up", "symbolic link loop")]
    assert [o.path for o in result.occurrences] == ["src/app.py"]


def test_missing_path_is_reported(tmp_path):
    walked = walk_target(tmp_path / "nope", "nope", "nope", WalkSettings())
    assert walked.sources == []
    assert [(p.scope, p.path, p.reason) for p in walked.problems] == [("nope", "", "path not found; pass an existing file or folder")]


def test_process_pool_finds_what_one_process_finds(tmp_path):
    for index in range(260):
        body = f'K = "{openai_key(f"pool{index}")}"\n' if index % 50 == 0 else "print('nothing here')\n"
        (tmp_path / f"module_{index:03}.py").write_text(body)
    walked = walk_target(tmp_path, "repo", "", WalkSettings())
    pooled = scan_sources(walked.sources, ScanOptions(workers=2, analysers=("keys",)))
    single = scan_sources(walked.sources, ScanOptions(workers=1, analysers=("keys",)))
    assert sorted(o.path for o in pooled.occurrences) == sorted(o.path for o in single.occurrences)
    assert len(pooled.occurrences) == 6
    assert pooled.stats.files == 260


@pytest.mark.parametrize("line", [
    'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]',
    "OPENAI_API_KEY=${OPENAI_API_KEY}",
    'api_key = "<your-api-key>"',
    'key = "sk-proj-your-api-key-here-0000000000000000000000000000000000000"',
    'run_id = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"',
    'digest = "' + fake_part(64, "0123456789abcdef", "sha") + '"',
])
def test_non_secrets_are_not_found(line):
    assert FileScanner(KEYS_ONLY).scan([SourceFile("repo", "x.py", content=line.encode())]).occurrences == []


def deny_folder(monkeypatch, folder: Path) -> None:
    """Make `folder` act like a folder with mode 000 for a user other than root (tests run as
    root, whom permissions do not stop): listing it, and reaching anything inside it, raise
    PermissionError as the system calls would."""
    inside = str(folder) + os.sep
    real_scandir, real_stat, real_lstat = os.scandir, os.stat, os.lstat

    def is_denied(path, include_folder: bool) -> bool:
        if not isinstance(path, (str, os.PathLike)):
            return False
        text = os.path.abspath(os.fspath(path))
        return text.startswith(inside) or (include_folder and text == str(folder))

    def permission_error(path) -> PermissionError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))

    def scandir(path="."):
        if is_denied(path, include_folder=True):
            raise permission_error(path)
        return real_scandir(path)

    def stat(path, *args, **kwargs):
        if is_denied(path, include_folder=False):
            raise permission_error(path)
        return real_stat(path, *args, **kwargs)

    def lstat(path, *args, **kwargs):
        if is_denied(path, include_folder=False):
            raise permission_error(path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "lstat", lstat)


def test_unreadable_folder_outside_git_is_reported(tmp_path, monkeypatch):
    closed = tmp_path / "unr" / "closed"
    closed.mkdir(parents=True)
    (closed / ".gitignore").write_text("*.log\n")
    (closed / "settings.py").write_text(f'K = "{openai_key("closed")}"\n')
    (tmp_path / "app.py").write_text(f'K = "{openai_key("open")}"\n')
    deny_folder(monkeypatch, closed)

    walked = walk_target(tmp_path, "repo", "", WalkSettings())
    assert [source.path for source in walked.sources] == ["app.py"]
    assert [(p.scope, p.path, p.reason) for p in walked.problems] == [
        ("repo", "unr/closed", "folder cannot be read (Permission denied); skipped")
    ]


def test_unreadable_root_folder_is_a_scope_problem(tmp_path, monkeypatch):
    root = tmp_path / "closed"
    root.mkdir()
    (root / "settings.py").write_text(f'K = "{openai_key("root")}"\n')
    deny_folder(monkeypatch, root)

    walked = walk_target(root, "closed", "closed", WalkSettings())
    assert walked.sources == []
    assert [(p.scope, p.path, p.reason) for p in walked.problems] == [
        ("closed", "", "folder cannot be read (Permission denied); skipped")
    ]


def test_unreadable_folder_does_not_stop_the_check(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from scanner.cli import main

    closed = tmp_path / "tree" / "unr" / "closed"
    closed.mkdir(parents=True)
    (closed / "settings.py").write_text(f'K = "{openai_key("closed")}"\n')
    (tmp_path / "tree" / "app.py").write_text(f'K = "{openai_key("open")}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    deny_folder(monkeypatch, closed)

    result = CliRunner().invoke(main, ["code", "tree"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr == "shadowmap: warning: code: tree/unr/closed: folder cannot be read (Permission denied); skipped\n"
    assert result.stdout.splitlines()[-1] == "1 finding (1 high) in 1 file read; 1 path skipped (see the warnings)."


@pytest.mark.parametrize(("scope", "path", "shown"), [
    (".", "a", "a"),
    ("long2.js", "long2.js", "long2.js"),
    ("./tree", "tree/a.py", "tree/a.py"),
    ("tree", "", "tree"),
    ("larkspur-analytics/claims-api", "src/app.py", "larkspur-analytics/claims-api: src/app.py"),
])
def test_problem_names_its_path_once(scope, path, shown):
    assert Problem(scope, path, "skipped").where == shown
