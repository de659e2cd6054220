"""The AWS collector makes read-only calls only, and the shipped IAM policy allows every call it
makes: every botocore call of a full scan (Organization, SCPs, IAM, cost-allocation tags,
invocation logs from S3 and CloudWatch Logs) is recorded below botocore's client and checked."""

from __future__ import annotations

import fnmatch
import json
from datetime import datetime, timezone
from importlib import resources

import botocore.client
import pytest

from collectors.aws.settings import InvocationLogSettings
from test_aws_inventory import (  # noqa: F401 - fixtures
    CLAIMS,
    collect,
    estate_settings,
    moto_client,
    moto_url,
    offline_credentials,
    reset_moto,
    seed_estate,
)
from test_aws_fake_endpoint import FakeAws

# Calls that need no permission, or that a read-only audit cannot avoid.
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}
# The IAM action of an operation where it differs from `<service prefix>:<operation>`.
IAM_ACTION_OF = {"s3:ListObjectsV2": "s3:ListBucket", "bedrock-agent": "bedrock"}


def iam_action(service: str, operation: str) -> str:
    mapped = IAM_ACTION_OF.get(f"{service}:{operation}")
    if mapped:
        return mapped
    return f"{IAM_ACTION_OF.get(service, service)}:{operation}"


def shipped_policy_actions() -> list[str]:
    document = json.loads(resources.files("collectors").joinpath("aws", "iam-policy.json").read_text())
    actions: list[str] = []
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.extend([listed] if isinstance(listed, str) else listed)
    return actions


@pytest.fixture(scope="module")
def full_scan_calls(moto_url):
    reset_moto(moto_url)
    fake = FakeAws(moto_url=moto_url).start()
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _full_scan(fake, moto_url, monkeypatch)
    fake.stop()


def _full_scan(fake, moto_url, monkeypatch):
    seed_estate(fake, moto_url)
    organizations = moto_client(moto_url, "organizations")
    organizations.create_organization(FeatureSet="ALL")
    policy = organizations.create_policy(
        Content=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "bedrock:Invoke*", "Resource": "*",
                                                                  "Condition": {"Null": {"bedrock:InferenceProfileArn": "true"}}}]}),
        Description="profiles only", Name="bedrock-profiles-only", Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]
    organizations.attach_policy(PolicyId=policy["Id"], TargetId=organizations.list_roots()["Roots"][0]["Id"])
    s3 = moto_client(moto_url, "s3", CLAIMS)
    s3.create_bucket(Bucket="larkspur-bedrock-logs")
    s3.put_object(Bucket="larkspur-bedrock-logs", Key=f"claims/AWSLogs/{CLAIMS}/BedrockModelInvocationLogs/us-east-1/2026/11/02/10/a.json.gz", Body=b"{}")

    recorded: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def record(client, operation_name, api_params):
        recorded.append((client.meta.service_model.service_name, operation_name))
        return original(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    settings = estate_settings(
        fake, organization=True, iam=True, regions=("us-east-1", "us-west-2"),
        invocation_logs=InvocationLogSettings(read_s3=True, read_cloudwatch=True),
    )
    result, reader = collect(settings, now=datetime(2026, 11, 3, tzinfo=timezone.utc))
    return recorded, result, reader


def test_full_scan_calls_only_list_get_describe(full_scan_calls):
    recorded, _, _ = full_scan_calls

    not_read_only = sorted({f"{service}:{operation}" for service, operation in recorded
                            if not operation.startswith(("List", "Get", "Describe")) and operation != "AssumeRole"})

    assert not_read_only == []
    assert ("sts", "AssumeRole") in recorded  # the one exception: reaching the member accounts


def test_full_scan_covers_every_source(full_scan_calls):
    recorded, result, _ = full_scan_calls

    operations = {f"{service}:{operation}" for service, operation in recorded}

    assert {"organizations:ListAccounts", "organizations:DescribePolicy", "iam:GetAccountAuthorizationDetails",
            "ce:ListCostAllocationTags", "s3:ListObjectsV2", "s3:GetObject", "bedrock:GetInferenceProfile",
            "bedrock-agent:GetAgentVersion"} <= operations
    assert result.outcome.errors == []


def test_shipped_policy_allows_every_call(full_scan_calls):
    recorded, _, _ = full_scan_calls
    allowed = shipped_policy_actions()

    missing = sorted({
        iam_action(service, operation)
        for service, operation in recorded
        if f"{service}:{operation}" not in NO_PERMISSION_NEEDED
        and not any(fnmatch.fnmatchcase(iam_action(service, operation), pattern) for pattern in allowed)
    })

    assert missing == []


def test_shipped_policy_grants_nothing_to_write():
    write_prefixes = ("Create", "Delete", "Put", "Update", "Tag", "Untag", "Attach", "Detach", "Start", "Stop", "Invoke")

    writes = [action for action in shipped_policy_actions() if action.split(":", 1)[1].startswith(write_prefixes) or "*" in action]

    assert writes == []


def test_reader_counts_the_calls_it_makes(full_scan_calls):
    recorded, result, reader = full_scan_calls

    assert sum(reader.calls.values()) == len(recorded)
    assert f"{len(recorded)} API calls" in result.outcome.notes
