"""Rules over AI SDK calls found in code (`code.ai_call` assets): what each call carries for
attribution, decided where the call is written.

Bedrock calls whose modelId is a literal system profile or bare model ID are judged by
`aws.bedrock.system-profile-use` and `aws.bedrock.foundation-model-use` (rules/aws_bedrock.py),
which read the same assets; the Bedrock rule here covers what those cannot see: a modelId the
code does not resolve, or resolves only in part.
"""

from __future__ import annotations

from typing import Callable, Iterable

from collectors.aws.catalogue import FOUNDATION_MODEL, SYSTEM_PROFILE, classify_model_id
from collectors.code.calls import AI_CALL, LABELS_ABSENT, LABELS_NOT_SUPPORTED, LABELS_PRESENT, LABELS_UNRESOLVED, call_subjects, subject_path
from collectors.code.inventory import AI_SETTING
from collectors.code.sdks import UNRESOLVED, load_catalogue, normalise_gateways, via_gateway
from collectors.gcp.labels import label_problems
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Location, Severity, normalise_tag_key

PROVIDER_NAMES = {"aws": "Bedrock", "gcp": "Vertex AI", "openai": "OpenAI", "anthropic": "Anthropic", "azure": "Azure OpenAI", "google": "Gemini API"}


def _place(asset: Asset) -> tuple:
    attributes = asset.attributes
    return (asset.scope, attributes.get("path", ""), attributes.get("line", 0), attributes.get("column", 0))


def _location(asset: Asset) -> Location:
    return Location(asset.attributes["path"], asset.attributes.get("line"), asset.attributes.get("column"))


def _calls(context: RuleContext, keep: Callable[[Asset], bool]) -> list[Asset]:
    return sorted((asset for asset in context.inventory.assets_of_kind(AI_CALL) if keep(asset)), key=_place)


def _evidence(asset: Asset, **extra: object) -> dict[str, object]:
    attributes = asset.attributes
    evidence: dict[str, object] = {"provider": asset.provider, "sdk": attributes.get("sdk"), "operation": attributes.get("operation")}
    for name in ("model_id", "host", "repository", "commit"):
        if attributes.get(name) is not None:
            evidence[name] = attributes[name]
    evidence.update(extra)
    return evidence


# code.bedrock.model-id-unresolved


def _is_bedrock_call(asset: Asset) -> bool:
    return asset.provider == "aws" and asset.attributes.get("model_id_class") is not None


def _check_bedrock_model_ids(context: RuleContext) -> Iterable[Violation] | None:
    calls = _calls(context, _is_bedrock_call)
    if not calls:
        return None
    subjects = call_subjects(calls)
    violations = []
    for asset in calls:
        model_id = asset.attributes.get("model_id")
        kind = asset.attributes["model_id_class"]
        if kind == UNRESOLVED:
            message = (
                f"Bedrock call passes a modelId the code does not resolve"
                f"{f' ({model_id})' if model_id else ''}, so whether an application inference profile attributes it is unknown."
            )
            severity = Severity.LOW
        elif kind == "unknown":
            message = f"Bedrock call passes {model_id}, which is not a Bedrock model identifier the catalogue knows, so its attribution is unknown."
            severity = Severity.LOW
        elif kind in (SYSTEM_PROFILE, FOUNDATION_MODEL) and classify_model_id(model_id or "") != kind:
            # A partly resolved ARN that the AWS rules cannot classify: judged here instead.
            words = "system-defined inference profile" if kind == SYSTEM_PROFILE else "foundation model"
            message = f"Bedrock call passes {model_id}, a {words} ARN built at run time, which no tag can attribute."
            severity = Severity.MEDIUM
        else:
            continue
        violations.append(Violation(subjects[asset.id], message, _evidence(asset, model_id_class=kind), _location(asset), severity))
    return violations


# code.vertex.labels-missing and code.vertex.labels-invalid


def _has_labels_status(asset: Asset) -> bool:
    return asset.attributes.get("labels_status") in (LABELS_PRESENT, LABELS_ABSENT, LABELS_UNRESOLVED)


