"""Whose key is it: keys found in code, matched to the OpenAI and Anthropic organisations' key
inventories by their visible prefix and last characters.

A key that matches one organisation key is traced to its project or workspace and to the
principal it acts as. A key that matches none is a personal key or another organisation's key.
A key that matches several is reported as ambiguous, because the providers show too few
characters to choose between them.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from collectors.openai.key_hints import KeyHint, key_catalogue, prefixes_agree, suffixes_agree
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, CollectorOutcome, Inventory, Location, Severity

PROVIDER_LABELS = {"openai": "OpenAI", "anthropic": "Anthropic"}
ORGANISATION_KINDS = {"openai.organization": "openai", "anthropic.organization": "anthropic"}
ORGANISATION_KEY_KINDS = {"openai.api_key", "openai.admin_api_key", "anthropic.api_key"}


@dataclass
class KeyMatch:
    """One key found in code and the organisation keys whose visible parts agree with it."""

    secret: Asset
    candidates: list[Asset]
    inventory_complete: bool

    @property
    def provider(self) -> str:
        return self.secret.provider


def match_code_keys(inventory: Inventory) -> list[KeyMatch] | None:
    """Match every key found in code against the inventories of the providers that were read.

    Returns None when no provider key inventory was collected, or when no code was scanned.
    Keys of providers not read, and keys whose provider lists no keys of their kind (Anthropic
    admin keys), are left out.
    """
    organisations = [asset for asset in inventory.assets if asset.kind in ORGANISATION_KINDS]
    if not organisations:
        return None
    secrets = inventory.assets_of_kind("code.secret")
    if not secrets and not _code_was_scanned(inventory.outcomes):
        return None

    read_providers = {ORGANISATION_KINDS[org.kind] for org in organisations}
    complete = {
        provider: all(org.attributes.get("key_inventory_complete") for org in organisations if ORGANISATION_KINDS[org.kind] == provider)
        for provider in read_providers
    }
    keys_by_ending = _index_by_ending(asset for asset in inventory.assets if asset.kind in ORGANISATION_KEY_KINDS)

    matches = []
    for secret in sorted(secrets, key=lambda asset: asset.id):
        if secret.provider not in read_providers or _unlisted(secret):
            continue
        prefix = str(secret.attributes.get("prefix") or "")
        last4 = str(secret.attributes.get("last4") or "")
        candidates = [
            key
            for key in keys_by_ending.get((secret.provider, last4[-_shortest_ending():]), [])
            if prefixes_agree(prefix, key.attributes.get("prefix", "")) and suffixes_agree(last4, key.attributes.get("suffix", ""))
        ]
        matches.append(KeyMatch(secret, sorted(candidates, key=lambda key: key.id), complete[secret.provider]))
    return matches


def _code_was_scanned(outcomes: list[CollectorOutcome]) -> bool:
    return any(outcome.collector == "code" or outcome.collector.startswith("code.") for outcome in outcomes)


def _shortest_ending() -> int:
    return key_catalogue()["min_suffix_characters"]


def _index_by_ending(keys: Iterable[Asset]) -> dict[tuple[str, str], list[Asset]]:
    """Organisation keys by provider and their shortest comparable ending, so each key found in
    code is compared only with keys that can agree with it."""
    index: dict[tuple[str, str], list[Asset]] = defaultdict(list)
    for key in keys:
        suffix = key.attributes.get("suffix") or ""
        if len(suffix) >= _shortest_ending():
            index[(key.provider, suffix[-_shortest_ending():])].append(key)
    return index


def _unlisted(secret: Asset) -> bool:
    prefix = str(secret.attributes.get("prefix") or "")
    return any(prefix.startswith(unlisted) for unlisted in key_catalogue().get("unlisted_prefixes", {}).get(secret.provider, []))


@lru_cache(maxsize=1)
def _non_production_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(_glob_pattern(glob) for glob in key_catalogue()["non_production_paths"])


def _glob_pattern(glob: str) -> re.Pattern[str]:
    """Compile a path glob where `**/` matches any number of folders (none included), `*` any
    characters but `/`, and `?` one such character."""
    parts = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            parts.append(".*")
            index += 2
        elif glob[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(glob[index]))
            index += 1
    return re.compile("".join(parts), re.IGNORECASE)


def is_production_path(path: str) -> bool:
    """Return whether a path found in code is production code: under none of the catalogue's test,
    example, documentation and notebook paths."""
    normalised = path.replace("\\", "/")
    while normalised.startswith("./"):
        normalised = normalised[2:]
    return not any(pattern.fullmatch(normalised) for pattern in _non_production_patterns())


def _location(secret: Asset) -> Location | None:
    path = secret.attributes.get("path")
    if not path:
        return None
    return Location(str(path), secret.attributes.get("line"), secret.attributes.get("column"))


def _where(secret: Asset) -> str:
    path = secret.attributes.get("path") or secret.scope
    line = secret.attributes.get("line")
    return f"{path} line {line}" if line else str(path)


def _key_text(secret: Asset) -> str:
    return f"{PROVIDER_LABELS.get(secret.provider, secret.provider)} key {secret.attributes.get('redacted') or '(redacted)'} in {_where(secret)}"


def _subject(secret: Asset) -> str:
    return f"{secret.provider}:{secret.attributes.get('fingerprint') or secret.id}"


def _owner_text(key: Asset) -> str:
    """Name an organisation key, where it lives, its team and the principal it acts as."""
    team = key.attributes.get("owner")
    team_text = f" (team {team})" if team else ""
    if key.kind == "openai.admin_api_key":
        home = f"admin key {key.name or key.id} of organisation {key.scope}"
    elif key.kind == "openai.api_key":
        home = f"{key.name or key.id} of project {key.attributes.get('project_name') or key.scope}{team_text}"
    else:
        home = f"{key.name or key.id} of workspace {key.attributes.get('workspace_name') or key.attributes.get('workspace_id')}{team_text}"

    principal = key.attributes.get("principal_type")
    name = key.attributes.get("principal_name") or key.attributes.get("principal_id")
    if principal == "user":
        return f"{home}, owned by user {name}"
    if principal == "service_account":
        return f"{home}, owned by service account {name}"
    return f"{home}, bound to no user or service account"


def _rotation_text(key: Asset) -> str:
    team = key.attributes.get("owner")
    if team:
        return f"so team {team} rotates it"
    if key.kind == "openai.admin_api_key":
        return "so an organisation owner rotates it"
    return "and no team is mapped to rotate it"


def _evidence(match: KeyMatch) -> dict:
    return {
        "redacted": match.secret.attributes.get("redacted"),
        "matched_keys": [
            {"id": key.id, "kind": key.kind, "name": key.name, "scope": key.scope, "owner": key.attributes.get("owner"), "principal_type": key.attributes.get("principal_type")}
            for key in match.candidates
        ],
    }


def _is_personal_in_production(match: KeyMatch) -> bool:
    return (
        len(match.candidates) == 1
        and match.candidates[0].attributes.get("principal_type") == "user"
        and is_production_path(str(match.secret.attributes.get("path") or ""))
    )


def _check_unknown_keys(context: RuleContext) -> Iterable[Violation] | None:
    matches = match_code_keys(context.inventory)
    if matches is None:
        return None

    violations = []
    for match in matches:
        if len(match.candidates) == 1:
            continue
        if len(match.candidates) > 1:
            names = ", ".join(key.name or key.id for key in match.candidates)
            message = (
                f"{_key_text(match.secret)} matches {len(match.candidates)} keys of the organisation ({names}) by its "
                "visible characters, so whose key it is cannot be decided."
            )
            severity = Severity.MEDIUM
        elif match.inventory_complete:
            message = f"{_key_text(match.secret)} matches no key of the organisation, so it is a personal key or another organisation's key."
            severity = None
        else:
            message = (
                f"{_key_text(match.secret)} matches no key in the part of the organisation's key inventory that could be read, "
                "so it is a personal key, another organisation's key or a key of a project not read."
            )
            severity = Severity.MEDIUM
        violations.append(Violation(_subject(match.secret), message, _evidence(match), _location(match.secret), severity))
    return violations


def _check_personal_keys(context: RuleContext) -> Iterable[Violation] | None:
    return _traced_key_violations(
        context, personal_in_production=True, consequence=lambda key: "a person's key in production code rather than a service account's"
    )


def _check_traced_keys(context: RuleContext) -> Iterable[Violation] | None:
    return _traced_key_violations(context, personal_in_production=False, consequence=_rotation_text)


def _traced_key_violations(
    context: RuleContext, *, personal_in_production: bool, consequence: Callable[[Asset], str]
) -> list[Violation] | None:
    """Report each key in code that matches exactly one organisation key, either only the personal
    keys in production code or only the others, naming the key's owner and `consequence`."""
    matches = match_code_keys(context.inventory)
    if matches is None:
        return None
    return [
        Violation(
            _subject(match.secret),
            f"{_key_text(match.secret)} is {_owner_text(match.candidates[0])}, {consequence(match.candidates[0])}.",
            _evidence(match),
            _location(match.secret),
        )
        for match in matches
        if len(match.candidates) == 1 and _is_personal_in_production(match) == personal_in_production
    ]


