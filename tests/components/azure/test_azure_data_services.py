"""PostgresFlexible, RedisCache, ContainerRegistry and EventHubsKafka."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.azure.databases import (
    PostgresFlexible,
    PostgresFlexibleArgs,
    RedisCache,
    RedisCacheArgs,
)
from components.azure.eventhubs import EventHubsKafka, EventHubsKafkaArgs, TenantTopics
from components.azure.registry import ContainerRegistry, ContainerRegistryArgs
from infra.synth.recording import unwrap
from tests.components.azure.azure_fixtures import (
    IDENTITY,
    LOCATION,
    PROVIDERS,
    RG,
    SUBNET,
    SUBSCRIPTION,
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

KEY_URI = f"{VAULT_URI}keys/data"
POSTGRES = PostgresFlexibleArgs(
    resource_group_name=RG,
    location=LOCATION,
    server_name="psql-mlp-test",
    subnet_id=SUBNET,
    dns_zone_id=ZONE,
    key_uri=KEY_URI,
    identity_id=IDENTITY,
    tenant_id=TENANT,
    tags=TAGS,
    databases=("mlflow", "feast_registry"),
    workspace_id=WORKSPACE,
)


@pytest.fixture(scope="module")
def postgres():
    return run_azure(lambda opts: PostgresFlexible("pg", POSTGRES, opts=opts))


def test_postgres_is_cmk_encrypted_vnet_injected_and_zone_redundant(postgres):
    assert_pinned(postgres)
    server = one(postgres, "Server")
    i = server.inputs
    assert i["dataEncryption"] == {
        "type": "AzureKeyVault",
        "primaryKeyURI": KEY_URI,
        "primaryUserAssignedIdentityId": IDENTITY,
    }
    assert i["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}}
    assert i["network"] == {
        "delegatedSubnetResourceId": SUBNET,
        "privateDnsZoneArmResourceId": ZONE,
        "publicNetworkAccess": "Disabled",
    }
    assert i["highAvailability"] == {"mode": "ZoneRedundant", "standbyAvailabilityZone": "2"}
    assert i["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Disabled"}
    assert i["authConfig"]["activeDirectoryAuth"] == "Enabled"
    assert server.options["protect"] is True


def test_postgres_requires_tls_and_creates_the_platform_databases(postgres):
    settings = {
        c.inputs["configurationName"]: c.inputs["value"] for c in of(postgres, "Configuration")
    }
    assert settings["require_secure_transport"] == "ON"
    assert settings["ssl_min_protocol_version"] == "TLSv1.2"
    databases = {d.inputs["databaseName"] for d in of(postgres, "Database")}
    assert databases == {"mlflow", "feast_registry"}
    logs = one(postgres, "DiagnosticSetting").inputs
    assert logs["workspaceId"] == WORKSPACE


def test_postgres_admin_password_never_appears_in_clear(postgres):
    server = one(postgres, "Server")
    assert server.to_json()["inputs"]["administratorLoginPassword"] == "[secret]"
    assert len(unwrap(server.inputs["administratorLoginPassword"])) == 32


def test_geo_backup_needs_a_dr_key_and_identity_together():
    geo = replace(
        POSTGRES,
        geo_backup_key_uri="https://kvdr.vault.azure.net/keys/backup",
        geo_backup_identity_id=IDENTITY + "-dr",
    )
    syn = run_azure(lambda opts: PostgresFlexible("pg", geo, opts=opts))
    i = one(syn, "Server").inputs
    assert i["backup"]["geoRedundantBackup"] == "Enabled"
    assert i["dataEncryption"]["geoBackupKeyURI"] == "https://kvdr.vault.azure.net/keys/backup"
    assert set(i["identity"]["userAssignedIdentities"]) == {IDENTITY, IDENTITY + "-dr"}
    with pytest.raises(ValueError, match="both"):
        run_azure(
            lambda opts: PostgresFlexible(
                "pg", replace(POSTGRES, geo_backup_key_uri="https://x/keys/y"), opts=opts
            )
        )
    with pytest.raises(ValueError, match="7 days"):
        run_azure(lambda opts: PostgresFlexible("pg", replace(POSTGRES, backup_days=3), opts=opts))


def test_redis_is_premium_zonal_tls_only_and_private():
    args = RedisCacheArgs(
        resource_group_name=RG,
        location=LOCATION,
        cache_name="redis-mlp-test",
        endpoint_subnet_id=SUBNET,
        dns_zone_id=ZONE,
        tags=TAGS,
    )
    syn = run_azure(lambda opts: RedisCache("redis", args, opts=opts))
    assert_pinned(syn)
    cache = one(syn, "Redis")
    i = cache.inputs
    assert i["enableNonSslPort"] is False and i["minimumTlsVersion"] == "1.2"
    assert i["publicNetworkAccess"] == "Disabled"
    assert i["sku"] == {"name": "Premium", "family": "P", "capacity": 1}
    assert i["zones"] == ["1", "2", "3"] and i["replicasPerPrimary"] == 2
    assert "rdbBackupEnabled" not in i["redisConfiguration"]  # nothing persisted at rest
    assert cache.options["protect"] is True
    endpoint = one(syn, "PrivateEndpoint").inputs
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["redisCache"]


KEY_ID = f"{PROVIDERS}/Microsoft.KeyVault/vaults/kv-test/keys/data"
REGISTRY = ContainerRegistryArgs(
    resource_group_name=RG,
    location=LOCATION,
    registry_name="mlplatformtestacr",
    key_uri=KEY_URI,
    key_id=KEY_ID,
    identity_id=IDENTITY,
    identity_client_id="11111111-1111-4111-8111-111111111111",
    subscription_id=SUBSCRIPTION,
    endpoint_subnet_id=SUBNET,
    dns_zone_id=ZONE,
    tags=TAGS,
    workspace_id=WORKSPACE,
)


def test_registry_is_premium_private_cmk_without_admin_or_export():
    syn = run_azure(lambda opts: ContainerRegistry("acr", REGISTRY, opts=opts))
    assert_pinned(syn)
    i = one(syn, "Registry").inputs
    assert i["sku"]["name"] == "Premium" and i["location"] == LOCATION
    assert i["adminUserEnabled"] is False and i["anonymousPullEnabled"] is False
    assert i["publicNetworkAccess"] == "Disabled"
    assert i["policies"]["exportPolicy"] == {"status": "disabled"}


def test_registry_reaches_the_firewalled_vault_as_a_trusted_service():
    """Microsoft: behind a Key Vault firewall the registry uses the key with its system-assigned
    identity (a trusted service); the CMK itself is created with the user-assigned one, which
    stays attached. The system principal gets the encryption role on this key only."""
    syn = run_azure(lambda opts: ContainerRegistry("acr", REGISTRY, opts=opts))
    registry = one(syn, "Registry")
    assert registry.inputs["identity"] == {
        "type": "SystemAssigned, UserAssigned",
        "userAssignedIdentities": {IDENTITY: {}},
    }
    assert registry.inputs["encryption"] == {
        "status": "enabled",
        "keyVaultProperties": {"keyIdentifier": KEY_URI, "identity": "system"},
    }
    grant = one(syn, "RoleAssignment").inputs
    assert grant["scope"] == KEY_ID
    assert grant["principalType"] == "ServicePrincipal"
    # Key Vault Crypto Service Encryption User
    assert grant["roleDefinitionId"].endswith("/e147488a-f6f5-4113-8e2d-b22465e65bf6")
    assert grant["principalId"] == registry.outputs["identity"]["principalId"]


def test_registry_is_created_with_its_user_assigned_identity():
    """ACR enables a CMK only at creation, and then only with a user-assigned identity (the
    system one does not exist yet): the bootstrap phase's registry uses that identity."""
    creation = replace(REGISTRY, key_identity="user-assigned")
    syn = run_azure(lambda opts: ContainerRegistry("acr", creation, opts=opts))
    properties = one(syn, "Registry").inputs["encryption"]["keyVaultProperties"]
    assert properties["identity"] == "11111111-1111-4111-8111-111111111111"
    assert "SystemAssigned" in one(syn, "Registry").inputs["identity"]["type"]


