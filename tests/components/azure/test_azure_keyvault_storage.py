"""KeyVault (Premium, RBAC, private, rotated HSM keys) and StorageAccount (CMK, private, WORM)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.azure.keyvault import KeyVault, KeyVaultArgs
from components.azure.storage import StorageAccount, StorageAccountArgs
from tests.components.azure.azure_fixtures import (
    IDENTITY,
    LOCATION,
    RG,
    SUBNET,
    TAGS,
    TENANT,
    VAULT_URI,
    WORKSPACE,
    ZONE,
    assert_pinned,
    of,
    one,
    run_azure,
)

VAULT = KeyVaultArgs(
    resource_group_name=RG,
    location=LOCATION,
    vault_name="kv-mlp-test-abc123",
    tenant_id=TENANT,
    keys=("data", "secrets"),
    endpoint_subnet_id=SUBNET,
    dns_zone_id=ZONE,
    workspace_id=WORKSPACE,
    tags=TAGS,
)
STORAGE = StorageAccountArgs(
    resource_group_name=RG,
    location=LOCATION,
    account_name="stmlptestabc123",
    key_vault_uri=VAULT_URI,
    key_name="data",
    identity_id=IDENTITY,
    endpoint_subnet_id=SUBNET,
    dns_zone_ids={"blob": ZONE, "dfs": ZONE},
    tags=TAGS,
    containers=("mlflow", "audit"),
    immutable_days={"audit": 400},
)


@pytest.fixture(scope="module")
def vault():
    return run_azure(lambda opts: KeyVault("kv", VAULT, opts=opts))


def test_vault_is_premium_rbac_only_purge_protected_and_closed(vault):
    assert_pinned(vault)
    v = one(vault, "Vault")
    p = v.inputs["properties"]
    assert p["sku"] == {"family": "A", "name": "premium"}
    assert p["enableRbacAuthorization"] is True and "accessPolicies" not in p
    assert (p["enableSoftDelete"], p["softDeleteRetentionInDays"]) == (True, 90)
    assert p["enablePurgeProtection"] is True
    assert p["publicNetworkAccess"] == "Disabled"
    assert p["networkAcls"]["defaultAction"] == "Deny"
    assert p["networkAcls"]["bypass"] == "AzureServices"  # CMK users are trusted services
    assert v.inputs["location"] == LOCATION and v.options["protect"] is True


def test_keys_are_rsa_hsm_with_a_rotation_policy(vault):
    keys = {k.inputs["keyName"]: k for k in of(vault, "Key")}
    assert set(keys) == {"data", "secrets"}
    for key in keys.values():
        props = key.inputs["properties"]
        assert props["kty"] == "RSA-HSM" and props["keySize"] == 3072
        assert props["attributes"]["exportable"] is False
        assert set(props["keyOps"]) == {"encrypt", "decrypt", "wrapKey", "unwrapKey"}
        policy = props["rotationPolicy"]
        assert policy["attributes"]["expiryTime"] == "P1Y"
        assert {
            "trigger": {"timeAfterCreate": "P180D"},
            "action": {"type": "rotate"},
        } in policy["lifetimeActions"]
        assert key.options["protect"] is True


def test_vault_is_reached_privately_and_audited_in_country(vault):
    endpoint = one(vault, "PrivateEndpoint").inputs
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]
    audit = one(vault, "DiagnosticSetting").inputs
    assert audit["workspaceId"] == WORKSPACE
    assert audit["logs"] == [{"categoryGroup": "audit", "enabled": True}]


def test_dr_vault_lives_in_uaecentral_behind_an_endpoint_in_the_vnet():
    dr = replace(VAULT, location="uaecentral", endpoint_location=LOCATION, keys=("backup",))
    syn = run_azure(lambda opts: KeyVault("kv-dr", dr, opts=opts))
    assert one(syn, "Vault").inputs["location"] == "uaecentral"
    assert one(syn, "PrivateEndpoint").inputs["location"] == LOCATION


def test_ephemeral_vaults_are_not_protected():
    syn = run_azure(lambda opts: KeyVault("kv", replace(VAULT, protect=False), opts=opts))
    assert not [r.name for r in syn.resources if r.options.get("protect")]


@pytest.fixture(scope="module")
def storage():
    return run_azure(lambda opts: StorageAccount("st", STORAGE, opts=opts))


def test_storage_encrypts_with_the_cmk_through_the_identity(storage):
    assert_pinned(storage)
    account = one(storage, "StorageAccount")
    i = account.inputs
    enc = i["encryption"]
    assert enc["keySource"] == "Microsoft.Keyvault"
    assert enc["keyVaultProperties"] == {"keyVaultUri": VAULT_URI, "keyName": "data"}
    assert enc["encryptionIdentity"]["encryptionUserAssignedIdentity"] == IDENTITY
    assert enc["requireInfrastructureEncryption"] is True
    assert i["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]}
    assert account.options["protect"] is True


def test_storage_is_private_tls12_and_refuses_keys_and_public_blobs(storage):
    i = one(storage, "StorageAccount").inputs
    assert i["kind"] == "StorageV2" and i["sku"]["name"] == "Standard_ZRS"
    assert i["allowBlobPublicAccess"] is False and i["allowSharedKeyAccess"] is False
    assert i["minimumTlsVersion"] == "TLS1_2" and i["enableHttpsTrafficOnly"] is True
    assert i["publicNetworkAccess"] == "Disabled"
    assert i["networkRuleSet"]["defaultAction"] == "Deny"
    groups = sorted(
        e.inputs["privateLinkServiceConnections"][0]["groupIds"][0]
        for e in of(storage, "PrivateEndpoint")
    )
    assert groups == ["blob", "dfs"]


def test_only_the_audit_container_is_write_once(storage):
    containers = {c.inputs["containerName"]: c.inputs for c in of(storage, "BlobContainer")}
    assert set(containers) == {"mlflow", "audit"}
    assert {c["publicAccess"] for c in containers.values()} == {"None"}
    worm = one(storage, "BlobContainerImmutabilityPolicy").inputs
    assert worm["containerName"] == "audit"
    assert worm["immutabilityPeriodSinceCreationInDays"] == 400
    service = one(storage, "BlobServiceProperties").inputs
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 30}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sku": "Standard_GRS"}, "sku"),  # the plain pair copy is refused: only ZRS/GZRS
        ({"sku": "Standard_LRS"}, "sku"),
        ({"account_name": "Has-Dashes"}, "3-24"),
        ({"immutable_days": {"nope": 1}}, "unknown containers"),
    ],
)
def test_storage_refuses_unsafe_or_invalid_args(change, message):
    with pytest.raises(ValueError, match=message):
        run_azure(lambda opts: StorageAccount("st", replace(STORAGE, **change), opts=opts))
