"""Rules over the Bedrock inventory.

They flag application profiles without required tags, and model calls that no tag can attribute:
system profiles and bare foundation models, measured from invocation logs, code and spend. They
also flag agents whose model spend is unattributed, and invocation logging that is off where
Bedrock is used.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from collectors.aws import kinds
from collectors.aws.catalogue import (
    APPLICATION_PROFILE,
    ATTRIBUTABLE_KINDS,
    FOUNDATION_MODEL,
    SYSTEM_PROFILE,
    classify_model_id,
    is_bedrock_service,
    short_model_id,
)
from collectors.code.calls import call_subjects
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Location, Severity, SpendLine, Tags, decimal_text, money_text

KIND_WORDS = {
    SYSTEM_PROFILE: "system-defined inference profile",
    FOUNDATION_MODEL: "foundation model called by its bare ID",
    APPLICATION_PROFILE: "application inference profile",
}
# Phrases for the way a call reached the model, written after the model ID.
KIND_PHRASES = {
    SYSTEM_PROFILE: "through a system-defined inference profile",
    FOUNDATION_MODEL: "by its bare foundation model ID",
}


# Shared helpers, also used by rules/aws_governance.py


def is_bedrock_line(line: SpendLine) -> bool:
    if line.provider != "aws":
        return False
    if is_bedrock_service(line.service):
        return True
    return bool(line.resource_id) and classify_model_id(line.resource_id) != "unknown"


def bedrock_accounts(inventory: Inventory) -> set[str]:
    """Accounts where Bedrock is in use: Bedrock resources, recorded calls or Bedrock spend."""
    used: set[str] = set()
    resource_kinds = {kinds.APPLICATION_PROFILE, kinds.PROVISIONED_THROUGHPUT, kinds.AGENT, kinds.CUSTOM_MODEL, kinds.IMPORTED_MODEL, kinds.MODEL_USAGE}
    for asset in inventory.assets:
        if asset.kind in resource_kinds:
            used.add(asset.scope)
    for line in inventory.spend_lines:
        if line.account and is_bedrock_line(line):
            used.add(line.account)
    return used


def bedrock_regions(inventory: Inventory) -> set[tuple[str, str]]:
    """(account, region) pairs where Bedrock is in use."""
    used: set[tuple[str, str]] = set()
    for asset in inventory.assets:
        if asset.kind == kinds.REGION:
            counts = [asset.attributes.get(name) or 0 for name in ("application_profiles", "provisioned_throughputs", "agents", "custom_models", "imported_models")]
            if any(counts):
                used.add((asset.scope, asset.attributes.get("region")))
        elif asset.kind == kinds.MODEL_USAGE:
            used.add((asset.scope, asset.attributes.get("region")))
    for line in inventory.spend_lines:
        if line.account and line.region and is_bedrock_line(line):
            used.add((line.account, line.region))
    return used


def _thousands(count: int) -> str:
    return f"{count:,}"


# aws.bedrock.application-profile-missing-tags


def _check_profile_tags(context: RuleContext) -> Iterable[Violation] | None:
    required = context.policy.required_tags
    profiles = [asset for asset in context.inventory.assets_of_kind(kinds.APPLICATION_PROFILE) if asset.attributes.get("tags_read")]
    if not required or not profiles:
        return None

    violations = []
    for profile in sorted(profiles, key=lambda asset: asset.id):
        missing = sorted(key for key in required if not profile.tags.values.get(key))
        if not missing:
            continue
        violations.append(
            Violation(
                subject=profile.id,
                message=(
                    f"Application inference profile {profile.name or profile.id} in account {profile.scope} "
                    f"lacks the required tags {', '.join(missing)}."
                ),
                evidence={"missing_tags": missing, "tags": dict(sorted(profile.tags.values.items())), "region": profile.attributes.get("region")},
            )
        )
    return violations


# aws.bedrock.system-profile-use and aws.bedrock.foundation-model-use


def _model_use_check(kind: str):
    def check(context: RuleContext) -> Iterable[Violation] | None:
        usage = context.inventory.assets_of_kind(kinds.MODEL_USAGE)
        code_calls = [asset for asset in context.inventory.assets_of_kind("code.ai_call") if _code_model_id(asset)]
        bedrock_lines = [line for line in context.inventory.spend_lines if is_bedrock_line(line)]
        if not usage and not code_calls and not bedrock_lines:
            return None
        return [*_usage_violations(usage, kind), *_spend_violations(bedrock_lines, kind), *_code_violations(code_calls, kind)]

    return check


def _usage_violations(usage: list[Asset], kind: str) -> list[Violation]:
    violations = []
    for asset in sorted(usage, key=lambda item: item.id):
        if asset.attributes.get("model_kind") != kind:
            continue
        attributes = asset.attributes
        violations.append(
            Violation(
                subject=asset.id,
                message=(
                    f"Account {asset.scope} called {attributes['model_id']} {KIND_PHRASES[kind]} {_thousands(attributes['calls'])} times "
                    f"in {attributes.get('region') or 'an unknown region'} ({_thousands(attributes['input_tokens'])} input and "
                    f"{_thousands(attributes['output_tokens'])} output tokens), so no tag can attribute those tokens."
                ),
                evidence={
                    "source": "invocation_logs",
                    "calls": attributes["calls"],
                    "input_tokens": attributes["input_tokens"],
                    "output_tokens": attributes["output_tokens"],
                    "top_identities": attributes.get("top_identities", []),
                },
            )
        )
    return violations


def _spend_violations(lines: list[SpendLine], kind: str) -> list[Violation]:
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.resource_id and classify_model_id(line.resource_id) == kind:
            totals[(line.account or "-", line.resource_id, line.currency)] += line.amount
    return [
        Violation(
            subject=f"aws:{account}:spend:{resource}",
            message=(
                f"Account {account} has {money_text(amount, currency)} of Bedrock spend on {short_model_id(resource)} "
                f"{KIND_PHRASES[kind]}, which no tag can attribute."
            ),
            evidence={"source": "spend", "amount": decimal_text(amount), "currency": currency, "resource_id": resource},
        )
        for (account, resource, currency), amount in sorted(totals.items())
    ]


def _code_model_id(asset: Asset) -> str | None:
    """Return the Bedrock modelId a code call passes, from the code family's `code.ai_call` asset."""
    if asset.provider not in ("aws", "bedrock"):
        return None
    value = asset.attributes.get("model_id") or asset.attributes.get("model")
    return value if isinstance(value, str) and value else None


