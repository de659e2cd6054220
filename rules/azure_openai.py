"""Rules over Azure OpenAI and Azure AI services accounts, deployments and spend.

They flag accounts without the required or owner tags, spend billed to a resource that no owner
tag names, shared accounts with no gateway to split them, provisioned throughput that no token
metrics split, and accounts that accept API keys."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable

from collectors.azure.assets import ACCOUNT_KIND, DEPLOYMENT_KIND, PTU_SHARE_KIND, build_assets
from collectors.azure.inventory import Account, ApiManagementService, AzureInventory, Deployment
from collectors.azure.reasons import resource_group_owner_not_inherited
from rules.contract import Rule, RuleContext, RuleStatus, Sample, Violation
from scanner.config import Policy
from scanner.coverage import build_coverage
from scanner.model import Asset, Inventory, Severity, SpendLine, Tags, decimal_text, money_text


def _accounts(context: RuleContext) -> list[Asset]:
    return context.inventory.assets_of_kind(ACCOUNT_KIND)


def _subscription(asset: Asset) -> str:
    return asset.scope.rsplit("/", 1)[-1]


def _check_account_owner(context: RuleContext) -> Iterable[Violation] | None:
    accounts = _accounts(context)
    if not accounts or not context.policy.owner_tags:
        return None

    violations = []
    for account in sorted(accounts, key=lambda a: a.id):
        if account.attributes.get("owner"):
            continue
        keys = ", ".join(context.policy.owner_tags)
        group_key = resource_group_owner_not_inherited(account, context.policy)
        if group_key:
            message = (
                f"Azure AI account {account.name} in subscription {_subscription(account)} has no owner tag ({keys}); "
                f"its resource group's {group_key} tag never reaches costs because tag inheritance is off."
            )
        else:
            message = f"Azure AI account {account.name} in subscription {_subscription(account)} has no owner tag ({keys})."
        violations.append(
            Violation(
                subject=account.id,
                message=message,
                evidence={
                    "account_kind": account.attributes.get("account_kind"),
                    "tags": account.tags.to_dict()["original_keys"],
                    "resource_group": account.attributes.get("resource_group"),
                    "resource_group_owner_tag": group_key,
                },
            )
        )
    return violations


def _check_required_tags(context: RuleContext) -> Iterable[Violation] | None:
    accounts = _accounts(context)
    required = context.policy.required_tags
    if not accounts or not required:
        return None

    violations = []
    for account in sorted(accounts, key=lambda a: a.id):
        missing = [key for key in required if not account.tags.values.get(key)]
        if missing:
            violations.append(
                Violation(
                    subject=account.id,
                    message=f"Azure AI account {account.name} in subscription {_subscription(account)} lacks the required tags {', '.join(missing)}.",
                    evidence={"missing_tags": missing, "tags": account.tags.to_dict()["original_keys"]},
                )
            )
    return violations


def _account_id_of(resource_id: str) -> str:
    """Return the account ID of a spend line's resource: the account itself, one of its
    deployments, or a PTU share of a deployment."""
    lowered = resource_id.lower().split("#", 1)[0]
    marker = "/deployments/"
    return lowered.split(marker, 1)[0] if marker in lowered else lowered


def _line_owner_tag(line: SpendLine, owner_tags: tuple[str, ...]) -> bool:
    return any(line.tags.values.get(key) for key in owner_tags)


def _check_spend_owner(context: RuleContext) -> Iterable[Violation] | None:
    owner_tags = context.policy.owner_tags
    lines = [
        line
        for line in context.inventory.spend_lines
        if line.provider == "azure" and line.resource_id and "/providers/microsoft.cognitiveservices/accounts/" in line.resource_id.lower()
    ]
    if not lines or not owner_tags:
        return None

    accounts = {asset.id: asset for asset in _accounts(context)}
    shares = {asset.id for asset in context.inventory.assets_of_kind(PTU_SHARE_KIND)}
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        account_id = _account_id_of(line.resource_id)
        account = accounts.get(account_id)
        if _line_owner_tag(line, owner_tags) or (account is not None and account.attributes.get("owner")):
            continue
        if line.resource_id.lower() in shares:
            continue
        totals[(account_id, line.currency)] += line.amount

    violations = []
    for (account_id, currency), amount in sorted(totals.items()):
        name = account_id.rsplit("/", 1)[-1]
        seen = "" if account_id in accounts else " (an account outside the Azure inventory)"
        violations.append(
            Violation(
                subject=f"{account_id}:{currency}",
                message=(
                    f"Azure AI spend of {money_text(amount, currency)} is billed to account {name}{seen}, "
                    f"which no owner tag ({', '.join(owner_tags)}) names."
                ),
                evidence={"amount": decimal_text(amount), "currency": currency, "in_inventory": account_id in accounts},
            )
        )
    return violations


def _check_shared_without_gateway(context: RuleContext) -> Iterable[Violation] | None:
    shared = [a for a in _accounts(context) if a.attributes.get("shared")]
    if not shared:
        return None

    deployments_by_account: dict[str, list[Asset]] = {}
    for deployment in context.inventory.assets_of_kind(DEPLOYMENT_KIND):
        deployments_by_account.setdefault(deployment.attributes.get("account_id"), []).append(deployment)

    violations = []
    for account in sorted(shared, key=lambda a: a.id):
        if account.attributes.get("owner"):
            continue
        direct = sorted(
            d.name.rsplit("/", 1)[-1] for d in deployments_by_account.get(account.id, []) if not d.attributes.get("gateways")
        )
        if not direct:
            continue
        violations.append(
            Violation(
                subject=account.id,
                message=(
                    f"Azure OpenAI account {account.name} has no owner and serves deployments "
                    f"{', '.join(direct)} with no gateway in front, so their callers cannot be told apart."
                ),
                evidence={"deployments_without_gateway": direct, "deployment_count": account.attributes.get("deployment_count")},
            )
        )
    return violations


def _check_ptu_split(context: RuleContext) -> Iterable[Violation] | None:
    provisioned = [d for d in context.inventory.assets_of_kind(DEPLOYMENT_KIND) if d.attributes.get("provisioned")]
    if not provisioned:
        return None

    return [
        Violation(
            subject=deployment.id,
            message=(
                f"Provisioned deployment {deployment.name} ({deployment.attributes.get('sku')}, "
                f"{deployment.attributes.get('capacity')} PTU) has no owner and no token metrics by caller, "
                "so its hourly cost cannot be split across the teams that use it."
            ),
            evidence={"sku": deployment.attributes.get("sku"), "capacity": deployment.attributes.get("capacity")},
        )
        for deployment in sorted(provisioned, key=lambda d: d.id)
        if not deployment.attributes.get("owner") and not deployment.attributes.get("token_metrics")
    ]


def _check_local_auth(context: RuleContext) -> Iterable[Violation] | None:
    accounts = _accounts(context)
    if not accounts:
        return None
    return [
        Violation(
            subject=account.id,
            message=(
                f"Azure AI account {account.name} accepts API keys (disableLocalAuth is false), "
                "so a call cannot be traced to the identity that made it."
            ),
        )
        for account in sorted(accounts, key=lambda a: a.id)
        if not account.attributes.get("local_auth_disabled")
    ]


# Samples: inventories shaped like the ARM list responses, built by the collector's own code.

_SUBSCRIPTION = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"
_POLICY = Policy(required_tags=("team",), owner_tags=("team", "owner"))


def _account(name: str, tags: dict[str, str], deployments: list[tuple[str, str, int]], group: str = "ai", local_auth_disabled: bool = False) -> Account:
    account_id = f"/subscriptions/{_SUBSCRIPTION}/resourcegroups/{group}/providers/microsoft.cognitiveservices/accounts/{name}"
    provisioned = {"ProvisionedManaged", "GlobalProvisionedManaged", "DataZoneProvisionedManaged"}
    account = Account(
        id=account_id,
        name=name,
        subscription_id=_SUBSCRIPTION,
        resource_group=group,
        kind="OpenAI",
        location="swedencentral",
        sku="S0",
        tags=tags,
        endpoint_hosts={f"{name}.openai.azure.com"},
        local_auth_disabled=local_auth_disabled,
    )
    account.deployments = [
        Deployment(
            id=f"{account_id}/deployments/{deployment}",
            name=deployment,
            account_id=account_id,
            sku=sku,
            capacity=capacity,
            model="gpt-4o",
            model_version="2024-11-20",
            model_format="OpenAI",
            provisioned=sku in provisioned,
            routing_scope="global",
            batch=False,
        )
        for deployment, sku, capacity in deployments
    ]
    return account


def _context(
    accounts: list[Account],
    group_tags: dict[str, str] | None = None,
    inheritance: bool = False,
    metered: set[str] | None = None,
    gateway_on: set[str] | None = None,
    policy: Policy = _POLICY,
) -> RuleContext:
    inventory = AzureInventory(accounts=accounts)
    for account in accounts:
        inventory.resource_group_tags[(account.subscription_id, account.resource_group)] = dict(group_tags or {})
        for deployment in account.deployments:
            if deployment.name in (gateway_on or set()):
                deployment.gateways.append("ai-gateway")
    if gateway_on:
        inventory.api_management.append(
            ApiManagementService(f"/subscriptions/{_SUBSCRIPTION}/resourcegroups/ai/providers/microsoft.apimanagement/service/ai-gateway",
                                 "ai-gateway", _SUBSCRIPTION, "ai", "swedencentral", "StandardV2", {})
        )
    assets = build_assets(inventory, policy, inheritance, metered or set())
    audit = Inventory(assets=assets)
    return RuleContext(audit, policy, build_coverage(audit, policy, []))


def _ptu_account_id() -> str:
    return f"/subscriptions/{_SUBSCRIPTION}/resourcegroups/ai/providers/microsoft.cognitiveservices/accounts/shared-aoai"


ACCOUNT_OWNER_MISSING = Rule(
    id="azure.openai.account-owner-missing",
    title="Azure AI account has no owner tag",
    severity=Severity.MEDIUM,
    checks=(
        "Every Cognitive Services account of kind OpenAI or AIServices names its owner through one of policy.owner_tags, "
        "on the account, or on its resource group when Cost Management tag inheritance is on."
    ),
    why="Azure bills AI use to the account; an account without an owner tag sends all of its spend to nobody.",
    remediation=(
        "Tag the account with one of the keys in policy.owner_tags, or enable tag inheritance in Cost Management "
        "and set resource_group_tag_inheritance: true when the resource group carries the owner."
    ),
    limits=(
        "Sees the tags ARM returns today; a tag added after a charge does not reach that charge. "
        "Tag inheritance is taken from the config because no read-only ARM call reports it."
    ),
    check=_check_account_owner,
    samples=(
        Sample("tagged account", lambda: _context([_account("support-aoai", {"team": "support"}, [("chat", "GlobalStandard", 100)])]), RuleStatus.PASS),
        Sample("untagged account", lambda: _context([_account("research-aoai", {}, [("chat", "Standard", 10)])]), RuleStatus.FAIL, 1),
        Sample(
            "resource group owner without tag inheritance",
            lambda: _context([_account("research-aoai", {"env": "prod"}, [("chat", "Standard", 10)])], {"team": "research"}),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "resource group owner with tag inheritance",
            lambda: _context([_account("research-aoai", {}, [("chat", "Standard", 10)])], {"team": "research"}, inheritance=True),
            RuleStatus.PASS,
        ),
        Sample("no accounts", lambda: _context([]), RuleStatus.NOT_APPLICABLE),
    ),
)

SHARED_WITHOUT_GATEWAY = Rule(
    id="azure.openai.shared-account-without-gateway",
    title="Shared Azure OpenAI account has no gateway in front",
    severity=Severity.MEDIUM,
    checks=(
        "An account with no owner that serves more than one deployment has an API Management backend in front of "
        "each deployment, so that calls can be told apart by caller."
    ),
    why=(
        "Azure attributes use to the account and deployment, never to the caller: services sharing a deployment "
        "cannot be told apart on the bill or in Azure Monitor without a gateway that records who called."
    ),
    remediation=(
        "Route the account's callers through API Management with a token metric policy that records a caller "
        "dimension, then configure that metric under sources.azure.token_metrics; or give each team its own deployment "
        "and tag the account with its owner."
    ),
    limits=(
        "Takes more than one deployment on an ownerless account as the sign of sharing; a gateway other than API "
        "Management (LiteLLM, Kong, Portkey) is not visible in ARM and is not recognised."
    ),
    check=_check_shared_without_gateway,
    samples=(
        Sample(
            "every deployment behind the gateway",
            lambda: _context(
                [_account("shared-aoai", {}, [("chat", "GlobalStandard", 300), ("embed", "Standard", 120)])],
                gateway_on={"chat", "embed"},
            ),
            RuleStatus.PASS,
        ),
        Sample(
            "two deployments called directly",
            lambda: _context([_account("shared-aoai", {"env": "prod"}, [("chat", "GlobalStandard", 300), ("embed", "Standard", 120)])]),
            RuleStatus.FAIL,
            1,
        ),
        Sample(
            "owned account with several deployments",
            lambda: _context([_account("support-aoai", {"team": "support"}, [("chat", "GlobalStandard", 300), ("embed", "Standard", 120)])]),
            RuleStatus.PASS,
        ),
        Sample("one deployment per account", lambda: _context([_account("solo", {}, [("chat", "Standard", 10)])]), RuleStatus.NOT_APPLICABLE),
    ),
)


PTU_WITHOUT_TOKEN_METRICS = Rule(
    id="azure.openai.ptu-without-token-metrics",
    title="Provisioned deployment cannot be split across teams",
    severity=Severity.MEDIUM,
    checks=(
        "Every provisioned deployment (ProvisionedManaged, GlobalProvisionedManaged, DataZoneProvisionedManaged) "
        "either belongs to an owned account or has token metrics by caller configured under sources.azure.token_metrics."
    ),
    why=(
        "Provisioned throughput is billed per hour whatever the use; without each caller's share of tokens, the "
        "whole reservation lands on nobody or on one team."
    ),
    remediation=(
        "Emit token metrics with a caller dimension (API Management's token metric policy) and add the account to "
        "sources.azure.token_metrics, or tag the account with the team that pays for the reservation."
    ),
    limits=(
        "Checks that token metrics are configured, not that they cover every caller; tokens with no caller value "
        "stay unallocated and show under the ptu_unallocated reason."
    ),
    check=_check_ptu_split,
    samples=(
        Sample(
            "token metrics configured",
            lambda: _context([_account("shared-aoai", {}, [("ptu", "GlobalProvisionedManaged", 50)])], metered={_ptu_account_id()}),
            RuleStatus.PASS,
        ),
        Sample(
            "no token metrics",
            lambda: _context([_account("shared-aoai", {}, [("ptu", "GlobalProvisionedManaged", 50), ("chat", "GlobalStandard", 300)])]),
            RuleStatus.FAIL,
            1,
        ),
        Sample("no provisioned deployment", lambda: _context([_account("chat", {}, [("chat", "DataZoneStandard", 100)])]), RuleStatus.NOT_APPLICABLE),
    ),
)

LOCAL_AUTH_ENABLED = Rule(
    id="azure.openai.local-auth-enabled",
    title="Azure AI account accepts API keys",
    severity=Severity.LOW,
    checks="Every Azure OpenAI and AIServices account has disableLocalAuth set, so callers sign in with Entra ID.",
    why=(
        "An API key is shared by whoever holds it: calls made with it carry no identity, so neither logs nor a "
        "gateway can say which service or person spent the tokens, and a leaked key spends without trace."
    ),
    remediation="Set disableLocalAuth to true on the account and give callers the Cognitive Services OpenAI User role.",
    limits="Reads the account setting only; an Azure Policy that enforces it is not checked.",
    check=_check_local_auth,
    samples=(
        Sample("keys disabled", lambda: _context([_account("support-aoai", {"team": "support"}, [("chat", "Standard", 10)], local_auth_disabled=True)]), RuleStatus.PASS),
        Sample("keys enabled", lambda: _context([_account("support-aoai", {"team": "support"}, [("chat", "Standard", 10)])]), RuleStatus.FAIL, 1),
        Sample("no accounts", lambda: _context([]), RuleStatus.NOT_APPLICABLE),
    ),
)

def _spend_context(accounts: list[Account], tags: dict[str, str], amount: str = "41.25") -> RuleContext:
    context = _context(accounts)
    day = datetime(2026, 11, 3, tzinfo=timezone.utc)
    account_id = f"/subscriptions/{_SUBSCRIPTION}/resourcegroups/ai/providers/microsoft.cognitiveservices/accounts/research-aoai"
    line = SpendLine(
        amount=Decimal(amount),
        currency="EUR",
        period_start=day,
        period_end=day.replace(day=4),
        provider="azure",
        service="Azure OpenAI",
        account=f"/subscriptions/{_SUBSCRIPTION}",
        resource_id=account_id,
        resource_name="research-aoai",
        unit="input tokens",
        tags=Tags.from_mapping(tags),
    )
    inventory = Inventory(assets=context.inventory.assets, spend_lines=[line])
    return RuleContext(inventory, _POLICY, build_coverage(inventory, _POLICY, []))


ACCOUNT_REQUIRED_TAGS = Rule(
    id="azure.openai.account-required-tags-missing",
    title="Azure AI account lacks required tags",
    severity=Severity.LOW,
    checks="Every Cognitive Services account of kind OpenAI or AIServices carries every tag key in policy.required_tags, with a value.",
    why="Azure copies a resource's tags onto its charges; an account without the required tags sends its spend out of every view finance builds on them.",
    remediation="Add the missing tags to the account; for tags set on the resource group, enable tag inheritance in Cost Management.",
    limits="Reads the account's own tags only, as ARM returns them today.",
    check=_check_required_tags,
    samples=(
        Sample("all required tags", lambda: _context([_account("support-aoai", {"team": "support"}, [("chat", "Standard", 10)])]), RuleStatus.PASS),
        Sample("team tag missing", lambda: _context([_account("shared-aoai", {"env": "prod"}, [("chat", "Standard", 10)])]), RuleStatus.FAIL, 1),
        Sample("no required tags configured", lambda: _context([_account("shared-aoai", {}, [("chat", "Standard", 10)])], policy=Policy(owner_tags=("team",))), RuleStatus.NOT_APPLICABLE),
    ),
)

SPEND_OWNER_MISSING = Rule(
    id="azure.openai.spend-resource-owner-missing",
    title="Azure AI spend is billed to a resource without an owner tag",
    severity=Severity.MEDIUM,
    checks=(
        "Azure AI spend billed to a Cognitive Services account (or one of its deployments) carries an owner tag, "
        "or its account names an owner; PTU shares split by token metrics count as owned."
    ),
    why=(
        "Spend reaches an owner on the bill only through the resource's tags; spend that reaches an owner "
        "only through a config mapping, or not at all, disappears from every tag-based showback."
    ),
    remediation="Tag the account with one of the keys in policy.owner_tags so that its charges carry the owner.",
    limits="Judges spend lines that name a Cognitive Services resource ID; spend billed to no resource is left to billing.ai-spend-unattributed.",
    check=_check_spend_owner,
    samples=(
        Sample("spend carries the owner tag", lambda: _spend_context([_account("research-aoai", {"team": "research"}, [("chat", "Standard", 10)])], {"team": "research"}), RuleStatus.PASS),
        Sample("untagged spend on an untagged account", lambda: _spend_context([_account("research-aoai", {}, [("chat", "Standard", 10)])], {}), RuleStatus.FAIL, 1),
        Sample("spend on an account outside the inventory", lambda: _spend_context([], {"env": "prod"}), RuleStatus.FAIL, 1),
        Sample("no Azure spend", lambda: _context([_account("research-aoai", {}, [("chat", "Standard", 10)])]), RuleStatus.NOT_APPLICABLE),
    ),
)


RULES = [
    ACCOUNT_OWNER_MISSING,
    ACCOUNT_REQUIRED_TAGS,
    SPEND_OWNER_MISSING,
    SHARED_WITHOUT_GATEWAY,
    PTU_WITHOUT_TOKEN_METRICS,
    LOCAL_AUTH_ENABLED,
]
