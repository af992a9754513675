"""The Azure foundation of uae-cloud-azure, synthesized in isolation.

What an auditor would check first: everything is pinned to uaenorth (uaecentral only for the
in-country DR copy), keys are HSM-backed and rotated, nothing is public, the cluster is private
with Entra ID, and the audit trail lands in an in-country workspace.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from ipaddress import ip_network

import pulumi
import pytest

from components import conventions as c
from components.kafka import PLATFORM_TOPICS
from infra.plan import identity_for
from infra.synth import manifests
from infra.synth.recording import Resource, Synthesis, synthesize, unwrap
from stacks.build import build_foundation
from stacks.config.errors import ConfigError
from stacks.config.loader import stack_config
from stacks.contract import cluster_facts
from stacks.targets.azure import site as azure_site

ALLOWED = {"uaenorth", "uaecentral"}
GLOBAL_TYPES = {
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:monitor:PrivateLinkScope",  # an access scope, no data
}
SENDER = "2b629674-e913-4c01-ae53-ef4638d8f975"
RECEIVER = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
PLATFORM_HUBS = set(PLATFORM_TOPICS.values())
# The sample tenant's own topics, then its ML loop's (stacks.config.ml_loop.tenant_topics)
RISK_HUBS = (
    "risk.transactions",
    "risk.scores",
    "risk.transactions.dlq",
    "risk.transactions.scored",
    "risk.transactions.labels",
    "risk.model-events",
    "risk.model-drift-events",
    "risk.model-retraining-requests",
)
MANDATORY_TAGS = {"owner", "cost-centre", "data-classification", "system", "residency", "pii"}


def _synthesize(*overrides: str) -> tuple[Synthesis, object]:
    config, flat = stack_config("uae-cloud-azure", overrides)
    holder: dict = {}

    def program() -> None:
        foundation, _ = build_foundation(config)
        holder["foundation"] = foundation
        store = foundation.object_store
        pulumi.export("artifactUri", store.artifact_uri)
        pulumi.export("offlineStoreUri", store.offline_store_uri)
        pulumi.export("saAnnotations", store.service_account_annotations)
        pulumi.export("postgresHost", foundation.postgres.host)
        pulumi.export("redisHost", foundation.redis.host)
        pulumi.export("keyRefs", foundation.key_refs)
        pulumi.export("facts", cluster_facts(foundation))
        if foundation.kafka is not None:
            pulumi.export("kafkaBootstrap", foundation.kafka.bootstrap)

    return synthesize("uae-cloud-azure", flat, program, identity_for(config)), holder["foundation"]


@pytest.fixture(scope="module")
def strimzi():
    return _synthesize()


@pytest.fixture(scope="module")
def managed():
    return _synthesize("kafka.mode=managed")


def one(syn: Synthesis, typ: str, name: str | None = None) -> Resource:
    found = [r for r in syn.of_type(typ) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in syn.of_type(typ)]
    return found[0]


@cache
def sdk_params(typ: str) -> set[str]:
    """Constructor arguments of the pulumi_azure_native class behind a type token."""
    _, module, kind = typ.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), kind)
    return set(inspect.signature(cls._internal_init).parameters)


def azure_resources(syn: Synthesis) -> list[Resource]:
    return [r for r in syn.resources if r.custom and r.type.startswith("azure-native:")]


# --------------------------------------------------------------------------- residency


def test_one_provider_pinned_to_uaenorth_and_used_by_every_azure_resource(managed):
    syn, _ = managed
    (provider,) = syn.of_type("pulumi:providers:azure-native")
    assert provider.inputs["location"] == "uaenorth"
    assert provider.inputs["subscriptionId"] == "3f2b8c1e-5a4d-4e7f-9b6a-2c1d0e9f8a7b"
    assert provider.inputs["tenantId"] == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    ref = f"{provider.urn}::{provider.id}"
    assert {r.provider for r in azure_resources(syn)} == {ref}


def test_every_located_resource_names_a_uae_location_explicitly(managed):
    syn, _ = managed
    checked = 0
    for r in azure_resources(syn):
        if "location" not in sdk_params(r.type):
            continue
        checked += 1
        expected = {"global"} if r.type in GLOBAL_TYPES else ALLOWED
        assert r.inputs.get("location") in expected, (r.type, r.name, r.inputs.get("location"))
    assert checked > 50


def test_uaecentral_only_holds_the_in_country_backup_key_and_its_identity(strimzi):
    syn, _ = strimzi
    central = sorted(
        r.name for r in azure_resources(syn) if r.inputs.get("location") == "uaecentral"
    )
    assert central == ["id-geo-backup", "kv-dr-vault"]


def test_replication_stays_in_the_uae_pair(strimzi):
    syn, _ = strimzi
    for account in syn.of_type("azure-native:storage:StorageAccount"):
        assert account.inputs["sku"]["name"] == "Standard_GZRS"  # pair uaecentral is in the UAE
    server = one(syn, "azure-native:dbforpostgresql:Server")
    assert server.inputs["backup"]["geoRedundantBackup"] == "Enabled"
    assert server.inputs["dataEncryption"]["geoBackupKeyURI"].startswith("https://kvdr-mlp-")
    assert azure_site.PAIRED_REGIONS["uaenorth"] == "uaecentral"


def test_geo_replication_needs_the_dr_location_to_be_the_azure_pair():
    config, _ = stack_config("uae-cloud-azure", ())
    assert azure_site.in_country_pair(config.azure)
    # The config refuses other combinations; the stack would still not replicate to them.
    assert not azure_site.in_country_pair(config.azure.model_copy(update={"dr_location": "x"}))


def test_every_taggable_resource_carries_the_governance_tags(managed):
    syn, _ = managed
    for r in azure_resources(syn):
        if "tags" in sdk_params(r.type):
            tags = r.inputs.get("tags") or {}
            assert set(tags) >= MANDATORY_TAGS, (r.type, r.name)
            assert tags["residency"] == "uae" and tags["dpia-ref"] == "dpia-2026-017"


# --------------------------------------------------------------------------- keys


def test_key_vault_is_premium_rbac_purge_protected_and_private(strimzi):
    syn, _ = strimzi
    for vault in syn.of_type("azure-native:keyvault:Vault"):
        p = vault.inputs["properties"]
        assert p["sku"]["name"] == "premium"
        assert p["enableRbacAuthorization"] is True and "accessPolicies" not in p
        assert p["enablePurgeProtection"] is True and p["enableSoftDelete"] is True
        assert p["softDeleteRetentionInDays"] == 90
        assert p["publicNetworkAccess"] == "Disabled"
        assert p["networkAcls"]["defaultAction"] == "Deny"
        assert vault.options["protect"] is True
    endpoints = [
        r for r in syn.of_type("azure-native:network:PrivateEndpoint") if r.name.startswith("kv")
    ]
    assert len(endpoints) == 2
    for endpoint in endpoints:
        assert endpoint.inputs["location"] == "uaenorth"  # the VNet's location, DR vault too
        assert endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]


def test_keys_are_hsm_backed_rotated_and_protected(strimzi):
    syn, _ = strimzi
    keys = {k.inputs["keyName"]: k for k in syn.of_type("azure-native:keyvault:Key")}
    assert set(keys) == {"data", "logs", "secrets", "disks", "backup"}
    for key in keys.values():
        props = key.inputs["properties"]
        assert props["kty"] == "RSA-HSM" and props["keySize"] >= 3072
        actions = {a["action"]["type"] for a in props["rotationPolicy"]["lifetimeActions"]}
        assert "rotate" in actions
        assert key.options["protect"] is True


CLUSTER_USER_ROLE = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"  # Azure Kubernetes Service Cluster User


def test_role_assignments_are_scoped_to_single_resources(managed):
    syn, _ = managed
    assignments = syn.of_type("azure-native:authorization:RoleAssignment")
    assert assignments
    for a in assignments:
        scope = a.inputs["scope"]
        assert "/providers/" in scope, (a.name, scope)  # never a subscription or resource group
        assert a.inputs["principalId"]
        if a.inputs["principalType"] == "Group":  # tenants: a kubeconfig of this cluster only
            assert a.inputs["roleDefinitionId"].endswith(CLUSTER_USER_ROLE)
            assert scope.endswith("/managedClusters/aks-mlplatform-prod")
        else:
            assert a.inputs["principalType"] == "ServicePrincipal"


def test_tenant_groups_sign_in_by_object_id_and_reach_only_their_namespace(strimzi):
    """Issue 13.6: tenant groups are Entra object IDs, each allowed a kubeconfig (Cluster User
    Role) and bound by its namespace's RoleBinding, nothing cluster-wide."""
    syn, _ = strimzi
    config, _ = stack_config("uae-cloud-azure", ())
    groups = {t.idp_group for t in config.tenants}
    users = {
        a.inputs["principalId"]
        for a in syn.of_type("azure-native:authorization:RoleAssignment")
        if a.inputs["principalType"] == "Group"
    }
    assert users == groups and all(len(g) == 36 for g in groups)