def _code_violations(calls: list[Asset], kind: str) -> list[Violation]:
    # Subjects name the call by repository path, client, operation and model, not by line, so a
    # finding keeps its fingerprint when lines above the call move.
    subjects = call_subjects(calls)
    violations = []
    for asset in sorted(calls, key=lambda item: item.id):
        model_id = _code_model_id(asset)
        if model_id is None or classify_model_id(model_id) != kind:
            continue
        path = asset.attributes.get("path")
        location = Location(str(path), asset.attributes.get("line"), asset.attributes.get("column")) if path else None
        violations.append(
            Violation(
                subject=subjects[asset.id],
                message=f"Bedrock call passes {model_id} ({KIND_WORDS[kind]}) as modelId, which no tag can attribute.",
                evidence={"source": "code", "model_id": model_id},
                location=location,
            )
        )
    return violations


# aws.bedrock.agent-model-unattributed


def _check_agents(context: RuleContext) -> Iterable[Violation] | None:
    agents = context.inventory.assets_of_kind(kinds.AGENT)
    if not agents:
        return None

    unattributed_reasons: dict[str, set[str]] = defaultdict(set)
    for line, attribution in context.coverage.attributions:
        if line.resource_id and not attribution.attributed:
            unattributed_reasons[line.resource_id.lower()].add(attribution.reason or "unknown")

    violations = []
    for agent in sorted(agents, key=lambda asset: asset.id):
        model_kinds: dict[str, str] = agent.attributes.get("model_kinds") or {}
        problems = []
        for model, model_kind in sorted(model_kinds.items()):
            if model_kind not in ATTRIBUTABLE_KINDS:
                problems.append((model, KIND_WORDS.get(model_kind, model_kind.replace("_", " "))))
            elif model.lower() in unattributed_reasons:
                reasons = ", ".join(sorted(unattributed_reasons[model.lower()]))
                problems.append((model, f"{KIND_WORDS.get(model_kind, model_kind)} whose spend reaches no owner ({reasons})"))
        if not problems:
            continue
        described = "; ".join(f"{short_model_id(model)} ({what})" for model, what in problems)
        violations.append(
            Violation(
                subject=agent.id,
                message=f"Agent {agent.name or agent.id} in account {agent.scope} invokes {described}, so the tokens it spends reach no owner.",
                evidence={"models": [model for model, _ in problems], "aliases": agent.attributes.get("aliases", [])},
            )
        )
    return violations


