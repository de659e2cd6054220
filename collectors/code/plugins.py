"""detect-secrets plugins for AI provider keys, one per provider, built from the key catalogue.

Each class is an ordinary detect-secrets plugin (a `RegexBasedDetector` with a `secret_type` and a
`denylist`), so detect-secrets itself can load this file:

    detect-secrets scan --plugin collectors/code/plugins.py

shadowmap runs the same classes behind its prefilter (collectors/code/keys.py). Prefix-less
formats (Azure OpenAI, Cohere, Mistral, DeepSeek) and Google keys also look at the lines around the
candidate, which detect-secrets passes as a `CodeSnippet`.

Every plugin carries positive and negative sample lines; the tests run each through the whole
pipeline. The sample keys are fake and assembled from parts at import, so no file of this
repository contains a string that a code host's secret scanning would take for a live key.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any, ClassVar, Iterable

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.util.code_snippet import CodeSnippet

from collectors.code.keyformats import ASSIGNMENT_WORDS, KeyFormat, load_catalogue

BASE62 = string.ascii_letters + string.digits
URL_SAFE = BASE62 + "_-"
HEX = "0123456789abcdef"


def fake_part(length: int, alphabet: str = BASE62, seed: str = "") -> str:
    """Return a deterministic random-looking string for sample keys. The seed keeps samples stable."""
    generator = random.Random(f"shadowmap-sample:{seed}:{length}")
    return "".join(generator.choice(alphabet) for _ in range(length))


class AIKeyDetector(RegexBasedDetector):
    """The shared logic of the AI key plugins: the provider's catalogue formats and context."""

    provider: ClassVar[str]
    positive_samples: ClassVar[tuple[str, ...]] = ()
    negative_samples: ClassVar[tuple[str, ...]] = ()

    @property
    def formats(self) -> tuple[KeyFormat, ...]:
        return load_catalogue().of_provider(self.provider)

    @property
    def denylist(self) -> tuple:
        return tuple(key_format.pattern for key_format in self.formats)

    def analyze_line(
        self,
        filename: str,
        line: str,
        line_number: int = 0,
        context: CodeSnippet | None = None,
        **kwargs: Any,
    ) -> set[PotentialSecret]:
        nearby = list(context.lines) if context is not None else [line]
        target = context.target_index if context is not None else 0
        return {
            PotentialSecret(type=self.secret_type, filename=filename, secret=match.group(0), line_number=line_number)
            for match, _ in self.find_keys(line, nearby, target)
        }

    def find_keys(self, line: str, nearby: list[str], target: int) -> Iterable[tuple[re.Match[str], KeyFormat]]:
        """Yield the match of each key on `line` with its format; `nearby` are the lines around
        it, with `line` at index `target`."""
        for key_format in self.formats:
            if key_format.context is not None and not self._context_holds(key_format, line, nearby, target):
                continue
            for match in key_format.pattern.finditer(line):
                if key_format.has_required_characters(match.group(0)):
                    yield match, key_format

    @staticmethod
    def _context_holds(key_format: KeyFormat, line: str, nearby: list[str], target: int) -> bool:
        rule = key_format.context
        assert rule is not None
        if rule.found_in(line):
            return True
        if not ASSIGNMENT_WORDS.search(line):
            return False
        window = nearby[max(0, target - rule.window): target + rule.window + 1]
        return any(rule.found_in(text) for text in window)


def google_key_context(nearby: list[str], target: int) -> str:
    """Tell what a Google API key is for from the lines around it: "firebase" for a public
    Firebase web configuration, "ai" when Gemini or Vertex AI is named nearby, else "none"."""
    google = load_catalogue().google
    window = " ".join(nearby[max(0, target - google.window): target + google.window + 1]).lower()
    if any(keyword in window for keyword in google.firebase_keywords):
        return "firebase"
    if any(keyword in window for keyword in google.ai_keywords):
        return "ai"
    return "none"


class OpenAIKeyDetector(AIKeyDetector):
    """OpenAI keys: admin, project, service account, user (sk-None-) and legacy user keys."""

    secret_type = "AI key: OpenAI"
    provider = "openai"
    positive_samples = (
        'OPENAI_API_KEY = "' + "sk-" + "proj-" + fake_part(74, URL_SAFE, "p1") + "T3Blbk" + "FJ" + fake_part(74, URL_SAFE, "p2") + '"',
        "client = OpenAI(api_key='" + "sk-" + "admin-" + fake_part(58, URL_SAFE, "a1") + "T3Blbk" + "FJ" + fake_part(58, URL_SAFE, "a2") + "')",
        "export OPENAI_API_KEY=" + "sk-" + "svcacct-" + fake_part(74, URL_SAFE, "s1") + "T3Blbk" + "FJ" + fake_part(74, URL_SAFE, "s2"),
        'key: "' + "sk-" + fake_part(20, BASE62, "l1") + "T3Blbk" + "FJ" + fake_part(20, BASE62, "l2") + '"',
        'os.getenv("OPENAI_API_KEY", "' + "sk-" + "None-" + fake_part(48, URL_SAFE, "n1") + '")',
    )
    negative_samples = (
        'OPENAI_API_KEY = "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
        'api_key = "sk-your-api-key-here"',
        'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]',
        'model = "gpt-4o-mini-2024-07-18"',
        "run_task-" + fake_part(48, BASE62, "t1"),
        'placeholder = "sk-proj-' + "abc123" * 10 + '"',
    )


