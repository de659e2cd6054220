"""The demo organisation's GitHub snapshot: reproducible, and scanned to the planted keys only."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from collectors.code.collector import CodeCollector
from collectors.code.settings import code_settings
from collectors.contract import CollectContext
from scanner.config import parse_config

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "code"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_repositories", DEMO / "generate_repositories.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_snapshot_matches_its_generator(tmp_path):
    load_generator().write(tmp_path)
    for name in ("repos.json", "claims-api.tar.gz", "search-ui.tar.gz", "research-notebooks.tar.gz"):
        committed = DEMO / "github" / "larkspur-analytics" / name
        assert (tmp_path / name).read_bytes() == committed.read_bytes(), name


def test_demo_snapshot_yields_the_planted_keys_only():
    text = f"version: 1\nsources:\n  code:\n    snapshot: {DEMO}\n    github:\n      - organization: larkspur-analytics\n"
    config = parse_config(text, None)
    result = CodeCollector(code_settings(config)).collect(CollectContext(logger=logging.getLogger("test")))
    keys = [asset for asset in result.assets if asset.kind == "code.secret"]
    found = sorted((a.scope.split("/")[1], a.attributes["path"], a.provider, a.attributes["key_type"]) for a in keys)
    assert found == [
        ("claims-api", ".env", "anthropic", "project"),
        ("claims-api", "src/claims/settings.py", "openai", "admin"),
        ("research-notebooks", "notebooks/explore-gemini.ipynb", "google", "project"),
        ("research-notebooks", "notebooks/explore-gemini.ipynb", "huggingface", "user"),
        ("research-notebooks", "scripts/quick_eval.py", "openai", "user"),
        ("search-ui", "server/rank.py", "azure", "unknown"),
    ]
    assert result.outcome.status.value == "ok"


def demo_run(gateways: bool = True):
    """Run the code collector and every rule that judges code over the demo snapshot."""
    from rules import all_rules
    from rules.contract import RuleContext
    from scanner.coverage import build_coverage
    from scanner.model import Inventory

    policy = "policy:\n  required_tags: [team, cost-center]\n" + ("  gateways: [ai-gateway.larkspur.example]\n" if gateways else "")
    text = f"version: 1\n{policy}sources:\n  code:\n    snapshot: {DEMO}\n    github:\n      - organization: larkspur-analytics\n"
    config = parse_config(text, None)
    result = CodeCollector(code_settings(config)).collect(CollectContext(logger=logging.getLogger("test")))
    inventory = Inventory(assets=result.assets)
    context = RuleContext(inventory, config.policy, build_coverage(inventory, config.policy, []))
    rules = [rule for rule in all_rules() if rule.id.startswith("code.") or rule.id in ("aws.bedrock.system-profile-use", "aws.bedrock.foundation-model-use")]
    findings = [finding for rule in rules for finding in rule.run(context).findings]
    return result, findings


def test_demo_snapshot_yields_the_planted_calls():
    result, _ = demo_run()
    calls = sorted(
        (a.scope.split("/")[1], a.attributes["path"], a.attributes["line"], a.provider, a.attributes["operation"], a.attributes["model_id_class"])
        for a in result.assets if a.kind == "code.ai_call"
    )
    assert calls == [
        ("claims-api", "src/claims/bedrock_summary.py", 16, "aws", "converse", "application_profile"),
        ("claims-api", "src/claims/bedrock_summary.py", 26, "aws", "invoke_model", "system_profile"),
        ("claims-api", "src/claims/summarise.py", 9, "anthropic", "messages.create", None),
        ("research-notebooks", "scripts/triage_vertex.py", 11, "gcp", "generate_content", None),
        ("search-ui", "server/suggest.py", 9, "openai", "chat.completions.create", None),
        ("search-ui", "web/app/api/answer/route.ts", 8, "openai", "responses.create", None),
    ]


def test_demo_snapshot_yields_the_inventory():
    result, _ = demo_run()
    kinds = sorted((a.kind, a.scope.split("/")[1], a.name) for a in result.assets if a.kind not in ("code.secret", "code.ai_call"))
    assert kinds == [
        ("code.ai_package", "claims-api", "anthropic"),
        ("code.ai_package", "research-notebooks", "google-cloud-aiplatform"),
        ("code.ai_package", "research-notebooks", "google-generativeai"),
        ("code.ai_package", "research-notebooks", "huggingface-hub"),
        ("code.ai_package", "research-notebooks", "openai"),
        ("code.ai_package", "search-ui", "@google/genai"),
        ("code.ai_package", "search-ui", "openai"),
        ("code.ai_setting", "claims-api", "ANTHROPIC_API_KEY"),
        ("code.ai_setting", "claims-api", "AZURE_OPENAI_API_KEY"),
        ("code.ai_setting", "claims-api", "OPENAI_API_KEY"),
        ("code.iac_resource", "claims-api", "aws_bedrock_inference_profile.claims"),
        ("code.iac_resource", "claims-api", "aws_bedrock_inference_profile.claims_triage"),
        ("code.mcp_server", "research-notebooks", "github"),
        ("code.mcp_server", "research-notebooks", "warehouse"),
        ("code.notebook", "research-notebooks", "notebooks/explore-gemini.ipynb"),
    ]


def test_demo_findings_on_calls_and_terraform():
    _, findings = demo_run()
    found = sorted((f.rule_id, f.location.path, f.location.line, f.severity.label) for f in findings if not f.rule_id.startswith("code.ai-"))
    assert found == [
        ("aws.bedrock.system-profile-use", "src/claims/bedrock_summary.py", 26, "medium"),
        ("code.anthropic.end-user-missing", "src/claims/summarise.py", 9, "low"),
        ("code.gateway.direct-call", "scripts/triage_vertex.py", 11, "medium"),
        ("code.gateway.direct-call", "server/suggest.py", 9, "medium"),
        ("code.gateway.direct-call", "src/claims/bedrock_summary.py", 16, "medium"),
        ("code.gateway.direct-call", "src/claims/bedrock_summary.py", 26, "medium"),
        ("code.gateway.direct-call", "src/claims/summarise.py", 9, "medium"),
        ("code.openai.end-user-missing", "server/suggest.py", 9, "low"),
        ("code.terraform.ai-resource-missing-tags", "infra/bedrock.tf", 17, "medium"),
        ("code.vertex.labels-missing", "scripts/triage_vertex.py", 11, "medium"),
    ]


def test_demo_gateway_rule_needs_configured_gateways():
    _, findings = demo_run(gateways=False)
    assert [f for f in findings if f.rule_id == "code.gateway.direct-call"] == []
