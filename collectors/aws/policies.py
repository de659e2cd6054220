"""Find IAM and service control policy statements that steer Bedrock model calls through
inference profiles: statements that cover an invoke action and carry a condition on
`bedrock:InferenceProfileArn`.

A Deny statement with that condition enforces profile use for everyone it applies to. An Allow
statement with it only restricts principals that have no other, unconditioned allow, so it is
recorded as weaker evidence.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any, Iterable, Iterator
from urllib.parse import unquote

from collectors.aws.catalogue import load_catalogue


def policy_document(raw: Any) -> dict[str, Any] | None:
    """Read a policy document as boto3 (a dict), the AWS CLI (a dict) or the raw API (URL-encoded
    JSON text) gives it."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    for text in (raw, unquote(raw)):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict):
            return document
    return None


def profile_statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return the statements of a policy that cover a Bedrock invoke action and condition on the
    inference profile ARN, each as {sid, effect}."""
    if not document:
        return []
    condition_key = load_catalogue().inference_profile_condition_key.lower()
    found = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        if not _mentions_condition_key(statement.get("Condition"), condition_key):
            continue
        if not _covers_invoke(statement):
            continue
        found.append({"sid": statement.get("Sid"), "effect": str(statement.get("Effect", "")).capitalize()})
    return found


def authorization_details_evidence(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Scan a GetAccountAuthorizationDetails result: inline policies of users, groups and roles,
    and the default version of every customer managed policy."""
    evidence: list[dict[str, Any]] = []
    for kind, list_key, policy_list_key, name_key in (
        ("user", "UserDetailList", "UserPolicyList", "UserName"),
        ("group", "GroupDetailList", "GroupPolicyList", "GroupName"),
        ("role", "RoleDetailList", "RolePolicyList", "RoleName"),
    ):
        for principal in details.get(list_key) or []:
            for inline in principal.get(policy_list_key) or []:
                for statement in profile_statements(policy_document(inline.get("PolicyDocument"))):
                    evidence.append(
                        {
                            "policy": f"{kind}/{principal.get(name_key)}/{inline.get('PolicyName')}",
                            "policy_type": "inline",
                            **statement,
                        }
                    )

    for managed in details.get("Policies") or []:
        for version in managed.get("PolicyVersionList") or []:
            if not version.get("IsDefaultVersion"):
                continue
            for statement in profile_statements(policy_document(version.get("Document"))):
                evidence.append({"policy": managed.get("Arn") or managed.get("PolicyName"), "policy_type": "managed", **statement})
    return evidence


def enforcement_level(evidence: Iterable[dict[str, Any]]) -> str:
    """`deny` when a Deny statement enforces profile use, `allow` when only conditioned Allow
    statements exist, `none` otherwise."""
    effects = {item.get("effect") for item in evidence}
    if "Deny" in effects:
        return "deny"
    if "Allow" in effects:
        return "allow"
    return "none"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _mentions_condition_key(condition: Any, condition_key: str) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator_block in condition.values():
        if isinstance(operator_block, dict) and any(str(key).lower() == condition_key for key in operator_block):
            return True
    return False


def _covers_invoke(statement: dict[str, Any]) -> bool:
    invoke_actions = [action.lower() for action in load_catalogue().invoke_actions]
    if "NotAction" in statement:
        excluded = [str(pattern).lower() for pattern in _as_list(statement["NotAction"])]
        return any(not _matches_any(action, excluded) for action in invoke_actions)
    patterns = [str(pattern).lower() for pattern in _as_list(statement.get("Action"))]
    return any(_matches_any(action, patterns) for action in invoke_actions)


def _matches_any(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action, pattern) for pattern in patterns)


def accounts_under(targets: Iterable[dict[str, Any]], children: dict[str, list[str]], accounts_of: dict[str, list[str]], all_accounts: Iterable[str]) -> set[str]:
    """Resolve SCP targets (ROOT, ORGANIZATIONAL_UNIT, ACCOUNT) to account IDs, given each OU's
    child OUs and accounts."""
    resolved: set[str] = set()
    for target in targets:
        kind = target.get("Type")
        target_id = target.get("TargetId", "")
        if kind == "ACCOUNT":
            resolved.add(target_id)
        elif kind == "ROOT":
            resolved.update(all_accounts)
        elif kind == "ORGANIZATIONAL_UNIT":
            resolved.update(_walk(target_id, children, accounts_of))
    return resolved


def _walk(parent: str, children: dict[str, list[str]], accounts_of: dict[str, list[str]]) -> Iterator[str]:
    yield from accounts_of.get(parent, [])
    for child in children.get(parent, []):
        yield from _walk(child, children, accounts_of)
