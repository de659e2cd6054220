"""The AI key plugins: every positive and negative sample, the catalogue, and detect-secrets
loading the plugins itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from detect_secrets.core.plugins.util import get_plugins_from_file
from detect_secrets.core.scan import scan_line
from detect_secrets.settings import transient_settings

from collectors.code import plugins as plugin_module
from collectors.code.keyformats import load_catalogue, shannon_entropy
from collectors.code.pipeline import FileScanner, ScanOptions, SourceFile
from collectors.code.plugins import PLUGINS, fake_part

SCANNER = FileScanner(ScanOptions(analysers=("keys",)))
POSITIVES = [(plugin, sample) for plugin in PLUGINS for sample in plugin.positive_samples]
NEGATIVES = [(plugin, sample) for plugin in PLUGINS for sample in plugin.negative_samples]
KEY_TYPES = {"user", "project", "service_account", "admin", "unknown"}


def scan_text(text: str, path: str = "sample.py"):
    return SCANNER.scan([SourceFile("tests", path, content=text.encode("utf-8"))])


@pytest.mark.parametrize(("plugin", "sample"), POSITIVES, ids=[f"{p.__name__}-{i}" for i, (p, _) in enumerate(POSITIVES)])
def test_positive_sample_is_found(plugin, sample):
    result = scan_text(sample)
    providers = [occurrence.provider for occurrence in result.occurrences]
    assert plugin.provider in providers
    assert result.problems == []


@pytest.mark.parametrize(("plugin", "sample"), NEGATIVES, ids=[f"{p.__name__}-{i}" for i, (p, _) in enumerate(NEGATIVES)])
def test_negative_sample_is_not_found(plugin, sample):
    result = scan_text(sample)
    assert result.occurrences == []


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p.__name__ for p in PLUGINS])
def test_every_plugin_has_both_kinds_of_sample(plugin):
    assert len(plugin.positive_samples) >= 1
    assert len(plugin.negative_samples) >= 1


def test_openai_samples_get_their_key_types():
    result = scan_text("\n".join(plugin_module.OpenAIKeyDetector.positive_samples))
    found = sorted((o.line, o.format_id, o.key_type) for o in result.occurrences)
    assert found == [
        (1, "openai-project", "project"),
        (2, "openai-admin", "admin"),
        (3, "openai-service-account", "service_account"),
        (4, "openai-legacy", "user"),
        (5, "openai-user", "user"),
    ]


def test_anthropic_admin_key_is_admin():
    result = scan_text(plugin_module.AnthropicKeyDetector.positive_samples[1])
    assert [(o.format_id, o.key_type) for o in result.occurrences] == [("anthropic-admin", "admin")]


def test_occurrence_redacts_to_prefix_and_last_four():
    key = "sk-" + "proj-" + fake_part(120, plugin_module.URL_SAFE, "redact")
    result = scan_text(f'OPENAI_API_KEY = "{key}"\n')
    occurrence = result.occurrences[0]
    assert occurrence.redacted == f"sk-proj-…{key[-4:]}"
    assert occurrence.prefix == "sk-proj-"
    assert occurrence.last4 == key[-4:]
    assert occurrence.column == 19
    assert occurrence.end_column == 19 + len(key)
    assert key not in repr(occurrence)


def test_google_key_without_ai_context_is_marked_none():
    key = "AI" + "za" + fake_part(35, plugin_module.URL_SAFE, "maps")
    result = scan_text(f"maps_key = '{key}'\n")
    assert [o.ai_context for o in result.occurrences] == ["none"]


def test_google_key_beside_gemini_is_marked_ai():
    key = "AI" + "za" + fake_part(35, plugin_module.URL_SAFE, "gem")
    result = scan_text(f"import google.generativeai as genai\ngenai.configure(api_key='{key}')\n")
    assert [o.ai_context for o in result.occurrences] == ["ai"]


def test_firebase_web_config_key_is_not_a_finding():
    key = "AI" + "za" + fake_part(35, plugin_module.URL_SAFE, "fb")
    text = f'const firebaseConfig = {{\n  apiKey: "{key}",\n  projectId: "larkspur-web",\n}};\n'
    assert scan_text(text).occurrences == []


def test_context_keyword_inside_a_longer_word_is_ignored():
    value = fake_part(40, plugin_module.BASE62, "coherent")
    assert scan_text(f'NSCoherentThing = "{value}"\n').occurrences == []


def test_azure_key_on_the_line_after_its_endpoint_is_found():
    value = fake_part(32, plugin_module.HEX, "az-next")
    text = f'endpoint = "https://larkspur.openai.azure.com/"\napi_key = "{value}"\n'
    found = scan_text(text).occurrences
    assert [(o.provider, o.line) for o in found] == [("azure", 2)]


def test_inline_allow_comment_silences_a_key():
    key = "gsk" + "_" + fake_part(52, plugin_module.BASE62, "allow")
    assert scan_text(f'GROQ_API_KEY = "{key}"  # shadowmap: allow\n').occurrences == []


def test_detect_secrets_pragma_silences_a_key():
    key = "gsk" + "_" + fake_part(52, plugin_module.BASE62, "pragma")
    assert scan_text(f'GROQ_API_KEY = "{key}"  # pragma: allowlist secret\n').occurrences == []


def test_allow_next_line_comment_silences_only_the_next_line():
    first = "gsk" + "_" + fake_part(52, plugin_module.BASE62, "n1")
    second = "gsk" + "_" + fake_part(52, plugin_module.BASE62, "n2")
    text = f'# shadowmap: allow-next-line\nA = "{first}"\nB = "{second}"\n'
    assert [o.line for o in scan_text(text).occurrences] == [3]


def test_catalogue_entries_are_complete():
    catalogue = load_catalogue()
    for key_format in catalogue.formats:
        assert key_format.key_type in KEY_TYPES, key_format.id
        assert len(key_format.sources) >= 2, key_format.id
        assert key_format.literals, key_format.id


def test_catalogue_ids_are_unique():
    ids = [key_format.id for key_format in load_catalogue().formats]
    assert len(ids) == len(set(ids))


def test_prefilter_groups_the_sk_prefixes():
    keys = load_catalogue().prefilter_keys()
    assert set(keys["sk-"]) == {"sk-admin-", "sk-proj-", "sk-svcacct-", "sk-none-", "sk-ant-admin", "sk-ant-api", "sk-ant-oat", "sk-or-v1-"}
    assert keys["deepseek"] == ("deepseek",)


def test_sample_bodies_are_generated_not_typed():
    assert shannon_entropy(fake_part(48, seed="entropy")) > 4.3


def test_detect_secrets_loads_the_plugin_file():
    classes = {plugin.__name__ for plugin in get_plugins_from_file(plugin_module.__file__)}
    assert classes == {plugin.__name__ for plugin in PLUGINS}


def test_detect_secrets_scans_with_the_plugins():
    key = "pplx" + "-" + fake_part(48, plugin_module.BASE62, "ds")
    path = str(Path(plugin_module.__file__).resolve())
    with transient_settings({"plugins_used": [{"name": "PerplexityKeyDetector", "path": f"file://{path}"}]}):
        found = list(scan_line(f'PPLX = "{key}"'))
    assert [secret.type for secret in found] == ["AI key: Perplexity"]
