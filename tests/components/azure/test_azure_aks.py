"""AksCluster and DiskEncryptionSet: private, Entra-only, KMS, tainted GPU pools, audited."""

from __future__ import annotations

import base64

import pulumi_kubernetes as k8s
import pytest
import yaml

from components import conventions as c
from components.azure.aks import (
    AKS_AAD_SERVER_APP_ID,
    AksCluster,
    AksClusterArgs,
    DiskEncryptionSet,
    DiskEncryptionSetArgs,
    KubeletIdentity,
    NodePool,
    kubelogin_kubeconfig,
)
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
    WORKSPACE,
    assert_pinned,
    of,
    one,
    run_azure,
)

VAULT_ID = f"{PROVIDERS}/Microsoft.KeyVault/vaults/kv-test"
DES_ID = f"{PROVIDERS}/Microsoft.Compute/diskEncryptionSets/des-test"
GPU = NodePool(
    name="gputrain",
    vm_size="Standard_ND96isr_H100_v5",
    min_count=0,
    max_count=2,
    labels={c.GPU_POOL_LABEL: "train", c.GPU_PRODUCT_LABEL: "nvidia-h100-80gb"},
    taints=("nvidia.com/gpu=present:NoSchedule",),
    os_sku="Ubuntu",
    gpu=True,
)
ARGS = AksClusterArgs(
    resource_group_name=RG,
    location=LOCATION,
    cluster_name="aks-test",
    kubernetes_version="1.34",
    tenant_id=TENANT,
    admin_group_object_ids=("6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f",),
    cluster_identity_id=IDENTITY,
    kubelet_identity=KubeletIdentity(IDENTITY + "-kubelet", "client", "object"),
    node_subnet_id=SUBNET,
    apiserver_subnet_id=SUBNET + "-api",
    kms_key_id="https://kv-test.vault.azure.net/keys/secrets/0123456789abcdef",
    kms_vault_id=VAULT_ID,
    disk_encryption_set_id=DES_ID,
    system_pool=NodePool(
        name="system",
        vm_size="Standard_D8ds_v5",
        min_count=3,
        max_count=6,
        taints=("CriticalAddonsOnly=true:NoSchedule",),
    ),
    gpu_pools=(GPU,),
    workspace_id=WORKSPACE,
    tags=TAGS,
)


@pytest.fixture(scope="module")
def aks():
    return run_azure(lambda opts: AksCluster("aks", ARGS, opts=opts))


def test_control_plane_is_private_and_entra_only(aks):
    assert_pinned(aks)
    i = one(aks, "ManagedCluster").inputs
    api = i["apiServerAccessProfile"]
    assert api["enablePrivateCluster"] is True
    assert api["enablePrivateClusterPublicFQDN"] is False
    assert api["enableVnetIntegration"] is True and api["subnetId"] == SUBNET + "-api"
    assert api["disableRunCommand"] is True
    assert i["disableLocalAccounts"] is True and i["enableRBAC"] is True
    assert i["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "tenantID": TENANT,
        "adminGroupObjectIDs": ["6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f"],
    }
    assert i["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]}
    assert i["identityProfile"]["kubeletidentity"]["resourceId"] == IDENTITY + "-kubelet"


def test_secrets_disks_and_network_are_protected(aks):
    i = one(aks, "ManagedCluster").inputs
    assert i["securityProfile"]["azureKeyVaultKms"] == {
        "enabled": True,
        "keyId": ARGS.kms_key_id,
        "keyVaultNetworkAccess": "Private",
        "keyVaultResourceId": VAULT_ID,
    }
    assert i["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert i["oidcIssuerProfile"] == {"enabled": True}
    assert i["diskEncryptionSetID"] == DES_ID
    net = i["networkProfile"]
    assert (net["networkPlugin"], net["networkPluginMode"]) == ("azure", "overlay")
    assert net["networkPolicy"] == "cilium" and net["networkDataplane"] == "cilium"
    # out only by the nodes subnet's route to the egress firewall, never a load balancer's
    # public address (issue 13.3)
    assert net["outboundType"] == "userDefinedRouting"
    storage = i["storageProfile"]
    assert storage["fileCSIDriver"] == {"enabled": False}  # would need storage account keys
    (system,) = i["agentPoolProfiles"]
    assert system["mode"] == "System" and system["enableEncryptionAtHost"] is True
    assert system["enableNodePublicIP"] is False


def test_gpu_pool_is_tainted_labelled_and_gets_the_driver(aks):
    pool = one(aks, "AgentPool").inputs
    assert pool["agentPoolName"] == "gputrain" and pool["mode"] == "User"
    assert pool["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert pool["nodeLabels"] == GPU.labels
    assert pool["gpuProfile"] == {"driver": "Install"}
    assert (pool["minCount"], pool["maxCount"], pool["count"]) == (0, 2, 0)
    assert pool["availabilityZones"] == ["1", "2", "3"]
    assert pool["vnetSubnetID"] == SUBNET


def test_control_plane_logs_go_to_the_workspace(aks):
    setting = one(aks, "DiagnosticSetting").inputs
    assert setting["resourceUri"].endswith("/managedClusters/aks-test")
    assert setting["workspaceId"] == WORKSPACE
    assert [log["category"] for log in setting["logs"]] == [
        "kube-audit",
        "kube-audit-admin",
        "kube-apiserver",
        "guard",
    ]


def test_tenant_groups_may_only_fetch_a_kubeconfig():
    """Issue 13.6: tenants' Entra groups get the Cluster User Role on this cluster (a kubeconfig)
    and nothing else in Azure; their namespace's RoleBinding to the group ID grants the rest."""
    group = "4b9e2c71-3a5d-4f08-8c6e-1d2f3a4b5c6d"
    with_tenants = AksClusterArgs(
        **{**ARGS.__dict__, "user_group_object_ids": (group,), "subscription_id": SUBSCRIPTION}
    )
    synthesis = run_azure(lambda opts: AksCluster("aks", with_tenants, opts=opts))
    (assignment,) = [a.inputs for a in of(synthesis, "RoleAssignment")]
    assert assignment["principalId"] == group and assignment["principalType"] == "Group"
    assert assignment["roleDefinitionId"].endswith("/4abbcc35-e782-43d8-92c5-2d3f1bd2253f")
    assert assignment["scope"].endswith("/managedClusters/aks-test")
    without_subscription = AksClusterArgs(**{**ARGS.__dict__, "user_group_object_ids": (group,)})
    with pytest.raises(ValueError, match="subscription"):
        run_azure(lambda opts: AksCluster("aks", without_subscription, opts=opts))


def test_pool_names_that_aks_would_refuse_are_refused_here():
    bad = AksClusterArgs(**{**ARGS.__dict__, "gpu_pools": (NodePool("gpu-train", "x", 0, 1),)})
    with pytest.raises(ValueError, match="12 lowercase"):
        run_azure(lambda opts: AksCluster("aks", bad, opts=opts))


def test_kubeconfig_logs_in_non_interactively_without_static_credentials():
    raw = {
        "apiVersion": "v1",
        "clusters": [
            {"name": "c", "cluster": {"server": "https://x.privatelink.uaenorth.azmk8s.io"}}
        ],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": ["get-token", "--login", "devicecode", "--server-id", "x"],
                    }
                },
            }
        ],
    }
    encoded = base64.b64encode(yaml.safe_dump(raw).encode()).decode()
    config = yaml.safe_load(kubelogin_kubeconfig(encoded, "workloadidentity"))
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin" and exec_["interactiveMode"] == "Never"
    assert exec_["args"] == [
        "get-token",
        "--login",
        "workloadidentity",
        "--server-id",
        AKS_AAD_SERVER_APP_ID,
    ]
    assert config["clusters"] == raw["clusters"]


