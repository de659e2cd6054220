"""Rules over the AI inventory found in code: AI resources that Terraform declares without the
tags or labels the organisation requires (`code.iac_resource` assets)."""

from __future__ import annotations

from typing import Iterable

from collectors.code.calls import subject_path
from collectors.code.inventory import IAC_RESOURCE
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Location, Severity, Tags, normalise_tag_key


def _check_terraform_tags(context: RuleContext) -> Iterable[Violation] | None:
    required = [normalise_tag_key(key) for key in context.policy.required_tags]
    resources = [asset for asset in context.inventory.assets_of_kind(IAC_RESOURCE) if asset.attributes.get("tags_argument")]
    if not required or not resources:
        return None

    violations = []
    for asset in sorted(resources, key=lambda item: (item.scope, item.attributes["path"], item.attributes["line"])):
        attributes = asset.attributes
        word = attributes["tags_argument"]
        missing = [key for key in required if not asset.tags.values.get(key)]
        if not missing:
            continue
        unreadable = attributes.get("tags_status") == "unresolved" or attributes.get("default_tags_unresolved")
        where = f"{attributes['path']}:{attributes['line']}"
        if unreadable:
            message = (
                f"Terraform {attributes['resource_kind']} {attributes['address']} at {where} sets its {word} from an expression, "
                f"so whether it carries {', '.join(missing)} cannot be read from the code."
            )
            severity = Severity.LOW
        else:
            message = f"Terraform {attributes['resource_kind']} {attributes['address']} at {where} lacks the required {word} {', '.join(missing)}."
            severity = None
        violations.append(
            Violation(
                subject=f"{subject_path(asset)}:{attributes['address']}",
                message=message,
                evidence={"provider": asset.provider, "missing": missing, word: dict(sorted(asset.tags.values.items())), "resource_type": attributes["resource_type"]},
                location=Location(attributes["path"], attributes["line"], attributes.get("column")),
                severity=severity,
            )
        )
    return violations


# Samples: `code.iac_resource` assets as the Terraform analyser builds them.

_POLICY = Policy(required_tags=("team", "cost-center"), owner_tags=("team",))


def _resource(resource_type: str, name: str, tags: dict[str, str] | None, provider: str = "aws", word: str = "tags", status: str = "present") -> Asset:
    path = "infra/bedrock.tf" if provider == "aws" else "infra/vertex.tf"
    return Asset(
        IAC_RESOURCE, f"iac_resource:{path}:{resource_type}.{name}", provider, "larkspur-analytics/platform-infra",
        name=f"{resource_type}.{name}", tags=Tags.from_mapping(tags or {}),
        attributes={"resource_type": resource_type, "resource_kind": "application inference profile" if provider == "aws" else "Vertex AI endpoint",
                    "address": f"{resource_type}.{name}", "tags_argument": word, "tags_status": status, "path": path, "line": 7, "column": 1},
    )


def _context(assets: list[Asset], policy: Policy = _POLICY) -> RuleContext:
    inventory = Inventory(assets=assets)
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


TERRAFORM_MISSING_TAGS = Rule(
    id="code.terraform.ai-resource-missing-tags",
    title="AI resource in Terraform lacks required tags",
    severity=Severity.MEDIUM,
    checks=(
        "Every AI resource a Terraform file declares (Bedrock inference profiles and agents, Azure Cognitive Services and AI "
        "Services accounts, Vertex AI endpoints...) sets every key of policy.required_tags in its tags or labels, counting the "
        "provider's default_tags or default_labels of the same folder."
    ),
    why="Tags written in Terraform are what the cloud bill later groups spend by; a profile or account created without them leaves its spend with no owner from day one.",
    remediation="Add the tags to the resource (tags = { team = \"claims\", cost-center = \"cc-4100\" }) or to the provider's default_tags.",
    limits=(
        "Reads literal tag maps: a tags argument set from a variable, local or merge() is reported as unreadable (low). Default "
        "tags apply only from provider blocks in the same folder; modules and Terragrunt inputs are not followed."
    ),
    check=_check_terraform_tags,
    samples=(
        Sample("tagged profile", lambda: _context([_resource("aws_bedrock_inference_profile", "claims", {"team": "claims", "cost-center": "cc-4100"})]), RuleStatus.PASS),
        Sample("untagged profile", lambda: _context([_resource("aws_bedrock_inference_profile", "growth", None, status="absent")]), RuleStatus.FAIL, 1),
        Sample(
            "endpoint labels lack cost center",
            lambda: _context([_resource("google_vertex_ai_endpoint", "triage", {"team": "research"}, "gcp", "labels")]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("tags from a variable", lambda: _context([_resource("aws_bedrock_inference_profile", "shared", None, status="unresolved")]), RuleStatus.FAIL, 1),
        Sample("no required tags configured", lambda: _context([_resource("aws_bedrock_inference_profile", "growth", None)], Policy()), RuleStatus.NOT_APPLICABLE),
    ),
)

RULES = [TERRAFORM_MISSING_TAGS]
