"""The Python AI call analyser: which calls are SDK calls, and what each carries for attribution."""

from __future__ import annotations

import json
import textwrap

import pytest

from collectors.code.calls import CallOccurrence
from collectors.code.inventory import InventoryOccurrence
from collectors.code.pipeline import FileScanner, ScanOptions, SourceFile

GATEWAY = "ai-gateway.larkspur.example"
SCANNER = FileScanner(ScanOptions(analysers=("python-calls",), gateways=(GATEWAY,)))
PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/claims7xq2m4k9"


def calls(source: str, path: str = "app.py") -> list[CallOccurrence]:
    result = SCANNER.scan([SourceFile("repo", path, content=textwrap.dedent(source).encode())])
    return [item for item in result.occurrences if isinstance(item, CallOccurrence)]


def only(source: str) -> CallOccurrence:
    found = calls(source)
    assert len(found) == 1, found
    return found[0]


BEDROCK = 'import boto3\nclient = boto3.client("bedrock-runtime", region_name="us-east-1")\n'


@pytest.mark.parametrize(("model_line", "expected_class"), [
    (f'client.converse(modelId="{PROFILE}", messages=[])', "application_profile"),
    ('client.converse(modelId="arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:application-inference-profile/abc123", messages=[])', "application_profile"),
    ('client.invoke_model(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0", body="{}")', "system_profile"),
    ('client.converse_stream(modelId="arn:aws:bedrock:us-east-1:111122223333:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0", messages=[])', "system_profile"),
    ('client.invoke_model_with_response_stream(modelId="anthropic.claude-3-haiku-20240307-v1:0", body="{}")', "foundation_model"),
    ('client.converse(modelId="arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", messages=[])', "foundation_model"),
    ('client.converse(modelId=os.environ["MODEL_ID"], messages=[])', "unresolved"),
    ('client.converse(modelId=os.getenv("MODEL_ID", "us.anthropic.claude-3-haiku-20240307-v1:0"), messages=[])', "unresolved"),
])
def test_bedrock_model_id_is_classified(model_line, expected_class):
    call = only(BEDROCK + "import os\n" + model_line + "\n")
    assert call.provider == "aws"
    assert call.model_id_class == expected_class
    assert call.host == "bedrock-runtime.us-east-1.amazonaws.com"


def test_model_id_resolves_through_module_constants_and_fstrings():
    found = calls(BEDROCK + textwrap.dedent('''
        GEO = "us"
        FAMILY = "anthropic.claude-3-5-haiku-20241022-v1:0"
        MODELS = {"fast": f"{GEO}.{FAMILY}"}

        def run(text):
            return client.converse(modelId=MODELS["fast"], messages=[])
    '''))
    assert [(call.model, call.model_id_class) for call in found] == [("us.anthropic.claude-3-5-haiku-20241022-v1:0", "system_profile")]


def test_partly_resolved_model_id_keeps_its_literal_parts():
    call = only(BEDROCK + "def run(model):\n    client.converse(modelId=f'us.{model}', messages=[])\n")
    assert call.model == "us.{model}"
    assert call.model_id_class == "system_profile"


def test_model_id_from_a_parameter_is_unresolved():
    call = only(BEDROCK + "def run(model_id):\n    return client.converse(modelId=model_id, messages=[])\n")
    assert call.model is None
    assert call.model_id_class == "unresolved"


def test_local_function_sharing_a_name_is_not_an_sdk_call():
    source = BEDROCK + textwrap.dedent('''
        def converse(modelId, messages):
            return modelId

        class Assistant:
            def invoke_model(self, modelId, body):
                return body

            def run(self):
                self.invoke_model(modelId="anthropic.claude-v2", body="{}")

        converse(modelId="us.anthropic.claude-3-haiku-20240307-v1:0", messages=[])
    ''')
    assert calls(source) == []


def test_local_function_shadowing_an_import_is_not_an_sdk_call():
    source = "from litellm import completion\n\ndef completion(model, messages):\n    return None\n\ncompletion(model='gpt-4o', messages=[])\n"
    assert calls(source) == []


def test_client_of_another_service_is_not_bedrock():
    assert calls('import boto3\ns3 = boto3.client("s3")\ns3.converse(modelId="x")\n') == []


def test_session_client_and_self_attribute_are_followed():
    call = only(textwrap.dedent('''
        import boto3

        class Summariser:
            def __init__(self):
                self.runtime = boto3.Session(region_name="eu-west-1").client(service_name="bedrock-runtime")

            def summarise(self, text):
                return self.runtime.converse(
                    modelId="eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
                    messages=[],
                )
    '''))
    assert (call.line, call.column) == (9, 16)
    assert call.operation == "converse"
    assert call.model_id_class == "system_profile"


