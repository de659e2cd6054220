"""The AWS inventory collector against moto (IAM, STS, Organizations, EC2, S3, CloudWatch Logs,
bedrock-agent agents, Bedrock logging configuration) and the local fake endpoint (inference
profiles, tags, cost-allocation tags, agent aliases and versions), through real boto3 clients."""

from __future__ import annotations

import gzip
import json
import logging
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from collectors.aws import kinds
from collectors.aws.api import LiveReader, RecordingReader, SnapshotReader
from collectors.aws.inventory import AwsInventoryCollector
from collectors.aws.settings import AwsSettings, InvocationLogSettings
from collectors.contract import CollectContext, SourceKind
from scanner.model import OutcomeStatus
from test_aws_fake_endpoint import FakeAws, describe_regions_response

DATA = Path(__file__).parent / "data" / "aws"
CALLER = "123456789012"  # moto's default account for unknown access keys
CLAIMS = "111122223333"
GROWTH = "444455556666"
CLAIMS_PROFILE = f"arn:aws:bedrock:us-east-1:{CLAIMS}:application-inference-profile/claims7xq2m4k9"
GROWTH_PROFILE = f"arn:aws:bedrock:us-west-2:{GROWTH}:application-inference-profile/growthq8w3e5r1"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(scope="module", autouse=True)
def offline_credentials():
    """Fake credentials and no instance-metadata lookups, so nothing reaches a real AWS host."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _set_offline_environment(monkeypatch)
        yield


def _set_offline_environment(monkeypatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture(scope="module")
def moto_url():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def reset_moto(moto_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))  # noqa: S310 - local moto


@pytest.fixture
def fake(moto_url):
    reset_moto(moto_url)
    server = FakeAws(moto_url=moto_url).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def estate(moto_url):
    """One collection of the seeded estate, shared by the tests that only read its result."""
    reset_moto(moto_url)
    server = FakeAws(moto_url=moto_url).start()
    seeded = seed_estate(server, moto_url)
    result, _ = collect(estate_settings(server))
    yield {"result": result, "calls": server.calls, "agent": seeded["agent"]}
    server.stop()


def moto_client(moto_url: str, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
    """A client straight to moto, with credentials of `account` (through a moto AssumeRole)."""
    credentials: dict[str, str] = {}
    if account:
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=moto_url)
        assumed = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    return boto3.client(service, region_name=region, endpoint_url=moto_url, **credentials)


def profile(arn: str, name: str, model: str) -> dict[str, Any]:
    region = arn.split(":")[3]
    return {
        "inferenceProfileArn": arn,
        "inferenceProfileId": arn.rsplit("/", 1)[1],
        "inferenceProfileName": name,
        "type": "APPLICATION",
        "status": "ACTIVE",
        "createdAt": "2026-09-14T08:30:00Z",
        "updatedAt": "2026-09-14T08:30:00Z",
        "models": [{"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model}"}],
    }


def seed_estate(fake: FakeAws, moto_url: str) -> dict[str, Any]:
    """The demo organisation's Bedrock estate: a tagged profile in claims-prod, a sandbox with an
    inactive owner tag, an agent on a bare model, logging on in claims-prod only."""
    system = json.loads((DATA / "list_inference_profiles_us-east-1_2024-11.json").read_text())
    applications = {
        (CLAIMS, "us-east-1"): [profile(CLAIMS_PROFILE, "claims-summariser", SONNET)],
        (GROWTH, "us-west-2"): [profile(GROWTH_PROFILE, "growth-experiments", HAIKU)],
    }
    tags = {
        CLAIMS_PROFILE: [{"key": "team", "value": "claims"}, {"key": "CostCenter", "value": "cc-4100"}, {"key": "env", "value": "prod"}],
        GROWTH_PROFILE: [{"key": "Owner", "value": "growth"}, {"key": "env", "value": "sandbox"}],
    }
    profiles_by_arn = {item["inferenceProfileArn"]: item for items in applications.values() for item in items}

    for (account, region), items in applications.items():
        fake.respond(
            "bedrock", "ListInferenceProfiles",
            lambda params, items=items: {"inferenceProfileSummaries": items if params.get("typeEquals") == "APPLICATION" else system["inferenceProfileSummaries"]},
            account=account, region=region,
        )
    fake.respond(
        "bedrock", "ListInferenceProfiles",
        lambda params: {"inferenceProfileSummaries": [] if params.get("typeEquals") == "APPLICATION" else system["inferenceProfileSummaries"]},
    )
    fake.respond("bedrock", "GetInferenceProfile", lambda params: profiles_by_arn[params["inferenceProfileIdentifier"]])
    fake.respond("bedrock", "ListTagsForResource", lambda params: {"tags": tags.get(params["resourceARN"], [])})
    fake.respond("bedrock", "ListProvisionedModelThroughputs", {"provisionedModelSummaries": []})
    fake.respond("bedrock", "ListImportedModels", {"modelSummaries": []})
    fake.respond("ce", "ListCostAllocationTags", {"CostAllocationTags": [
        {"TagKey": "team", "Type": "UserDefined", "Status": "Active", "LastUpdatedDate": "2026-01-12T00:00:00Z"},
        {"TagKey": "CostCenter", "Type": "UserDefined", "Status": "Active"},
        {"TagKey": "env", "Type": "UserDefined", "Status": "Active"},
        {"TagKey": "Owner", "Type": "UserDefined", "Status": "Inactive"},
    ]})

    agent_client = moto_client(moto_url, "bedrock-agent", GROWTH, region="us-west-2")
    agent = agent_client.create_agent(
        agentName="growth-support-bot", foundationModel=HAIKU, agentResourceRoleArn=f"arn:aws:iam::{GROWTH}:role/bedrock-agent",
        tags={"team": "growth"},
    )["agent"]
    fake.respond("bedrock-agent", "ListAgentAliases", {"agentAliasSummaries": [
        {"agentAliasId": "LIVE000001", "agentAliasName": "live", "agentAliasStatus": "PREPARED",
         "routingConfiguration": [{"agentVersion": "1"}], "createdAt": "2026-10-01T00:00:00Z", "updatedAt": "2026-10-01T00:00:00Z"},
    ]}, account=GROWTH)
    fake.respond("bedrock-agent", "ListAgentAliases", {"agentAliasSummaries": []})
    fake.respond("bedrock-agent", "GetAgentVersion", lambda params: {"agentVersion": {
        "agentId": params["agentId"], "agentName": "growth-support-bot", "version": params["agentVersion"], "foundationModel": HAIKU,
        "agentStatus": "PREPARED", "agentArn": agent["agentArn"], "agentResourceRoleArn": f"arn:aws:iam::{GROWTH}:role/bedrock-agent",
        "idleSessionTTLInSeconds": 600, "createdAt": "2026-10-01T00:00:00Z", "updatedAt": "2026-10-01T00:00:00Z"}})

    # moto's EC2 backend takes seconds to start per account, so regions come from the fake unless
    # a test removes this response.
    fake.respond("ec2", "DescribeRegions", describe_regions_response(
        {"us-east-1": "opt-in-not-required", "us-west-2": "opt-in-not-required", "me-south-1": "not-opted-in"}))

    logging_client = moto_client(moto_url, "bedrock", CLAIMS)
    logging_client.put_model_invocation_logging_configuration(loggingConfig={
        "s3Config": {"bucketName": "larkspur-bedrock-logs", "keyPrefix": "claims"}, "textDataDeliveryEnabled": False})
    return {"agent": agent}


def collect(settings: AwsSettings, reader: Any = None, now=None):
    reader = reader or LiveReader(settings)
    collector = AwsInventoryCollector(settings, reader, SourceKind.LIVE, now=now)
    result = collector.collect(CollectContext(logger=logging.getLogger("shadowmap.collector.aws.bedrock")))
    result.outcome.settle()
    return result, reader


def estate_settings(fake: FakeAws, **overrides: Any) -> AwsSettings:
    options: dict[str, Any] = {
        "accounts": (CLAIMS, GROWTH),
        "regions": ("us-east-1", "us-west-2"),
        "endpoints": fake.endpoints(),
        "concurrency": 8,
        "max_attempts": 3,
        "retry_mode": "standard",
        "iam": False,  # moto's IAM backend takes a second to start per account; the IAM tests turn it on
    }
    options.update(overrides)
    return AwsSettings(**options)


def by_kind(result, kind: str) -> dict[str, Any]:
    return {asset.id: asset for asset in result.assets if asset.kind == kind}


def test_application_profile_has_models_and_tags(estate):
    result = estate["result"]

    claims = by_kind(result, kinds.APPLICATION_PROFILE)[CLAIMS_PROFILE]
    assert claims.name == "claims-summariser"
    assert claims.scope == CLAIMS
    assert claims.tags.values == {"team": "claims", "cost-center": "cc-4100", "env": "prod"}
    assert claims.attributes["model_ids"] == [SONNET]
    assert claims.attributes["created_at"] == "2026-09-14T08:30:00Z"
    assert claims.attributes["cost_allocation_status"] == {"CostCenter": "Active", "env": "Active", "team": "Active"}


def test_inactive_owner_tag_status_is_joined(estate):
    result = estate["result"]

    growth = by_kind(result, kinds.APPLICATION_PROFILE)[GROWTH_PROFILE]
    assert growth.attributes["cost_allocation_status"] == {"Owner": "Inactive", "env": "Active"}
    assert growth.attributes["cost_allocation_read"] is True


def test_system_profiles_are_read_through_every_page(estate):
    result = estate["result"]

    region = by_kind(result, kinds.REGION)[f"{CLAIMS}/us-east-1/bedrock"]
    assert len(region.attributes["system_profile_ids"]) == 12
    assert "us.anthropic.claude-3-5-sonnet-20240620-v1:0" in region.attributes["system_profile_ids"]
    assert estate["calls"][(CLAIMS, "us-east-1", "bedrock", "ListInferenceProfiles")] == 1 + 6  # one page of applications, six of system profiles


def test_agent_alias_resolves_version_model(estate):
    agent = by_kind(estate["result"], kinds.AGENT)[estate["agent"]["agentArn"]]
    assert agent.name == "growth-support-bot"
    assert agent.tags.values == {"team": "growth"}
    assert agent.attributes["aliases"] == [{"id": "LIVE000001", "name": "live", "status": "PREPARED", "versions": ["1"], "models": [HAIKU]}]
    assert agent.attributes["model_kinds"] == {HAIKU: "foundation_model"}


def test_logging_configuration_from_moto(estate):
    result = estate["result"]

    regions = by_kind(result, kinds.REGION)
    assert regions[f"{CLAIMS}/us-east-1/bedrock"].attributes["logging"]["s3_bucket"] == "larkspur-bedrock-logs"
    assert regions[f"{CLAIMS}/us-east-1/bedrock"].attributes["logging"]["enabled"] is True
    assert regions[f"{GROWTH}/us-west-2/bedrock"].attributes["logging"]["enabled"] is False


def test_every_account_and_region_is_seen(estate):
    result = estate["result"]

    assert result.outcome.status is OutcomeStatus.OK
    assert sorted(result.outcome.scopes_seen) == [
        f"{CLAIMS}/us-east-1", f"{CLAIMS}/us-west-2",
        f"{CALLER}/cost-allocation-tags", f"{CALLER}/us-east-1", f"{CALLER}/us-west-2",
        f"{GROWTH}/us-east-1", f"{GROWTH}/us-west-2",
    ]
    assert result.outcome.scopes_not_seen == []


@pytest.fixture
def no_backoff(monkeypatch):
    """Retry throttled calls at once, so the tests do not sleep through botocore's backoff."""
    import botocore.retries.standard

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_throttling_is_retried(fake, moto_url, no_backoff):
    seed_estate(fake, moto_url)
    fake.fail("bedrock", "ListInferenceProfiles", "ThrottlingException", status=429, account=CLAIMS, region="us-east-1", times=2)

    result, _ = collect(estate_settings(fake, accounts=(CLAIMS,), regions=("us-east-1",)))

    assert result.outcome.scopes_not_seen == []
    assert CLAIMS_PROFILE in by_kind(result, kinds.APPLICATION_PROFILE)


