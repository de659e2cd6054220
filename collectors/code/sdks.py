"""The AI SDK catalogue (rules/catalogues/ai_sdks.yaml) and the judgements the call analysers
share: which provider a host belongs to, whether a host is a gateway, and which kind of Bedrock
model identifier a (possibly partly resolved) `modelId` is.

Only yaml and the standard library are imported, so rules and worker processes load it cheaply.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterable
from urllib.parse import urlsplit

import yaml

CATALOGUE = "ai_sdks.yaml"

# A part of a string that could not be resolved is written as `{name}` in a template.
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

# The kind of a Bedrock modelId whose kind no literal part of the code shows.
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class ApiSpec:
    """The call surface of one SDK: its operations and the arguments that carry the model, the end
    user and the labels."""

    name: str
    operations: frozenset[str]
    model: str | None = None
    end_user: tuple[str, ...] = ()
    end_user_exempt: frozenset[str] = frozenset()
    end_user_metadata: str | None = None
    labels: str | None = None
    commands: frozenset[str] = frozenset()
    sessions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClientSpec:
    """One client class (or factory) of an AI SDK and how it is configured."""

    sdk: str
    api: str
    provider: str
    host_keywords: tuple[str, ...] = ()
    region_keywords: tuple[str, ...] = ()
    default_host: str | None = None
    host_env: str | None = None
    gateway: bool = False
    partner_model: bool = False
    model_is_bedrock: bool = False
    model_argument: int | None = None
    labels_keyword: str | None = None
    vertex_keyword: str | None = None
    vertex_host: str | None = None
    model_factory: str | None = None
    name: str = ""


@dataclass(frozen=True)
class HttpSpec:
    module: str
    functions: frozenset[str]
    session_classes: frozenset[str] = frozenset()
    exports: tuple[str, ...] = ()


@dataclass(frozen=True)
class TerraformType:
    provider: str
    tags: str | None
    kind: str


@dataclass(frozen=True)
class SdkCatalogue:
    hosts: tuple[tuple[re.Pattern[str], str], ...]
    gateway_hosts: frozenset[str]
    apis: dict[str, ApiSpec]
    python_clients: dict[str, ClientSpec]
    boto3: dict[str, Any]
    boto3_client: ClientSpec
    module_clients: dict[str, tuple[ClientSpec, tuple[str, ...]]]
    python_functions: dict[str, ClientSpec]
    python_http: dict[str, HttpSpec]
    js_clients: dict[tuple[str, str], ClientSpec]
    js_http: dict[str, HttpSpec]
    litellm_providers: dict[str, str]
    model_patterns: tuple[tuple[re.Pattern[str], str], ...]
    packages: dict[str, dict[str, str]]
    terraform: dict[str, TerraformType]
    env_settings: tuple[tuple[re.Pattern[str], str], ...]
    env_endpoint_suffixes: tuple[str, ...]
    env_secret_words: tuple[str, ...]
    mcp_files: tuple[dict[str, str], ...] = field(default_factory=tuple)

    def provider_of_host(self, host: str | None) -> str | None:
        """Return the provider whose API `host` is, or None for any other host (a gateway, a
        self-hosted model, an unrelated service). Placeholders in a host template match any name."""
        if not host:
            return None
        name = PLACEHOLDER.sub("x", host)
        for pattern, provider in self.hosts:
            if pattern.fullmatch(name):
                return provider
        return None

    def provider_of_model(self, model: str | None) -> str | None:
        if not model:
            return None
        for pattern, provider in self.model_patterns:
            if pattern.search(model):
                return provider
        return None

    def litellm_provider(self, model: str | None) -> str | None:
        """Return the provider a LiteLLM model string names before its slash, as in
        `bedrock/anthropic.claude-3-haiku-20240307-v1:0`."""
        if not model or "/" not in model:
            return self.provider_of_model(model)
        return self.litellm_providers.get(model.split("/", 1)[0].lower())

    def python_modules(self) -> frozenset[str]:
        """Return the top-level Python modules an AI call needs imported: the SDKs', boto3's and
        the HTTP libraries'."""
        modules = {path.split(".")[0] for path in self.python_clients}
        modules.update(path.split(".")[0] for path in (*self.boto3["factories"], *self.boto3["sessions"]))
        modules.update(module.split(".")[0] for module in (*self.module_clients, *self.python_functions, *self.python_http))
        return frozenset(modules)

    def call_literals(self) -> tuple[str, ...]:
        """Return the lower-case literals without which a file cannot hold an SDK call or a call to a
        provider host: module names and host names. A literal that contains a shorter one is
        dropped, because the shorter one already selects the file."""
        words: set[str] = set()
        for path in self.python_clients:
            words.add(path.split(".")[0] if not path.startswith("google.") else path.split(".")[1])
        words.update(("bedrock", "litellm", "portkey", "vertexai", "genai", "generativeai"))
        words.update(module.lower() for module, _ in self.js_clients)
        for pattern, _ in self.hosts:
            words.add(_host_literal(pattern.pattern))
        words.update(self.gateway_hosts)
        # The key analyser searches for these words already, so literals that contain them cost
        # no extra pass over the file.
        words.update(("azure", "cohere", "mistral", "deepseek", "aiplatform", "huggingface.co"))
        return _minimal_literals(words)