def test_cmk_identity_may_use_only_the_data_and_logs_keys(strimzi):
    syn, _ = strimzi
    scopes = sorted(
        a.inputs["scope"].rsplit("/", 1)[-1]
        for a in syn.of_type("azure-native:authorization:RoleAssignment")
        if a.name.startswith("id-cmk-")
    )
    assert scopes == ["data", "logs"]


# --------------------------------------------------------------------------- cluster


def test_aks_is_private_entra_only_with_kms_network_policy_and_workload_identity(strimzi):
    syn, _ = strimzi
    cluster = one(syn, "azure-native:containerservice:ManagedCluster").inputs
    api = cluster["apiServerAccessProfile"]
    assert api["enablePrivateCluster"] is True and api["enablePrivateClusterPublicFQDN"] is False
    assert api["enableVnetIntegration"] is True
    assert cluster["disableLocalAccounts"] is True
    aad = cluster["aadProfile"]
    assert aad["managed"] is True and aad["enableAzureRBAC"] is True
    assert aad["adminGroupObjectIDs"] == ["6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f"]
    kms = cluster["securityProfile"]["azureKeyVaultKms"]
    assert kms["enabled"] is True and kms["keyVaultNetworkAccess"] == "Private"
    assert "/keys/secrets/" in kms["keyId"]
    assert cluster["securityProfile"]["workloadIdentity"]["enabled"] is True
    assert cluster["oidcIssuerProfile"]["enabled"] is True
    net = cluster["networkProfile"]
    assert net["networkPlugin"] == "azure" and net["networkPluginMode"] == "overlay"
    assert net["networkPolicy"] == "cilium"
    assert cluster["diskEncryptionSetID"].endswith("/diskEncryptionSets/des-mlplatform-prod")
    assert cluster["kubernetesVersion"] == "1.34"
    (system,) = cluster["agentPoolProfiles"]
    assert system["mode"] == "System" and system["availabilityZones"] == ["1", "2", "3"]
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert (system["minCount"], system["maxCount"], system["vmSize"]) == (3, 6, "Standard_D8ds_v5")


