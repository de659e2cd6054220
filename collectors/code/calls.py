"""AI SDK calls found in code: the values both language analysers resolve arguments to, the
occurrence each call becomes, and the judgement of what a call carries for attribution.

The Python analyser (collectors/code/python_calls.py) and the JavaScript and TypeScript analyser
(collectors/code/js_calls.py) turn their syntax trees into the values below; from there on a
call is judged the same way whatever its language: which model it names, which endpoint it
reaches, whether it names its end user and which labels it carries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from collectors.code.sdks import PLACEHOLDER, UNRESOLVED, ApiSpec, ClientSpec, SdkCatalogue, bedrock_model_class, host_of, is_gateway_host, via_gateway
from scanner.model import Asset, SourceRef

AI_CALL = "code.ai_call"

# Labels of a call: present (resolved, possibly with unresolved values), absent, unresolved (the
# argument is a variable), or not supported on the call's path.
LABELS_PRESENT = "present"
LABELS_ABSENT = "absent"
LABELS_UNRESOLVED = "unresolved"
LABELS_NOT_SUPPORTED = "not_supported"

# Sources of a call's endpoint.
HOST_ARGUMENT = "argument"
HOST_DEFAULT = "default"
HOST_URL = "url"
HOST_ENV_FILE = "env_file"

# A Bedrock REST path: /model/{modelId}/{operation}.
BEDROCK_URL_PATH = re.compile(r"/model/(?P<model>[^/?#]+)/(?P<operation>invoke|invoke-with-response-stream|converse|converse-stream)\b")


def subject_path(asset: Asset) -> str:
    """Return where a code asset is, as finding subjects name it: its path relative to the
    repository (the git top level, else the scanned root), led by the GitHub repository when it
    has one. Never the path as typed on the command line, so fingerprints do not change with it."""
    attributes = asset.attributes
    path = attributes.get("repo_path") or attributes.get("path", "")
    repository = attributes.get("repository")
    return f"{repository}:{path}" if repository else path


def call_subjects(calls: list[Asset]) -> dict[str, str]:
    """Give each call a subject that survives edits elsewhere in its file: its repository path,
    client, operation and model, numbered in file order when several calls share them."""
    counters: dict[str, int] = defaultdict(int)
    subjects = {}
    ordered = sorted(calls, key=lambda a: (subject_path(a), a.attributes.get("line", 0), a.attributes.get("column", 0), a.id))
    for asset in ordered:
        base = f"{subject_path(asset)}:{asset.name}:{asset.attributes.get('model_id') or '-'}"
        counters[base] += 1
        subjects[asset.id] = f"{base}#{counters[base]}"
    return subjects


class _Unknown:
    """A value the analysis cannot resolve: a parameter, the environment, a call's result."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Text:
    """A string value. An incomplete one is a template whose unresolved parts read `{name}`."""

    value: str
    complete: bool = True


@dataclass(frozen=True)
class Flag:
    """A boolean literal, such as `vertexai=True`."""

    value: bool


@dataclass(frozen=True)
class Mapping:
    """A dict or object literal with string keys; `open` when it also spreads another value in,
    so a key that is missing may still be there at run time."""

    entries: dict[str, Any]
    open: bool = False


def concatenate(parts: list[Any], placeholder: list[str]) -> Text | Any:
    """Join the parts of an f-string, template literal or `+` chain. Unresolved parts become
    `{source}` placeholders; a string with no literal part at all is UNKNOWN."""
    pieces = []
    complete = True
    literal = False
    for part, source in zip(parts, placeholder):
        if isinstance(part, Text):
            pieces.append(part.value)
            complete = complete and part.complete
            literal = literal or bool(PLACEHOLDER.sub("", part.value))
        else:
            pieces.append("{" + source + "}")
            complete = False
    if not literal:
        return UNKNOWN
    return Text("".join(pieces), complete)


@dataclass
class Arguments:
    """The arguments of one call as values: positional, keyword, and whether some were spread in
    (`**options`, `...options`), in which case a missing keyword may still be passed."""

    positional: list[Any] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)
    spread: bool = False

    def get(self, name: str | None, position: int | None = None) -> Any:
        """Return the value of a keyword (dotted names reach into mappings, as `config.labels`),
        MISSING when it is surely not passed, or UNKNOWN."""
        if name is None:
            return MISSING
        head, _, rest = name.partition(".")
        if head in self.keywords:
            value = self.keywords[head]
        elif position is not None and position < len(self.positional):
            value = self.positional[position]
        else:
            return UNKNOWN if self.spread else MISSING
        return _reach(value, rest) if rest else value


