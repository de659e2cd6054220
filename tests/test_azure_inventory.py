"""Parsing ARM responses into the Azure inventory and its assets, from real recorded responses and
the test snapshot, and the `sources.azure` config settings."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from collectors.azure import build_collectors
from collectors.azure.arm import SnapshotArm
from collectors.azure.assets import build_assets
from collectors.azure.catalogue import load_catalogue
from collectors.azure.inventory import read_inventory
from collectors.contract import CollectContext
from scanner.config import Policy, parse_config
from scanner.errors import ConfigError

DATA = Path(__file__).parent / "data" / "azure"
SNAPSHOT = DATA / "snapshot"
REFERENCE = DATA / "reference"
S1 = "11111111-2222-4333-8444-555555555555"
S3 = "33333333-4444-4555-8666-777777777777"
CHAT = f"/subscriptions/{S1}/resourcegroups/rg-chat/providers/microsoft.cognitiveservices/accounts/chat-aoai"
FOUNDRY = f"/subscriptions/{S1}/resourcegroups/rg-foundry/providers/microsoft.cognitiveservices/accounts/foundry-hub"
LOG = logging.getLogger("test.azure.inventory")
POLICY = Policy(owner_tags=("team", "owner"))


def _snapshot_with(tmp_path: Path, subscription: str, accounts: dict, deployments: dict[str, dict]) -> Path:
    folder = tmp_path / "snapshot"
    (folder / "subscriptions" / subscription / "deployments").mkdir(parents=True)
    (folder / "subscriptions" / subscription / "accounts.json").write_text(json.dumps(accounts))
    for relative, body in deployments.items():
        target = folder / "subscriptions" / subscription / "deployments" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(body))
    return folder


def _inventory(folder: Path = SNAPSHOT):
    return read_inventory(SnapshotArm(folder), load_catalogue(), LOG)


def test_real_recorded_deployment_list_is_parsed(tmp_path):
    account = {
        "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/clitest.rg000001/providers/Microsoft.CognitiveServices/accounts/cs_cli_test_000002",
        "name": "cs_cli_test_000002",
        "type": "Microsoft.CognitiveServices/accounts",
        "kind": "OpenAI",
        "location": "eastus",
        "sku": {"name": "S0"},
        "properties": {"endpoint": "https://eastus.api.cognitive.microsoft.com/"},
    }
    recording = json.loads((REFERENCE / "azurecli_recording_openai_deployments_list.json").read_text())
    folder = _snapshot_with(
        tmp_path, "00000000-0000-0000-0000-000000000000", {"value": [account]}, {"clitest.rg000001/cs_cli_test_000002.json": recording}
    )

    deployment = _inventory(folder).accounts[0].deployments[0]

    assert deployment.name == "dpy"
    assert deployment.sku == "Standard"
    assert deployment.capacity == 1
    assert deployment.model == "gpt-35-turbo"
    assert deployment.model_version == "0125"
    assert deployment.provisioned is False


def test_spec_example_deployment_list_is_parsed(tmp_path):
    example = json.loads((REFERENCE / "spec_2024-10-01_ListDeployments.json").read_text())["responses"]["200"]["body"]
    account = {"id": "/subscriptions/subscriptionId/resourceGroups/resourceGroupName/providers/Microsoft.CognitiveServices/accounts/accountName", "kind": "AIServices", "name": "accountName"}
    folder = _snapshot_with(tmp_path, "subscriptionid", {"value": [account]}, {"resourcegroupname/accountname.json": example})

    deployments = _inventory(folder).accounts[0].deployments

    assert [(d.name, d.model, d.sku) for d in deployments] == [("deploymentName", "ada", "Standard")]


def test_other_account_kinds_are_left_out(tmp_path):
    example = json.loads((REFERENCE / "spec_2025-06-01_ListAccountsBySubscription.json").read_text())["responses"]["200"]["body"]
    folder = _snapshot_with(tmp_path, "00000000-1111-2222-3333-444444444444", example, {})

    inventory = _inventory(folder)

    assert inventory.accounts == []
    assert inventory.scopes_seen == ["/subscriptions/00000000-1111-2222-3333-444444444444"]


def test_both_ai_account_kinds_are_read():
    kinds = {account.name: account.kind for account in _inventory().accounts}

    assert kinds == {"chat-aoai": "OpenAI", "foundry-hub": "AIServices", "shared-aoai": "OpenAI"}


@pytest.mark.parametrize(
    ("deployment", "sku", "provisioned", "scope"),
    [
        ("gpt35", "Standard", False, "regional"),
        ("gpt4o-global", "GlobalStandard", False, "global"),
        ("gpt4o-eu", "DataZoneStandard", False, "data_zone"),
        ("gpt4o-batch", "GlobalBatch", False, "global"),
        ("gpt4o-ptu", "ProvisionedManaged", True, "regional"),
        ("gpt41-gptu", "GlobalProvisionedManaged", True, "global"),
        ("gpt4o-dzptu", "DataZoneProvisionedManaged", True, "data_zone"),
        ("mini-dz-batch", "DataZoneBatch", False, "data_zone"),
    ],
)
def test_every_deployment_sku_family_is_classified(deployment, sku, provisioned, scope):
    found = {d.name: d for account in _inventory().accounts for d in account.deployments}[deployment]

    assert found.sku == sku
    assert found.provisioned is provisioned
    assert found.routing_scope == scope


def test_unknown_sku_is_kept_and_not_provisioned(tmp_path):
    account = {"id": f"/subscriptions/{S1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a", "kind": "OpenAI", "name": "a"}
    deployment = {"id": account["id"] + "/deployments/d", "name": "d", "sku": {"name": "FutureTier", "capacity": 5}, "properties": {"model": {"name": "gpt-5"}}}
    folder = _snapshot_with(tmp_path, S1, {"value": [account]}, {"rg/a.json": {"value": [deployment]}})

    found = _inventory(folder).accounts[0].deployments[0]

    assert (found.sku, found.provisioned, found.routing_scope) == ("FutureTier", False, None)


def test_cli_list_output_is_read(tmp_path):
    account = {"id": f"/subscriptions/{S1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a", "kind": "AIServices", "name": "a"}
    folder = _snapshot_with(tmp_path, S1, [account], {"rg/a.json": []})

    assert [a.name for a in _inventory(folder).accounts] == ["a"]


def test_missing_deployments_is_account_gap(tmp_path):
    account = {"id": f"/subscriptions/{S1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a", "kind": "OpenAI", "name": "a"}
    folder = _snapshot_with(tmp_path, S1, {"value": [account]}, {})

    inventory = _inventory(folder)

    assert [gap.scope for gap in inventory.gaps] == [account["id"].lower()]
    assert inventory.gaps[0].reason.startswith("cannot list deployments: NotInSnapshot; record the snapshot again")


def test_invalid_snapshot_file_is_named(tmp_path):
    folder = _snapshot_with(tmp_path, S1, {"value": []}, {})
    (folder / "subscriptions.json").write_text(json.dumps({"value": [{"subscriptionId": S1, "state": "Enabled"}]}))
    accounts = folder / "subscriptions" / S1 / "accounts.json"
    accounts.write_text("<html>Sign in</html>")

    inventory = _inventory(folder)

    assert [gap.reason for gap in inventory.gaps] == [
        f"cannot list Cognitive Services accounts: {accounts} is not valid JSON (Expecting value at line 1, column 1); "
        "fix the file or record the snapshot again with shadowmap snapshot --only azure"
    ]


def test_invalid_subscription_list_is_named(tmp_path):
    folder = _snapshot_with(tmp_path, S1, {"value": []}, {})
    (folder / "subscriptions.json").write_text('{"value": [')

    inventory = _inventory(folder)

    assert inventory.errors == [
        f"cannot list subscriptions: {folder / 'subscriptions.json'} is not valid JSON (Expecting value at line 1, column 12); "
        "fix the file or record the snapshot again with shadowmap snapshot --only azure"
    ]


def test_account_owner_comes_from_its_tag():
    assets = {a.id: a for a in build_assets(_inventory(), POLICY, False, set())}

    assert assets[CHAT].attributes["owner"] == "chat"
    assert assets[CHAT].attributes["owner_via"] == "tag:team"
    assert assets[CHAT + "/deployments/gpt35"].attributes["owner_via"] == "account_tag:team"


def test_resource_group_owner_counts_only_with_tag_inheritance():
    without = {a.id: a for a in build_assets(_inventory(), POLICY, False, set())}
    with_inheritance = {a.id: a for a in build_assets(_inventory(), POLICY, True, set())}

    assert "owner" not in without[FOUNDRY].attributes
    assert with_inheritance[FOUNDRY].attributes["owner"] == "research"
    assert with_inheritance[FOUNDRY].attributes["owner_via"] == "resource_group_tag:team"


def test_asset_ids_are_lower_case_arm_ids():
    ids = [a.id for a in build_assets(_inventory(), POLICY, False, set())]

    assert all(asset_id == asset_id.lower() for asset_id in ids)
    assert FOUNDRY + "/deployments/gpt41-gptu" in ids


def _config(tmp_path: Path, body: str):
    return parse_config(f"version: 1\nsources:\n  azure:\n{body}", tmp_path / "audit.yaml")


def test_config_without_azure_builds_no_collector(tmp_path):
    config = parse_config("version: 1\n", tmp_path / "audit.yaml")

    assert build_collectors(config) == []


def test_config_rejects_snapshot_and_live_together(tmp_path):
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, f"    snapshot: {SNAPSHOT}\n    live: {{}}\n")

    assert "sources.azure" in str(raised.value)


def test_config_names_an_unknown_key_with_its_line(tmp_path):
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, "    live:\n      subscription: abc\n")

    assert "line 5: unknown key 'sources.azure.live.subscription'" in str(raised.value)


def test_config_rejects_a_malformed_subscription_id(tmp_path):
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, "    live:\n      subscriptions: [prod]\n")

    assert "prod is not valid here: expected a subscription ID such as" in str(raised.value)


def test_missing_snapshot_folder_fails(tmp_path):
    from scanner.errors import InputError

    collector = build_collectors(_config(tmp_path, "    snapshot: nowhere\n"))[0]

    with pytest.raises(InputError) as raised:
        collector.collect(CollectContext(logger=LOG))

    assert str(raised.value) == (
        f"azure: snapshot folder {tmp_path / 'nowhere'} not found; record one with shadowmap snapshot or fix sources.azure.snapshot"
    )


def test_snapshot_without_subscription_list(tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(SNAPSHOT, folder)
    (folder / "subscriptions.json").unlink()

    inventory = _inventory(folder)

    assert sorted(a.name for a in inventory.accounts) == ["chat-aoai", "foundry-hub", "shared-aoai"]
    assert len(inventory.gaps) == 1


def test_az_account_list_output_names_the_subscriptions(tmp_path):
    folder = tmp_path / "snapshot"
    folder.mkdir()
    (folder / "subscriptions.json").write_text(json.dumps([
        {"cloudName": "AzureCloud", "id": S1, "isDefault": True, "name": "prod-ai", "state": "Enabled", "tenantId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"},
        {"cloudName": "AzureCloud", "id": S3, "isDefault": False, "name": "old", "state": "Disabled", "tenantId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"},
    ]))

    inventory = _inventory(folder)

    assert inventory.subscriptions == {S1: "prod-ai"}


def test_unconfigured_workload_identity_is_an_input_error(monkeypatch):
    from collectors.azure.collector import make_credential
    from scanner.errors import InputError

    for variable in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(variable, raising=False)

    with pytest.raises(InputError) as raised:
        make_credential({"credential": "workload_identity"})

    assert str(raised.value).startswith("sources.azure.live.credential workload_identity: WorkloadIdentityCredential authentication unavailable.")
