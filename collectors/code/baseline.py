"""Baselines in the detect-secrets format: known secrets that a scan does not report again.

A detect-secrets baseline lists, per file, each known secret's `type` and `hashed_secret` (the
SHA-1 of the secret, as detect-secrets defines it). A key found by shadowmap is known when the
baseline lists the same hash for the same file, whatever the type, so a baseline written by
detect-secrets with its own plugins silences the same keys. Line numbers are ignored because they
move with every edit.

A baseline written here names shadowmap's plugins and filters as detect-secrets names custom ones:
`file://` and the absolute path of their module, as `detect-secrets scan --plugin` writes them.
detect-secrets can then rescan with the file, and its pre-commit hook can use it.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from detect_secrets.__version__ import VERSION as DETECT_SECRETS_VERSION

from scanner.errors import InputError


class Baseline:
    """The (file, hashed secret) pairs of a detect-secrets baseline."""

    def __init__(self, known: set[tuple[str, str]]):
        self.known = known

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: baseline file not found; create one with --format baseline --output {path}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: cannot read the baseline ({error})") from None
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: line {error.lineno}: the baseline is not valid JSON ({error.msg})") from None

        results = document.get("results") if isinstance(document, dict) else None
        if not isinstance(results, dict):
            raise InputError(f"{path}: not a detect-secrets baseline: the top-level `results` object is missing")
        known = set()
        for filename, secrets in results.items():
            for secret in secrets if isinstance(secrets, list) else []:
                if isinstance(secret, dict) and isinstance(secret.get("hashed_secret"), str):
                    known.add((_normalise(filename), secret["hashed_secret"]))
        return cls(known)

    def contains(self, path: str, hashed_secret: str) -> bool:
        return (_normalise(path), hashed_secret) in self.known


def _normalise(path: str) -> str:
    return path.replace("\\", "/").removeprefix("./")


def render_baseline(occurrences: Iterable[Any]) -> str:
    """Write occurrences as a detect-secrets baseline that lists shadowmap's plugins and filters.
    Their paths are absolute, so the file works with detect-secrets only where shadowmap is
    installed at the same place."""
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen = set()
    for occurrence in sorted(occurrences, key=lambda o: (o.path, o.line, o.column)):
        key = (occurrence.path, occurrence.hashed_secret, occurrence.label)
        if key in seen:
            continue
        seen.add(key)
        results[occurrence.path].append(
            {
                "type": occurrence.secret_type,
                "filename": occurrence.path,
                "hashed_secret": occurrence.hashed_secret,
                "is_verified": False,
                "line_number": occurrence.line,
            }
        )

    document = {
        "version": DETECT_SECRETS_VERSION,
        "plugins_used": plugins_used(),
        "filters_used": filters_used(),
        "results": dict(sorted(results.items())),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return json.dumps(document, indent=2) + "\n"


def plugins_used() -> list[dict[str, str]]:
    """Return shadowmap's AI key plugins as detect-secrets lists custom plugins, sorted by name as
    detect-secrets sorts them."""
    from collectors.code import plugins

    path = _file_url(plugins.__file__)
    return sorted(({"name": plugin.__name__, "path": path} for plugin in plugins.PLUGINS), key=lambda entry: entry["name"].lower())


def filters_used() -> list[dict[str, str]]:
    """Return the filters shadowmap applies to key candidates: detect-secrets' own by import path,
    shadowmap's by `file://<path>::<function>`, the form detect-secrets reads for custom filters."""
    from collectors.code import filters

    entries = []
    for function in filters.FILTERS:
        if function.__module__.startswith("detect_secrets."):
            entries.append({"path": f"{function.__module__}.{function.__name__}"})
        else:
            entries.append({"path": f"{_file_url(filters.__file__)}::{function.__name__}"})
    return sorted(entries, key=lambda entry: entry["path"].lower())


def _file_url(module_file: str | None) -> str:
    # detect-secrets strips the `file://` and opens the rest as a path, so this is no RFC 8089
    # URL: the path is neither quoted nor given a host.
    assert module_file is not None
    return "file://" + os.path.abspath(module_file)
