"""Added lines from git: the change since a base revision, or the commits of a history range.

Both read `git diff` / `git log -p` output with no context lines (-U0), so every `+` line of a hunk
is a line the change adds; renames are detected so that a moved file adds nothing.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import InputError

HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
COMMIT_MARKER = "\x00commit "


@dataclass
class AddedFile:
    """The lines one change adds to one file, by line number in the new version."""

    path: str
    lines: dict[int, str] = field(default_factory=dict)
    commit: str | None = None

    def content(self) -> bytes:
        """Return the added lines at their own line numbers, with other lines left empty."""
        last = max(self.lines, default=0)
        return "\n".join(self.lines.get(number, "") for number in range(1, last + 1)).encode("utf-8", "surrogateescape")


def run_git(directory: Path, *arguments: str) -> str:
    """Run git in `directory` and return its standard output; raise InputError with git's own
    first error line when it fails."""
    try:
        completed = subprocess.run(
            ["git", "-c", "core.quotepath=false", "-C", str(directory), *arguments],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise InputError("git is not installed or not on PATH; install git to use --diff-base or --history") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else f"exit status {completed.returncode}"
        raise InputError(f"{directory}: git {arguments[0]} failed: {first}")
    return completed.stdout.decode("utf-8", "surrogateescape")


def work_tree_root(path: Path) -> Path:
    directory = path if path.is_dir() else path.parent
    try:
        return Path(run_git(directory, "rev-parse", "--show-toplevel").strip())
    except InputError:
        raise InputError(f"{path}: not inside a git work tree; --diff-base and --history need one") from None


def lines_added_since(path: Path, base_ref: str) -> tuple[Path, list[AddedFile]]:
    """Return the lines the work tree under `path` adds since its merge base with `base_ref`."""
    root = work_tree_root(path)
    if base_ref.startswith("-"):
        raise InputError(f"--diff-base {base_ref}: give a branch, tag or commit such as origin/main, not an option")
    if not _is_commit(root, base_ref):
        remote, _, branch = base_ref.partition("/")
        if branch and remote in run_git(root, "remote").split():
            advice = f"fetch it first (`git fetch {remote} {branch}`)"
        else:
            advice = "pass an existing branch, tag or commit"
        raise InputError(f"--diff-base {base_ref}: revision not found in {root}; {advice}")
    if not _is_commit(root, "HEAD"):
        raise InputError(f"--diff-base {base_ref}: {root} has no commit yet, so there is nothing to compare with")
    try:
        merge_base = run_git(root, "merge-base", base_ref, "HEAD").strip()
    except InputError:
        raise InputError(
            f"--diff-base {base_ref}: no common ancestor with HEAD in {root}; in a shallow clone, fetch the full "
            "history first (`git fetch --unshallow`, or fetch-depth: 0 in actions/checkout)"
        ) from None

    diff = run_git(
        root, "diff", "--no-color", "--no-ext-diff", "-U0", "-M", "--diff-filter=AMR", merge_base, "--", str(path.resolve())
    )
    return root, parse_added_lines(diff)


def _is_commit(root: Path, revision: str) -> bool:
    try:
        run_git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    except InputError:
        return False
    return True


def lines_added_in_history(path: Path, revision_range: str) -> tuple[Path, list[AddedFile]]:
    """Return the lines each commit of `revision_range` adds under `path`, one AddedFile per commit and file."""
    root = work_tree_root(path)
    if revision_range.startswith("-"):
        raise InputError(f"--history {revision_range}: give a revision range such as main~50..main, not an option")
    try:
        run_git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", revision_range.split("..")[-1] or "HEAD")
    except InputError:
        raise InputError(f"--history {revision_range}: unknown revision in {root}") from None

    log = run_git(
        root, "log", "--no-color", "--no-ext-diff", "-U0", "-M", "--diff-filter=AMR", "--format=%x00commit %H", "-p",
        revision_range, "--", str(path.resolve()),
    )
    added: list[AddedFile] = []
    for chunk in log.split(COMMIT_MARKER)[1:]:
        commit, _, diff = chunk.partition("\n")
        for added_file in parse_added_lines(diff):
            added_file.commit = commit.strip()
            added.append(added_file)
    return root, added


def parse_added_lines(diff: str) -> list[AddedFile]:
    """Parse unified diff text with no context lines into the lines each file gains."""
    files: list[AddedFile] = []
    current: AddedFile | None = None
    next_line = 0
    for raw in diff.split("\n"):
        if raw.startswith("diff --git "):
            current = None
        elif raw.startswith("+++ "):
            target = raw[4:]
            current = None if target == "/dev/null" else AddedFile(_unquote(target)[2:])
            if current is not None:
                files.append(current)
        elif raw.startswith("@@"):
            match = HUNK_HEADER.match(raw)
            next_line = int(match.group(1)) if match else 0
        elif raw.startswith("+") and current is not None and next_line:
            current.lines[next_line] = raw[1:]
            next_line += 1
    return [added for added in files if added.lines]


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual file names (`"b/sp\\303\\251cial.py"`)."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    body = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return body.encode("latin-1").decode("utf-8", "replace")