def _check_labels_missing(context: RuleContext) -> Iterable[Violation] | None:
    calls = _calls(context, _has_labels_status)
    if not calls:
        return None
    required = [normalise_tag_key(key) for key in context.policy.required_tags]
    subjects = call_subjects(calls)
    violations = []
    for asset in calls:
        attributes = asset.attributes
        status = attributes["labels_status"]
        backend_unknown = attributes.get("vertex_backend", True) is None
        maybe = " if the client reaches Vertex AI (its backend is set outside the code)" if backend_unknown else ""
        if status == LABELS_ABSENT:
            message = f"Vertex AI call carries no labels{maybe}, so its spend reaches the project only, not a team."
            severity = Severity.LOW if backend_unknown else None
        elif status == LABELS_UNRESOLVED:
            message = f"Vertex AI call passes labels the code does not resolve, so whether they attribute its spend is unknown."
            severity = Severity.LOW
        else:
            labels = attributes.get("labels") or {}
            present = {normalise_tag_key(key) for key in labels}
            missing = [key for key in required if key not in present]
            if not missing:
                continue
            message = f"Vertex AI call carries labels without {', '.join(missing)}, which policy.required_tags requires."
            severity = Severity.LOW if backend_unknown else None
        violations.append(Violation(subjects[asset.id], message, _evidence(asset, labels=attributes.get("labels"), labels_status=status), _location(asset), severity))
    return violations


def _check_labels_invalid(context: RuleContext) -> Iterable[Violation] | None:
    calls = _calls(context, lambda asset: asset.attributes.get("labels_status") == LABELS_PRESENT)
    if not calls:
        return None
    subjects = call_subjects(calls)
    violations = []
    for asset in calls:
        labels = asset.attributes.get("labels") or {}
        problems = label_problems({key: value or "" for key, value in labels.items()})
        if not problems:
            continue
        violations.append(
            Violation(
                subjects[asset.id],
                f"Vertex AI call passes labels Google rejects: {'; '.join(problems)}.",
                _evidence(asset, labels=labels, problems=problems),
                _location(asset),
            )
        )
    return violations


# code.vertex.partner-model-unlabelled


def _check_partner_models(context: RuleContext) -> Iterable[Violation] | None:
    calls = _calls(context, lambda asset: asset.provider == "gcp")
    if not calls:
        return None
    partner = [asset for asset in calls if asset.attributes.get("labels_status") == LABELS_NOT_SUPPORTED]
    subjects = call_subjects(calls)
    return [
        Violation(
            subjects[asset.id],
            (
                f"Partner model call goes through {asset.attributes.get('client')}, which sends no request labels, "
                f"so the spend on {asset.attributes.get('model_id') or 'its model'} reaches the Google Cloud project only."
            ),
            _evidence(asset, client=asset.attributes.get("client")),
            _location(asset),
        )
        for asset in partner
    ]


# code.openai.end-user-missing and code.anthropic.end-user-missing


def _end_user_check(provider: str, field: str) -> Callable[[RuleContext], Iterable[Violation] | None]:
    def check(context: RuleContext) -> Iterable[Violation] | None:
        calls = _calls(context, lambda asset: asset.provider == provider and asset.attributes.get("end_user_checked"))
        if not calls:
            return None
        subjects = call_subjects(calls)
        violations = []
        for asset in calls:
            state = asset.attributes.get("end_user")
            if state is True:
                continue
            name = PROVIDER_NAMES[provider]
            if state is None:
                message = f"{name} call spreads its arguments in, so whether it passes {field} is unknown."
            else:
                message = f"{name} call passes no {field}, so its usage cannot be attributed to an end user."
            violations.append(Violation(subjects[asset.id], message, _evidence(asset, end_user=state), _location(asset), Severity.LOW))
        return violations

    return check


# code.gateway.direct-call