# aws.bedrock.invocation-logging-off


def _check_logging(context: RuleContext) -> Iterable[Violation] | None:
    regions = [asset for asset in context.inventory.assets_of_kind(kinds.REGION) if asset.attributes.get("logging") is not None]
    if not regions:
        return None

    used = bedrock_regions(context.inventory)
    violations = []
    for region in sorted(regions, key=lambda asset: asset.id):
        key = (region.scope, region.attributes.get("region"))
        if key not in used or region.attributes["logging"].get("enabled"):
            continue
        violations.append(
            Violation(
                subject=region.id,
                message=(
                    f"Bedrock model invocation logging is off in account {region.scope} region {key[1]}, where Bedrock is used, "
                    "so which models and profiles are called cannot be measured."
                ),
                evidence={"account": region.scope, "region": key[1]},
            )
        )
    return violations


# Samples, shaped like real inventories


_NOW = datetime(2026, 11, 3, tzinfo=timezone.utc)
_POLICY = Policy(required_tags=("team", "cost-center"), owner_tags=("team", "owner"))
_CLAIMS_PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/claims7xq2m4k9"
_SYSTEM_PROFILE = "arn:aws:bedrock:us-west-2:444455556666:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"


def _context(assets: list[Asset], lines: list[SpendLine] | None = None, policy: Policy = _POLICY) -> RuleContext:
    inventory = Inventory(assets=assets, spend_lines=lines or [])
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


def _profile(tags: dict[str, str]) -> Asset:
    return Asset(
        kinds.APPLICATION_PROFILE,
        _CLAIMS_PROFILE,
        "aws",
        "111122223333",
        name="claims-summariser",
        tags=Tags.from_mapping(tags),
        attributes={"region": "us-east-1", "tags_read": True, "cost_allocation_read": True,
                    "cost_allocation_status": {key: "Active" for key in tags}},
    )


def _usage(model_id: str, calls: int = 1240) -> Asset:
    return Asset(
        kinds.MODEL_USAGE,
        f"444455556666/us-west-2/invocations/{model_id}",
        "aws",
        "444455556666",
        attributes={"region": "us-west-2", "model_id": model_id, "model_kind": classify_model_id(model_id), "calls": calls,
                    "input_tokens": 3_100_000, "output_tokens": 410_000, "top_identities": []},
    )


def _line(amount: str, resource_id: str | None, account: str = "444455556666", tags: dict[str, str] | None = None) -> SpendLine:
    return SpendLine(
        amount=Decimal(amount), currency="USD", period_start=_NOW, period_end=_NOW, provider="aws", service="Amazon Bedrock",
        account=account, resource_id=resource_id, region="us-west-2", tags=Tags.from_mapping(tags or {}),
    )


def _code_call(model_id: str) -> Asset:
    return Asset("code.ai_call", f"services/claims/summarise.py:42:{model_id}", "aws", "larkspur/claims-service",
                 attributes={"model_id": model_id, "path": "services/claims/summarise.py", "line": 42})