def _host_literal(regex: str) -> str:
    """Return a literal run of a host pattern that a file must contain: the part before the
    first wildcard when it is long enough to be selective, else the longest part."""
    parts = [part.replace("\\", "").strip(".-") for part in re.split(r"\[a-z0-9\.-\]\+", regex)]
    if len(parts[0]) >= 6:
        return parts[0]
    return max(parts, key=len)


def _minimal_literals(words: Iterable[str]) -> tuple[str, ...]:
    ordered = sorted({word.lower() for word in words if word}, key=lambda word: (len(word), word))
    kept: list[str] = []
    for word in ordered:
        if not any(shorter in word for shorter in kept):
            kept.append(word)
    return tuple(kept)


def _host_pattern(glob: str) -> re.Pattern[str]:
    return re.compile(r"[a-z0-9.-]+".join(re.escape(part) for part in glob.lower().split("*")))


def _client(raw: dict[str, Any], apis: dict[str, ApiSpec], name: str) -> ClientSpec:
    if raw["api"] not in apis:
        raise ValueError(f"{CATALOGUE}: client {name} names the unknown api {raw['api']!r}")
    return ClientSpec(
        sdk=raw["sdk"],
        api=raw["api"],
        provider=raw.get("provider", ""),
        host_keywords=tuple(raw.get("host_keywords", ())),
        region_keywords=tuple(raw.get("region_keywords", ())),
        default_host=raw.get("default_host"),
        host_env=raw.get("host_env"),
        gateway=bool(raw.get("gateway", False)),
        partner_model=bool(raw.get("partner_model", False)),
        model_is_bedrock=bool(raw.get("model_is_bedrock", False)),
        model_argument=raw.get("model_argument"),
        labels_keyword=raw.get("labels_keyword"),
        vertex_keyword=raw.get("vertex_keyword"),
        vertex_host=raw.get("vertex_host"),
        model_factory=raw.get("model_factory"),
        name=name,
    )