def test_each_gpu_pool_is_tainted_labelled_and_autoscaled_from_config(strimzi):
    syn, _ = strimzi
    pools = {
        p.inputs["agentPoolName"]: p.inputs
        for p in syn.of_type("azure-native:containerservice:AgentPool")
    }
    # the GPU pools, and the untainted CPU user pool tenants and the Kafka brokers run on
    # (the system pool keeps CriticalAddonsOnly for AKS's add-ons and the platform's services)
    assert set(pools) == {"gputrain", "gpuinfer", "workloads"}
    workloads = pools["workloads"]
    assert workloads["mode"] == "User" and workloads["enableAutoScaling"] is True
    assert not workloads.get("nodeTaints") and "gpuProfile" not in workloads
    assert workloads["nodeLabels"] == {"mlplatform.io/node-role": "workloads"}
    assert (workloads["vmSize"], workloads["minCount"], workloads["maxCount"]) == (
        "Standard_D8ds_v5",
        2,
        10,
    )
    assert workloads["availabilityZones"] == ["1", "2", "3"]
    assert workloads["enableNodePublicIP"] is False and workloads["enableEncryptionAtHost"] is True
    train, infer = pools["gputrain"], pools["gpuinfer"]
    for pool in (train, infer):
        assert pool["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
        assert pool["mode"] == "User" and pool["enableAutoScaling"] is True
        assert pool["gpuProfile"] == {"driver": "Install"}
        assert pool["enableNodePublicIP"] is False and pool["enableEncryptionAtHost"] is True
    assert train["vmSize"] == "Standard_ND96isr_H100_v5"
    assert train["nodeLabels"] == {
        c.GPU_POOL_LABEL: "train",
        c.GPU_PRODUCT_LABEL: "nvidia-h100-80gb",
    }
    assert (train["minCount"], train["maxCount"], train["count"]) == (0, 2, 0)
    assert (infer["minCount"], infer["maxCount"], infer["count"]) == (1, 4, 1)


def test_control_plane_audit_and_activity_log_go_to_the_in_country_workspace(strimzi):
    syn, _ = strimzi
    workspace = one(syn, "azure-native:operationalinsights:Workspace")
    assert workspace.inputs["location"] == "uaenorth"
    assert workspace.inputs["retentionInDays"] == 400
    assert workspace.inputs["features"]["disableLocalAuth"] is True
    setting = one(syn, "azure-native:monitor:DiagnosticSetting", "aks-control-plane").inputs
    categories = {log["category"] for log in setting["logs"] if log["enabled"]}
    assert {"kube-audit", "kube-audit-admin", "kube-apiserver", "guard"} <= categories
    assert setting["workspaceId"].endswith("/workspaces/log-mlplatform-prod")
    activity = one(
        syn, "azure-native:monitor:SubscriptionDiagnosticSetting", "logs-activity-log"
    ).inputs
    assert activity["workspaceId"] == setting["workspaceId"]
    assert {"Administrative", "Security", "Policy"} <= {log["category"] for log in activity["logs"]}


def test_vnet_flow_logs_go_to_in_country_storage_and_traffic_analytics(strimzi):
    syn, _ = strimzi
    flow = one(syn, "azure-native:network:FlowLog").inputs
    assert flow["location"] == "uaenorth" and flow["enabled"] is True
    assert flow["targetResourceId"].endswith("/virtualNetworks/mlplatform-prod-vnet")
    assert "/storageAccounts/stlog" in flow["storageId"]
    analytics = flow["flowAnalyticsConfiguration"]["networkWatcherFlowAnalyticsConfiguration"]
    assert analytics["workspaceRegion"] == "uaenorth"


def test_nsgs_admit_nothing_from_the_internet(strimzi):
    syn, _ = strimzi
    nsgs = syn.of_type("azure-native:network:NetworkSecurityGroup")
    assert len(nsgs) == 4
    for nsg in nsgs:
        rules = nsg.inputs["securityRules"]
        assert any(
            r["direction"] == "Inbound"
            and r["access"] == "Deny"
            and r["sourceAddressPrefix"] == "Internet"
            for r in rules
        )
        assert not [
            r
            for r in rules
            if r["direction"] == "Inbound"
            and r["access"] == "Allow"
            and r.get("sourceAddressPrefix") in ("*", "Internet", "0.0.0.0/0")
        ]


# --------------------------------------------------------------------------- egress (13.3)


def test_the_nodes_leave_the_vnet_only_through_the_firewall_in_the_stack_location(strimzi):
    """Issue 13.3: AKS went out through its load balancer to the internet."""
    syn, _ = strimzi
    cluster = one(syn, "azure-native:containerservice:ManagedCluster")
    assert cluster.inputs["networkProfile"]["outboundType"] == "userDefinedRouting"
    firewall = one(syn, "azure-native:network:AzureFirewall")
    assert firewall.inputs["location"] == "uaenorth"
    assert firewall.inputs["zones"] == ["1", "2", "3"]
    # the cluster is created once the firewall forwards and its allowlist exists
    rules = one(syn, "azure-native:network:FirewallPolicyRuleCollectionGroup")
    assert {firewall.urn, rules.urn} <= set(cluster.options["dependsOn"])
    (subnet,) = [
        s.inputs
        for s in syn.of_type("azure-native:network:Subnet")
        if s.inputs["subnetName"] == "AzureFirewallSubnet"
    ]
    table = one(syn, "azure-native:network:RouteTable")
    (route,) = table.inputs["routes"]
    assert route["addressPrefix"] == "0.0.0.0/0" and route["nextHopType"] == "VirtualAppliance"
    # the first address Azure hands out in the firewall's subnet
    assert route["nextHopIpAddress"] == str(ip_network(subnet["addressPrefix"])[4])
    nodes = [
        s.inputs for s in syn.of_type("azure-native:network:Subnet") if s.inputs.get("routeTable")
    ]
    assert [n["subnetName"] for n in nodes] == ["nodes"]
    # AKS checks the route table with user-defined routing
    grants = {
        a.inputs["scope"]
        for a in syn.of_type("azure-native:authorization:RoleAssignment")
        if a.name.startswith("id-aks-network-contributor")
    }
    assert table.id in grants and "/routeTables/" in str(table.id)


def test_the_firewall_lets_out_aks_entra_id_and_the_gpu_driver_hosts_only(strimzi):
    syn, _ = strimzi
    group = one(syn, "azure-native:network:FirewallPolicyRuleCollectionGroup").inputs
    (collection,) = group["ruleCollections"]
    allowed = {
        rule["name"]: {*rule.get("fqdnTags", ()), *rule.get("targetFqdns", ())}
        for rule in collection["rules"]
    }
    assert allowed == {
        "aks-required": {"AzureKubernetesService"},
        "entra-id": {"login.microsoftonline.com"},
        "gpu-driver": {"nvidia.github.io", "us.download.nvidia.com", "download.docker.com"},
    }
    (nodes,) = [
        s.inputs["addressPrefix"]
        for s in syn.of_type("azure-native:network:Subnet")
        if s.inputs["subnetName"] == "nodes"
    ]
    assert all(rule["sourceAddresses"] == [nodes] for rule in collection["rules"])
    logs = one(syn, "azure-native:monitor:DiagnosticSetting", "egress-logs").inputs
    assert logs["workspaceId"].endswith("/workspaces/log-mlplatform-prod")


def test_without_gpu_pools_the_firewall_does_not_admit_the_driver_hosts():
    no_gpus = (
        "gpuPools=[]",
        "tenants[0].quota.gpu=0",
        "tenants[1].quota.gpu=0",
        "sampleWorkloads.gpus=0",
    )
    syn, _ = _synthesize(*no_gpus)
    group = one(syn, "azure-native:network:FirewallPolicyRuleCollectionGroup").inputs
    names = {rule["name"] for rule in group["ruleCollections"][0]["rules"]}
    assert names == {"aks-required", "entra-id"}


def test_each_subnet_denies_the_internet_outbound_after_what_it_needs(strimzi):
    """The NSGs had no outbound rules: Azure's defaults let everything out."""
    syn, _ = strimzi
    for nsg in syn.of_type("azure-native:network:NetworkSecurityGroup"):
        rules = [r for r in nsg.inputs["securityRules"] if r["direction"] == "Outbound"]
        last = max(rules, key=lambda r: r["priority"])
        assert (last["access"], last["destinationAddressPrefix"]) == ("Deny", "Internet")
        to_internet = {
            r["destinationPortRange"]
            for r in rules
            if r["access"] == "Allow" and r["destinationAddressPrefix"] in ("Internet", "*")
        }
        # only the nodes send to public addresses, on web ports, and the route takes that
        # traffic to the firewall
        is_nodes = nsg.inputs["networkSecurityGroupName"].endswith("-nodes-nsg")
        assert to_internet == ({"443", "80"} if is_nodes else set()), nsg.name


def test_pods_reach_entra_id_by_its_published_ranges_never_any_public_address(strimzi):
    """Issue 13.3: MLflow, Feast and Event Hubs tenants could reach 0.0.0.0/0:443."""
    _, foundation = strimzi
    rules = foundation.workload_identity_egress
    assert {r.cidr for r in rules} == {
        "20.20.32.0/19",
        "20.190.128.0/18",
        "20.231.128.0/19",
        "40.126.0.0/18",
    }
    for rule in rules:
        assert rule.ports == (443,) and not rule.except_cidrs
        assert ip_network(rule.cidr).is_global and ip_network(rule.cidr).prefixlen >= 18


@pytest.mark.parametrize("overrides", [(), ("kafka.mode=managed",)])
def test_no_pod_may_reach_outside_the_vnet_but_entra_id(stack_plan, overrides):
    """Issue 13.3: tenants, MLflow and Feast reached 0.0.0.0/0 on 443 on both variants."""
    plan = stack_plan("uae-cloud-azure", *overrides)
    vnet = ip_network(plan.config.azure.vnet_cidr)
    outside: dict[str, set[str]] = {}
    for r in plan.synthesis.resources:
        if not manifests.is_kubernetes_object(r):
            continue
        policy = manifests.to_object(r)
        if policy["kind"] != "NetworkPolicy":
            continue
        for rule in policy["spec"].get("egress") or []:
            assert rule.get("to"), policy["metadata"]  # an empty `to` admits every address
            for peer in rule["to"]:
                cidr = peer.get("ipBlock", {}).get("cidr")
                if cidr and not ip_network(cidr).subnet_of(vnet):
                    outside.setdefault(policy["metadata"]["namespace"], set()).add(cidr)
    entra = {"20.20.32.0/19", "20.190.128.0/18", "20.231.128.0/19", "40.126.0.0/18"}
    # MLflow, Feast and every tenant authenticate with a workload identity; nothing else
    tenants = {f"tenant-{t.name}" for t in plan.config.tenants}
    assert outside == dict.fromkeys({"mlflow", "feast", *tenants}, entra)


def test_what_leaves_the_country_is_a_declared_exception(stack_plan):
    exceptions = stack_plan("uae-cloud-azure").synthesis.outputs["stack"]["exceptions"]
    (exception,) = [e for e in exceptions if e["policy"] == "UAE-RES-005"]
    for name in ("AzureKubernetesService", "login.microsoftonline.com", "us.download.nvidia.com"):
        assert name in exception["what"]
    assert "no platform data" in exception["why"] and "network-isolated" in exception["remedy"]


# --------------------------------------------------------------------------- data stores


def test_storage_is_cmk_encrypted_private_tls12_and_keyless(strimzi):
    syn, _ = strimzi
    accounts = syn.of_type("azure-native:storage:StorageAccount")
    assert len(accounts) == 2
    for account in accounts:
        i = account.inputs
        assert i["encryption"]["keySource"] == "Microsoft.Keyvault"
        assert i["encryption"]["keyVaultProperties"]["keyVaultUri"].startswith("https://kv-mlp-")
        assert i["encryption"]["encryptionIdentity"]["encryptionUserAssignedIdentity"].endswith(
            "/id-cmk"
        )
        assert i["allowBlobPublicAccess"] is False and i["allowSharedKeyAccess"] is False
        assert i["minimumTlsVersion"] == "TLS1_2" and i["enableHttpsTrafficOnly"] is True
        assert i["publicNetworkAccess"] == "Disabled"
        assert account.options["protect"] is True
    containers = {
        b.inputs["containerName"] for b in syn.of_type("azure-native:storage:BlobContainer")
    }
    assert containers == {"mlflow", "feast-offline", "insights-activity-logs"}
    worm = one(syn, "azure-native:storage:BlobContainerImmutabilityPolicy").inputs
    assert worm["containerName"] == "insights-activity-logs"
    assert worm["immutabilityPeriodSinceCreationInDays"] == 400
    # fed: the Activity Log is archived into that account (Azure Monitor names the container)
    archives = [
        s.inputs
        for s in syn.of_type("azure-native:monitor:SubscriptionDiagnosticSetting")
        if s.inputs.get("storageAccountId")
    ]
    (archive,) = archives
    worm_account = one(
        syn, "azure-native:storage:BlobContainer", "st-insights-activity-logs"
    ).inputs["accountName"]
    assert archive["storageAccountId"].endswith(f"/storageAccounts/{worm_account}")
    assert {"Administrative", "Security", "Policy"} <= {
        log["category"] for log in archive["logs"] if log["enabled"]
    }


def test_postgres_is_cmk_private_zone_redundant_and_requires_tls(strimzi):
    syn, _ = strimzi
    server = one(syn, "azure-native:dbforpostgresql:Server")
    i = server.inputs
    assert i["dataEncryption"]["type"] == "AzureKeyVault"
    assert i["dataEncryption"]["primaryKeyURI"].endswith("/keys/data")
    assert i["network"]["publicNetworkAccess"] == "Disabled"
    assert i["network"]["delegatedSubnetResourceId"].endswith("/subnets/postgres")
    assert i["highAvailability"]["mode"] == "ZoneRedundant"
    assert i["backup"]["backupRetentionDays"] >= 7
    assert i["authConfig"]["activeDirectoryAuth"] == "Enabled"
    assert server.options["protect"] is True
    settings = {
        r.inputs["configurationName"]: r.inputs["value"]
        for r in syn.of_type("azure-native:dbforpostgresql:Configuration")
    }
    assert settings["require_secure_transport"] == "ON"
    assert settings["ssl_min_protocol_version"] == "TLSv1.2"
    databases = {
        d.inputs["databaseName"] for d in syn.of_type("azure-native:dbforpostgresql:Database")
    }
    assert databases == {"mlflow", "feast_registry"}


def test_postgres_password_is_generated_and_secret(strimzi):
    syn, _ = strimzi
    server = one(syn, "azure-native:dbforpostgresql:Server")
    assert len(unwrap(server.inputs["administratorLoginPassword"])) == 32
    assert server.to_json()["inputs"]["administratorLoginPassword"] == "[secret]"


def test_redis_accepts_only_tls_and_only_privately(strimzi):
    syn, _ = strimzi
    redis = one(syn, "azure-native:redis:Redis").inputs
    assert redis["enableNonSslPort"] is False and redis["minimumTlsVersion"] == "1.2"
    assert redis["publicNetworkAccess"] == "Disabled"
    assert redis["sku"]["name"] == "Premium" and redis["zones"] == ["1", "2", "3"]


def test_registry_is_the_configured_acr_private_cmk_and_pulled_by_kubelet(strimzi):
    syn, _ = strimzi
    acr = one(syn, "azure-native:containerregistry:Registry").inputs
    assert acr["registryName"] == "mlplatformprodacr" and acr["location"] == "uaenorth"
    assert acr["adminUserEnabled"] is False and acr["publicNetworkAccess"] == "Disabled"
    assert acr["encryption"]["status"] == "enabled"
    assert acr["policies"]["exportPolicy"]["status"] == "disabled"
    pull = [
        a
        for a in syn.of_type("azure-native:authorization:RoleAssignment")
        if a.name.startswith("id-kubelet-")
    ]
    assert len(pull) == 1 and pull[0].inputs["roleDefinitionId"].endswith(
        "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    )
    assert pull[0].inputs["scope"].endswith("/registries/mlplatformprodacr")


def test_strimzi_variant_has_no_event_hubs(strimzi):
    syn, foundation = strimzi
    assert foundation.kafka is None
    assert not syn.of_type("azure-native:eventhub:Namespace")


def test_managed_kafka_is_event_hubs_premium_cmk_private_and_entra_only(managed):
    syn, foundation = managed
    ns = one(syn, "azure-native:eventhub:Namespace").inputs
    assert ns["sku"]["name"] == "Premium" and ns["kafkaEnabled"] is True
    assert ns["disableLocalAuth"] is True and ns["minimumTlsVersion"] == "1.2"
    assert ns["publicNetworkAccess"] == "Disabled"
    assert ns["encryption"]["keySource"] == "Microsoft.KeyVault"
    assert ns["encryption"]["keyVaultProperties"][0]["keyName"] == "data"
    hubs = {h.inputs["eventHubName"] for h in syn.of_type("azure-native:eventhub:EventHub")}
    assert hubs == {*RISK_HUBS, "marketing.campaign-events"} | PLATFORM_HUBS
    assert foundation.kafka.kind == "event-hubs"
    assert foundation.kafka.security_protocol == "SASL_SSL"
    assert foundation.kafka.sasl_mechanism == "OAUTHBEARER"
    assert syn.outputs["kafkaBootstrap"] == "evhns-mlp-prod-2cd997.servicebus.windows.net:9093"


def test_each_tenant_may_use_only_its_own_event_hubs(managed):
    syn, _ = managed
    for tenant, own in (
        ("risk", set(RISK_HUBS)),
        ("marketing", {"marketing.campaign-events"}),
    ):
        grants: dict[str, set[str]] = {}
        for a in syn.of_type("azure-native:authorization:RoleAssignment"):
            if a.name.startswith(f"evh-{tenant}-"):
                hub = a.inputs["scope"].rsplit("/", 1)[-1]
                role = a.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
                grants.setdefault(hub, set()).add(role)
        assert set(grants) == own | PLATFORM_HUBS
        for hub in own:
            assert grants[hub] == {SENDER, RECEIVER}
        for hub in PLATFORM_HUBS:
            assert grants[hub] == {RECEIVER}  # read-only, like the Strimzi ACLs (issue 13)
        credentials = [
            f
            for f in syn.of_type("azure-native:managedidentity:FederatedIdentityCredential")
            if f.name.startswith(f"evh-{tenant}-")
        ]
        # the sample tenant's retraining controller and stream scaler read Kafka as the tenant
        loop = ["workloads", "retraining-controller", "stream-scaler"]
        accounts = loop if tenant == "risk" else ["workloads"]
        assert sorted(f.inputs["subject"] for f in credentials) == sorted(
            f"system:serviceaccount:tenant-{tenant}:{account}" for account in accounts
        )
        for credential in credentials:
            issuer = credential.inputs["issuer"]
            assert issuer.startswith("https://uaenorth.oic.prod-aks.azure.com/")
    facts = syn.outputs["facts"]
    assert facts["kafka_tenant_topics"]["risk"] == list(RISK_HUBS)
    annotations = facts["kafka_tenant_service_account_annotations"]["risk"]
    assert annotations["azure.workload.identity/client-id"]
    assert facts["kafka_egress"] == {"cidr": "10.50.16.0/24", "port": 9093}


def test_core_services_get_an_event_hubs_grant_reporting_the_tenant_access(managed):
    from stacks.composition.kafka import ManagedKafkaGrant

    _, foundation = managed
    config, _ = stack_config("uae-cloud-azure", ("kafka.mode=managed",))
    assert foundation.kafka is not None
    access = ManagedKafkaGrant(foundation.kafka).grant(config.tenant("marketing"), None)
    assert access.topics == ["marketing.campaign-events"]
    assert access.credentials_secret is None  # workload identity, nothing in the namespace


# --------------------------------------------------------------------------- foundation


def test_foundation_points_the_platform_at_the_azure_stores(strimzi):
    syn, foundation = strimzi
    out = unwrap(syn.outputs)
    assert foundation.platform == "azure" and foundation.location == "uaenorth"
    assert out["artifactUri"] == "wasbs://mlflow@stmlpprod2cd997.blob.core.windows.net/artifacts"
    assert (
        out["offlineStoreUri"]
        == "abfss://feast-offline@stmlpprod2cd997.dfs.core.windows.net/offline"
    )
    assert (
        foundation.object_store.kind == "azure-blob" and foundation.object_store.credentials is None
    )
    for sa in (c.SA_MLFLOW, c.SA_FEAST):
        assert out["saAnnotations"][sa]["azure.workload.identity/client-id"]
    assert out["postgresHost"] == "psql-mlp-prod-2cd997.postgres.database.azure.com"
    assert foundation.postgres.port == 5432 and foundation.postgres.ssl_mode == "verify-full"
    assert out["redisHost"] == "redis-mlp-prod-2cd997.redis.cache.windows.net"
    assert foundation.redis.port == 6380 and foundation.redis.tls is True
    assert set(out["keyRefs"]) == {"data", "logs", "secrets", "disks"}
    assert foundation.gpu_driver_preinstalled is True
    assert [(p.name, p.capacity) for p in foundation.gpu_pools] == [("train", 16), ("infer", 16)]
    assert foundation.storage_class == "managed-csi-cmk"


def test_storage_identities_are_federated_with_their_service_accounts_only(strimzi):
    syn, _ = strimzi
    subjects = {
        f.inputs["subject"]
        for f in syn.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    }
    assert subjects == {
        f"system:serviceaccount:{c.NS_MLFLOW}:{c.SA_MLFLOW}",
        f"system:serviceaccount:{c.NS_FEAST}:{c.SA_FEAST}",
    }
    for sa, container in ((c.SA_MLFLOW, "mlflow"), (c.SA_FEAST, "feast-offline")):
        (grant,) = [
            a
            for a in syn.of_type("azure-native:authorization:RoleAssignment")
            if a.name.startswith(f"id-{sa}-")
        ]
        assert grant.inputs["scope"].endswith(f"/blobServices/default/containers/{container}")


def test_kubernetes_provider_uses_kubelogin_and_storage_class_uses_the_des(strimzi):
    syn, _ = strimzi
    (provider,) = syn.of_type("pulumi:providers:kubernetes")
    kubeconfig = unwrap(provider.inputs["kubeconfig"])
    assert "command: kubelogin" in kubeconfig and "--login" in kubeconfig
    assert "azurecli" in kubeconfig and "devicecode" not in kubeconfig
    assert provider.to_json()["inputs"]["kubeconfig"] == "[secret]"
    sc = one(syn, "kubernetes:storage.k8s.io/v1:StorageClass")
    params = sc.inputs["parameters"]
    assert params["diskEncryptionSetID"].endswith("/diskEncryptionSets/des-mlplatform-prod")
    assert params["skuName"] == "Premium_ZRS" and sc.inputs["reclaimPolicy"] == "Retain"
    assert sc.provider.startswith(provider.urn)


def test_ephemeral_stacks_drop_protect():
    syn, _ = _synthesize("ephemeral=true")
    protected = [r.name for r in azure_resources(syn) if r.options["protect"]]
    assert protected == []


def test_retention_beyond_log_analytics_limit_is_refused():
    """Refused by validation, naming the key (it used to raise inside the program)."""
    with pytest.raises(ConfigError) as refused:
        _synthesize("logging.retentionDays=1000")
    (problem,) = refused.value.problems
    assert problem.key == "logging.retentionDays" and "730" in problem.message


# --------------------------------------------------------------------------- whole stack


def test_whole_azure_stack_runs_on_the_aks_cluster(stack_plan):
    synthesis = stack_plan("uae-cloud-azure").synthesis
    (aks,) = synthesis.of_type("pulumi:providers:kubernetes")
    kube = [r for r in synthesis.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider and r.provider.startswith(aks.urn) for r in kube)
    assert synthesis.of_type("kubernetes:kafka.strimzi.io/v1:Kafka")  # Strimzi on AKS
    assert not synthesis.of_type("azure-native:eventhub:Namespace")
    assert not [r for r in synthesis.resources if r.type.startswith("aws:")]
    for r in azure_resources(synthesis):
        if "location" in sdk_params(r.type):
            assert r.inputs["location"] in ALLOWED | {"global"}, (r.type, r.name)


def test_event_hubs_reach_the_tenant_contract_without_strimzi(stack_plan):
    synthesis = stack_plan("uae-cloud-azure", "kafka.mode=managed").synthesis
    assert not [r for r in synthesis.resources if "strimzi" in r.type]
    kafka = unwrap(synthesis.outputs)["tenants"]["risk"]["kafka"]
    assert kafka["bootstrap"] == "evhns-mlp-prod-2cd997.servicebus.windows.net:9093"
    assert kafka["saslMechanism"] == "OAUTHBEARER" and kafka["securityProtocol"] == "SASL_SSL"
    assert kafka["topics"] == list(RISK_HUBS)
    assert kafka.get("credentialsSecret") is None  # workload identity, nothing in the namespace
    assert kafka["principal"]  # the tenant identity's principal ID


@pytest.mark.parametrize("overrides", [(), ("kafka.mode=managed",)])
def test_policy_pack_finds_nothing_mandatory_on_the_azure_foundation(stack_plan, overrides):
    from infra.plan import evaluate_policies

    report = evaluate_policies(stack_plan("uae-cloud-azure", *overrides))
    azure_findings = [
        (f.policy_id, f.resource_name, f.message)
        for f in report.findings
        if f.resource_type.startswith("azure-native:")
        or f.resource_type.startswith("pulumi:providers")
    ]
    assert azure_findings == []


def test_redis_without_a_customer_key_is_a_declared_exception(stack_plan):
    """Issue 13.8: Azure Cache for Redis had no CMK and no declared exception."""
    exceptions = stack_plan("uae-cloud-azure").synthesis.outputs["stack"]["exceptions"]
    (exception,) = [e for e in exceptions if "Azure Cache for Redis" in e["what"]]
    assert exception["policy"] == "UAE-KEY-001" and "no customer-managed key" in exception["why"]
    assert "Azure Managed Redis" in exception["remedy"]


def test_log_analytics_is_queried_only_through_its_private_link_scope(strimzi):
    """Issue 13.8: the workspace's query endpoint was public."""
    syn, _ = strimzi
    workspace = one(syn, "azure-native:operationalinsights:Workspace").inputs
    assert workspace["publicNetworkAccessForQuery"] == "Disabled"
    scope = one(syn, "azure-native:monitor:PrivateLinkScope").inputs
    assert scope["accessModeSettings"]["queryAccessMode"] == "PrivateOnly"
    scoped = one(syn, "azure-native:monitor:PrivateLinkScopedResource").inputs
    assert scoped["linkedResourceId"].endswith("/workspaces/log-mlplatform-prod")
    endpoints = syn.of_type("azure-native:network:PrivateEndpoint")
    monitor = [
        e.inputs
        for e in endpoints
        if e.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["azuremonitor"]
    ]
    assert len(monitor) == 1 and monitor[0]["location"] == "uaenorth"


def test_log_analytics_without_a_customer_key_is_a_declared_exception(stack_plan):
    exceptions = stack_plan("uae-cloud-azure").synthesis.outputs["stack"]["exceptions"]
    (exception,) = [e for e in exceptions if e["policy"] == "UAE-LOG-003"]
    assert "Microsoft-managed keys" in exception["what"] and "dedicated cluster" in exception["why"]
    assert exception["control"] == "8.24"
