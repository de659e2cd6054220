"""`shadowmap code --format cyclonedx`: a CycloneDX 1.6 AI-BOM that validates against the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from referencing import Registry, Resource

from collectors.code.plugins import URL_SAFE, fake_part
from scanner.cli import main

SCHEMAS = Path(__file__).parent / "data" / "code" / "cyclonedx"


def validator() -> jsonschema.Draft7Validator:
    """The CycloneDX 1.6 schema with the two schemas it refers to, resolved offline."""
    def load(name: str) -> dict:
        return json.loads((SCHEMAS / name).read_text())

    registry = Registry().with_resources([
        ("http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json", Resource.from_contents(load("spdx.SNAPSHOT.schema.json"))),
        ("http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json", Resource.from_contents(load("jsf-0.82.SNAPSHOT.schema.json"))),
    ])
    return jsonschema.Draft7Validator(load("bom-1.6.SNAPSHOT.schema.json"), registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.fixture
def bom(tmp_path, monkeypatch) -> tuple[dict, str]:
    monkeypatch.setenv("SHADOWMAP_STORE", str(tmp_path / "history.sqlite"))
    monkeypatch.chdir(tmp_path)
    key = "sk-" + "proj-" + fake_part(100, URL_SAFE, "bom")
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    (repo / "requirements.txt").write_text("openai==1.54.3\nboto3==1.35.54\n")
    (repo / "package.json").write_text(json.dumps({"dependencies": {"@anthropic-ai/sdk": "0.32.1"}}))
    (repo / ".env").write_text(f"OPENAI_API_KEY={key}\nOPENAI_BASE_URL=https://ai-gateway.larkspur.example/v1\n")
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}}}))
    (repo / "infra" / "bedrock.tf").write_text('resource "aws_bedrock_inference_profile" "claims" {\n  name = "claims"\n  tags = { team = "claims" }\n}\n')
    (repo / "app.py").write_text(
        "import boto3\nfrom openai import OpenAI\n"
        "bedrock = boto3.client('bedrock-runtime', region_name='us-east-1')\n"
        "bedrock.converse(modelId='us.anthropic.claude-3-5-haiku-20241022-v1:0', messages=[])\n"
        "OpenAI(base_url='https://api.openai.com/v1').chat.completions.create(model='gpt-4o-mini', messages=[])\n"
    )
    out = tmp_path / "bom.json"
    result = CliRunner().invoke(main, ["code", "repo", "--format", "cyclonedx", "--output", str(out), "--fail-on", "none"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()), key


def test_bom_validates_against_the_cyclonedx_schema(bom):
    document, _ = bom
    errors = sorted(validator().iter_errors(document), key=lambda error: list(error.path))
    assert [error.message for error in errors] == []
    assert document["specVersion"] == "1.6"


def test_bom_lists_packages_models_and_services(bom):
    document, _ = bom
    components = {component["bom-ref"]: component for component in document["components"]}
    assert sorted(components) == [
        "model:aws:us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "model:openai:gpt-4o-mini",
        "pkg:npm/%40anthropic-ai/sdk@0.32.1",
        "pkg:pypi/openai@1.54.3",
    ]
    assert components["pkg:npm/%40anthropic-ai/sdk@0.32.1"]["group"] == "@anthropic-ai"
    assert components["model:openai:gpt-4o-mini"]["type"] == "machine-learning-model"
    services = {service["bom-ref"]: service for service in document["services"]}
    assert sorted(services) == [
        "endpoint:aws:bedrock-runtime.us-east-1.amazonaws.com",
        "endpoint:openai:api.openai.com",
        "mcp:repo:repo/.mcp.json:github",
        "terraform:repo:repo/infra/bedrock.tf:aws_bedrock_inference_profile.claims",
    ]
    assert services["endpoint:openai:api.openai.com"]["endpoints"] == ["https://api.openai.com"]
    tags = [item for item in services["terraform:repo:repo/infra/bedrock.tf:aws_bedrock_inference_profile.claims"]["properties"] if item["name"].startswith("shadowmap:tag:")]
    assert tags == [{"name": "shadowmap:tag:team", "value": "claims"}]
    assert document["dependencies"][0]["dependsOn"] == [*components, *services]


def test_bom_holds_no_key(bom):
    document, key = bom
    text = json.dumps(document)
    assert key not in text
    assert "repo/.env:2 OPENAI_BASE_URL (ai-gateway.larkspur.example)" in text
