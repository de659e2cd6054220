"""The code analysers on real code nobody here wrote: an extract of aisuite 0.2.0 from PyPI.

tests/data/code/real/SOURCES.md says where the extract comes from. The expected counts were
derived by hand, not from the analysers' output: `grep -nE "\\.create\\(|\\.complete\\(|\\.chat\\(|
generate_content|converse\\(|send_message\\(|requests\\.post|httpx\\.post"` over the eight provider
modules lists every candidate call, and each was read in its file to decide whether its receiver is
an AI SDK client (or its URL a provider host) and what it passes:

- anthropic_provider.py: three `client.messages.create(**kwargs)` calls on `anthropic.Anthropic`
  and `AsyncAnthropic` clients (lines 382, 392, 410); metadata comes only from the spread
  kwargs, so the end user is unknown.
- aws_provider.py: one `self.client.converse(modelId=model, ...)` (line 282) on the client that
  `BedrockConfig.create_client()` returns (`boto3.client("bedrock-runtime")`); `model` is a
  parameter, so the modelId is unresolved.
- openai_provider.py: four `chat.completions.create(**kwargs)` calls (lines 46, 59, 72, 86) on
  `openai.OpenAI(**config)` and `AsyncOpenAI(**config)`; the four
  `self.client.audio.transcriptions.create` calls (lines 142 to 202) run on a client passed in
  as a parameter, so they are not counted.
- google_provider.py: `model = GenerativeModel(model, ...)`, `chat = model.start_chat(...)` and
  `chat.send_message(...)` (line 310), a Vertex AI call without labels.
- deepseek_provider.py: one `chat.completions.create` (line 42) on `openai.OpenAI(**config)`,
  whose base_url is set inside the spread dict, so the endpoint is unresolved and the provider
  stays the SDK's own.
- featherless_provider.py: one `chat.completions.create` (line 32) on
  `OpenAI(base_url="https://api.featherless.ai/v1/")`, a host that is no catalogued provider.
- huggingface_provider.py: two `requests.post(url, ...)` calls (lines 197 and 208) whose `url`
  is the f-string `https://api-inference.huggingface.co/models/{model_id}` of line 177.
- xai_provider.py: one `httpx.post(self.BASE_URL, ...)` (line 58) to api.x.ai.

pyproject.toml declares 13 AI SDK packages in [tool.poetry.dependencies] and its dev group
(anthropic, cohere, vertexai, google-genai, groq, mistralai, ibm-watsonx-ai,
cerebras_cloud_sdk, openai, mcp, ollama, fireworks-ai, sentence-transformers); boto3 is left out
by the catalogue on purpose, and the second openai entry (dev group) is the same package.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from collectors.code.collector import CodeCollector
from collectors.code.settings import code_settings
from collectors.contract import CollectContext
from rules.code_ai_calls import RULES
from scanner.config import parse_config
from scanner.coverage import build_coverage
from scanner.model import Inventory
from rules.contract import RuleContext

EXTRACT = Path(__file__).parent / "data" / "code" / "real" / "aisuite-0.2.0"


def collect():
    config = parse_config(f"version: 1\nsources:\n  code:\n    paths: [{EXTRACT}]\n", None)
    result = CodeCollector(code_settings(config)).collect(CollectContext(logger=logging.getLogger("test")))
    return config, result


def test_calls_found_match_the_hand_count():
    _, result = collect()
    calls = [asset for asset in result.assets if asset.kind == "code.ai_call"]
    found = sorted((asset.attributes["path"].rsplit("/", 1)[-1], asset.attributes["line"], asset.provider, asset.attributes["operation"]) for asset in calls)
    assert found == [
        ("anthropic_provider.py", 382, "anthropic", "messages.create"),
        ("anthropic_provider.py", 392, "anthropic", "messages.create"),
        ("anthropic_provider.py", 410, "anthropic", "messages.create"),
        ("aws_provider.py", 282, "aws", "converse"),
        ("deepseek_provider.py", 42, "openai", "chat.completions.create"),
        ("featherless_provider.py", 32, "unknown", "chat.completions.create"),
        ("google_provider.py", 310, "gcp", "send_message"),
        ("huggingface_provider.py", 197, "huggingface", "http POST"),
        ("huggingface_provider.py", 208, "huggingface", "http POST"),
        ("openai_provider.py", 46, "openai", "chat.completions.create"),
        ("openai_provider.py", 59, "openai", "chat.completions.create"),
        ("openai_provider.py", 72, "openai", "chat.completions.create"),
        ("openai_provider.py", 86, "openai", "chat.completions.create"),
        ("xai_provider.py", 58, "xai", "http POST"),
    ]
    assert result.outcome.status.value == "ok"


def test_unresolved_values_stay_unresolved():
    _, result = collect()
    calls = {(asset.attributes["path"].rsplit("/", 1)[-1], asset.attributes["line"]): asset.attributes for asset in result.assets if asset.kind == "code.ai_call"}
    assert calls[("aws_provider.py", 282)]["model_id_class"] == "unresolved"
    assert calls[("anthropic_provider.py", 382)]["end_user"] is None
    assert calls[("deepseek_provider.py", 42)]["host"] is None
    assert calls[("featherless_provider.py", 32)]["host"] == "api.featherless.ai"
    assert calls[("google_provider.py", 310)]["labels_status"] == "absent"


def test_packages_match_the_hand_count():
    _, result = collect()
    packages = sorted((asset.name, asset.attributes["line"]) for asset in result.assets if asset.kind == "code.ai_package")
    assert packages == [
        ("anthropic", 12), ("cerebras_cloud_sdk", 27), ("cohere", 14), ("fireworks-ai", 67), ("google-genai", 17), ("groq", 22),
        ("ibm-watsonx-ai", 24), ("mcp", 29), ("mistralai", 23), ("ollama", 64), ("openai", 28), ("sentence-transformers", 69), ("vertexai", 15),
    ]


def test_findings_match_the_hand_count():
    config, result = collect()
    inventory = Inventory(assets=result.assets)
    context = RuleContext(inventory, config.policy, build_coverage(inventory, config.policy, []))
    counts = Counter(finding.rule_id for rule in RULES for finding in rule.run(context).findings)
    assert counts == {
        "code.openai.end-user-missing": 5,
        "code.anthropic.end-user-missing": 3,
        "code.vertex.labels-missing": 1,
        "code.bedrock.model-id-unresolved": 1,
    }
