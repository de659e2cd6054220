"""Rules over AI keys found in code (`code.secret` assets): every key in a repository is a leak,
and an admin key, which can create keys and read the organisation's usage, is the worst kind.
Content too large to scan that still contains key literals (`code.unscanned_content` assets) is a
finding of its own, so that a key cannot pass unseen inside it."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from collectors.code.calls import subject_path
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Location, Severity

CODE_SECRET = "code.secret"
UNSCANNED_CONTENT = "code.unscanned_content"


def _key_groups(context: RuleContext, admin: bool) -> dict[tuple[str, str, str], list[Asset]] | None:
    """Occurrences grouped by scope, file and key, so a key repeated in one file is one finding;
    None when the inventory holds no key found in code at all."""
    keys = context.inventory.assets_of_kind(CODE_SECRET)
    if not keys:
        return None
    groups: dict[tuple[str, str, str], list[Asset]] = defaultdict(list)
    for asset in keys:
        if (asset.attributes.get("key_type") == "admin") != admin:
            continue
        groups[(asset.scope, asset.attributes["path"], asset.attributes["fingerprint"])].append(asset)
    return groups


def _violation(scope: str, path: str, key_fingerprint: str, assets: list[Asset]) -> Violation:
    assets = sorted(assets, key=lambda a: (a.attributes["line"], a.attributes["column"]))
    first = assets[0].attributes
    lines = [asset.attributes["line"] for asset in assets]
    where = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(map(str, lines))}"
    repository = first.get("repository")
    in_repository = f" of repository {repository}" if repository else ""
    commit = first.get("commit")
    added = f", added in commit {commit[:12]}" if commit else ""

    evidence = {
        "provider": assets[0].provider,
        "key_type": first["key_type"],
        "label": first["label"],
        "redacted": first["redacted"],
        "fingerprint": key_fingerprint,
        "lines": lines,
    }
    for optional in ("ai_context", "commit", "repository"):
        if optional in first:
            evidence[optional] = first[optional]

    return Violation(
        subject=f"{subject_path(assets[0])}:{key_fingerprint}",
        message=f"{path}{in_repository} holds the {first['label']} {first['redacted']} in plain text at {where}{added}.",
        evidence=evidence,
        location=Location(path=path, line=first["line"], column=first["column"]),
        severity=Severity.LOW if first.get("ai_context") == "none" else None,
    )


def _check_admin_keys(context: RuleContext) -> Iterable[Violation] | None:
    groups = _key_groups(context, admin=True)
    if groups is None:
        return None
    return [_violation(scope, path, key, assets) for (scope, path, key), assets in sorted(groups.items())]


def _check_keys(context: RuleContext) -> Iterable[Violation] | None:
    groups = _key_groups(context, admin=False)
    if groups is None:
        return None
    return [_violation(scope, path, key, assets) for (scope, path, key), assets in sorted(groups.items())]


def _check_unscanned(context: RuleContext) -> Iterable[Violation] | None:
    """Return one violation per file whose oversize content contains key literals, or None when
    the inventory contains nothing found in code."""
    if not any(asset.kind.startswith("code.") for asset in context.inventory.assets):
        return None
    unscanned = sorted(context.inventory.assets_of_kind(UNSCANNED_CONTENT), key=lambda a: (a.scope, a.attributes["path"]))
    return [_unscanned_violation(asset) for asset in unscanned]


def _unscanned_violation(asset: Asset) -> Violation:
    attributes = asset.attributes
    path = attributes["path"]
    repository = attributes.get("repository")
    shown = f"{path} of repository {repository}" if repository else path
    labels = attributes["key_labels"]
    literals = attributes["literals"]
    if labels:
        found = "text shaped like " + " and ".join(f"{_article(label)} {label}" for label in labels)
    else:
        found = f"the AI key {'prefix' if len(literals) == 1 else 'prefixes'} {', '.join(literals)}"

    if attributes["whole_file"]:
        message = f"{shown} is larger than the {attributes['limit']} limit and was not scanned for keys, but it contains {found}."
    else:
        lines = attributes["lines"]
        if len(lines) == 1:
            skipped = f"line {lines[0]} is longer than {attributes['limit']} and was skipped, but it contains"
        else:
            skipped = f"lines {', '.join(map(str, lines))} are longer than {attributes['limit']} and were skipped, but they contain"
        message = f"{shown} was only partly scanned for keys: {skipped} {found}."

    evidence = {key: attributes[key] for key in ("whole_file", "limit", "lines", "literals", "key_labels")}
    for optional in ("commit", "repository"):
        if optional in attributes:
            evidence[optional] = attributes[optional]
    return Violation(
        subject=subject_path(asset),
        message=message,
        evidence=evidence,
        location=Location(path=path, line=attributes["line"], column=attributes["column"]),
        severity=None if labels else Severity.LOW,
    )


def _article(label: str) -> str:
    return "an" if label[:1].lower() in "aeiou" else "a"


# Samples: inventories of `code.secret` assets as the code collector builds them.


def _key_asset(key_type: str, provider: str, label: str, redacted: str, line: int, key_fingerprint: str, **extra: object) -> Asset:
    prefix, last4 = redacted.split("…")
    attributes = {
        "key_type": key_type,
        "redacted": redacted,
        "prefix": prefix,
        "last4": last4,
        "fingerprint": key_fingerprint,
        "path": "src/claims/settings.py",
        "line": line,
        "column": 19,
        "label": label,
        **extra,
    }
    return Asset(
        kind=CODE_SECRET,
        id=f"{key_fingerprint}:src/claims/settings.py:{line}",
        provider=provider,
        scope="larkspur-analytics/claims-api",
        name=label,
        attributes=attributes,
    )


_ADMIN = ("admin", "openai", "OpenAI admin key", "sk-admin-…Q7wz")
_PROJECT = ("project", "openai", "OpenAI project key", "sk-proj-…m2Rk")


def _context(assets: list[Asset]) -> RuleContext:
    inventory = Inventory(assets=assets)
    return RuleContext(inventory, Policy(), build_coverage(inventory, Policy(), []))


ADMIN_KEY_EXPOSED = Rule(
    id="code.ai-admin-key-exposed",
    title="AI admin key in code",
    severity=Severity.CRITICAL,
    checks="No file holds an AI provider admin key (OpenAI sk-admin-, Anthropic sk-ant-admin01-).",
    why=(
        "An admin key manages the whole organisation: it creates and deletes API keys, invites "
        "users and reads every project's usage and cost. Anyone who reads the repository holds it."
    ),
    remediation=(
        "Revoke the key in the provider's console now (it has been exposed to everyone who can read "
        "the repository and its history), create a new one, keep it in a secret manager, and remove "
        "it from the git history."
    ),
    limits=(
        "Finds keys whose shape the key catalogue knows; a key split across strings or encoded is "
        "not seen. Whether the key is still live is not checked."
    ),
    check=_check_admin_keys,
    samples=(
        Sample("only a project key", lambda: _context([_key_asset(*_PROJECT, 12, "f1")]), RuleStatus.PASS),
        Sample("admin key in settings", lambda: _context([_key_asset(*_ADMIN, 14, "a9")]), RuleStatus.FAIL, 1),
        Sample(
            "same admin key twice in one file is one finding",
            lambda: _context([_key_asset(*_ADMIN, 14, "a9"), _key_asset(*_ADMIN, 40, "a9")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no keys in code", lambda: _context([]), RuleStatus.NOT_APPLICABLE),
    ),
)

KEY_EXPOSED = Rule(
    id="code.ai-key-exposed",
    title="AI key in code",
    severity=Severity.HIGH,
    checks="No file holds an AI provider API key, token or service account key.",
    why=(
        "A key in a repository is a leak: everyone who can read the code, its forks and its history "
        "can spend on it. A personal key also bypasses every attribution mechanism, so its spend "
        "reaches no team."
    ),
    remediation=(
        "Revoke and replace the key, load the new one from the environment or a secret manager, "
        "and remove the old one from the git history. Mark a deliberate test value with "
        "`# shadowmap: allow` on its line."
    ),
    limits=(
        "Keys with no prefix (Azure OpenAI classic keys, Cohere, Mistral, DeepSeek) are found only "
        "next to the provider's name or endpoint. A Google API key with no Gemini context nearby is "
        "reported at low severity because it may be a Maps key. Whether a key is live is not checked."
    ),
    check=_check_keys,
    samples=(
        Sample("only an admin key", lambda: _context([_key_asset(*_ADMIN, 14, "a9")]), RuleStatus.PASS),
        Sample("project key in settings", lambda: _context([_key_asset(*_PROJECT, 12, "f1")]), RuleStatus.FAIL, 1),
        Sample(
            "two keys in one file are two findings",
            lambda: _context([_key_asset(*_PROJECT, 12, "f1"), _key_asset(*_PROJECT, 13, "f2")]),
            RuleStatus.FAIL,
            2,
        ),
        Sample(
            "google key without ai context",
            lambda: _context([_key_asset("project", "google", "Google API key", "AIza…x3Pq", 8, "g1", ai_context="none")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no keys in code", lambda: _context([]), RuleStatus.NOT_APPLICABLE),
    ),
)

def _unscanned_asset(whole_file: bool, lines: list[int], literals: list[str], key_labels: list[str]) -> Asset:
    path = "web/static/vendor.bundle.js"
    return Asset(
        kind=UNSCANNED_CONTENT,
        id=f"unscanned:{path}",
        provider="openai",
        scope="larkspur-analytics/search-ui",
        name=path,
        attributes={
            "path": path,
            "line": lines[0],
            "column": 1,
            "lines": lines,
            "whole_file": whole_file,
            "limit": "20 MiB" if whole_file else "1000000 characters",
            "literals": literals,
            "key_labels": key_labels,
        },
    )


KEY_UNSCANNED = Rule(
    id="code.ai-key-unscanned",
    title="AI key literal in content too large to scan",
    severity=Severity.HIGH,
    checks=(
        "No file over sources.code.max_file_mb and no line over sources.code.max_line_length holds an AI key literal "
        "that needs no context (sk-proj-, sk-ant-api, hf_, AIza...). High when a whole key shape is there, low for a "
        "literal alone."
    ),
    why=(
        "The key analyser skips such content to keep the scan fast, so a key inside a minified bundle, a data dump or a "
        "generated file would otherwise pass the check unseen."
    ),
    remediation=(
        "Look at the file: remove a key and revoke it as for code.ai-key-exposed, or raise sources.code.max_file_mb or "
        "max_line_length in the audit config so the file is scanned in full, or exclude a generated file with "
        "sources.code.exclude."
    ),
    limits=(
        "A key shape counts when it has the characters its format requires and is no placeholder; the detect-secrets "
        "filters, allow comments and the baseline are not applied to it. Formats recognised only from their context "
        "(Azure OpenAI classic, Cohere, Mistral, DeepSeek) are not searched for."
    ),
    check=_check_unscanned,
    samples=(
        Sample("keys found, nothing unscanned", lambda: _context([_key_asset(*_PROJECT, 12, "f1")]), RuleStatus.PASS),
        Sample(
            "key shape in an oversize bundle",
            lambda: _context([_unscanned_asset(True, [1], ["sk-proj-"], ["OpenAI project key"])]),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "prefix alone on an over-long line",
            lambda: _context([_unscanned_asset(False, [1, 4], ["hf_"], [])]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("nothing found in code", lambda: _context([]), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [ADMIN_KEY_EXPOSED, KEY_EXPOSED, KEY_UNSCANNED]