def _check_gateway(context: RuleContext) -> Iterable[Violation] | None:
    gateways = normalise_gateways(context.policy.gateways)
    if not gateways:
        return None
    calls = context.inventory.assets_of_kind(AI_CALL)
    settings = [asset for asset in context.inventory.assets_of_kind(AI_SETTING) if asset.attributes.get("host")]
    if not calls and not settings:
        return None

    catalogue = load_catalogue()
    subjects = call_subjects(calls)
    violations = []
    for asset in sorted(calls, key=_place):
        host = asset.attributes.get("host")
        routed = via_gateway(host, bool(asset.attributes.get("gateway_sdk")), gateways)
        if routed:
            continue
        name = PROVIDER_NAMES.get(asset.provider, asset.provider)
        if routed is None:
            message = f"{name} call reaches an endpoint the code does not resolve, so whether it goes through a gateway is unknown."
            violations.append(Violation(subjects[asset.id], message, _evidence(asset), _location(asset), Severity.LOW))
            continue
        if catalogue.provider_of_host(host) is None:
            continue  # a self-hosted or internal endpoint, not a provider's
        message = f"{name} call goes straight to {host} instead of through a gateway ({', '.join(sorted(gateways))})."
        violations.append(Violation(subjects[asset.id], message, _evidence(asset), _location(asset)))

    for setting in sorted(settings, key=_place):
        host = setting.attributes["host"]
        if setting.attributes.get("host_provider") is None or via_gateway(host, False, gateways):
            continue
        violations.append(
            Violation(
                f"{subject_path(setting)}:{setting.name}",
                f"{setting.attributes['path']} sets {setting.name} to the provider host {host} instead of a gateway ({', '.join(sorted(gateways))}).",
                {"provider": setting.provider, "variable": setting.name, "host": host},
                Location(setting.attributes["path"], setting.attributes.get("line"), setting.attributes.get("column")),
            )
        )
    return violations


# Samples: `code.ai_call` assets as the code collector builds them.

_CLAIMS_PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/claims7xq2m4k9"
_POLICY = Policy(required_tags=("team", "cost-center"), owner_tags=("team",), gateways=("ai-gateway.larkspur.example",))


def _call(provider: str, sdk: str, client: str, operation: str, line: int = 42, path: str = "src/claims/summarise.py", **attributes: object) -> Asset:
    base: dict[str, object] = {
        "sdk": sdk, "client": client, "operation": operation, "language": "python", "model_id": None, "model_id_class": None,
        "labels": None, "labels_status": None, "partner_model": False, "end_user": None, "end_user_checked": False,
        "host": None, "host_source": "default", "gateway_sdk": False, "via_gateway": False,
        "path": path, "line": line, "column": 5,
    }
    base.update(attributes)
    return Asset(AI_CALL, f"{path}:{line}:5:{provider}", provider, "larkspur-analytics/claims-api", name=f"{client}.{operation}", attributes=base)


def _bedrock(model_id: str | None, model_class: str, line: int = 42) -> Asset:
    return _call("aws", "boto3", "boto3.client", "converse", line, model_id=model_id, model_id_class=model_class,
                 host="bedrock-runtime.us-east-1.amazonaws.com")


def _vertex(labels: dict[str, str | None] | None, status: str, line: int = 18, backend: bool | None = True) -> Asset:
    extra: dict[str, object] = {"vertex_backend": backend} if backend is not True else {}
    return _call("gcp", "vertexai", "GenerativeModel", "generate_content", line, "research/triage.py", model_id="gemini-1.5-pro-002",
                 labels=labels, labels_status=status, host="aiplatform.googleapis.com", **extra)


def _openai(end_user: bool | None, host: str = "api.openai.com", line: int = 12) -> Asset:
    return _call("openai", "openai", "OpenAI", "chat.completions.create", line, "server/rank.py", model_id="gpt-4o-mini",
                 end_user=end_user, end_user_checked=True, host=host)