def test_cluster_kubeconfig_is_a_secret_that_logs_in_with_azure_cli():
    def build(opts):
        cluster = AksCluster("aks", ARGS, opts=opts)
        k8s.Provider("k", kubeconfig=cluster.kubeconfig)

    syn = run_azure(build)
    (provider,) = syn.of_type("pulumi:providers:kubernetes")
    assert provider.to_json()["inputs"]["kubeconfig"] == "[secret]"
    user = yaml.safe_load(unwrap(provider.inputs["kubeconfig"]))["users"][0]["user"]
    assert user["exec"]["args"][:3] == ["get-token", "--login", "azurecli"]


def test_disk_encryption_set_uses_the_customer_key_and_follows_rotation():
    args = DiskEncryptionSetArgs(
        resource_group_name=RG,
        location=LOCATION,
        des_name="des-test",
        key_url="https://kv-test.vault.azure.net/keys/disks/0123",
        vault_id=VAULT_ID,
        identity_id=IDENTITY,
        tags=TAGS,
    )
    syn = run_azure(lambda opts: DiskEncryptionSet("des", args, opts=opts))
    assert_pinned(syn)
    i = one(syn, "DiskEncryptionSet").inputs
    assert i["encryptionType"] == "EncryptionAtRestWithCustomerKey"
    assert i["activeKey"] == {"keyUrl": args.key_url, "sourceVault": {"id": VAULT_ID}}
    assert i["rotationToLatestKeyVersionEnabled"] is True
    assert i["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]}
    assert of(syn, "DiskEncryptionSet")[0].inputs["location"] == LOCATION


def test_container_logs_go_to_the_in_country_workspace_with_the_managed_identity(aks):
    """Container Insights: the add-on on with AAD auth (the workspace refuses shared keys), and
    the data collection rule that then needs, writing to the stack's workspace, bound to the
    cluster (UAE-LOG-006 reads the add-on)."""
    addon = one(aks, "ManagedCluster").inputs["addonProfiles"]["omsagent"]
    assert addon["enabled"] is True
    assert addon["config"] == {"logAnalyticsWorkspaceResourceID": WORKSPACE, "useAADAuth": "true"}
    rule = one(aks, "DataCollectionRule").inputs
    assert rule["location"] == ARGS.location
    assert rule["destinations"]["logAnalytics"] == [
        {"name": "workspace", "workspaceResourceId": WORKSPACE}
    ]
    (flow,) = rule["dataFlows"]
    assert flow["streams"] == ["Microsoft-ContainerInsights-Group-Default"]
    association = one(aks, "DataCollectionRuleAssociation").inputs
    assert association["resourceUri"].endswith("/managedClusters/aks-test")
