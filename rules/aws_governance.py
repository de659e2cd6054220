"""Rules over the AWS controls around Bedrock attribution: tag keys that are set on resources but
not activated for cost allocation, and accounts where no policy forces calls through inference
profiles."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from collectors.aws import kinds
from rules.aws_bedrock import bedrock_accounts
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, Tags, normalise_tag_key

ACTIVE = "Active"


# aws.cost-allocation.tag-not-active


def _check_tag_activation(context: RuleContext) -> Iterable[Violation] | None:
    judged_keys = set(context.policy.required_tags) | set(context.policy.owner_tags)
    cost_tags = context.inventory.assets_of_kind(kinds.COST_ALLOCATION_TAG)
    units = [asset for asset in context.inventory.assets if asset.kind in kinds.TAGGED_BILLING_UNITS and asset.attributes.get("cost_allocation_read")]
    if not judged_keys or (not cost_tags and not units):
        return None

    inactive_on: dict[str, list[Asset]] = defaultdict(list)
    for unit in units:
        statuses = unit.attributes.get("cost_allocation_status") or {}
        for key, original in unit.tags.original_keys.items():
            if key in judged_keys and statuses.get(original) != ACTIVE:
                inactive_on[original].append(unit)

    violations = []
    for original, assets in sorted(inactive_on.items()):
        names = ", ".join(sorted(asset.name or asset.id for asset in assets))
        violations.append(
            Violation(
                subject=f"aws:cost-allocation-tag:{original}",
                message=(
                    f"Tag key {original} is set on {len(assets)} Bedrock resource(s) ({names}) but is not active for cost allocation, "
                    "so the bill does not show it."
                ),
                evidence={"tag_key": original, "resources": sorted(asset.id for asset in assets)},
            )
        )

    active_keys = {normalise_tag_key(asset.attributes.get("tag_key") or "") for asset in cost_tags if asset.attributes.get("status") == ACTIVE}
    payers = sorted({asset.scope for asset in cost_tags}) or sorted({asset.attributes.get("payer_account") for asset in units if asset.attributes.get("payer_account")})
    for key in sorted(context.policy.required_tags):
        if key in active_keys:
            continue
        violations.append(
            Violation(
                subject=f"aws:cost-allocation-tag:required:{key}",
                message=f"Required tag {key} has no tag key active for cost allocation in the payer account {', '.join(payers) or '(unknown)'}.",
                evidence={"tag_key": key, "payer_accounts": payers},
            )
        )
    return violations


# aws.iam.inference-profile-not-enforced


def _check_enforcement(context: RuleContext) -> Iterable[Violation] | None:
    accounts = [asset for asset in context.inventory.assets_of_kind(kinds.ACCOUNT) if asset.attributes.get("profile_enforcement") is not None]
    if not accounts:
        return None

    used = bedrock_accounts(context.inventory)
    violations = []
    for account in sorted(accounts, key=lambda asset: asset.id):
        level = account.attributes["profile_enforcement"]
        if account.id not in used or level == "deny":
            continue
        name = f"{account.id} ({account.name})" if account.name else account.id
        if level == "allow":
            violations.append(
                Violation(
                    subject=f"aws:{account.id}:inference-profile-enforcement",
                    message=(
                        f"Account {name} steers Bedrock calls through inference profiles only with conditioned Allow statements, "
                        "which any other allow bypasses."
                    ),
                    evidence={"enforcement": level, "policies": account.attributes.get("profile_enforcement_evidence", [])},
                    severity=Severity.LOW,
                )
            )
            continue
        violations.append(
            Violation(
                subject=f"aws:{account.id}:inference-profile-enforcement",
                message=f"Account {name} uses Bedrock but no IAM policy or SCP denies calls that bypass application inference profiles.",
                evidence={"enforcement": level, "iam_read": account.attributes.get("iam_read"), "scp_read": account.attributes.get("scp_read")},
            )
        )
    return violations


# Samples


_POLICY = Policy(required_tags=("team", "cost-center"), owner_tags=("team", "owner"))


def _context(assets: list[Asset], policy: Policy = _POLICY) -> RuleContext:
    inventory = Inventory(assets=assets)
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


def _cost_tag(key: str, status: str) -> Asset:
    return Asset(kinds.COST_ALLOCATION_TAG, f"cost-allocation-tag:210987654321:{key}", "aws", "210987654321", name=key,
                 attributes={"tag_key": key, "status": status, "type": "UserDefined", "payer_account": "210987654321"})


def _profile(tags: dict[str, str], statuses: dict[str, str]) -> Asset:
    return Asset(
        kinds.APPLICATION_PROFILE, "arn:aws:bedrock:us-west-2:444455556666:application-inference-profile/growthq8w3e5r1", "aws",
        "444455556666", name="growth-experiments", tags=Tags.from_mapping(tags),
        attributes={"region": "us-west-2", "tags_read": True, "cost_allocation_read": True, "cost_allocation_status": statuses},
    )


def _account(level: str | None) -> Asset:
    return Asset(kinds.ACCOUNT, "444455556666", "aws", "444455556666", name="growth-sandbox",
                 attributes={"profile_enforcement": level, "iam_read": level is not None, "scp_read": False, "profile_enforcement_evidence": []})


_ACTIVE_TAGS = [_cost_tag("team", ACTIVE), _cost_tag("CostCenter", ACTIVE)]

TAG_NOT_ACTIVE = Rule(
    id="aws.cost-allocation.tag-not-active",
    title="Required or owner tag not active for cost allocation",
    severity=Severity.MEDIUM,
    checks=(
        "Every tag key in policy.required_tags has an active cost-allocation tag, and every required or owner tag key set on a "
        "Bedrock application profile or provisioned throughput is active."
    ),
    why="AWS puts a resource tag in the bill only after its key is activated as a cost-allocation tag, and never for spend before that.",
    remediation="Activate the tag key in the payer account (aws ce update-cost-allocation-tags-status --cost-allocation-tags-status TagKey=<key>,Status=Active).",
    limits="Needs ce:ListCostAllocationTags in the payer account; tag keys are case-sensitive there, so Team and team are separate keys.",
    check=_check_tag_activation,
    samples=(
        Sample("owner and required tags active", lambda: _context([*_ACTIVE_TAGS, _profile({"team": "growth"}, {"team": ACTIVE})]), RuleStatus.PASS),
        Sample(
            "owner tag set but inactive",
            lambda: _context([*_ACTIVE_TAGS, _cost_tag("Owner", "Inactive"), _profile({"Owner": "growth"}, {"Owner": "Inactive"})]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("required tag never activated", lambda: _context([_cost_tag("team", ACTIVE)]), RuleStatus.FAIL, 1),
        Sample("cost-allocation tags not read", lambda: _context([_account("none")]), RuleStatus.NOT_APPLICABLE),
    ),
)

PROFILE_NOT_ENFORCED = Rule(
    id="aws.iam.inference-profile-not-enforced",
    title="No policy forces Bedrock calls through inference profiles",
    severity=Severity.MEDIUM,
    checks="Every account that uses Bedrock has an IAM policy or SCP with a Deny on model invocation conditioned on bedrock:InferenceProfileArn.",
    why="Without such a Deny, anyone allowed to invoke a model can call it by its bare ID or a system profile, and that spend has no owner.",
    remediation=(
        "Attach an SCP or IAM policy that denies bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream when "
        "bedrock:InferenceProfileArn is null or is not an application inference profile ARN."
    ),
    limits=(
        "Reads inline and customer managed IAM policies and SCPs; it does not evaluate which principals a statement reaches, "
        "permission boundaries or resource policies."
    ),
    check=_check_enforcement,
    samples=(
        Sample("deny enforced", lambda: _context([_account("deny"), _profile({"team": "growth"}, {"team": ACTIVE})]), RuleStatus.PASS),
        Sample("no enforcement", lambda: _context([_account("none"), _profile({"team": "growth"}, {"team": ACTIVE})]), RuleStatus.FAIL, 1),
        Sample("only conditioned allow", lambda: _context([_account("allow"), _profile({"team": "growth"}, {"team": ACTIVE})]), RuleStatus.FAIL, 1),
        Sample("policies not read", lambda: _context([_account(None)]), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [TAG_NOT_ACTIVE, PROFILE_NOT_ENFORCED]