def _reach(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return UNKNOWN
        if key in value.entries:
            value = value.entries[key]
        else:
            return UNKNOWN if value.open else MISSING
    return value


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class Client:
    """An AI client instance as its construction configured it."""

    spec: ClientSpec
    host: str | None
    host_source: str | None
    model: Any = MISSING
    labels: Any = MISSING
    vertex: bool | None = None


@dataclass(frozen=True)
class CallOccurrence:
    """One AI SDK call or raw HTTP call to an AI host, at the place where the call starts."""

    scope: str
    path: str
    line: int
    column: int
    language: str
    sdk: str
    api: str
    operation: str
    provider: str
    host: str | None
    host_source: str | None
    host_env: str | None
    gateway_sdk: bool
    via_gateway: bool | None
    model: str | None
    model_id_class: str | None
    end_user: bool | None
    end_user_checked: bool
    labels: dict[str, str | None] | None
    labels_status: str | None
    partner_model: bool
    vertex_backend: bool | None
    client: str
    commit: str | None = None
    host_from: str | None = None  # the .env file that set the endpoint, for HOST_ENV_FILE


def client_endpoint(spec: ClientSpec, arguments: Arguments, vertex: bool | None = None) -> tuple[str | None, str | None]:
    """Return the host a client reaches and where it came from: an argument (`base_url`,
    `endpoint_url`...), or the SDK's default host with the region argument filled in."""
    for keyword in spec.host_keywords:
        value = arguments.get(keyword)
        if value is MISSING:
            continue
        if isinstance(value, Text):
            host = host_of(value.value)
            if host and PLACEHOLDER.sub("", host).strip(".-"):
                return host, HOST_ARGUMENT
        return None, None

    default = spec.vertex_host if vertex and spec.vertex_host else spec.default_host
    if default is None:
        return None, None
    region = MISSING
    for keyword in spec.region_keywords:
        region = arguments.get(keyword)
        if region is not MISSING:
            break
    if isinstance(region, Text) and region.complete:
        return default.replace("{region}", region.value.lower()), HOST_DEFAULT
    return default, HOST_DEFAULT


def end_user_state(api: ApiSpec, operation: str, arguments: Arguments) -> tuple[bool | None, bool]:
    """Return whether the call names its end user and whether the API takes an end user for this
    operation at all. The first is None when spread arguments or a `metadata` variable hide it."""
    if api.end_user and operation not in api.end_user_exempt:
        if any(name in arguments.keywords for name in api.end_user):
            return True, True
        return (None if arguments.spread else False), True
    if api.end_user_metadata:
        metadata = arguments.get("metadata")
        if metadata is MISSING:
            return False, True
        if isinstance(metadata, Mapping):
            if api.end_user_metadata in metadata.entries:
                return True, True
            return (None if metadata.open else False), True
        return None, True
    return None, False


def labels_state(value: Any) -> tuple[dict[str, str | None] | None, str]:
    if value is MISSING:
        return None, LABELS_ABSENT
    if isinstance(value, Mapping):
        labels = {key: (item.value if isinstance(item, Text) and item.complete else None) for key, item in value.entries.items()}
        return labels, LABELS_PRESENT
    return None, LABELS_UNRESOLVED


def model_text(value: Any) -> str | None:
    return value.value if isinstance(value, Text) else None


def build_call(
    catalogue: SdkCatalogue,
    gateways: frozenset[str],
    where: tuple[str, str, int, int, str | None],
    language: str,
    client: Client,
    operation: str,
    arguments: Arguments,
) -> CallOccurrence:
    """Judge one SDK call: its provider (decided by the endpoint, not by the import), model, end
    user and labels."""
    scope, path, line, column, commit = where
    spec = client.spec
    api = catalogue.apis[spec.api]

    model_value = client.model if client.model is not MISSING and api.name in ("vertex", "gemini") else arguments.get(api.model, 0 if api.name == "litellm" else None)
    model = model_text(model_value)

    host, host_source = client.host, client.host_source
    gateway_sdk = spec.gateway
    if api.name == "litellm":
        provider = catalogue.litellm_provider(model) or "unknown"
    elif catalogue.provider_of_host(host):
        provider = catalogue.provider_of_host(host) or spec.provider
    elif host and host_source == HOST_ARGUMENT and not is_gateway_host(host, gateways):
        # Another provider's OpenAI-compatible API or a self-hosted model: not the SDK's provider.
        provider = "unknown"
    else:
        provider = spec.provider

    bedrock = spec.model_is_bedrock or api.name in ("bedrock", "bedrock_js") or (api.name == "litellm" and provider == "aws")
    model_id_class = None
    if bedrock:
        if api.name == "litellm" and model:
            model = _litellm_bedrock_model(model)
        model_id_class = bedrock_model_class(model)

    end_user, end_user_checked = end_user_state(api, operation, arguments)

    labels: dict[str, str | None] | None = None
    status: str | None = None
    if spec.partner_model:
        status = LABELS_NOT_SUPPORTED
    elif api.labels and (provider == "gcp" or client.vertex is None):
        call_labels = arguments.get(api.labels)
        labels, status = labels_state(call_labels if call_labels is not MISSING else client.labels)

    return CallOccurrence(
        scope=scope, path=path, line=line, column=column, language=language,
        sdk=spec.sdk, api=api.name, operation=operation, provider=provider,
        host=host, host_source=host_source, host_env=spec.host_env, gateway_sdk=gateway_sdk,
        via_gateway=via_gateway(host, gateway_sdk, gateways),
        model=model, model_id_class=model_id_class,
        end_user=end_user, end_user_checked=end_user_checked,
        labels=labels, labels_status=status, partner_model=spec.partner_model,
        vertex_backend=client.vertex, client=spec.name, commit=commit,
    )


def _litellm_bedrock_model(model: str) -> str:
    """Return the Bedrock modelId of a LiteLLM model string: `bedrock/converse/us.anthropic...`
    passes `us.anthropic...`."""
    rest = model.split("/", 1)[1] if "/" in model else model
    for route in ("converse/", "invoke/"):
        if rest.startswith(route):
            return rest[len(route):]
    return rest


def build_http_call(
    catalogue: SdkCatalogue,
    gateways: frozenset[str],
    where: tuple[str, str, int, int, str | None],
    language: str,
    library: str,
    method: str,
    url: Any,
) -> CallOccurrence | None:
    """Judge a raw HTTP call: it counts only when its URL reaches a provider or gateway host."""
    if not isinstance(url, Text):
        return None
    host = host_of(url.value)
    provider = catalogue.provider_of_host(host)
    gateway = host is not None and (host in gateways or host in catalogue.gateway_hosts)
    if provider is None and not gateway:
        return None

    model = None
    model_id_class = None
    operation = f"http {method.upper()}"
    if provider == "aws":
        match = BEDROCK_URL_PATH.search(url.value)
        if match:
            model = unquote(match["model"])
            model_id_class = bedrock_model_class(model)
            operation = match["operation"].replace("-", "_")
        else:
            model_id_class = UNRESOLVED

    scope, path, line, column, commit = where
    return CallOccurrence(
        scope=scope, path=path, line=line, column=column, language=language,
        sdk=library, api="http", operation=operation, provider=provider or "unknown",
        host=host, host_source=HOST_URL, host_env=None, gateway_sdk=False,
        via_gateway=via_gateway(host, False, gateways),
        model=model, model_id_class=model_id_class,
        end_user=None, end_user_checked=False, labels=None, labels_status=None,
        partner_model=False, vertex_backend=None, client=library, commit=commit,
    )


def call_asset(call: CallOccurrence, repository: str | None = None) -> Asset:
    """Build the `code.ai_call` asset of one call; its id is the call's place and provider."""
    attributes: dict[str, Any] = {
        "sdk": call.sdk,
        "client": call.client,
        "operation": call.operation,
        "language": call.language,
        "model_id": call.model,
        "model_id_class": call.model_id_class,
        "labels": call.labels,
        "labels_status": call.labels_status,
        "partner_model": call.partner_model,
        "end_user": call.end_user,
        "end_user_checked": call.end_user_checked,
        "host": call.host,
        "host_source": call.host_source,
        "gateway_sdk": call.gateway_sdk,
        "via_gateway": call.via_gateway,
        "path": call.path,
        "line": call.line,
        "column": call.column,
    }
    if call.vertex_backend is not None or call.api == "genai":
        attributes["vertex_backend"] = call.vertex_backend
    if call.host_from:
        attributes["host_from"] = call.host_from
    if call.commit:
        attributes["commit"] = call.commit
    if repository:
        attributes["repository"] = repository
    return Asset(
        kind=AI_CALL,
        id=f"{call.path}:{call.line}:{call.column}:{call.provider}",
        provider=call.provider,
        scope=call.scope,
        name=f"{call.client}.{call.operation}" if call.api != "http" else f"{call.sdk} {call.operation}",
        attributes=attributes,
        source=SourceRef(location=call.path, row=call.line),
    )


def apply_env_endpoints(calls: list[CallOccurrence], settings: list[Any], catalogue: SdkCatalogue, gateways: frozenset[str]) -> list[CallOccurrence]:
    """Give a call that uses its SDK's default endpoint the endpoint a `.env` file of the same
    repository sets for that SDK (`OPENAI_BASE_URL`), when one does. The nearest `.env` among the
    call's folder and its parents wins, and a plain `.env` over `.env.example` and the like."""
    from dataclasses import replace

    endpoints: dict[str, list[tuple[int, int, str, str, str]]] = {}
    for setting in settings:
        host = setting.attributes.get("host")
        if not host:
            continue
        folder = setting.path.rsplit("/", 1)[0] if "/" in setting.path else ""
        plain = 0 if setting.path.rsplit("/", 1)[-1] == ".env" else 1
        endpoints.setdefault(setting.name.upper(), []).append((-folder.count("/") - (1 if folder else 0), plain, folder, host, setting.path))

    updated = []
    for call in calls:
        candidates = endpoints.get(call.host_env or "", []) if call.host_source == HOST_DEFAULT else []
        usable = sorted(entry for entry in candidates if not entry[2] or call.path.startswith(entry[2] + "/"))
        if usable:
            _, _, _, host, path = usable[0]
            provider = catalogue.provider_of_host(host) or call.provider
            call = replace(call, host=host, host_source=HOST_ENV_FILE, host_from=path, provider=provider,
                           via_gateway=via_gateway(host, call.gateway_sdk, gateways))
        updated.append(call)
    return updated
