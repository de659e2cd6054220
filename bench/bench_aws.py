"""Benchmark the AWS inventory collector's fan-out: 20 accounts by 17 regions against the local
fake endpoint, which adds a fixed latency to every call.

The fake endpoint and moto (for STS) run in a child process so that their work does not compete
with the collector for the interpreter lock. Every account and region contains one application
inference profile, the 12 real system profiles of tests/data/aws, and one agent with one alias,
so a region costs 13 calls. The target is a wall time within 1.5 times calls x latency /
concurrency.

Run: python bench/bench_aws.py [--latency 0.05] [--concurrency 16 32] [--processes 1 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# moto's default account is the starting (management) account, and one of the 20.
ACCOUNTS = ["123456789012", *(f"{100000000000 + index * 1111:012d}" for index in range(19))]
REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
]
EMPTY_IAM = (
    b'<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult>'
    b"<IsTruncated>false</IsTruncated><UserDetailList/><GroupDetailList/><RoleDetailList/><Policies/>"
    b"</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>"
)


def serve(connection: Any, latency: float) -> None:
    """Child process: start moto and the fake, seed the estate, send the fake's URL, then wait."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer
    from test_aws_fake_endpoint import FakeAws, RawResponse, describe_regions_response

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    fake = FakeAws(moto_url=f"http://{host}:{port}", latency=latency, page_size=100).start()

    system = json.loads((ROOT / "tests" / "data" / "aws" / "list_inference_profiles_us-east-1_2024-11.json").read_text())
    for account in ACCOUNTS:
        for region in REGIONS:
            arn = f"arn:aws:bedrock:{region}:{account}:application-inference-profile/bench{region.replace('-', '')}"
            profile = {"inferenceProfileArn": arn, "inferenceProfileId": arn.rsplit("/", 1)[1], "inferenceProfileName": f"bench-{region}",
                       "type": "APPLICATION", "status": "ACTIVE", "models": [{"modelArn": f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}]}
            fake.respond("bedrock", "ListInferenceProfiles",
                         lambda params, profile=profile: {"inferenceProfileSummaries": [profile] if params.get("typeEquals") == "APPLICATION" else system["inferenceProfileSummaries"]},
                         account=account, region=region)
            fake.respond("bedrock-agent", "ListAgents", {"agentSummaries": [{"agentId": "BENCHAGENT", "agentName": "bench", "agentStatus": "PREPARED"}]},
                         account=account, region=region)
            fake.respond("bedrock-agent", "GetAgent", {"agent": {"agentId": "BENCHAGENT", "agentName": "bench", "agentStatus": "PREPARED",
                                                                  "agentArn": f"arn:aws:bedrock:{region}:{account}:agent/BENCHAGENT", "foundationModel": arn}},
                         account=account, region=region)
    fake.respond("bedrock", "GetInferenceProfile", lambda params: {"inferenceProfileArn": params["inferenceProfileIdentifier"], "type": "APPLICATION",
                                                                   "inferenceProfileId": "bench", "inferenceProfileName": "bench", "status": "ACTIVE", "models": []})
    fake.respond("bedrock", "ListTagsForResource", {"tags": [{"key": "team", "value": "bench"}]})
    fake.respond("bedrock", "GetModelInvocationLoggingConfiguration", {})
    fake.respond("bedrock", "ListProvisionedModelThroughputs", {"provisionedModelSummaries": []})
    fake.respond("bedrock", "ListCustomModels", {"modelSummaries": []})
    fake.respond("bedrock", "ListImportedModels", {"modelSummaries": []})
    fake.respond("bedrock-agent", "ListAgentAliases", {"agentAliasSummaries": [{"agentAliasId": "LIVE", "agentAliasName": "live", "routingConfiguration": [{"agentVersion": "1"}]}]})
    fake.respond("bedrock-agent", "GetAgentVersion", {"agentVersion": {"agentId": "BENCHAGENT", "version": "1", "foundationModel": "anthropic.claude-3-haiku-20240307-v1:0"}})
    fake.respond("bedrock-agent", "ListTagsForResource", {"tags": {"team": "bench"}})
    fake.respond("ce", "ListCostAllocationTags", {"CostAllocationTags": [{"TagKey": "team", "Type": "UserDefined", "Status": "Active"}]})
    fake.respond("organizations", "ListAccounts", {"Accounts": [{"Id": account, "Name": f"bench-{index}", "Status": "ACTIVE"} for index, account in enumerate(ACCOUNTS)]})
    fake.respond("organizations", "ListPolicies", {"Policies": []})
    fake.respond("ec2", "DescribeRegions", describe_regions_response({region: "opt-in-not-required" for region in REGIONS}))
    fake.respond("iam", "GetAccountAuthorizationDetails", RawResponse(EMPTY_IAM))

    connection.send(fake.url)
    started = time.process_time()
    while connection.recv() == "cpu":
        connection.send(round(time.process_time() - started, 2))
        started = time.process_time()
    fake.stop()
    moto.stop()


def run(url: str, concurrency: int, latency: float, processes: int = 1) -> dict[str, Any]:
    from collectors.aws.api import LiveReader
    from collectors.aws.inventory import AwsInventoryCollector
    from collectors.aws.settings import AwsSettings
    from collectors.contract import CollectContext, SourceKind

    services = ("bedrock", "bedrock-agent", "ce", "sts", "iam", "organizations", "ec2")
    settings = AwsSettings(organization=True, regions=tuple(REGIONS), endpoints={service: f"{url}/{service}" for service in services},
                           concurrency=concurrency, processes=processes)
    reader = LiveReader(settings)
    collector = AwsInventoryCollector(settings, reader, SourceKind.LIVE)
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = collector.collect(CollectContext(logger=logging.getLogger("bench")))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    calls = sum(reader.calls.values())
    ideal = calls * latency / concurrency
    return {
        "concurrency": concurrency,
        "processes": processes,
        "calls": calls,
        "wall_seconds": round(wall, 2),
        "collector_cpu_seconds": round(cpu, 2),
        "ideal_seconds": round(ideal, 2),
        "ratio": round(wall / ideal, 2),
        "regions_seen": sum(1 for scope in result.outcome.scopes_seen if scope.count("/") == 1 and scope.split("/")[1] in REGIONS),
        "gaps": len(result.outcome.scopes_not_seen),
        "assets": len(result.assets),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every call (default 0.05)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 32], help="calls in flight at once (default 16 32)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="worker processes (default 1 2)")
    options = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="bench-secret", AWS_EC2_METADATA_DISABLED="true",
                      AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(child, options.latency), daemon=True)
    server.start()
    url = parent.recv()
    try:
        for processes in options.processes:
            for concurrency in options.concurrency:
                parent.send("cpu")
                parent.recv()
                figures = run(url, concurrency, options.latency, processes)
                parent.send("cpu")
                figures["endpoint_cpu_seconds"] = parent.recv()
                print(json.dumps(figures), flush=True)
    finally:
        parent.send("stop")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