# Samples: keys found in code as the code collector reports them, and organisation keys as the
# OpenAI and Anthropic collectors build them from the Admin APIs' key hints.


def _organisation(provider: str, complete: bool = True) -> Asset:
    return Asset(
        kind=f"{provider}.organization",
        id=f"{provider}-org",
        provider=provider,
        scope=f"{provider}-org",
        attributes={"key_inventory_complete": complete},
    )


def _openai_key(key_id: str, name: str, prefix: str, suffix: str, principal_type: str, principal_name: str, team: str | None = "claims") -> Asset:
    attributes = {
        "project_id": "proj_Ck4vN8pZ2qLm6TxR9wBe3JsU",
        "project_name": "claims-assistant",
        "prefix": prefix,
        "suffix": suffix,
        "redacted": KeyHint(prefix, suffix).printable,
        "principal_type": principal_type,
        "principal_name": principal_name,
    }
    if team:
        attributes.update(owner=team, owner_via="sources.openai.projects")
    return Asset(kind="openai.api_key", id=key_id, provider="openai", scope="proj_Ck4vN8pZ2qLm6TxR9wBe3JsU", name=name, attributes=attributes)


def _anthropic_key(key_id: str, suffix: str) -> Asset:
    attributes = {
        "workspace_id": "wrkspc_01SuPp0rtB0tsK7mQ2xLr9Va",
        "workspace_name": "support-bots",
        "prefix": "sk-ant-api03-",
        "suffix": suffix,
        "redacted": KeyHint("sk-ant-api03-", suffix).printable,
        "principal_type": "service_account",
        "principal_id": "svac_01SuPp0rtB0tQ9kXm",
        "owner": "support",
    }
    return Asset(kind="anthropic.api_key", id=key_id, provider="anthropic", scope="wrkspc_01SuPp0rtB0tsK7mQ2xLr9Va", name="support-triage-prod", attributes=attributes)


