"""The files of a working tree that a code scan reads.

Inside a git work tree the list comes from `git ls-files --cached --others --exclude-standard`,
so .gitignore, .git/info/exclude and the user's global excludes apply exactly as git applies them.
Outside one, the tree is walked and every .gitignore found on the way is honoured with git's
pattern rules; a folder that cannot be listed is reported and skipped. Vendored folders, files with binary extensions and the excluded globs are left out;
symbolic links are never followed, and a link that loops is reported.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from collectors.code.pipeline import Problem, SourceFile

# Folders holding third-party code that a repository vendors or installs; a key in them is not
# the repository's own. Compared with each folder name of a file's path, case-sensitively.
VENDORED_DIRECTORIES = frozenset(
    {
        "node_modules", "bower_components", "jspm_packages", "vendor", "vendors", "third_party",
        "third-party", "thirdparty", "site-packages", "dist-packages", ".venv", "venv", "virtualenv",
        ".tox", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "Pods",
        "Carthage", ".gradle", ".terraform", ".git", ".hg", ".svn",
    }
)

# Extensions of files that hold no source text; skipped without being opened.
BINARY_EXTENSIONS = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd", ".svgz",
        ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar", ".war",
        ".whl", ".egg", ".so", ".dylib", ".dll", ".exe", ".bin", ".o", ".a", ".lib", ".class",
        ".pyc", ".pyo", ".pyd", ".mo", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4",
        ".mov", ".avi", ".wav", ".flac", ".ogg", ".webm", ".sqlite", ".db", ".parquet", ".npy",
        ".npz", ".pt", ".pth", ".onnx", ".safetensors", ".h5", ".pkl", ".dmg", ".iso",
    }
)


@dataclass(frozen=True)
class WalkSettings:
    skip_vendored: bool = True
    exclude: tuple[str, ...] = ()
    use_gitignore: bool = True


@dataclass
class WalkResult:
    sources: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0


def display_path(prefix: str, relative: str) -> str:
    return relative if prefix in ("", ".") else f"{prefix.rstrip('/')}/{relative}"


def walk_target(root: Path, scope: str, prefix: str, settings: WalkSettings) -> WalkResult:
    """List the files to scan under `root` (a folder or a single file); paths are shown as
    `prefix/relative path` and belong to `scope`."""
    result = WalkResult()
    try:
        root_stat = root.stat()
    except FileNotFoundError:
        result.problems.append(Problem(scope, "", "path not found; pass an existing file or folder"))
        return result
    except OSError as error:
        result.problems.append(Problem(scope, "", _link_reason(error) or f"cannot be read ({error.strerror})"))
        return result

    if not root.is_dir():
        result.sources.append(SourceFile(scope, prefix or root.name, location=str(root), size=root_stat.st_size))
        return result

    relative_paths = _git_files(root) if settings.use_gitignore else None
    if relative_paths is None:
        relative_paths = _walk_files(root, scope, prefix, settings.use_gitignore, result)

    for relative in relative_paths:
        _add_file(root, relative, scope, prefix, settings, result)
    return result


def is_excluded(relative: str, settings: WalkSettings) -> bool:
    """Tell whether a path relative to its root is left out: vendored, binary by extension, or
    matching an excluded glob."""
    parts = PurePosixPath(relative).parts
    if settings.skip_vendored and any(part in VENDORED_DIRECTORIES for part in parts[:-1]):
        return True
    if os.path.splitext(parts[-1])[1].lower() in BINARY_EXTENSIONS:
        return True
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in settings.exclude)


def _add_file(root: Path, relative: str, scope: str, prefix: str, settings: WalkSettings, result: WalkResult) -> None:
    if is_excluded(relative, settings):
        result.skipped += 1
        return

    location = root / relative
    shown = display_path(prefix, relative)
    try:
        link_stat = location.lstat()
    except FileNotFoundError:
        return  # listed by git but deleted from the work tree
    except OSError as error:
        result.problems.append(Problem(scope, shown, f"cannot be read ({error.strerror}); skipped"))
        return

    if os.path.islink(location):
        reason = _symlink_problem(location)
        if reason:
            result.problems.append(Problem(scope, shown, reason))
        else:
            result.skipped += 1
        return
    if not os.path.isfile(location):
        return  # a submodule or a special file
    result.sources.append(SourceFile(scope, shown, location=str(location), size=link_stat.st_size))


def _symlink_problem(location: Path) -> str | None:
    """Return the reason to report a symbolic link, or None for a link that is merely not followed."""
    try:
        target = location.stat()
    except OSError as error:
        return _link_reason(error)
    if not os.path.isdir(location):
        del target
        return None
    resolved = os.path.realpath(location)
    parent = os.path.realpath(location.parent)
    if parent == resolved or parent.startswith(resolved.rstrip(os.sep) + os.sep):
        return "symbolic link loop (the link points to a folder that contains it); skipped"
    return None


def _link_reason(error: OSError) -> str | None:
    if error.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    return None


def _git_files(root: Path) -> list[str] | None:
    """Files git would track under `root`, relative to it, or None outside a git work tree."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if completed.returncode != 0:
        return None
    names = completed.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return sorted(dict.fromkeys(name for name in names if name))