def test_client_returned_by_a_factory_is_followed():
    call = only(textwrap.dedent('''
        import boto3

        class BedrockConfig:
            def create_client(self):
                return boto3.client("bedrock-runtime", region_name="us-west-2")

        def make():
            return BedrockConfig().create_client()

        client = make()
        client.converse(modelId="meta.llama3-1-70b-instruct-v1:0", messages=[])
    '''))
    assert call.host == "bedrock-runtime.us-west-2.amazonaws.com"
    assert call.model_id_class == "foundation_model"


def test_rebinding_a_parameter_uses_the_latest_binding():
    call = only(textwrap.dedent('''
        from vertexai.generative_models import GenerativeModel

        def chat(model, prompt):
            model = GenerativeModel(model)
            session = model.start_chat()
            return session.send_message(prompt)
    '''))
    assert call.operation == "send_message"
    assert call.labels_status == "absent"


def test_anthropic_bedrock_client_is_a_bedrock_call():
    call = only('from anthropic import AnthropicBedrock\nc = AnthropicBedrock(aws_region="us-east-1")\n'
                'c.messages.create(model="us.anthropic.claude-3-5-sonnet-20241022-v2:0", max_tokens=10, messages=[])\n')
    assert call.provider == "aws"
    assert call.model_id_class == "system_profile"
    assert call.host == "bedrock-runtime.us-east-1.amazonaws.com"


def test_anthropic_vertex_client_cannot_carry_labels():
    call = only('from anthropic import AnthropicVertex\nc = AnthropicVertex(region="us-east5", project_id="p")\n'
                'c.messages.create(model="claude-3-5-sonnet-v2@20241022", max_tokens=10, messages=[])\n')
    assert call.provider == "gcp"
    assert call.partner_model is True
    assert call.labels_status == "not_supported"
    assert call.host == "us-east5-aiplatform.googleapis.com"


@pytest.mark.parametrize(("call_line", "status", "labels"), [
    ('model.generate_content("hi")', "absent", None),
    ('model.generate_content("hi", labels={"team": "research", "cost-center": COST_CENTER})', "present", {"team": "research", "cost-center": "cc-4200"}),
    ('model.generate_content("hi", labels=load_labels())', "unresolved", None),
    ('model.generate_content("hi", labels={"team": user_team})', "present", {"team": None}),
])
def test_vertex_labels_are_read(call_line, status, labels):
    source = ('from vertexai.generative_models import GenerativeModel\nCOST_CENTER = "cc-4200"\n'
              f'model = GenerativeModel("gemini-1.5-pro-002")\ndef f(user_team):\n    {call_line}\n')
    call = only(source)
    assert call.provider == "gcp"
    assert call.model == "gemini-1.5-pro-002"
    assert call.labels_status == status
    assert call.labels == labels


def test_vertex_labels_on_the_model_count():
    call = only('from vertexai.generative_models import GenerativeModel\n'
                'model = GenerativeModel("gemini-1.5-flash-002", labels={"team": "search"})\nmodel.generate_content("hi")\n')
    assert call.labels == {"team": "search"}


@pytest.mark.parametrize(("client_line", "provider", "vertex", "status"), [
    ('genai.Client(vertexai=True, project="p", location="us-central1")', "gcp", True, "absent"),
    ('genai.Client(api_key=key)', "google", False, None),
    ('genai.Client()', "google", None, "absent"),
])
def test_genai_backend_decides_the_label_check(client_line, provider, vertex, status):
    call = only(f'from google import genai\ndef f(key):\n    c = {client_line}\n    c.models.generate_content(model="gemini-2.0-flash", contents="x")\n')
    assert call.provider == provider
    assert call.vertex_backend is vertex
    assert call.labels_status == status


def test_genai_labels_in_config_object():
    call = only('from google import genai\nfrom google.genai import types\nc = genai.Client(vertexai=True)\n'
                'c.models.generate_content(model="gemini-2.0-flash", contents="x", config=types.GenerateContentConfig(labels={"team": "search"}))\n')
    assert call.labels == {"team": "search"}


@pytest.mark.parametrize(("arguments", "expected"), [
    ('model="gpt-4o", messages=[], user="u-42"', True),
    ('model="gpt-4o", messages=[], safety_identifier=hashed', True),
    ('model="gpt-4o", messages=[]', False),
    ('model="gpt-4o", messages=[], **options', None),
])
def test_openai_end_user_is_read(arguments, expected):
    call = only(f"from openai import OpenAI\nclient = OpenAI()\ndef f(hashed, options):\n    client.chat.completions.create({arguments})\n")
    assert call.provider == "openai"
    assert call.end_user is expected
    assert call.end_user_checked is True


@pytest.mark.parametrize(("arguments", "expected"), [
    ('metadata={"user_id": user}', True),
    ("metadata={}", False),
    ("", False),
    ("metadata=meta", None),
])
def test_anthropic_metadata_user_id_is_read(arguments, expected):
    call = only(f"import anthropic\nc = anthropic.Anthropic()\ndef f(user, meta):\n    c.messages.create(model='claude-3-5-haiku-latest', max_tokens=5, messages=[], {arguments})\n")
    assert call.end_user is expected