def _agent(models: dict[str, str]) -> Asset:
    return Asset(
        kinds.AGENT, "arn:aws:bedrock:us-west-2:444455556666:agent/GRWTHBOT01", "aws", "444455556666", name="growth-support-bot",
        attributes={"region": "us-west-2", "models": sorted(models), "model_kinds": models, "aliases": []},
    )


def _region(logging_on: bool | None, profiles: int = 1) -> Asset:
    logging = None if logging_on is None else {"enabled": logging_on}
    return Asset(kinds.REGION, "444455556666/us-west-2/bedrock", "aws", "444455556666",
                 attributes={"region": "us-west-2", "logging": logging, "application_profiles": profiles, "agents": 0})


APPLICATION_PROFILE_MISSING_TAGS = Rule(
    id="aws.bedrock.application-profile-missing-tags",
    title="Application inference profile lacks required tags",
    severity=Severity.MEDIUM,
    checks="Every Bedrock application inference profile carries every tag key in policy.required_tags, with a value.",
    why=(
        "An application inference profile is the only Bedrock resource whose tags reach the bill for the tokens it carries; "
        "a missing tag drops that spend out of the team and cost-centre views."
    ),
    remediation="Tag the profile (aws bedrock tag-resource --resource-arn <profile ARN> --tags key=team,value=<team>) and activate the tag key for cost allocation.",
    limits="Judges profiles whose tags could be read (bedrock:ListTagsForResource); tags added after a bill was produced do not change that bill.",
    check=_check_profile_tags,
    samples=(
        Sample("all required tags", lambda: _context([_profile({"team": "claims", "CostCenter": "cc-4100"})]), RuleStatus.PASS),
        Sample("cost center missing", lambda: _context([_profile({"team": "claims", "env": "prod"})]), RuleStatus.FAIL, 1),
        Sample("no application profiles", lambda: _context([_region(True)]), RuleStatus.NOT_APPLICABLE),
    ),
)

SYSTEM_PROFILE_USE = Rule(
    id="aws.bedrock.system-profile-use",
    title="Bedrock called through a system-defined inference profile",
    severity=Severity.MEDIUM,
    checks="No invocation log record, Bedrock spend line or Bedrock call in code uses a system-defined (cross-region) inference profile.",
    why="System-defined profiles (us., eu., apac., global. ...) cannot be tagged, so every token they carry is spend no team owns.",
    remediation=(
        "Create an application inference profile that copies the system profile (aws bedrock create-inference-profile "
        "--model-source copyFrom=<system profile ARN>), tag it, and pass its ARN as modelId."
    ),
    limits=(
        "Sees calls only in the invocation logs, billing exports and code it was given; the geo prefixes of system profiles "
        "are a catalogue that a live ListInferenceProfiles extends."
    ),
    check=_model_use_check(SYSTEM_PROFILE),
    samples=(
        Sample("application profile calls only", lambda: _context([_usage(_CLAIMS_PROFILE)]), RuleStatus.PASS),
        Sample("system profile in the logs", lambda: _context([_usage("us.anthropic.claude-3-5-sonnet-20240620-v1:0")]), RuleStatus.FAIL, 1),
        Sample("system profile in the bill", lambda: _context([], [_line("63.85", _SYSTEM_PROFILE), _line("12.10", _SYSTEM_PROFILE)]), RuleStatus.FAIL, 1),
        Sample("system profile in code", lambda: _context([_code_call("us.anthropic.claude-3-haiku-20240307-v1:0")]), RuleStatus.FAIL, 1),
        Sample("no Bedrock use seen", lambda: _context([_region(True, profiles=0)]), RuleStatus.NOT_APPLICABLE),
    ),
)