EVENT_HUBS = EventHubsKafkaArgs(
    resource_group_name=RG,
    location=LOCATION,
    namespace_name="evhns-mlp-test",
    key_vault_uri=VAULT_URI,
    key_name="data",
    identity_id=IDENTITY,
    endpoint_subnet_id=SUBNET,
    dns_zone_id=ZONE,
    subscription_id=SUBSCRIPTION,
    oidc_issuer="https://uaenorth.oic.prod-aks.azure.com/t/c/",
    tags=TAGS,
    tenants=(
        TenantTopics("risk", "tenant-risk", "workloads", ("transactions",)),
        TenantTopics("ops", "tenant-ops", "workloads", ("alerts", "metrics")),
    ),
    platform_topics=("platform.model-events",),
    partitions=4,
    retention_hours=72,
)


@pytest.fixture(scope="module")
def event_hubs():
    return run_azure(lambda opts: EventHubsKafka("evh", EVENT_HUBS, opts=opts))


def test_event_hubs_namespace_is_premium_kafka_cmk_private_and_entra_only(event_hubs):
    assert_pinned(event_hubs)
    ns = one(event_hubs, "Namespace")
    i = ns.inputs
    assert i["sku"]["name"] == "Premium" and i["kafkaEnabled"] is True
    assert i["disableLocalAuth"] is True and i["minimumTlsVersion"] == "1.2"
    assert i["publicNetworkAccess"] == "Disabled" and i["zoneRedundant"] is True
    assert i["encryption"]["keySource"] == "Microsoft.KeyVault"
    assert i["encryption"]["keyVaultProperties"] == [
        {
            "keyName": "data",
            "keyVaultUri": VAULT_URI,
            "identity": {"userAssignedIdentity": IDENTITY},
        }
    ]
    assert ns.options["protect"] is True
    endpoint = one(event_hubs, "PrivateEndpoint").inputs
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["namespace"]