def test_throttling_beyond_attempts_is_a_gap(fake, moto_url, no_backoff):
    seed_estate(fake, moto_url)
    fake.fail("bedrock", "ListInferenceProfiles", "ThrottlingException", status=429, account=CLAIMS, region="us-east-1")

    result, _ = collect(estate_settings(fake, accounts=(CLAIMS,), regions=("us-east-1",), max_attempts=2))

    gaps = [gap for gap in result.outcome.scopes_not_seen if gap.scope == f"{CLAIMS}/us-east-1"]
    assert gaps[0].reason.startswith("bedrock ListInferenceProfiles: ThrottlingException: still throttled after 2 attempts")
    assert result.outcome.status is OutcomeStatus.PARTIAL


def test_access_denied_region_is_gap(fake, moto_url):
    seed_estate(fake, moto_url)
    fake.fail("bedrock", "ListInferenceProfiles", "AccessDeniedException", status=403, account=GROWTH, region="us-west-2")

    result, _ = collect(estate_settings(fake))

    reasons = {gap.scope: gap.reason for gap in result.outcome.scopes_not_seen}
    assert reasons[f"{GROWTH}/us-west-2"] == (
        "bedrock ListInferenceProfiles: AccessDeniedException: grant bedrock:ListInferenceProfiles to the audit role "
        "(collectors/aws/iam-policy.json lists every permission)"
    )
    assert f"{CLAIMS}/us-east-1" in result.outcome.scopes_seen
    assert result.outcome.status is OutcomeStatus.PARTIAL