class AnthropicKeyDetector(AIKeyDetector):
    """Anthropic API keys, admin keys and Claude subscription OAuth tokens."""

    secret_type = "AI key: Anthropic"
    provider = "anthropic"
    positive_samples = (
        'ANTHROPIC_API_KEY="' + "sk-" + "ant-" + "api03-" + fake_part(93, URL_SAFE, "an1") + "AA" + '"',
        "admin_key = '" + "sk-" + "ant-" + "admin01-" + fake_part(93, URL_SAFE, "an2") + "AA" + "'",
        "CLAUDE_CODE_OAUTH_TOKEN=" + "sk-" + "ant-" + "oat01-" + fake_part(100, URL_SAFE, "an3"),
    )
    negative_samples = (
        'ANTHROPIC_API_KEY="sk-ant-api03-..."',
        'model="claude-3-5-sonnet-20241022"',
        "sk-ant-api03-" + fake_part(80, URL_SAFE, "an4") + "AA",
        "ANTHROPIC_API_KEY=${ANTHROPIC_API_KEY}",
    )


class GoogleAIKeyDetector(AIKeyDetector):
    """Google API keys used for Gemini; Firebase web configuration keys are public and skipped."""

    secret_type = "AI key: Google"
    provider = "google"
    positive_samples = (
        'genai.configure(api_key="' + "AI" + "za" + fake_part(35, URL_SAFE, "g1") + '")',
        "GEMINI_API_KEY=" + "AI" + "za" + fake_part(35, URL_SAFE, "g2"),
        "maps_key = '" + "AI" + "za" + fake_part(35, URL_SAFE, "g3") + "'",
    )
    negative_samples = (
        'const firebaseConfig = { apiKey: "' + "AI" + "za" + fake_part(35, URL_SAFE, "g4") + '", authDomain: "larkspur.firebaseapp.com" };',
        'GEMINI_API_KEY="AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"',
        'model = "gemini-1.5-pro-002"',
    )

    def find_keys(self, line: str, nearby: list[str], target: int) -> Iterable[tuple[re.Match[str], KeyFormat]]:
        for match, key_format in super().find_keys(line, nearby, target):
            if google_key_context(nearby, target) != "firebase":
                yield match, key_format


class HuggingFaceTokenDetector(AIKeyDetector):
    """Hugging Face user access tokens and legacy organisation tokens."""

    secret_type = "AI key: Hugging Face"
    provider = "huggingface"
    positive_samples = (
        "huggingface-cli login --token " + "hf" + "_" + fake_part(34, string.ascii_letters, "h1"),
        'HF_TOKEN = "' + "hf" + "_" + fake_part(34, BASE62, "h2") + '"',
        "use_auth_token='" + "api" + "_org_" + fake_part(34, string.ascii_letters, "h3") + "'",
    )
    negative_samples = (
        'HF_TOKEN = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
        "- (id)hf_requiredCharacteristicTypesForDisplayMetadata;",
        'token = os.environ.get("HF_TOKEN")',
    )


class GroqKeyDetector(AIKeyDetector):
    secret_type = "AI key: Groq"
    provider = "groq"
    positive_samples = ('GROQ_API_KEY="' + "gsk" + "_" + fake_part(52, BASE62, "q1") + '"',)
    negative_samples = ("GROQ_API_KEY=gsk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",)


class ReplicateTokenDetector(AIKeyDetector):
    secret_type = "AI key: Replicate"
    provider = "replicate"
    positive_samples = ("REPLICATE_API_TOKEN=" + "r8" + "_" + fake_part(37, BASE62, "r1"),)
    negative_samples = ("mov r8_d, eax", "REPLICATE_API_TOKEN=r8_<your-token>")


class PerplexityKeyDetector(AIKeyDetector):
    secret_type = "AI key: Perplexity"
    provider = "perplexity"
    positive_samples = ('headers = {"Authorization": "Bearer ' + "pplx" + "-" + fake_part(48, BASE62, "x1") + '"}',)
    negative_samples = ('PPLX_KEY = "pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', 'model="sonar-pro"')