@functools.cache
def load_catalogue() -> SdkCatalogue:
    text = resources.files("rules").joinpath("catalogues", CATALOGUE).read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)

    apis = {
        name: ApiSpec(
            name=name,
            operations=frozenset(entry.get("operations", ())),
            model=entry.get("model"),
            end_user=tuple(entry.get("end_user", ())),
            end_user_exempt=frozenset(entry.get("end_user_exempt", ())),
            end_user_metadata=entry.get("end_user_metadata"),
            labels=entry.get("labels"),
            commands=frozenset(entry.get("commands", ())),
            sessions=frozenset(entry.get("sessions", ())),
        )
        for name, entry in raw["apis"].items()
    }

    python = raw["python"]
    python_clients = {}
    for entry in python["clients"]:
        for path in entry["paths"]:
            python_clients[path] = _client(entry, apis, path.rsplit(".", 1)[1])
    boto3 = python["boto3"]
    module_clients = {
        entry["module"]: (_client(entry, apis, entry["module"]), tuple(entry.get("host_settings", ())))
        for entry in python["module_clients"]
    }
    python_functions = {entry["module"]: _client({**entry, "provider": ""}, apis, entry["module"]) for entry in python["functions"]}
    python_http = {
        entry["module"]: HttpSpec(entry["module"], frozenset(entry["functions"]), frozenset(entry.get("session_classes", ())))
        for entry in python["http"]
    }

    js_clients = {}
    for entry in raw["javascript"]["clients"]:
        for export in entry["exports"]:
            name = entry["module"] if export == "default" else export
            js_clients[(entry["module"], export)] = _client(entry, apis, name)
    js_http = {
        entry["module"]: HttpSpec(entry["module"], frozenset(entry["functions"]), exports=tuple(entry["exports"]))
        for entry in raw["javascript"]["http"]
    }

    return SdkCatalogue(
        hosts=tuple((_host_pattern(entry["pattern"]), entry["provider"]) for entry in raw["hosts"]),
        gateway_hosts=frozenset(host.lower() for host in raw["gateway_hosts"]),
        apis=apis,
        python_clients=python_clients,
        boto3=boto3,
        boto3_client=_client(boto3, apis, "boto3.client"),
        module_clients=module_clients,
        python_functions=python_functions,
        python_http=python_http,
        js_clients=js_clients,
        js_http=js_http,
        litellm_providers={key.lower(): value for key, value in raw["litellm_providers"].items()},
        model_patterns=tuple((re.compile(entry["pattern"]), entry["provider"]) for entry in raw["model_patterns"]),
        packages={ecosystem: {name.lower(): provider for name, provider in names.items()} for ecosystem, names in raw["packages"].items()},
        terraform={name: TerraformType(entry["provider"], entry.get("tags"), entry["kind"]) for name, entry in raw["terraform"].items()},
        env_settings=tuple((_env_pattern(entry["pattern"]), entry["provider"]) for entry in raw["env_settings"]),
        env_endpoint_suffixes=tuple(raw["env_endpoint_suffixes"]),
        env_secret_words=tuple(raw["env_secret_words"]),
        mcp_files=tuple(raw["mcp_files"]),
    )


def _env_pattern(glob: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")))


def host_of(url: str | None) -> str | None:
    """Return the host name of a URL or a bare host, lower-cased, without port, credentials or
    trailing dot: `HTTPS://API.OpenAI.com:443/v1` and `api.openai.com` give `api.openai.com`."""
    if not url:
        return None
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".") or None


def normalise_gateways(gateways: Iterable[str]) -> frozenset[str]:
    """Return the host names of configured gateways, which may be written as hosts or URLs."""
    return frozenset(host for host in (host_of(entry) for entry in gateways) if host)


def is_gateway_host(host: str | None, gateways: frozenset[str]) -> bool:
    return bool(host) and (host in gateways or host in load_catalogue().gateway_hosts)


def via_gateway(host: str | None, gateway_sdk: bool, gateways: frozenset[str]) -> bool | None:
    """Decide whether a call goes through a gateway: True for gateway SDKs and gateway hosts, None
    when the call's endpoint could not be resolved, False otherwise."""
    if gateway_sdk or is_gateway_host(host, gateways):
        return True
    if host is None:
        return None
    return False


def bedrock_model_class(model_id: str | None) -> str:
    """Name the kind of a Bedrock `modelId` as the code passes it, with the AWS family's classifier
    (collectors/aws/catalogue.py): `application_profile`, `system_profile`, `foundation_model`, the
    other Bedrock kinds, `unknown` for a literal Bedrock does not recognise, or `unresolved`.

    A partly resolved template is judged by its literal parts only: an ARN whose resource type is
    literal, or an ID whose literal start (`us.` or `anthropic.`) names its kind. Anything else is
    unresolved, never guessed.
    """
    from collectors.aws.catalogue import FOUNDATION_MODEL, SYSTEM_PROFILE, classify_model_id

    if model_id is None or not model_id.strip():
        return UNRESOLVED
    if not PLACEHOLDER.search(model_id):
        return classify_model_id(model_id)

    if model_id.startswith("arn:"):
        parts = model_id.split(":", 5)
        if len(parts) < 6 or parts[2] != "bedrock":
            return UNRESOLVED
        resource_type = parts[5].rsplit("/", 1)[0] if "/" in parts[5] else ""
        if not resource_type or PLACEHOLDER.search(resource_type):
            return UNRESOLVED
        kind = classify_model_id(f"arn:aws:bedrock:us-east-1:000000000000:{resource_type}/x")
        return UNRESOLVED if kind == "unknown" else kind

    literal_start = PLACEHOLDER.split(model_id, 1)[0]
    if "." not in literal_start:
        return UNRESOLVED
    kind = classify_model_id(literal_start + "x")
    return kind if kind in (SYSTEM_PROFILE, FOUNDATION_MODEL) else UNRESOLVED
