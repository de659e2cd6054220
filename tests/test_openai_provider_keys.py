"""Whose key is it: provider key hints, production paths, and keys found in code matched to the
OpenAI and Anthropic key inventories, including the demo organisation's."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date
from pathlib import Path

import pytest

from collectors.anthropic.collector import AnthropicCollector
from collectors.contract import CollectContext
from collectors.openai.collector import OpenAICollector
from collectors.openai.key_hints import KeyHint, split_hint
from rules.contract import RuleContext, RuleStatus
from rules.provider_keys import KEY_IN_CODE_TRACED, PERSONAL_KEY_IN_PRODUCTION_CODE, UNKNOWN_KEY_IN_CODE, is_production_path, match_code_keys
from scanner.config import Policy, parse_config
from scanner.coverage import build_coverage
from scanner.model import Asset, CollectorOutcome, Inventory, Severity

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


@pytest.mark.parametrize(
    ("provider", "hint", "prefix", "suffix"),
    [
        ("openai", "sk-proj-...9f2c", "sk-proj-", "9f2c"),
        ("openai", "sk-svcacct-...Hq8W", "sk-svcacct-", "Hq8W"),
        ("openai", "sk-abc...def", "sk-", "def"),
        ("openai", "sk-admin...def", "sk-admin", "def"),
        ("openai", "sk-...abcd", "sk-", "abcd"),
        ("anthropic", "sk-ant-api03-R2D...igAA", "sk-ant-api03-", "igAA"),
        ("anthropic", "sk-ant-api03-R2D…igAA", "sk-ant-api03-", "igAA"),
        ("openai", "sk-proj-****9f2c", "sk-proj-", "9f2c"),
    ],
)
def test_hint_splits_into_known_prefix_and_suffix(provider, hint, prefix, suffix):
    assert split_hint(provider, hint) == KeyHint(prefix, suffix)


@pytest.mark.parametrize("hint", ["sk-proj-abcdef", "sk-proj-...", None, 42, "a...b...c"])
def test_hint_without_visible_end_is_none(hint):
    assert split_hint("openai", hint) is None


def test_hint_prints_through_redact():
    assert KeyHint("sk-ant-api03-", "igAA").printable == "sk-ant-api03-…igAA"
    assert KeyHint("sk-", "def").printable == "sk-…*def"


@pytest.mark.parametrize(
    ("path", "production"),
    [
        ("services/claims/client.py", True),
        ("./services/claims/client.py", True),
        (".github/workflows/deploy.yml", True),
        ("tests/test_client.py", False),
        ("services/claims/tests/conftest.py", False),
        ("services/claims/test_client.py", False),
        ("web/src/api.test.ts", False),
        ("examples/quickstart.py", False),
        ("notebooks/eval.ipynb", False),
        ("analysis/eval.IPYNB", False),
        ("docs/setup.md", False),
        ("src\\fixtures\\keys.json", False),
        ("contest/app.py", True),
    ],
)
def test_production_paths(path, production):
    assert is_production_path(path) is production


def _organisation(provider: str, complete: bool = True) -> Asset:
    return Asset(kind=f"{provider}.organization", id="org", provider=provider, scope="org", attributes={"key_inventory_complete": complete})


def _org_key(key_id: str, prefix: str, suffix: str, principal_type: str = "service_account", kind: str = "openai.api_key") -> Asset:
    provider = kind.split(".")[0]
    attributes = {"prefix": prefix, "suffix": suffix, "principal_type": principal_type, "principal_name": "claims-summariser", "project_name": "claims-assistant", "owner": "claims"}
    return Asset(kind=kind, id=key_id, provider=provider, scope="proj_Ck4vN8pZ2qLm6TxR9wBe3JsU", name=key_id, attributes=attributes)


def _code_key(provider: str, prefix: str, last4: str, path: str = "services/claims/client.py") -> Asset:
    fingerprint = hashlib.sha256(f"{prefix}{last4}{path}".encode()).hexdigest()[:32]
    attributes = {"prefix": prefix, "last4": last4, "redacted": KeyHint(prefix, last4).printable, "fingerprint": fingerprint, "path": path, "line": 7, "column": 11}
    return Asset(kind="code.secret", id=f"{fingerprint}:{path}:7", provider=provider, scope="larkspur/claims", attributes=attributes)


def _context(assets: list[Asset], code_scanned: bool = True) -> RuleContext:
    outcomes = [CollectorOutcome(collector="code", source="export")] if code_scanned else []
    inventory = Inventory(assets=assets, outcomes=outcomes)
    return RuleContext(inventory, Policy(), build_coverage(inventory, Policy(), []))


def test_match_needs_prefix_and_suffix_to_agree():
    service = _org_key("key_service", "sk-svcacct-", "Hq8W")
    other = _org_key("key_other", "sk-proj-", "Hq8W")
    inventory = Inventory(assets=[_organisation("openai"), service, other, _code_key("openai", "sk-svcacct-", "Hq8W")])

    matches = match_code_keys(inventory)

    assert [[key.id for key in match.candidates] for match in matches] == [["key_service"]]


def test_shorter_provider_suffix_still_matches():
    legacy = _org_key("key_legacy", "sk-", "def", principal_type="user")
    inventory = Inventory(assets=[_organisation("openai"), legacy, _code_key("openai", "sk-proj-", "xdef")])

    matches = match_code_keys(inventory)

    assert [key.id for key in matches[0].candidates] == ["key_legacy"]


def test_keys_of_unread_provider_are_not_judged():
    inventory = Inventory(assets=[_organisation("openai"), _code_key("anthropic", "sk-ant-api03-", "b2AA")])

    assert match_code_keys(inventory) == []


def test_anthropic_admin_keys_are_not_judged():
    inventory = Inventory(assets=[_organisation("anthropic"), _code_key("anthropic", "sk-ant-admin01-", "k3AA")])

    assert match_code_keys(inventory) == []


def test_not_applicable_without_code_scan():
    context = _context([_organisation("openai"), _org_key("key_service", "sk-svcacct-", "Hq8W")], code_scanned=False)

    assert UNKNOWN_KEY_IN_CODE.run(context).status is RuleStatus.NOT_APPLICABLE


def test_unknown_key_message_and_location():
    context = _context([_organisation("openai"), _org_key("key_service", "sk-svcacct-", "Hq8W"), _code_key("openai", "sk-proj-", "T7vQ")])

    finding = UNKNOWN_KEY_IN_CODE.run(context).findings[0]

    assert finding.severity is Severity.HIGH
    assert finding.message == (
        "OpenAI key sk-proj-…T7vQ in services/claims/client.py line 7 matches no key of the organisation, "
        "so it is a personal key or another organisation's key."
    )
    assert finding.location.path == "services/claims/client.py"
    assert finding.location.line == 7


def test_unknown_key_with_incomplete_inventory_is_medium():
    context = _context([_organisation("openai", complete=False), _code_key("openai", "sk-proj-", "T7vQ")])

    finding = UNKNOWN_KEY_IN_CODE.run(context).findings[0]

    assert finding.severity is Severity.MEDIUM
    assert "part of the organisation's key inventory that could be read" in finding.message


def test_ambiguous_key_names_candidates():
    first = _org_key("apikey_first", "sk-ant-api03-", "b2AA", kind="anthropic.api_key")
    second = _org_key("apikey_second", "sk-ant-api03-", "b2AA", kind="anthropic.api_key")
    context = _context([_organisation("anthropic"), first, second, _code_key("anthropic", "sk-ant-api03-", "b2AA")])

    finding = UNKNOWN_KEY_IN_CODE.run(context).findings[0]

    assert finding.severity is Severity.MEDIUM
    assert finding.message == (
        "Anthropic key sk-ant-api03-…b2AA in services/claims/client.py line 7 matches 2 keys of the organisation "
        "(apikey_first, apikey_second) by its visible characters, so whose key it is cannot be decided."
    )


def test_personal_key_names_project_team_and_person():
    personal = _org_key("priya-local-dev", "sk-proj-", "9fKc", principal_type="user")
    personal.attributes["principal_name"] = "Priya Raman"
    context = _context([_organisation("openai"), personal, _code_key("openai", "sk-proj-", "9fKc")])

    result = PERSONAL_KEY_IN_PRODUCTION_CODE.run(context)

    assert [finding.message for finding in result.findings] == [
        "OpenAI key sk-proj-…9fKc in services/claims/client.py line 7 is priya-local-dev of project claims-assistant "
        "(team claims), owned by user Priya Raman, a person's key in production code rather than a service account's."
    ]
    assert KEY_IN_CODE_TRACED.run(context).findings == []


def test_fingerprint_ignores_line_moves():
    service = _org_key("key_service", "sk-svcacct-", "Hq8W")
    moved = _code_key("openai", "sk-svcacct-", "Hq8W")
    moved.attributes["line"] = 40
    before = KEY_IN_CODE_TRACED.run(_context([_organisation("openai"), service, _code_key("openai", "sk-svcacct-", "Hq8W")])).findings[0]
    after = KEY_IN_CODE_TRACED.run(_context([_organisation("openai"), service, moved])).findings[0]

    assert before.fingerprint == after.fingerprint


def _demo_inventory(tmp_path: Path, code_keys: list[Asset]) -> Inventory:
    document = {
        "version": 1,
        "sources": {
            "openai": {"organisation": "org-LarkspurAnalytics", "snapshot": str(DEMO / "openai" / "snapshot"), "projects": {"claims-assistant": "claims"}},
            "anthropic": {"organisation": "Larkspur Analytics", "snapshot": str(DEMO / "anthropic" / "snapshot"), "workspaces": {"support-bots": "support"}},
        },
    }
    config = parse_config(json.dumps(document), tmp_path / "audit.yaml")
    logger = logging.getLogger("shadowmap.test")
    inventory = Inventory(outcomes=[CollectorOutcome(collector="code", source="export")])
    for collector in (OpenAICollector(config, today=date(2026, 12, 1)), AnthropicCollector(config, today=date(2026, 12, 1))):
        result = collector.collect(CollectContext(logger))
        inventory.assets.extend(result.assets)
    inventory.assets.extend(code_keys)
    return inventory


def test_demo_keys_traced_to_owners(tmp_path):
    inventory = _demo_inventory(
        tmp_path,
        [
            _code_key("openai", "sk-svcacct-", "Hq8W", "services/claims/settings.py"),
            _code_key("openai", "sk-proj-", "9fKc", "services/claims/summarise.py"),
            _code_key("anthropic", "sk-ant-api03-", "b2AA", "support/triage/bot.py"),
            _code_key("openai", "sk-proj-", "Wq3e", "growth/scripts/backfill.py"),
        ],
    )
    context = RuleContext(inventory, Policy(), build_coverage(inventory, Policy(), []))

    traced = [finding.message for finding in KEY_IN_CODE_TRACED.run(context).findings]
    personal = [finding.message for finding in PERSONAL_KEY_IN_PRODUCTION_CODE.run(context).findings]
    unknown = [finding.message for finding in UNKNOWN_KEY_IN_CODE.run(context).findings]

    assert traced == [
        "Anthropic key sk-ant-api03-…b2AA in support/triage/bot.py line 7 is support-triage-prod of workspace support-bots "
        "(team support), owned by service account svac_01SuPp0rtB0tQ9kXm, so team support rotates it.",
        "OpenAI key sk-svcacct-…Hq8W in services/claims/settings.py line 7 is claims-summariser-prod of project claims-assistant "
        "(team claims), owned by service account claims-summariser, so team claims rotates it.",
    ]
    assert personal == [
        "OpenAI key sk-proj-…9fKc in services/claims/summarise.py line 7 is priya-local-dev of project claims-assistant "
        "(team claims), owned by user Priya Raman, a person's key in production code rather than a service account's."
    ]
    assert unknown == [
        "OpenAI key sk-proj-…Wq3e in growth/scripts/backfill.py line 7 matches no key of the organisation, "
        "so it is a personal key or another organisation's key."
    ]


def test_traced_key_without_team_says_so():
    key = _org_key("claims-summariser", "sk-ant-api03-", "vfAA", kind="anthropic.api_key")
    key.attributes.pop("owner")
    key.attributes.update(workspace_name="Default Workspace", principal_name=None, principal_id="svac_01C1a1msSumm4r1serW2")
    context = _context([_organisation("anthropic"), key, _code_key("anthropic", "sk-ant-api03-", "vfAA", ".env")])

    finding = KEY_IN_CODE_TRACED.run(context).findings[0]

    assert finding.severity is Severity.INFO
    assert finding.message == (
        "Anthropic key sk-ant-api03-…vfAA in .env line 7 is claims-summariser of workspace Default Workspace, "
        "owned by service account svac_01C1a1msSumm4r1serW2, and no team is mapped to rotate it."
    )


def test_admin_key_of_a_person_in_production():
    admin = _org_key("finops-audit", "sk-admin-", "g5ht", principal_type="user", kind="openai.admin_api_key")
    admin.attributes.update(principal_name="Dana Whitfield")
    admin.scope = "org-LarkspurAnalytics"
    context = _context([_organisation("openai"), admin, _code_key("openai", "sk-admin-", "g5ht", "src/claims/settings.py")])

    finding = PERSONAL_KEY_IN_PRODUCTION_CODE.run(context).findings[0]

    assert finding.message == (
        "OpenAI key sk-admin-…g5ht in src/claims/settings.py line 7 is admin key finops-audit of organisation "
        "org-LarkspurAnalytics, owned by user Dana Whitfield, a person's key in production code rather than a service account's."
    )