FOUNDATION_MODEL_USE = Rule(
    id="aws.bedrock.foundation-model-use",
    title="Bedrock foundation model called by its bare model ID",
    severity=Severity.MEDIUM,
    checks="No invocation log record, Bedrock spend line or Bedrock call in code passes a bare foundation model ID or foundation-model ARN.",
    why="A call with a bare model ID (anthropic.claude-...) goes through no application inference profile, so no tag can attribute its tokens.",
    remediation="Create a tagged application inference profile for the model and pass the profile ARN as modelId.",
    limits="Sees calls only in the invocation logs, billing exports and code it was given; the provider prefixes of model IDs are a catalogue.",
    check=_model_use_check(FOUNDATION_MODEL),
    samples=(
        Sample("application profile calls only", lambda: _context([_usage(_CLAIMS_PROFILE)]), RuleStatus.PASS),
        Sample("bare model in the logs", lambda: _context([_usage("anthropic.claude-3-haiku-20240307-v1:0", calls=88)]), RuleStatus.FAIL, 1),
        Sample(
            "foundation-model ARN in the bill",
            lambda: _context([], [_line("4.20", "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no Bedrock use seen", lambda: _context([]), RuleStatus.NOT_APPLICABLE),
    ),
)

AGENT_MODEL_UNATTRIBUTED = Rule(
    id="aws.bedrock.agent-model-unattributed",
    title="Bedrock agent spends through a model no tag attributes",
    severity=Severity.MEDIUM,
    checks="Every Bedrock agent, in its draft and in every version an alias routes to, invokes an application inference profile whose spend reaches an owner.",
    why="An agent's own tags never reach the bill: its tokens are billed to the model or profile it invokes, so that model decides who owns the spend.",
    remediation="Set the agent's foundation model to a tagged application inference profile ARN (aws bedrock-agent update-agent --foundation-model <profile ARN>), prepare it, and point the aliases at the new version.",
    limits="Sees the versions aliases route to; a version no alias uses is not judged.",
    check=_check_agents,
    samples=(
        Sample("agent on a tagged profile", lambda: _context([_agent({_CLAIMS_PROFILE: APPLICATION_PROFILE})]), RuleStatus.PASS),
        Sample("agent on a bare model", lambda: _context([_agent({"anthropic.claude-3-haiku-20240307-v1:0": FOUNDATION_MODEL})]), RuleStatus.FAIL, 1),
        Sample(
            "agent on a profile whose spend is unattributed",
            lambda: _context([_agent({_CLAIMS_PROFILE: APPLICATION_PROFILE})], [_line("9.50", _CLAIMS_PROFILE, account="111122223333")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no agents", lambda: _context([_region(True)]), RuleStatus.NOT_APPLICABLE),
    ),
)

INVOCATION_LOGGING_OFF = Rule(
    id="aws.bedrock.invocation-logging-off",
    title="Bedrock invocation logging off where Bedrock is used",
    severity=Severity.LOW,
    checks="Every account and region with Bedrock resources, calls or spend has model invocation logging on (S3 or CloudWatch Logs).",
    why="Only invocation logs show which modelId each call used, so without them system-profile and bare-model use can only be guessed from the bill.",
    remediation="Turn on model invocation logging in the region (aws bedrock put-model-invocation-logging-configuration) with text delivery off if prompts must not be stored.",
    limits="Judges regions whose logging configuration could be read (bedrock:GetModelInvocationLoggingConfiguration).",
    check=_check_logging,
    samples=(
        Sample("logging on", lambda: _context([_region(True)]), RuleStatus.PASS),
        Sample("logging off with a profile", lambda: _context([_region(False)]), RuleStatus.FAIL, 1),
        Sample("logging off, Bedrock unused", lambda: _context([_region(False, profiles=0)]), RuleStatus.PASS),
        Sample("logging configuration unreadable", lambda: _context([_region(None)]), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [APPLICATION_PROFILE_MISSING_TAGS, SYSTEM_PROFILE_USE, FOUNDATION_MODEL_USE, AGENT_MODEL_UNATTRIBUTED, INVOCATION_LOGGING_OFF]
