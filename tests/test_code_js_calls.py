"""The JavaScript and TypeScript AI call analyser on tree-sitter syntax trees."""

from __future__ import annotations

import textwrap

import pytest

from collectors.code.calls import CallOccurrence
from collectors.code.pipeline import FileScanner, ScanOptions, SourceFile

GATEWAY = "ai-gateway.larkspur.example"
SCANNER = FileScanner(ScanOptions(analysers=("js-calls",), gateways=(GATEWAY,)))
PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/claims7xq2m4k9"


def calls(source: str, path: str = "app.ts") -> list[CallOccurrence]:
    result = SCANNER.scan([SourceFile("repo", path, content=textwrap.dedent(source).encode())])
    assert result.problems == []
    return [item for item in result.occurrences if isinstance(item, CallOccurrence)]


def only(source: str, path: str = "app.ts") -> CallOccurrence:
    found = calls(source, path)
    assert len(found) == 1, found
    return found[0]


BEDROCK = 'import { BedrockRuntimeClient, ConverseCommand, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";\nconst client = new BedrockRuntimeClient({ region: "us-east-1" });\n'


@pytest.mark.parametrize(("command", "operation", "expected_class"), [
    (f'await client.send(new ConverseCommand({{ modelId: "{PROFILE}", messages: [] }}));', "converse", "application_profile"),
    ('await client.send(new InvokeModelCommand({ modelId: "apac.anthropic.claude-3-5-sonnet-20240620-v1:0", body: "" }));', "invoke_model", "system_profile"),
    ('await client.send(new ConverseCommand({ modelId: "amazon.nova-pro-v1:0", messages: [] }));', "converse", "foundation_model"),
    ("await client.send(new ConverseCommand({ modelId: process.env.MODEL_ID, messages: [] }));", "converse", "unresolved"),
])
def test_aws_sdk_v3_command_model_id(command, operation, expected_class):
    call = only(BEDROCK + command + "\n")
    assert call.provider == "aws"
    assert call.operation == operation
    assert call.model_id_class == expected_class
    assert call.host == "bedrock-runtime.us-east-1.amazonaws.com"
    assert call.line == 3


def test_command_built_apart_from_send():
    call = only(BEDROCK + 'const MODEL = "us.meta.llama3-2-90b-instruct-v1:0";\nconst command = new ConverseCommand({ modelId: MODEL, messages: [] });\nawait client.send(command);\n')
    assert call.line == 4
    assert call.model_id_class == "system_profile"


def test_commonjs_require_and_template_model_id():
    call = only(
        'const { BedrockRuntime } = require("@aws-sdk/client-bedrock-runtime");\n'
        'const runtime = new BedrockRuntime({ region: "eu-central-1" });\n'
        "async function run(family) {\n  return runtime.converse({ modelId: `eu.${family}`, messages: [] });\n}\n",
        "handler.js",
    )
    assert call.model == "eu.{family}"
    assert call.model_id_class == "system_profile"
    assert call.host == "bedrock-runtime.eu-central-1.amazonaws.com"


def test_local_function_sharing_a_name_is_not_an_sdk_call():
    source = BEDROCK + textwrap.dedent('''
        function converse(input: any) { return input; }
        class Assistant {
          invokeModel(input: any) { return input; }
          run() { return this.invokeModel({ modelId: "anthropic.claude-v2" }); }
        }
        converse({ modelId: "us.anthropic.claude-3-haiku-20240307-v1:0" });
    ''')
    assert calls(source) == []


@pytest.mark.parametrize(("arguments", "expected"), [
    ('{ model: "gpt-4o", messages: [], user: userId }', True),
    ('{ model: "gpt-4o", input: "x", safety_identifier: "h-1" }', True),
    ('{ model: "gpt-4o", messages: [] }', False),
    ('{ model: "gpt-4o", ...options }', None),
])
def test_openai_end_user(arguments, expected):
    call = only(f'import OpenAI from "openai";\nconst openai = new OpenAI();\nexport async function f(userId: string, options: any) {{\n  await openai.chat.completions.create({arguments});\n}}\n')
    assert call.provider == "openai"
    assert call.end_user is expected


