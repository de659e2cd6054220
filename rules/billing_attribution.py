"""Rules over AI spend lines from any billing source: spend that reaches no owner, and spend
that lacks the tags the organisation requires. Card and expense spend is judged by the expense
rules (rules/expense_vendors.py) instead, because a card charge has no resource to tag."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable

from collectors.expense.attribution import EXPENSE_CATEGORY
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Inventory, Severity, SpendLine, Tags, decimal_text, money_text


def _spend_subject(line: SpendLine) -> str:
    """Name the source of a spend line the same way in every run, so fingerprints stay stable."""
    return ":".join([line.provider, line.account or "-", line.service, line.resource_id or "-"])


def _describe_source(line: SpendLine) -> str:
    resource = line.resource_name or line.resource_id
    where = f"{line.service} resource {resource}" if resource else f"{line.service} spend with no resource ID"
    account = f" in account {line.account}" if line.account else ""
    return f"{where[0].upper()}{where[1:]}{account}"


def _check_unattributed_spend(context: RuleContext) -> Iterable[Violation] | None:
    billed = [(line, attribution) for line, attribution in context.coverage.attributions if line.category != EXPENSE_CATEGORY]
    if not billed:
        return None

    grouped: dict[tuple[str, str, str], list[SpendLine]] = defaultdict(list)
    reasons: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for line, attribution in billed:
        if attribution.attributed:
            continue
        key = (_spend_subject(line), line.currency, _describe_source(line))
        grouped[key].append(line)
        reasons[key].add(attribution.reason or "unknown")

    violations = []
    for (subject, currency, description), lines in sorted(grouped.items()):
        amount = sum((line.amount for line in lines), Decimal(0))
        reason_list = sorted(reasons[(subject, currency, description)])
        violations.append(
            Violation(
                subject=subject,
                message=(
                    f"{description} has {money_text(amount, currency)} of AI spend that reaches no owner "
                    f"({', '.join(reason_list)})."
                ),
                evidence={
                    "amount": decimal_text(amount),
                    "currency": currency,
                    "reasons": reason_list,
                    "spend_lines": len(lines),
                },
            )
        )
    return violations


def _check_required_tags(context: RuleContext) -> Iterable[Violation] | None:
    required = context.policy.required_tags
    if not required or not context.inventory.spend_lines:
        return None

    missing_by_subject: dict[str, set[str]] = defaultdict(set)
    description: dict[str, str] = {}
    taggable_lines = [line for line in context.inventory.spend_lines if line.taggable]
    if not taggable_lines:
        return None
    for line in taggable_lines:
        missing = {key for key in required if not line.tags.values.get(key)}
        if missing:
            subject = _spend_subject(line)
            missing_by_subject[subject] |= missing
            description[subject] = _describe_source(line)

    return [
        Violation(
            subject=subject,
            message=f"{description[subject]} is billed without the required tags {', '.join(sorted(missing))}.",
            evidence={"missing_tags": sorted(missing)},
        )
        for subject, missing in sorted(missing_by_subject.items())
    ]


# Samples: small inventories shaped like real FOCUS spend, judged by the tests.

_DAY = datetime(2026, 11, 3, tzinfo=timezone.utc)
_NEXT_DAY = datetime(2026, 11, 4, tzinfo=timezone.utc)


def _bedrock_line(amount: str, tags: dict[str, str]) -> SpendLine:
    return SpendLine(
        amount=Decimal(amount),
        currency="USD",
        period_start=_DAY,
        period_end=_NEXT_DAY,
        provider="aws",
        service="Amazon Bedrock",
        account="111122223333",
        resource_id="arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6",
        tags=Tags.from_mapping(tags),
    )


def _card_line() -> SpendLine:
    """Build the spend line of a Cursor seat on a corporate card, as the expense collector writes it."""
    return SpendLine(
        amount=Decimal("40.00"),
        currency="USD",
        period_start=_DAY,
        period_end=_NEXT_DAY,
        provider="cursor",
        service="Cursor",
        account="Marco Ruiz",
        category=EXPENSE_CATEGORY,
        subcategory="Coding assistant",
        charge_category="Purchase",
        quantity=Decimal(1),
        unit="charges",
        tags=Tags.from_mapping({"department": "Platform"}),
        taggable=False,
    )


def _context(lines: list[SpendLine], policy: Policy) -> RuleContext:
    inventory = Inventory(spend_lines=lines)
    return RuleContext(inventory, policy, build_coverage(inventory, policy, []))


_TEAM_POLICY = Policy(required_tags=("team", "cost-center"), owner_tags=("team",))

UNATTRIBUTED_SPEND = Rule(
    id="billing.ai-spend-unattributed",
    title="AI spend reaches no owner",
    severity=Severity.MEDIUM,
    checks="Every AI spend line reaches an owner through an owner tag, its asset or a configured owner mapping.",
    why="Spend that reaches no owner cannot be shown back or charged back, and nobody is asked to justify it.",
    remediation=(
        "Tag the resource with one of the keys in policy.owner_tags and activate the tag for cost "
        "allocation, or add an owner mapping for its account or resource to the config."
    ),
    limits=(
        "Judges the spend the billing sources show; spend outside every configured source is not seen. Card and "
        "expense spend (spend lines of category Expense) is left out, because expense.ai-spend-unowned and "
        "expense.unsanctioned-ai-vendor judge it with a fix that works for a card charge."
    ),
    check=_check_unattributed_spend,
    samples=(
        Sample("owner tag present", lambda: _context([_bedrock_line("12.50", {"team": "claims"})], _TEAM_POLICY), RuleStatus.PASS),
        Sample("no tags", lambda: _context([_bedrock_line("12.50", {})], _TEAM_POLICY), RuleStatus.FAIL, 1),
        Sample(
            "two days of one untagged profile are one finding",
            lambda: _context([_bedrock_line("1.00", {"env": "prod"}), _bedrock_line("2.00", {})], _TEAM_POLICY),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "untagged profile beside an unowned card charge",
            lambda: _context([_bedrock_line("12.50", {}), _card_line()], _TEAM_POLICY),
            RuleStatus.FAIL,
            1,
        ),
        Sample("only card and expense spend", lambda: _context([_card_line()], _TEAM_POLICY), RuleStatus.NOT_APPLICABLE),
        Sample("no spend", lambda: _context([], _TEAM_POLICY), RuleStatus.NOT_APPLICABLE),
    ),
)

REQUIRED_TAGS_MISSING = Rule(
    id="billing.required-tags-missing",
    title="AI spend lacks required tags",
    severity=Severity.LOW,
    checks="Every AI spend line that its provider lets carry tags has every tag key in policy.required_tags, with a value.",
    why="Required tags are how finance splits AI spend by team, product and cost centre; a missing tag drops the spend out of those views.",
    remediation="Add the missing tags to the resource and activate them as cost-allocation tags so they reach the bill.",
    limits="Sees only tags that reach the billing export; a tag set on the resource but not activated for cost allocation counts as missing.",
    check=_check_required_tags,
    samples=(
        Sample(
            "all required tags",
            lambda: _context([_bedrock_line("3.00", {"team": "claims", "CostCenter": "cc-41"})], _TEAM_POLICY),
            RuleStatus.PASS,
        ),
        Sample("cost center missing", lambda: _context([_bedrock_line("3.00", {"team": "claims"})], _TEAM_POLICY), RuleStatus.FAIL, 1),
        Sample("no required tags configured", lambda: _context([_bedrock_line("3.00", {})], Policy()), RuleStatus.NOT_APPLICABLE),
        Sample(
            "only spend that cannot carry tags",
            lambda: _context([dataclasses.replace(_bedrock_line("3.00", {}), provider="openai", taggable=False)], _TEAM_POLICY),
            RuleStatus.NOT_APPLICABLE,
        ),
    ),
)

RULES = [UNATTRIBUTED_SPEND, REQUIRED_TAGS_MISSING]