@pytest.mark.parametrize(("base_url", "provider", "host", "via_gateway"), [
    ("HTTPS://AI-Gateway.Larkspur.example:8443/v1", "openai", GATEWAY, True),
    ("https://api.groq.com/openai/v1", "groq", "api.groq.com", False),
    ("https://API.OpenAI.com:443/v1", "openai", "api.openai.com", False),
    ("http://vllm.internal.larkspur.example:8000/v1", "unknown", "vllm.internal.larkspur.example", False),
])
def test_provider_is_told_by_the_base_url(base_url, provider, host, via_gateway):
    call = only(f'from openai import OpenAI\nc = OpenAI(base_url="{base_url}")\nc.responses.create(model="gpt-4o-mini", input="x")\n')
    assert call.provider == provider
    assert call.host == host
    assert call.via_gateway is via_gateway


def test_unresolved_base_url_is_unknown_gateway_state():
    call = only("import os\nfrom openai import OpenAI\nc = OpenAI(base_url=os.environ['LLM_URL'])\nc.embeddings.create(model='text-embedding-3-small', input='x')\n")
    assert call.host is None
    assert call.via_gateway is None


def test_module_level_openai_client():
    call = only('import openai\nopenai.base_url = "https://ai-gateway.larkspur.example/v1"\nopenai.chat.completions.create(model="gpt-4o", messages=[])\n')
    assert call.host == GATEWAY
    assert call.via_gateway is True


def test_litellm_calls_are_gateway_calls_with_the_model_provider():
    found = calls('import litellm\nfrom litellm import completion\n'
                  'litellm.completion(model="bedrock/us.anthropic.claude-3-haiku-20240307-v1:0", messages=[])\n'
                  'completion(model="vertex_ai/gemini-1.5-pro", messages=[])\n')
    assert [(call.provider, call.via_gateway, call.model_id_class) for call in found] == [("aws", True, "system_profile"), ("gcp", True, None)]


@pytest.mark.parametrize(("source", "provider", "operation"), [
    ('import requests\nrequests.post("https://api.anthropic.com/v1/messages", json={})\n', "anthropic", "http POST"),
    ('import httpx\nBASE = "https://api.openai.com"\nhttpx.post(f"{BASE}/v1/chat/completions")\n', "openai", "http POST"),
    ('import httpx\nwith httpx.Client(base_url="https://generativelanguage.googleapis.com") as h:\n    h.post("/v1beta/models/gemini:generateContent")\n', "google", "http POST"),
    ('import requests\nrequests.request("POST", "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.amazon.nova-lite-v1:0/converse")\n', "aws", "converse"),
])
def test_raw_http_call_to_a_provider_host(source, provider, operation):
    call = only(source)
    assert call.provider == provider
    assert call.operation == operation


def test_raw_http_call_elsewhere_is_not_an_ai_call():
    assert calls('import requests\nrequests.post("https://hooks.slack.com/services/x", json={"text": "openai"})\n') == []


def test_call_position_is_where_the_call_starts():
    call = only('from openai import OpenAI\nclient = OpenAI()\nanswer = (\n    client\n    .chat.completions.create(model="gpt-4o", messages=[])\n)\n')
    assert (call.line, call.column) == (4, 5)


def test_invalid_python_is_reported():
    result = SCANNER.scan([SourceFile("repo", "broken.py", content=b"import openai\nprint 'hello'\n")])
    assert [problem.reason for problem in result.problems] == [
        "not valid Python (line 2: Missing parentheses in call to 'print'. Did you mean print(...)?); its AI calls were not analysed"
    ]


def test_notebook_calls_point_into_the_notebook():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Triage with Gemini\n"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1, "source": [
                "%pip install google-cloud-aiplatform\n",
                "from vertexai.generative_models import GenerativeModel\n",
                "model = GenerativeModel(\"gemini-1.5-pro-002\")\n",
            ]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2, "source": ["model.generate_content(\"Classify this ticket\")\n"]},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    text = json.dumps(notebook, indent=1) + "\n"
    result = SCANNER.scan([SourceFile("repo", "triage.ipynb", content=text.encode())])
    found = [item for item in result.occurrences if isinstance(item, CallOccurrence)]
    line_text = text.splitlines()[found[0].line - 1]
    assert len(found) == 1
    assert "model.generate_content" in line_text
    assert line_text[found[0].column - 1:].startswith("model.generate_content")
    notebooks = [item for item in result.occurrences if isinstance(item, InventoryOccurrence)]
    assert [(item.kind, item.attributes["sdks"], item.attributes["calls"]) for item in notebooks] == [("code.notebook", ["vertexai"], 1)]