def test_class_field_and_constructor_parameter_clients():
    found = calls(textwrap.dedent('''
        import OpenAI from "openai";
        import Anthropic from "@anthropic-ai/sdk";

        export class Ranker {
          private client = new OpenAI({ baseURL: "https://ai-gateway.larkspur.example/v1" });
          constructor(private readonly claude: Anthropic) {}

          async rank(query: string) {
            await this.client.responses.create({ model: "gpt-4o-mini", input: query, user: "search" });
            await this.claude.messages.create({ model: "claude-3-5-haiku-latest", max_tokens: 10, messages: [], metadata: { user_id: "search" } });
          }
        }
    '''))
    assert [(call.provider, call.host, call.via_gateway, call.end_user) for call in found] == [
        ("openai", GATEWAY, True, True),
        ("anthropic", None, None, True),
    ]


def test_vertex_model_factory_and_labels():
    found = calls(textwrap.dedent('''
        import { VertexAI } from "@google-cloud/vertexai";
        const vertex = new VertexAI({ project: "larkspur-data-sandbox", location: "europe-west4" });
        const model = vertex.getGenerativeModel({ model: "gemini-1.5-flash-002" });
        await model.generateContent({ contents: [] });
        await model.generateContent({ contents: [], labels: { team: "research" } });
        const chat = model.startChat();
        await chat.sendMessage("hi");
    '''))
    assert [(call.operation, call.model, call.labels_status, call.labels) for call in found] == [
        ("generate_content", "gemini-1.5-flash-002", "absent", None),
        ("generate_content", "gemini-1.5-flash-002", "present", {"team": "research"}),
        ("send_message", "gemini-1.5-flash-002", "absent", None),
    ]
    assert found[0].host == "europe-west4-aiplatform.googleapis.com"


def test_google_genai_on_vertex_reads_config_labels():
    call = only('import { GoogleGenAI } from "@google/genai";\nconst ai = new GoogleGenAI({ vertexai: true, project: "p", location: "us-central1" });\n'
                'await ai.models.generateContent({ model: "gemini-2.0-flash", contents: "x", config: { labels: { Team: "Search" } } });\n')
    assert call.provider == "gcp"
    assert call.labels == {"Team": "Search"}


def test_anthropic_vertex_sdk_is_a_partner_model_path():
    call = only('import { AnthropicVertex } from "@anthropic-ai/vertex-sdk";\nconst c = new AnthropicVertex({ region: "us-east5" });\n'
                'await c.messages.create({ model: "claude-3-5-sonnet-v2@20241022", max_tokens: 10, messages: [] });\n')
    assert call.labels_status == "not_supported"
    assert call.host == "us-east5-aiplatform.googleapis.com"


@pytest.mark.parametrize(("source", "provider", "operation"), [
    ('await fetch("HTTPS://API.OpenAI.com:443/v1/chat/completions", { method: "POST" });', "openai", "http POST"),
    ('import axios from "axios";\nawait axios.post("https://api.anthropic.com/v1/messages", {});', "anthropic", "http POST"),
    ('const BASE = "https://api.mistral.ai";\nawait fetch(`${BASE}/v1/chat/completions`, { method: "POST" });', "mistral", "http POST"),
])
def test_fetch_and_axios_to_provider_hosts(source, provider, operation):
    call = only(source)
    assert call.provider == provider
    assert call.operation == operation


def test_locally_defined_fetch_is_not_the_global_one():
    assert calls('function fetch(url: string) { return url; }\nfetch("https://api.openai.com/v1/models");\n') == []


def test_tsx_and_plain_javascript_parse():
    tsx = 'import OpenAI from "openai";\nconst c = new OpenAI();\nexport const View = () => <div onClick={() => c.embeddings.create({ model: "text-embedding-3-small", input: "x" })} />;\n'
    assert [call.operation for call in calls(tsx, "view.tsx")] == ["embeddings.create"]
    js = 'const OpenAI = require("openai");\nconst c = new OpenAI();\nc.chat.completions.create({ model: "gpt-4o", messages: [] });\n'
    assert [call.operation for call in calls(js, "index.cjs")] == ["chat.completions.create"]


def test_declaration_files_are_not_analysed():
    assert calls('import OpenAI from "openai";\nnew OpenAI().chat.completions.create({ model: "gpt-4o", messages: [] });\n', "types.d.ts") == []