def test_unrecognized_client_skips_the_region(fake, moto_url):
    seed_estate(fake, moto_url)
    fake.fail("bedrock", "ListInferenceProfiles", "UnrecognizedClientException", status=403, account=CLAIMS, region="us-west-2")

    result, _ = collect(estate_settings(fake, accounts=(CLAIMS,)))

    assert f"{CLAIMS}/us-west-2/bedrock" not in by_kind(result, kinds.REGION)
    assert fake.calls[(CLAIMS, "us-west-2", "bedrock", "GetModelInvocationLoggingConfiguration")] == 0
    assert "region is not enabled" in {gap.scope: gap.reason for gap in result.outcome.scopes_not_seen}[f"{CLAIMS}/us-west-2"]


def test_opt_in_region_not_enabled_is_a_gap(fake, moto_url):
    seed_estate(fake, moto_url)

    del fake.responses[("ec2", "DescribeRegions", None, None)]  # moto's own region list

    result, _ = collect(estate_settings(fake, accounts=(), regions=("us-east-1", "me-south-1")))

    reasons = {gap.scope: gap.reason for gap in result.outcome.scopes_not_seen}
    assert reasons[f"{CALLER}/me-south-1"] == (
        "region not enabled (opt-in status not-opted-in); enable it in the account or leave it out of sources.aws.regions"
    )
    assert fake.calls[(CALLER, "me-south-1", "bedrock", "ListInferenceProfiles")] == 0


