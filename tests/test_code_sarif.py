"""SARIF 2.1.0 rendering of a JSON result, validated against the OASIS schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from reports.sarif import build_sarif

SCHEMA = json.loads((Path(__file__).parent / "data" / "code" / "sarif-schema-2.1.0.json").read_text())

RULE = {
    "id": "code.ai-key-exposed", "title": "AI key in code", "severity": "high", "checks": "No file holds an AI key.",
    "why": "A key in a repository is a leak.", "remediation": "Revoke and replace the key.", "limits": "Shapes only.",
}


def finding(fingerprint: str, path: str | None, suppressed: dict | None = None) -> dict:
    return {
        "fingerprint": fingerprint, "rule_id": "code.ai-key-exposed", "severity": "high", "subject": "repo:f1",
        "message": "src/app.py holds the OpenAI project key sk-proj-…m2Rk in plain text at line 3.",
        "remediation": RULE["remediation"], "suppressed": suppressed,
        "evidence": {"provider": "openai", "key_type": "project", "redacted": "sk-proj-…m2Rk", "fingerprint": "f1", "lines": [3]},
        "location": {"path": path, "line": 3, "column": 11} if path else None,
    }


def result_with(items: list[dict]) -> dict:
    return {
        "tool": {"name": "shadowmap", "version": "0.1.0"},
        "run": {"complete": True},
        "findings": {"items": items},
        "rules": [RULE],
    }


def test_sarif_log_validates():
    sarif = build_sarif(result_with([finding("a" * 32, "src/app.py")]))
    jsonschema.validate(sarif, SCHEMA)


def test_result_points_at_file_line_and_column():
    result = build_sarif(result_with([finding("a" * 32, "src/my app.py")]))["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/my%20app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 11}
    assert result["partialFingerprints"] == {"shadowmapFingerprint/v1": "a" * 32}
    assert result["properties"]["redacted"] == "sk-proj-…m2Rk"


def test_finding_without_location_is_left_out():
    sarif = build_sarif(result_with([finding("b" * 32, None)]))
    assert sarif["runs"][0]["results"] == []
    assert sarif["runs"][0]["tool"]["driver"]["rules"] == []


def test_suppressed_finding_carries_a_suppression():
    item = finding("c" * 32, "src/app.py", {"reason": "test fixture key, revoked", "expires": None})
    sarif = build_sarif(result_with([item]))
    jsonschema.validate(sarif, SCHEMA)
    assert sarif["runs"][0]["results"][0]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "test fixture key, revoked"}
    ]


def test_rule_carries_security_severity():
    rule = build_sarif(result_with([finding("d" * 32, "a.py")]))["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["properties"]["security-severity"] == "8.0"
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["shortDescription"] == {"text": "AI key in code"}
