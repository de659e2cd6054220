"""SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, Azure DevOps, IDE viewers).

Rendered from the JSON result like every other report. Only findings with a file location become
SARIF results; suppressed findings stay in the log with a `suppressions` entry, as SARIF
provides. Columns count Unicode code points (`columnKind`), which is how shadowmap counts them.
"""

from __future__ import annotations

import json
from typing import Any

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# SARIF `level` for each shadowmap severity; `security-severity` (0.0 to 10.0) is the property
# GitHub code scanning reads to rank security alerts.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}

# Rules about keys in code are security findings; every other code rule is about cost attribution.
SECRET_RULES = frozenset({"code.ai-key-exposed", "code.ai-admin-key-exposed"})


def build_sarif(result: dict[str, Any]) -> dict[str, Any]:
    """Build the SARIF log of a JSON result: one run, its rules and its located findings."""
    findings = [item for item in result["findings"]["items"] if item.get("location")]
    rule_ids = sorted({item["rule_id"] for item in findings})
    rules_by_id = {rule["id"]: rule for rule in result.get("rules", [])}

    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": result["tool"]["name"],
                        "version": result["tool"]["version"],
                        "rules": [_rule(rule_id, rules_by_id.get(rule_id)) for rule_id in rule_ids],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The folder shadowmap code ran in."}}},
                "results": [_result(item, rule_ids.index(item["rule_id"])) for item in findings],
                "invocations": [{"executionSuccessful": bool(result["run"].get("complete", True))}],
            }
        ],
    }


def render_sarif(result: dict[str, Any]) -> str:
    return json.dumps(build_sarif(result), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _rule(rule_id: str, rule: dict[str, Any] | None) -> dict[str, Any]:
    if rule is None:
        return {"id": rule_id}
    return {
        "id": rule_id,
        "name": "".join(word.capitalize() for word in rule_id.replace(".", "-").split("-")),
        "shortDescription": {"text": rule["title"]},
        "fullDescription": {"text": rule["checks"]},
        "help": {"text": f"{rule['why']}\n\nRemediation: {rule['remediation']}\n\nLimits: {rule['limits']}"},
        "defaultConfiguration": {"level": LEVELS[rule["severity"]]},
        "properties": _rule_properties(rule_id, rule["severity"]),
    }


def _rule_properties(rule_id: str, severity: str) -> dict[str, Any]:
    """Tag key rules as security alerts with a `security-severity`. Attribution findings are not
    security alerts, so they carry neither, and code-scanning UIs rank them by `level`."""
    if rule_id in SECRET_RULES:
        return {"security-severity": SECURITY_SEVERITY[severity], "tags": ["security", "secret", "ai"]}
    return {"tags": ["ai", "cost-attribution"]}


def _result(item: dict[str, Any], rule_index: int) -> dict[str, Any]:
    location = item["location"]
    region: dict[str, Any] = {}
    if location.get("line"):
        region["startLine"] = location["line"]
    if location.get("column"):
        region["startColumn"] = location["column"]

    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(location["path"]), "uriBaseId": "%SRCROOT%"}}
    if region:
        physical["region"] = region

    sarif_result: dict[str, Any] = {
        "ruleId": item["rule_id"],
        "ruleIndex": rule_index,
        "level": LEVELS[item["severity"]],
        "message": {"text": item["message"]},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"shadowmapFingerprint/v1": item["fingerprint"]},
        "properties": {"severity": item["severity"], **_evidence_properties(item.get("evidence") or {})},
    }
    if item.get("suppressed"):
        sarif_result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": item["suppressed"]["reason"]}]
    return sarif_result


def _evidence_properties(evidence: dict[str, Any]) -> dict[str, Any]:
    """Pick the evidence fields a reviewer needs beside the message. Evidence is redacted already."""
    keep = ("provider", "key_type", "redacted", "fingerprint", "commit", "repository", "sdk", "operation", "model_id", "host")
    return {name: evidence[name] for name in keep if name in evidence}


def _uri(path: str) -> str:
    """Turn a file path into a relative URI reference: forward slashes, reserved characters escaped."""
    from urllib.parse import quote

    return quote(path.replace("\\", "/").removeprefix("./"), safe="/")