def _anthropic(end_user: bool | None) -> Asset:
    return _call("anthropic", "anthropic", "Anthropic", "messages.create", 9, model_id="claude-3-5-sonnet-latest",
                 end_user=end_user, end_user_checked=True, host="api.anthropic.com")


def _partner() -> Asset:
    return _call("gcp", "anthropic", "AnthropicVertex", "messages.create", 30, "research/claude_on_vertex.py",
                 model_id="claude-3-5-sonnet-v2@20241022", labels_status=LABELS_NOT_SUPPORTED, partner_model=True,
                 host="us-east5-aiplatform.googleapis.com")


def _setting(host: str, provider: str | None) -> Asset:
    return Asset(AI_SETTING, "ai_setting:.env:OPENAI_BASE_URL", "openai", "larkspur-analytics/claims-api", name="OPENAI_BASE_URL",
                 attributes={"variable": "OPENAI_BASE_URL", "host": host, "host_provider": provider, "path": ".env", "line": 3, "column": 1})


def _context(assets: list[Asset], policy: Policy = _POLICY) -> RuleContext:
    inventory = Inventory(assets=assets)
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


BEDROCK_MODEL_ID_UNRESOLVED = Rule(
    id="code.bedrock.model-id-unresolved",
    title="Bedrock call whose modelId the code does not resolve",
    severity=Severity.LOW,
    checks=(
        "Every Bedrock call in code (boto3 bedrock-runtime, AnthropicBedrock, AWS SDK for JavaScript v3, LiteLLM bedrock/) "
        "passes a modelId that resolves to a known kind; a partly resolved system-profile or foundation-model ARN is flagged too."
    ),
    why=(
        "Only an application inference profile ARN passed as modelId attributes a Bedrock call. When the modelId comes from a "
        "parameter, the environment or another module, nobody reading the code can tell whether the call is attributed."
    ),
    remediation=(
        "Pass the tagged application inference profile ARN from a named constant or setting in the same module, or enforce it "
        "with an IAM condition on bedrock:InferenceProfileArn so that no other modelId is accepted."
    ),
    limits=(
        "Resolves literals, f-strings, + chains, dict literals and names bound in the same function, class or module; values "
        "imported from another module or read from the environment stay unresolved. Literal system-profile and bare model IDs "
        "are reported by aws.bedrock.system-profile-use and aws.bedrock.foundation-model-use instead."
    ),
    check=_check_bedrock_model_ids,
    samples=(
        Sample("application profile ARN", lambda: _context([_bedrock(_CLAIMS_PROFILE, "application_profile")]), RuleStatus.PASS),
        Sample("literal system profile is left to the aws rule", lambda: _context([_bedrock("us.anthropic.claude-3-5-haiku-20241022-v1:0", SYSTEM_PROFILE)]), RuleStatus.PASS),
        Sample("modelId from a parameter", lambda: _context([_bedrock(None, UNRESOLVED)]), RuleStatus.FAIL, 1),
        Sample(
            "system profile ARN built at run time",
            lambda: _context([_bedrock("arn:aws:bedrock:{region}:{account}:inference-profile/us.{model}", SYSTEM_PROFILE)]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no Bedrock calls", lambda: _context([_openai(True)]), RuleStatus.NOT_APPLICABLE),
    ),
)

VERTEX_LABELS_MISSING = Rule(
    id="code.vertex.labels-missing",
    title="Vertex AI call without labels",
    severity=Severity.MEDIUM,
    checks=(
        "Every Vertex AI generate_content call (vertexai, google-genai with vertexai=True, @google-cloud/vertexai, @google/genai) "
        "passes request labels, and those labels include every key in policy.required_tags."
    ),
    why=(
        "Request labels are the only way a Gemini call's cost reaches the BigQuery billing export with a team on it; without them "
        "the spend stops at the Google Cloud project."
    ),
    remediation=(
        "Pass labels on the call or the model, e.g. model.generate_content(prompt, labels={\"team\": \"research\", "
        "\"cost-center\": \"cc-4200\"}), or GenerateContentConfig(labels=...) with google-genai."
    ),
    limits=(
        "Labels built in another module or read from the environment are reported as unresolved (low). A google-genai client "
        "whose backend is chosen by GOOGLE_GENAI_USE_VERTEXAI is judged at low severity."
    ),
    check=_check_labels_missing,
    samples=(
        Sample("labels with team and cost center", lambda: _context([_vertex({"team": "research", "cost-center": "cc-4200"}, LABELS_PRESENT)]), RuleStatus.PASS),
        Sample("no labels", lambda: _context([_vertex(None, LABELS_ABSENT)]), RuleStatus.FAIL, 1),
        Sample("labels lack cost center", lambda: _context([_vertex({"team": "research"}, LABELS_PRESENT)]), RuleStatus.FAIL, 1),
        Sample("labels from a variable", lambda: _context([_vertex(None, LABELS_UNRESOLVED)]), RuleStatus.FAIL, 1),
        Sample("no Vertex AI calls", lambda: _context([_bedrock(_CLAIMS_PROFILE, "application_profile")]), RuleStatus.NOT_APPLICABLE),
    ),
)

VERTEX_LABELS_INVALID = Rule(
    id="code.vertex.labels-invalid",
    title="Vertex AI call with labels Google rejects",
    severity=Severity.MEDIUM,
    checks="Every label a Vertex AI call passes follows Google's label syntax: lower-case keys starting with a letter, lower-case values, at most 63 characters, at most 64 labels.",
    why="A request whose labels break the syntax is rejected or loses its labels, so the spend it was meant to attribute is not attributed.",
    remediation="Rename the labels to lower-case letters, digits, '_' and '-' (team, cost-center), keys starting with a letter.",
    limits="Checks label keys and the values the code resolves; a value built at run time is not checked.",
    check=_check_labels_invalid,
    samples=(
        Sample("valid labels", lambda: _context([_vertex({"team": "research", "cost-center": "cc-4200"}, LABELS_PRESENT)]), RuleStatus.PASS),
        Sample("upper-case key and value", lambda: _context([_vertex({"Team": "Research", "cost-center": "cc-4200"}, LABELS_PRESENT)]), RuleStatus.FAIL, 1),
        Sample("no call passes labels", lambda: _context([_vertex(None, LABELS_ABSENT)]), RuleStatus.NOT_APPLICABLE),
    ),
)

VERTEX_PARTNER_UNLABELLED = Rule(
    id="code.vertex.partner-model-unlabelled",
    title="Partner model on Vertex AI called through a client that sends no labels",
    severity=Severity.MEDIUM,
    checks="No call reaches a partner model on Vertex AI (Claude through AnthropicVertex or @anthropic-ai/vertex-sdk) by a path that cannot carry request labels.",
    why=(
        "Partner models are billed as their own Marketplace services. Anthropic's Vertex client sends the Messages API body, which "
        "has no labels field, so that spend reaches the project and no team."
    ),
    remediation=(
        "Give the workload its own Google Cloud project labelled with its team, or call the model through a path that carries "
        "labels (rawPredict with labels in the request, or a gateway that adds them)."
    ),
    limits="Which call paths carry labels for partner models changes over time; the gcp_vertex catalogue records what is known per publisher.",
    check=_check_partner_models,
    samples=(
        Sample("Gemini call with labels", lambda: _context([_vertex({"team": "research", "cost-center": "cc-4200"}, LABELS_PRESENT)]), RuleStatus.PASS),
        Sample("Claude through AnthropicVertex", lambda: _context([_partner()]), RuleStatus.FAIL, 1),
        Sample("no Vertex AI calls", lambda: _context([_openai(True)]), RuleStatus.NOT_APPLICABLE),
    ),
)

OPENAI_END_USER_MISSING = Rule(
    id="code.openai.end-user-missing",
    title="OpenAI call without an end user",
    severity=Severity.LOW,
    checks="Every OpenAI chat, responses, completions, embeddings, image and audio call passes `user` or `safety_identifier`.",
    why=(
        "OpenAI attributes usage to a project and key only; `user` (being replaced by `safety_identifier`) is the one "
        "per-request field that names who the tokens were spent for, and OpenAI uses it for abuse monitoring too."
    ),
    remediation="Pass a stable, hashed identifier of the end user or calling service: client.responses.create(..., safety_identifier=hashed_user_id).",
    limits="Calls that spread their arguments in (**options) are reported as unknown; a gateway that adds the field is not seen.",
    check=_end_user_check("openai", "user or safety_identifier"),
    samples=(
        Sample("user passed", lambda: _context([_openai(True)]), RuleStatus.PASS),
        Sample("no user", lambda: _context([_openai(False)]), RuleStatus.FAIL, 1),
        Sample("arguments spread in", lambda: _context([_openai(None)]), RuleStatus.FAIL, 1),
        Sample("no OpenAI calls", lambda: _context([_anthropic(True)]), RuleStatus.NOT_APPLICABLE),
    ),
)

ANTHROPIC_END_USER_MISSING = Rule(
    id="code.anthropic.end-user-missing",
    title="Anthropic call without metadata.user_id",
    severity=Severity.LOW,
    checks="Every Anthropic Messages API call passes metadata with a user_id.",
    why="Anthropic attributes usage to a workspace and key only; metadata.user_id is the one per-request field that names the end user.",
    remediation="Pass metadata={\"user_id\": hashed_user_id} on every messages.create call.",
    limits="Calls that pass metadata from a variable or spread their arguments in are reported as unknown.",
    check=_end_user_check("anthropic", "metadata.user_id"),
    samples=(
        Sample("user_id passed", lambda: _context([_anthropic(True)]), RuleStatus.PASS),
        Sample("no metadata", lambda: _context([_anthropic(False)]), RuleStatus.FAIL, 1),
        Sample("no Anthropic calls", lambda: _context([_openai(True)]), RuleStatus.NOT_APPLICABLE),
    ),
)

GATEWAY_DIRECT_CALL = Rule(
    id="code.gateway.direct-call",
    title="AI call that bypasses the gateway",
    severity=Severity.MEDIUM,
    checks=(
        "Where policy.gateways names the organisation's AI gateways, no AI client, raw HTTP call or .env endpoint reaches a provider "
        "host directly; LiteLLM and Portkey calls count as gateway calls."
    ),
    why="A gateway is where callers are identified and spend is split by team; a client that talks to the provider directly is invisible to it.",
    remediation="Point the client at the gateway: OpenAI(base_url=\"https://<gateway>/v1\"), or set OPENAI_BASE_URL / ANTHROPIC_BASE_URL to the gateway.",
    limits=(
        "The provider is told by the base_url, endpoint or URL, not by the import; an endpoint set only in the deployment "
        "environment is seen when a .env file of the repository sets it, and is otherwise taken to be the SDK's default host."
    ),
    check=_check_gateway,
    samples=(
        Sample("client on the gateway", lambda: _context([_openai(True, host="ai-gateway.larkspur.example")]), RuleStatus.PASS),
        Sample("self-hosted endpoint", lambda: _context([_openai(True, host="vllm.internal.larkspur.example")]), RuleStatus.PASS),
        Sample("direct to api.openai.com", lambda: _context([_openai(True)]), RuleStatus.FAIL, 1),
        Sample("endpoint not resolved", lambda: _context([_openai(True, host=None)]), RuleStatus.FAIL, 1),
        Sample(".env points at the provider", lambda: _context([_setting("api.openai.com", "openai")]), RuleStatus.FAIL, 1),
        Sample("no gateways configured", lambda: _context([_openai(True)], Policy()), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [
    BEDROCK_MODEL_ID_UNRESOLVED,
    VERTEX_LABELS_MISSING,
    VERTEX_LABELS_INVALID,
    VERTEX_PARTNER_UNLABELLED,
    OPENAI_END_USER_MISSING,
    ANTHROPIC_END_USER_MISSING,
    GATEWAY_DIRECT_CALL,
]