def test_event_hubs_are_the_tenant_and_platform_topics(event_hubs):
    hubs = {h.inputs["eventHubName"]: h.inputs for h in of(event_hubs, "EventHub")}
    assert set(hubs) == {"risk.transactions", "ops.alerts", "ops.metrics", "platform.model-events"}
    for hub in hubs.values():
        assert hub["retentionDescription"] == {
            "cleanupPolicy": "Delete",
            "retentionTimeInHours": 72,
        }
        assert hub["partitionCount"] == 4  # the Args' (the config's), not a component default


def test_each_tenant_identity_reaches_only_its_own_hubs(event_hubs):
    sender, receiver = (
        "2b629674-e913-4c01-ae53-ef4638d8f975",
        "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    )
    for tenant, own in (("risk", {"risk.transactions"}), ("ops", {"ops.alerts", "ops.metrics"})):
        grants = {
            (a.inputs["scope"].rsplit("/", 1)[-1], a.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
            for a in of(event_hubs, "RoleAssignment")
            if a.name.startswith(f"evh-{tenant}-")
        }
        expected = {(h, r) for h in own for r in (sender, receiver)}
        # the platform's hubs: read, never written (only the platform writes them, issue 13)
        assert grants == expected | {("platform.model-events", receiver)}
        assert ("platform.model-events", sender) not in grants
    subjects = {f.inputs["subject"] for f in of(event_hubs, "FederatedIdentityCredential")}
    assert subjects == {
        "system:serviceaccount:tenant-risk:workloads",
        "system:serviceaccount:tenant-ops:workloads",
    }


def test_event_hubs_retention_is_bounded_by_premium():
    with pytest.raises(ValueError, match="90 days"):
        run_azure(
            lambda opts: EventHubsKafka(
                "evh", replace(EVENT_HUBS, retention_hours=24 * 91), opts=opts
            )
        )