def test_default_regions_are_the_enabled_ones(fake, moto_url, caplog):
    seed_estate(fake, moto_url)
    fake.respond("ec2", "DescribeRegions", describe_regions_response({
        "us-east-1": "opt-in-not-required", "eu-central-1": "opt-in-not-required", "af-south-1": "opted-in",
        "me-south-1": "not-opted-in", "ap-east-2": "not-opted-in",
    }))

    with caplog.at_level(logging.INFO, logger="shadowmap.collector.aws.bedrock"):
        result, _ = collect(estate_settings(fake, accounts=(CLAIMS,), regions=()))

    region_scopes = sorted(scope for scope in result.outcome.scopes_seen if scope.startswith(f"{CLAIMS}/"))
    assert region_scopes == [f"{CLAIMS}/af-south-1", f"{CLAIMS}/eu-central-1", f"{CLAIMS}/us-east-1"]
    assert result.outcome.scopes_not_seen == []
    assert result.outcome.status is OutcomeStatus.OK
    assert fake.calls[(CLAIMS, "me-south-1", "bedrock", "ListInferenceProfiles")] == 0
    not_enabled_lines = [record.getMessage() for record in caplog.records if "not enabled" in record.getMessage()]
    assert not_enabled_lines.count(f"aws.bedrock: {CLAIMS}: 2 regions not enabled in the account, so not scanned: ap-east-2, me-south-1") == 1
    assert [record.levelname for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_named_region_unknown_to_account_is_a_gap(fake, moto_url):
    seed_estate(fake, moto_url)

    result, _ = collect(estate_settings(fake, accounts=(), regions=("us-east-1", "xx-nowhere-1")))

    reasons = {gap.scope: gap.reason for gap in result.outcome.scopes_not_seen}
    assert reasons == {f"{CALLER}/xx-nowhere-1": "region unknown to ec2 DescribeRegions in this account; check the region name"}


def test_role_that_cannot_be_assumed_is_a_gap(fake, moto_url):
    seed_estate(fake, moto_url)
    fake.fail("sts", "AssumeRole", "AccessDenied", status=403)

    result, _ = collect(estate_settings(fake))

    reasons = {gap.scope: gap.reason for gap in result.outcome.scopes_not_seen}
    assert reasons[CLAIMS].startswith("sts AssumeRole: AccessDenied: grant sts:AssumeRole")
    assert reasons[CLAIMS].endswith("the role ShadowmapAuditRole must exist in 111122223333 and trust the starting credentials")
    assert f"{CALLER}/us-east-1" in result.outcome.scopes_seen
    assert result.outcome.status is OutcomeStatus.PARTIAL


def test_organization_accounts_are_discovered(fake, moto_url):
    seed_estate(fake, moto_url)
    organizations = moto_client(moto_url, "organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = [organizations.create_account(AccountName=f"member-{index}", Email=f"m{index}@example.com")["CreateAccountStatus"]["AccountId"] for index in range(3)]

    result, _ = collect(estate_settings(fake, accounts=(), organization=True, regions=("us-east-1",), concurrency=4))

    accounts = sorted(by_kind(result, kinds.ACCOUNT))
    assert accounts == sorted([CALLER, *created])
    assert by_kind(result, kinds.ACCOUNT)[created[0]].name == "member-0"


def deny_unless_profile_policy() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyCallsOutsideApplicationProfiles", "Effect": "Deny",
        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], "Resource": "*",
        "Condition": {"Null": {"bedrock:InferenceProfileArn": "true"}}}]})