class XAIKeyDetector(AIKeyDetector):
    secret_type = "AI key: xAI"
    provider = "xai"
    positive_samples = ('XAI_API_KEY="' + "xai" + "-" + fake_part(80, BASE62, "xa1") + '"',)
    negative_samples = ('model = "grok-2-latest"', 'XAI_API_KEY = os.getenv("XAI_API_KEY")')


class OpenRouterKeyDetector(AIKeyDetector):
    secret_type = "AI key: OpenRouter"
    provider = "openrouter"
    positive_samples = ("OPENROUTER_API_KEY=" + "sk-" + "or-v1-" + fake_part(64, HEX, "o1"),)
    negative_samples = ('OPENROUTER_API_KEY="sk-or-v1-' + "0" * 64 + '"', 'base_url="https://openrouter.ai/api/v1"')


class LangSmithKeyDetector(AIKeyDetector):
    secret_type = "AI key: LangSmith"
    provider = "langsmith"
    positive_samples = (
        "LANGCHAIN_API_KEY=" + "lsv2" + "_pt_" + fake_part(32, HEX, "ls1") + "_" + fake_part(10, HEX, "ls2"),
        "LANGSMITH_API_KEY='" + "lsv2" + "_sk_" + fake_part(32, HEX, "ls3") + "_" + fake_part(10, HEX, "ls4") + "'",
    )
    negative_samples = ("LANGCHAIN_API_KEY=ls__0123456789abcdef0123456789abcdef", "lsv2_xx_0123456789abcdef0123456789abcdef_0123456789")


class AzureOpenAIKeyDetector(AIKeyDetector):
    """Azure AI Services keys: the 84-character self-identifying shape, and the classic 32 hex
    characters, recognised only beside an Azure OpenAI endpoint or name."""

    secret_type = "AI key: Azure OpenAI"
    provider = "azure"
    positive_samples = (
        'AZURE_OPENAI_API_KEY = "' + fake_part(32, HEX, "z1") + '"',
        'client = AzureOpenAI(api_key="' + fake_part(52, BASE62, "z2") + "JQQJ" + "99" + fake_part(18, BASE62, "z3") + "AC" + "OG" + fake_part(4, BASE62, "z4") + '", api_version="2024-10-21")',
        'endpoint = "https://larkspur-eastus.openai.azure.com/"\napi_key = "' + fake_part(32, HEX, "z5") + '"',
    )
    negative_samples = (
        'commit = "' + fake_part(32, HEX, "z6") + '"',
        'AZURE_OPENAI_DEPLOYMENT = "gpt-4o-claims"',
        'azure_blob_md5 = "' + fake_part(32, HEX, "z7") + '"',
        'AZURE_OPENAI_API_KEY = "00000000000000000000000000000000"',
    )


class CohereKeyDetector(AIKeyDetector):
    secret_type = "AI key: Cohere"
    provider = "cohere"
    positive_samples = (
        "export CO_API_KEY=" + fake_part(40, BASE62, "c1"),
        'co = cohere.ClientV2("' + fake_part(40, BASE62, "c2") + '")',
    )
    negative_samples = (
        'release = "' + fake_part(40, HEX, "c3") + '"',
        'COHERE_MODEL = "command-r-plus-08-2024"',
    )


class MistralKeyDetector(AIKeyDetector):
    secret_type = "AI key: Mistral"
    provider = "mistral"
    positive_samples = ('MISTRAL_API_KEY = "' + fake_part(32, BASE62, "m1") + '"',)
    negative_samples = ('model = "mistral-large-latest"', 'checksum = "' + fake_part(32, BASE62, "m2") + '"')


class DeepSeekKeyDetector(AIKeyDetector):
    secret_type = "AI key: DeepSeek"
    provider = "deepseek"
    positive_samples = ('DEEPSEEK_API_KEY="' + "sk-" + fake_part(32, HEX, "d1") + '"',)
    negative_samples = ('token = "sk-' + fake_part(32, HEX, "d2") + '"', 'model="deepseek-chat"')


PLUGINS: tuple[type[AIKeyDetector], ...] = (
    OpenAIKeyDetector,
    AnthropicKeyDetector,
    GoogleAIKeyDetector,
    HuggingFaceTokenDetector,
    GroqKeyDetector,
    ReplicateTokenDetector,
    PerplexityKeyDetector,
    XAIKeyDetector,
    OpenRouterKeyDetector,
    LangSmithKeyDetector,
    AzureOpenAIKeyDetector,
    CohereKeyDetector,
    MistralKeyDetector,
    DeepSeekKeyDetector,
)
