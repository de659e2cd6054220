"""The AI inventory in code: packages in manifests, AI resources in Terraform, .env settings, MCP
servers, and how the collector joins them."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest

from collectors.code.collector import CodeCollector
from collectors.code.inventory import InventoryOccurrence
from collectors.code.pipeline import FileScanner, ScanOptions, SourceFile
from collectors.code.settings import code_settings
from collectors.contract import CollectContext
from scanner.config import parse_config

SCANNER = FileScanner(ScanOptions(analysers=("manifests", "terraform", "ai-config")))


def items(path: str, text: str) -> list[InventoryOccurrence]:
    result = SCANNER.scan([SourceFile("repo", path, content=textwrap.dedent(text).encode())])
    assert result.problems == []
    return [item for item in result.occurrences if isinstance(item, InventoryOccurrence)]


def packages(path: str, text: str) -> list[tuple[str, str, str | None, int, str]]:
    return [(item.name, item.provider, item.attributes["version"], item.line, item.attributes["purl"]) for item in items(path, text)]


def test_requirements_file_lists_ai_packages_only():
    text = "# service deps\nOpenAI==1.54.3\nanthropic[bedrock]>=0.39 ; python_version >= '3.9'\nrequests==2.32.3\n-r base.txt\ngoogle_cloud.aiplatform==1.71.1\n"
    assert packages("requirements.txt", text) == [
        ("OpenAI", "openai", "1.54.3", 2, "pkg:pypi/openai@1.54.3"),
        ("anthropic", "anthropic", None, 3, "pkg:pypi/anthropic"),
        ("google_cloud.aiplatform", "gcp", "1.71.1", 6, "pkg:pypi/google-cloud-aiplatform@1.71.1"),
    ]


def test_pyproject_pep621_and_poetry_tables():
    text = '''
        [project]
        name = "claims"
        dependencies = ["openai>=1.40", "pydantic==2.9.2"]

        [project.optional-dependencies]
        vertex = ["google-genai==0.3.0"]

        [tool.poetry.dependencies]
        python = "^3.11"
        litellm = "1.52.0"
        extras-only = { version = "1.0" }
    '''
    assert [(name, version, line) for name, _, version, line, _ in packages("pyproject.toml", text)] == [
        ("openai", None, 4), ("google-genai", "0.3.0", 7), ("litellm", "1.52.0", 11),
    ]


def test_package_json_go_mod_and_pom():
    package_json = json.dumps({"dependencies": {"openai": "4.71.1", "@anthropic-ai/sdk": "^0.32.0", "react": "18.3.1"},
                               "devDependencies": {"@aws-sdk/client-bedrock-runtime": "3.693.0"}}, indent=2)
    assert packages("web/package.json", package_json) == [
        ("openai", "openai", "4.71.1", 3, "pkg:npm/openai@4.71.1"),
        ("@anthropic-ai/sdk", "anthropic", None, 4, "pkg:npm/%40anthropic-ai/sdk"),
        ("@aws-sdk/client-bedrock-runtime", "aws", "3.693.0", 8, "pkg:npm/%40aws-sdk/client-bedrock-runtime@3.693.0"),
    ]
    go_mod = "module example.com/claims\n\ngo 1.23\n\nrequire (\n\tgithub.com/openai/openai-go v0.1.0-alpha.38 // indirect\n\tgithub.com/google/uuid v1.6.0\n)\n\nrequire github.com/aws/aws-sdk-go-v2/service/bedrockruntime v1.20.0\n"
    assert packages("go.mod", go_mod) == [
        ("github.com/openai/openai-go", "openai", "v0.1.0-alpha.38", 6, "pkg:golang/github.com/openai/openai-go@v0.1.0-alpha.38"),
        ("github.com/aws/aws-sdk-go-v2/service/bedrockruntime", "aws", "v1.20.0", 10, "pkg:golang/github.com/aws/aws-sdk-go-v2/service/bedrockruntime@v1.20.0"),
    ]
    pom = ('<project xmlns="http://maven.apache.org/POM/4.0.0"><dependencies>\n<dependency><groupId>com.openai</groupId>'
           '<artifactId>openai-java</artifactId><version>0.8.0</version></dependency>\n<dependency><groupId>junit</groupId>'
           '<artifactId>junit</artifactId><version>4.13.2</version></dependency>\n</dependencies></project>\n')
    assert packages("pom.xml", pom) == [("com.openai:openai-java", "openai", "0.8.0", 2, "pkg:maven/com.openai/openai-java@0.8.0")]


def test_broken_manifest_is_reported():
    result = SCANNER.scan([SourceFile("repo", "package.json", content=b"{not json")])
    assert result.occurrences == []
    assert result.problems[0].reason.startswith("not a valid package.json manifest (")


TERRAFORM = '''
    provider "aws" {
      region = "us-east-1"
      default_tags {
        tags = { "cost-center" = "cc-4100" }
      }
    }

    resource "aws_bedrock_inference_profile" "claims" {
      name = "claims-summariser"
      model_source {
        copy_from = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
      }
      tags = { team = "claims" }
    }

    resource "aws_bedrock_inference_profile" "shared" {
      name = "shared"
      tags = local.common_tags
    }

    resource "google_vertex_ai_endpoint" "triage" {
      name   = "triage"
      labels = { team = var.team }
    }

    resource "aws_s3_bucket" "logs" {
      bucket = "larkspur-logs"
    }
'''


def test_terraform_resources_with_their_tags():
    found = [item for item in items("infra/main.tf", TERRAFORM) if item.kind == "code.iac_resource"]
    assert [(item.name, item.line, item.provider, item.attributes["tags_status"], item.tags) for item in found] == [
        ("aws_bedrock_inference_profile.claims", 9, "aws", "present", {"team": "claims"}),
        ("aws_bedrock_inference_profile.shared", 17, "aws", "unresolved", None),
        ("google_vertex_ai_endpoint.triage", 22, "gcp", "present", {"team": "${var.team}"}),
    ]
    assert found[0].attributes["model"] == "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"


def test_env_file_keeps_names_hosts_and_models_but_no_secret():
    secret = "sk-" + "proj-" + "Q" * 40
    text = f"OPENAI_API_KEY={secret}\nOPENAI_BASE_URL=https://AI-Gateway.larkspur.example:8443/v1\nBEDROCK_MODEL_ID=us.anthropic.claude-3-5-haiku-20241022-v1:0\nDATABASE_URL=postgres://x\nexport ANTHROPIC_BASE_URL=\"${{ANTHROPIC_PROXY}}\"\n"
    found = items("services/claims/.env", text)
    assert [(item.name, item.line, item.provider) for item in found] == [
        ("OPENAI_API_KEY", 1, "openai"), ("OPENAI_BASE_URL", 2, "openai"), ("BEDROCK_MODEL_ID", 3, "aws"), ("ANTHROPIC_BASE_URL", 5, "anthropic"),
    ]
    assert found[1].attributes["host"] == "ai-gateway.larkspur.example"
    assert found[2].attributes["model_id_class"] == "system_profile"
    assert found[3].attributes["value_kind"] == "reference"
    assert secret not in repr(found)


def test_mcp_servers_without_their_secrets():
    token = "ghp_" + "A" * 36
    config = {"mcpServers": {
        "github": {"command": "/usr/local/bin/npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": token}},
        "search": {"type": "sse", "url": "https://mcp.larkspur.example/sse", "headers": {"Authorization": f"Bearer {token}"}},
    }}
    found = items(".cursor/mcp.json", json.dumps(config, indent=2))
    assert [(item.name, item.line, item.attributes) for item in found] == [
        ("github", 3, {"transport": "stdio", "command": "npx", "package": "@modelcontextprotocol/server-github", "env_variables": ["GITHUB_PERSONAL_ACCESS_TOKEN"]}),
        ("search", 13, {"transport": "sse", "host": "mcp.larkspur.example", "header_names": ["Authorization"]}),
    ]
    assert token not in repr(found)


def collect(root: Path, extra: str = "") -> list:
    config = parse_config(f"version: 1\n{extra}sources:\n  code:\n    paths: [{root}]\n", None)
    return CodeCollector(code_settings(config)).collect(CollectContext(logger=logging.getLogger("test"))).assets


def test_default_tags_of_the_folder_join_the_resources(tmp_path):
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(textwrap.dedent(TERRAFORM))
    assets = {asset.name: asset for asset in collect(tmp_path) if asset.kind == "code.iac_resource"}
    assert assets["aws_bedrock_inference_profile.claims"].tags.values == {"team": "claims", "cost-center": "cc-4100"}
    assert assets["google_vertex_ai_endpoint.triage"].tags.values == {"team": "${var.team}"}


def test_env_file_endpoint_applies_to_default_clients(tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".env").write_text("OPENAI_BASE_URL=https://ai-gateway.larkspur.example/v1\n")
    (tmp_path / "svc" / "app.py").write_text("from openai import OpenAI\nOpenAI().chat.completions.create(model='gpt-4o', messages=[])\n")
    (tmp_path / "other.py").write_text("from openai import OpenAI\nOpenAI().chat.completions.create(model='gpt-4o', messages=[])\n")
    calls = sorted((asset for asset in collect(tmp_path, "policy:\n  gateways: [ai-gateway.larkspur.example]\n") if asset.kind == "code.ai_call"),
                   key=lambda asset: asset.attributes["path"])
    assert [(asset.attributes["path"].rsplit("/", 1)[-1], asset.attributes["host"], asset.attributes["host_source"], asset.attributes["via_gateway"]) for asset in calls] == [
        ("other.py", "api.openai.com", "default", False),
        ("app.py", "ai-gateway.larkspur.example", "env_file", True),
    ]


@pytest.mark.parametrize("name", ["requirements-dev.txt", "requirements/base.in", "pyproject.toml", "package.json", "go.mod", "pom.xml", "main.tf", ".env", ".env.production", ".mcp.json", ".vscode/mcp.json"])
def test_inventory_files_are_picked_by_name(name):
    analysers = {analyser.name: analyser for analyser in SCANNER.analysers}
    assert any(analyser.accepts_path(name) for analyser in analysers.values())