def _walk_files(root: Path, scope: str, prefix: str, use_gitignore: bool, result: WalkResult) -> list[str]:
    """Walk `root` without following links, honouring every .gitignore on the way.

    A folder that cannot be listed is reported and skipped. When it is the root, its problem has
    the empty path, so the caller can treat the whole scope as unreadable."""
    files: list[str] = []
    stack: list[tuple[str, list[IgnoreRules]]] = [("", [])]
    while stack:
        relative_dir, rules = stack.pop()
        directory = root / relative_dir if relative_dir else root
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            shown = display_path(prefix, relative_dir) if relative_dir else ""
            result.problems.append(Problem(scope, shown, f"folder cannot be read ({error.strerror}); skipped"))
            continue

        # The .gitignore is found in the listing: a stat of it raises PermissionError in a folder
        # that can be listed but not entered (read permission without execute permission).
        if use_gitignore and any(entry.name == ".gitignore" and _is_file(entry) for entry in entries):
            rules = rules + [IgnoreRules.read(directory / ".gitignore", relative_dir)]

        for entry in entries:
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as error:
                result.problems.append(Problem(scope, display_path(prefix, relative), f"cannot be read ({error.strerror}); skipped"))
                continue
            if entry.name == ".git" or any(rule.ignores(relative, is_dir) is True for rule in _deciding(rules, relative, is_dir)):
                continue
            if is_dir:
                stack.append((relative, rules))
            else:
                files.append(relative)
    return sorted(files)


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _deciding(rules: list[IgnoreRules], relative: str, is_dir: bool) -> list[IgnoreRules]:
    """Return the rule set whose verdict counts: the deepest .gitignore that has one, as in git."""
    for rule_set in reversed(rules):
        if rule_set.ignores(relative, is_dir) is not None:
            return [rule_set]
    return []


@dataclass
class IgnorePattern:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


@dataclass
class IgnoreRules:
    """The patterns of one .gitignore file, relative to the folder that contains it."""

    base: str
    patterns: list[IgnorePattern]

    @classmethod
    def read(cls, path: Path, base: str) -> IgnoreRules:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        return cls(base, [pattern for pattern in map(_compile_ignore_line, lines) if pattern])

    def ignores(self, relative: str, is_dir: bool) -> bool | None:
        """True to ignore, False to re-include, None when no pattern here decides."""
        if self.base:
            if not relative.startswith(self.base + "/"):
                return None
            relative = relative[len(self.base) + 1:]
        verdict = None
        for pattern in self.patterns:
            if pattern.directory_only and not is_dir:
                continue
            if pattern.regex.fullmatch(relative):
                verdict = not pattern.negated
        return verdict


def _compile_ignore_line(line: str) -> IgnorePattern | None:
    """Translate one .gitignore line to a regular expression over paths relative to its folder."""
    text = line.rstrip()
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    if text.startswith("\\"):
        text = text[1:]
    directory_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text
    text = text.lstrip("/")

    regex = ""
    index = 0
    while index < len(text):
        if text.startswith("**/", index):
            regex += "(?:.*/)?"
            index += 3
        elif text.startswith("/**", index) and index + 3 == len(text):
            regex += "/.*"
            index += 3
        elif text[index] == "*":
            regex += "[^/]*"
            index += 1
        elif text[index] == "?":
            regex += "[^/]"
            index += 1
        elif text[index] == "[":
            end = text.find("]", index + 1)
            if end == -1:
                regex += re.escape("[")
                index += 1
            else:
                body = text[index + 1:end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                regex += f"[{body}]"
                index = end + 1
        else:
            regex += re.escape(text[index])
            index += 1

    if not anchored:
        regex = "(?:.*/)?" + regex
    return IgnorePattern(re.compile(regex), negated, directory_only)