def test_iam_deny_statement_counts_as_enforcement(fake, moto_url):
    seed_estate(fake, moto_url)
    iam = moto_client(moto_url, "iam", CLAIMS)
    iam.create_role(RoleName="claims-app", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    iam.put_role_policy(RoleName="claims-app", PolicyName="bedrock-through-profiles", PolicyDocument=deny_unless_profile_policy())

    result, _ = collect(estate_settings(fake, iam=True, regions=("us-east-1",)))

    accounts = by_kind(result, kinds.ACCOUNT)
    assert accounts[CLAIMS].attributes["profile_enforcement"] == "deny"
    assert accounts[CLAIMS].attributes["profile_enforcement_evidence"] == [
        {"policy": "role/claims-app/bedrock-through-profiles", "policy_type": "inline", "sid": "DenyCallsOutsideApplicationProfiles", "effect": "Deny"}
    ]
    assert accounts[GROWTH].attributes["profile_enforcement"] == "none"


def test_scp_on_an_ou_counts_for_its_accounts(fake, moto_url):
    seed_estate(fake, moto_url)
    organizations = moto_client(moto_url, "organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    member = organizations.create_account(AccountName="claims-prod", Email="claims@example.com")["CreateAccountStatus"]["AccountId"]
    organizations.move_account(AccountId=member, SourceParentId=root, DestinationParentId=unit)
    policy = organizations.create_policy(Content=deny_unless_profile_policy(), Description="profiles only", Name="bedrock-profiles-only",
                                         Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]
    organizations.attach_policy(PolicyId=policy["Id"], TargetId=unit)

    result, _ = collect(estate_settings(fake, accounts=(), organization=True, regions=("us-east-1",)))

    accounts = by_kind(result, kinds.ACCOUNT)
    assert accounts[member].attributes["profile_enforcement"] == "deny"
    assert accounts[member].attributes["profile_enforcement_evidence"][0]["policy_type"] == "service_control_policy"
    assert accounts[CALLER].attributes["profile_enforcement"] == "none"


def test_invocation_logs_are_read_from_s3(fake, moto_url):
    seed_estate(fake, moto_url)
    s3 = moto_client(moto_url, "s3", CLAIMS)
    s3.create_bucket(Bucket="larkspur-bedrock-logs")
    records = [
        {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-11-02T10:00:00Z", "accountId": CLAIMS,
         "region": "us-east-1", "requestId": f"r{index}", "operation": "Converse", "modelId": model,
         "identity": {"arn": f"arn:aws:sts::{CLAIMS}:assumed-role/claims-app/i-1"},
         "input": {"inputTokenCount": 1000}, "output": {"outputTokenCount": 200}}
        for index, model in enumerate([CLAIMS_PROFILE, CLAIMS_PROFILE, HAIKU])
    ]
    body = gzip.compress("\n".join(json.dumps(record) for record in records).encode())
    prefix = f"claims/AWSLogs/{CLAIMS}/BedrockModelInvocationLogs/us-east-1/2026/11/02/10/"
    s3.put_object(Bucket="larkspur-bedrock-logs", Key=prefix + "20261102T1000Z_abc.json.gz", Body=body)
    s3.put_object(Bucket="larkspur-bedrock-logs", Key=prefix + "data/large-body.json", Body=b"{}")
    from datetime import datetime, timezone

    settings = estate_settings(fake, accounts=(CLAIMS,), regions=("us-east-1",), invocation_logs=InvocationLogSettings(read_s3=True, days=7))
    result, _ = collect(settings, now=datetime(2026, 11, 3, tzinfo=timezone.utc))

    usage = by_kind(result, kinds.MODEL_USAGE)
    assert usage[f"{CLAIMS}/us-east-1/invocations/{CLAIMS_PROFILE}"].attributes["calls"] == 2
    assert usage[f"{CLAIMS}/us-east-1/invocations/{HAIKU}"].attributes["model_kind"] == "foundation_model"
    assert usage[f"{CLAIMS}/us-east-1/invocations/{HAIKU}"].attributes["input_tokens"] == 1000


def test_invocation_logs_are_read_from_cloudwatch(fake, moto_url):
    seed_estate(fake, moto_url)
    bedrock = moto_client(moto_url, "bedrock", GROWTH, region="us-west-2")
    bedrock.put_model_invocation_logging_configuration(loggingConfig={"cloudWatchConfig": {"logGroupName": "bedrock-invocations", "roleArn": f"arn:aws:iam::{GROWTH}:role/logs"}})
    logs = moto_client(moto_url, "logs", GROWTH, region="us-west-2")
    logs.create_log_group(logGroupName="bedrock-invocations")
    logs.create_log_stream(logGroupName="bedrock-invocations", logStreamName="aws/bedrock/modelinvocations")
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    record = {"schemaType": "ModelInvocationLog", "timestamp": now.isoformat(), "accountId": GROWTH, "region": "us-west-2",
              "modelId": "us.anthropic.claude-3-5-sonnet-20240620-v1:0", "operation": "InvokeModel",
              "input": {"inputTokenCount": 50}, "output": {"outputTokenCount": 7}}
    logs.put_log_events(logGroupName="bedrock-invocations", logStreamName="aws/bedrock/modelinvocations",
                        logEvents=[{"timestamp": int(now.timestamp() * 1000), "message": json.dumps(record)}])

    settings = estate_settings(fake, accounts=(GROWTH,), regions=("us-west-2",), invocation_logs=InvocationLogSettings(read_cloudwatch=True))
    result, _ = collect(settings, now=now)

    usage = by_kind(result, kinds.MODEL_USAGE)[f"{GROWTH}/us-west-2/invocations/us.anthropic.claude-3-5-sonnet-20240620-v1:0"]
    assert usage.attributes["model_kind"] == "system_profile"
    assert usage.attributes["output_tokens"] == 7


def test_snapshot_reads_back_the_same_inventory(fake, moto_url, tmp_path):
    seed_estate(fake, moto_url)
    fake.fail("bedrock", "ListInferenceProfiles", "AccessDeniedException", status=403, account=GROWTH, region="us-east-1")
    settings = estate_settings(fake)
    recording = RecordingReader(LiveReader(settings), tmp_path)

    live, _ = collect(settings, recording)
    replayed, _ = collect(settings, SnapshotReader(tmp_path))

    assert [asset.to_dict() for asset in replayed.assets] == [asset.to_dict() for asset in live.assets]
    assert replayed.outcome.scopes_not_seen == live.outcome.scopes_not_seen
    assert sorted(replayed.outcome.scopes_seen) == sorted(live.outcome.scopes_seen)
    assert (tmp_path / CLAIMS / "us-east-1" / "bedrock" / "list-inference-profiles" / "typeEquals=APPLICATION.json").is_file()


def test_snapshot_without_a_region_file_is_a_gap(tmp_path):
    (tmp_path / "get-caller-identity.json").write_text(json.dumps({"Account": CLAIMS, "Arn": f"arn:aws:iam::{CLAIMS}:user/audit", "UserId": "AIDA"}))
    (tmp_path / CLAIMS).mkdir()
    settings = AwsSettings(regions=("us-east-1",), iam=False, cost_allocation_tags=False)

    result, _ = collect(settings, SnapshotReader(tmp_path))

    assert [gap.scope for gap in result.outcome.scopes_not_seen] == [f"{CLAIMS}/regions", f"{CLAIMS}/us-east-1"]
    assert result.outcome.status is OutcomeStatus.FAILED


def test_shadowmap_snapshot_records_what_scan_reads_back(fake, moto_url, tmp_path):
    from collectors.aws import build_collectors, record_snapshot
    from scanner.config import parse_config

    seed_estate(fake, moto_url)
    endpoints = "".join(f"      {service}: {url}\n" for service, url in fake.endpoints().items())
    live_config = parse_config(
        f"version: 1\nsources:\n  aws:\n    accounts: ['{CLAIMS}']\n    regions: [us-east-1]\n    iam: false\n    endpoints:\n{endpoints}",
        tmp_path / "live.yaml",
    )

    outcome = record_snapshot(live_config, tmp_path / "snap" / "aws", logging.getLogger("shadowmap.collector.aws"))
    snapshot_config = parse_config(
        "version: 1\nsources:\n  aws:\n    snapshot: snap/aws\n    accounts: ['111122223333']\n    regions: [us-east-1]\n    iam: false\n",
        tmp_path / "scan.yaml",
    )
    [collector] = build_collectors(snapshot_config)
    replayed = collector.collect(CollectContext(logger=logging.getLogger("shadowmap.collector.aws.bedrock")))
    live, _ = collect(estate_settings(fake, accounts=(CLAIMS,), regions=("us-east-1",)))

    assert outcome.scopes_not_seen == []
    assert collector.source is SourceKind.SNAPSHOT
    assert [asset.to_dict() for asset in replayed.assets] == [asset.to_dict() for asset in live.assets]
    assert (tmp_path / "snap" / "aws" / "snapshot.json").is_file()


def test_worker_processes_find_the_same_inventory(fake, moto_url):
    seed_estate(fake, moto_url)

    single, _ = collect(estate_settings(fake))
    spread, reader = collect(estate_settings(fake, processes=2))

    assert [asset.to_dict() for asset in spread.assets] == [asset.to_dict() for asset in single.assets]
    assert sorted(spread.outcome.scopes_seen) == sorted(single.outcome.scopes_seen)
    assert sum(reader.calls.values()) == sum(fake.calls.values()) // 2