def _code_key(provider: str, prefix: str, last4: str, path: str, line: int = 12) -> Asset:
    fingerprint = hashlib.sha256(f"{provider}:{prefix}:{last4}:{path}".encode()).hexdigest()[:32]
    return Asset(
        kind="code.secret",
        id=f"{fingerprint}:{path}:{line}",
        provider=provider,
        scope="larkspur/claims-service",
        attributes={
            "key_type": "project" if prefix == "sk-proj-" else "unknown",
            "redacted": KeyHint(prefix, last4).printable,
            "prefix": prefix,
            "last4": last4,
            "fingerprint": fingerprint,
            "path": path,
            "line": line,
            "column": 18,
        },
    )


def _context(assets: list[Asset]) -> RuleContext:
    inventory = Inventory(assets=assets, outcomes=[CollectorOutcome(collector="code", source="export")])
    policy = Policy()
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


_SERVICE_KEY = _openai_key("key_Cs5pW9kR3tLm", "claims-summariser-prod", "sk-svcacct-", "Hq8W", "service_account", "claims-summariser")
_PERSONAL_KEY = _openai_key("key_Pr1aN4vX8cQe", "priya-local-dev", "sk-proj-", "9fKc", "user", "Priya Raman")

UNKNOWN_KEY_IN_CODE = Rule(
    id="provider-keys.unknown-key-in-code",
    title="AI key in code belongs to no key of the organisation",
    severity=Severity.HIGH,
    checks=(
        "Every OpenAI and Anthropic key found in code matches exactly one key in the organisation's key inventory "
        "by its visible prefix and last characters."
    ),
    why=(
        "A key the organisation did not issue is a personal key or another organisation's key: its spend is "
        "billed outside every project, workspace and invoice the organisation can attribute, and nobody in it can revoke it."
    ),
    remediation=(
        "Find who added the key (git blame), replace it with a key from a project or workspace the organisation owns, "
        "read that key from a secret store, and ask the key's owner to revoke the old one."
    ),
    limits=(
        "Matching uses what both sides show: the key prefix and up to four last characters. Anthropic API keys all "
        "end in AA, so in a large organisation two keys can share their visible ending, which is reported as ambiguous. "
        "Anthropic admin keys cannot be listed and are not judged. A key inventory that could not be read whole lowers "
        "the severity of a key that matches nothing to medium. Only providers whose organisation was read are judged."
    ),
    check=_check_unknown_keys,
    samples=(
        Sample(
            "key traced to its project",
            lambda: _context([_organisation("openai"), _SERVICE_KEY, _code_key("openai", "sk-svcacct-", "Hq8W", "services/claims/settings.py")]),
            RuleStatus.PASS,
        ),
        Sample(
            "key the organisation never issued",
            lambda: _context([_organisation("openai"), _SERVICE_KEY, _code_key("openai", "sk-proj-", "T7vQ", "services/claims/settings.py")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "two keys share the visible ending",
            lambda: _context(
                [
                    _organisation("anthropic"),
                    _anthropic_key("apikey_01SuPp0rtTr1ageQ4nWx7Lm2", "b2AA"),
                    _anthropic_key("apikey_01Ot4erK3yW9vQ2mLx8Rt5Zp", "b2AA"),
                    _code_key("anthropic", "sk-ant-api03-", "b2AA", "bots/triage.py"),
                ]
            ),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "no provider key inventory read",
            lambda: _context([_code_key("openai", "sk-proj-", "T7vQ", "services/claims/settings.py")]),
            RuleStatus.NOT_APPLICABLE,
        ),
    ),
)

PERSONAL_KEY_IN_PRODUCTION_CODE = Rule(
    id="provider-keys.personal-key-in-production-code",
    title="A person's AI key is in production code",
    severity=Severity.HIGH,
    checks="No key found in production code is an organisation key owned by a user rather than a service account.",
    why=(
        "A user's key acts with that person's access and stops working when they leave the project, so production "
        "breaks with staff changes, and its use is recorded against a person rather than the service."
    ),
    remediation=(
        "Create a service account in the key's project or workspace, issue its key, read it from a secret store in "
        "production, and revoke the person's key."
    ),
    limits=(
        "Paths under test, example, documentation, fixture and notebook folders (rules/catalogues/provider_keys.yaml) "
        "are not production code. Anthropic keys not bound to a user or a service account are not judged."
    ),
    check=_check_personal_keys,
    samples=(
        Sample(
            "service account key in production",
            lambda: _context([_organisation("openai"), _SERVICE_KEY, _PERSONAL_KEY, _code_key("openai", "sk-svcacct-", "Hq8W", "services/claims/settings.py")]),
            RuleStatus.PASS,
        ),
        Sample(
            "personal key in production",
            lambda: _context([_organisation("openai"), _SERVICE_KEY, _PERSONAL_KEY, _code_key("openai", "sk-proj-", "9fKc", "services/claims/client.py")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "personal key in a test",
            lambda: _context([_organisation("openai"), _PERSONAL_KEY, _code_key("openai", "sk-proj-", "9fKc", "services/claims/tests/test_client.py")]),
            RuleStatus.PASS,
        ),
        Sample(
            "no provider key inventory read",
            lambda: _context([_code_key("openai", "sk-proj-", "9fKc", "services/claims/client.py")]),
            RuleStatus.NOT_APPLICABLE,
        ),
    ),
)

KEY_IN_CODE_TRACED = Rule(
    id="provider-keys.key-in-code-traced",
    title="AI key in code traced to its project or workspace",
    severity=Severity.INFO,
    checks="Names, for each organisation key found in code, its project or workspace, its team and the principal it acts as.",
    why="A key in code has to be rotated, and the team that owns its project or workspace is the one that can do it.",
    remediation="Ask the named team to rotate the key in its project or workspace and to read the new one from a secret store.",
    limits="Only keys that match exactly one organisation key are traced; personal keys in production code are reported by provider-keys.personal-key-in-production-code instead.",
    check=_check_traced_keys,
    samples=(
        Sample(
            "no key of the organisation in code",
            lambda: _context([_organisation("openai"), _SERVICE_KEY, _code_key("openai", "sk-proj-", "T7vQ", "services/claims/settings.py")]),
            RuleStatus.PASS,
        ),
        Sample(
            "service account key in code",
            lambda: _context([_organisation("openai"), _SERVICE_KEY, _code_key("openai", "sk-svcacct-", "Hq8W", "deploy/claims.env", 3)]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no code scanned", lambda: RuleContext(Inventory(assets=[_organisation("openai"), _SERVICE_KEY]), Policy(), build_coverage(Inventory(), Policy(), [])), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [UNKNOWN_KEY_IN_CODE, PERSONAL_KEY_IN_PRODUCTION_CODE, KEY_IN_CODE_TRACED]
