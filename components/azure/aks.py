"""The Kubernetes cluster: `DiskEncryptionSet` and `AksCluster` (private AKS + GPU agent pools).

`DiskEncryptionSet` — node OS and data disks are encrypted with the platform's HSM `disks` key
(`EncryptionAtRestWithCustomerKey`), following key rotations automatically.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags`, `name` | where (explicit location) |
| `key_url` (versioned), `vault_id`, `identity_id` | the key and the identity that may use it |

Outputs: `des`, `id`.

`AksCluster` — what a regulated tenant expects of the control plane:

| setting | value | why |
|---|---|---|
| API server | private cluster, VNet-integrated, no public FQDN, run-command off | UAE-NET-001 |
| identity | Entra ID + Azure RBAC only, admin groups, local accounts off | UAE-IAM-003 |
| tenants | their groups fetch a kubeconfig; RoleBindings to the group IDs decide the rest | - |
| secrets | KMS v2 with the HSM `secrets` key, vault reached privately | UAE-ENC-002 |
| disks | disk encryption set + encryption at host | UAE-KEY-001 |
| network | Azure CNI overlay, Cilium dataplane and NetworkPolicy | UAE-NET-004 |
| egress | user-defined routing: out only through the VNet's egress firewall | - |
| workload identity | OIDC issuer + workload identity webhook | UAE-IAM-002 |
| audit | kube-audit(-admin), kube-apiserver, guard → in-country workspace | UAE-LOG-002 |
| container logs | Container Insights add-on (managed identity) → the same workspace | UAE-LOG-006 |
| system pool | zones 1-3, `CriticalAddonsOnly=true:NoSchedule` | - |
| GPU pools | `nvidia.com/gpu=present:NoSchedule`, pool + product labels | UAE-CMP-001 |

GPU pools ask AKS to install the NVIDIA driver (`gpuProfile.driver: Install`, the AKS default
made explicit): AKS GPU node images then ship the driver and container toolkit, so the platform
only deploys the device plugin (`Foundation.gpu_driver_preinstalled`).

KMS uses a versioned key ID (AKS requires one): after the key rotates, `pulumi refresh` picks up
the new version and the next `pulumi up` moves the cluster to it (old versions stay enabled).

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags`, `cluster_name`, `kubernetes_version` | where/what |
| `tenant_id`, `admin_group_object_ids` | Entra ID tenant and cluster-admin groups |
| `user_group_object_ids` | tenants' Entra groups: may fetch a kubeconfig (Cluster User Role) |
| `cluster_identity_id` | control-plane identity (granted its roles before the cluster) |
| `kubelet_identity` | `KubeletIdentity(resource_id, client_id, object_id)` (AcrPull) |
| `node_subnet_id`, `apiserver_subnet_id` | subnets |
| `kms_key_id`, `kms_vault_id` | versioned `secrets` key URL and its vault |
| `disk_encryption_set_id` | from `DiskEncryptionSet` |
| `system_pool`, `gpu_pools` | `NodePool(...)` definitions |
| `workspace_id` | in-country Log Analytics for control-plane logs |
| `pod_cidr`, `service_cidr`, `dns_service_ip` | overlay address ranges (outside the VNet) |
| `kubelogin_mode` | how the generated kubeconfig logs in (`azurecli`, `workloadidentity`, ...) |

Outputs: `cluster`, `name`, `oidc_issuer`, `kubeconfig` (secret), `node_pools` (AgentPools).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_azure_native as azure
import yaml

from components.azure.container_insights import container_insights, monitoring_addon
from components.azure.identity import role_definition_id
from components.azure.monitoring import diagnostic_setting
from components.objects import upstream

# Entra application every AKS cluster's API server accepts tokens for (fixed by Azure).
AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
CLUSTER_USER_ROLE = "Azure Kubernetes Service Cluster User Role"
CONTROL_PLANE_LOGS = ("kube-audit", "kube-audit-admin", "kube-apiserver", "guard")


@dataclass(frozen=True)
class DiskEncryptionSetArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    des_name: str
    key_url: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    tags: dict[str, str]


class DiskEncryptionSet(pulumi.ComponentResource):
    des: azure.compute.DiskEncryptionSet
    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: DiskEncryptionSetArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:DiskEncryptionSet", name, None, opts)
        self.des = azure.compute.DiskEncryptionSet(
            name,
            disk_encryption_set_name=args.des_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            encryption_type="EncryptionAtRestWithCustomerKey",
            identity={"type": "UserAssigned", "user_assigned_identities": [args.identity_id]},
            active_key={"key_url": args.key_url, "source_vault": {"id": args.vault_id}},
            rotation_to_latest_key_version_enabled=True,
            tags=args.tags,
            # the component's depends_on (its identity's role assignments) reach the resource
            opts=pulumi.ResourceOptions(parent=self, depends_on=upstream(opts)),
        )
        self.id = self.des.id
        self.register_outputs({"id": self.id})


@dataclass(frozen=True)
class KubeletIdentity:
    resource_id: pulumi.Input[str]
    client_id: pulumi.Input[str]
    object_id: pulumi.Input[str]


@dataclass(frozen=True)
class NodePool:
    name: str  # AKS pool name: lowercase letters/digits, at most 12
    vm_size: str
    min_count: int
    max_count: int
    count: int | None = None
    zones: tuple[str, ...] = ("1", "2", "3")
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[str, ...] = ()
    os_sku: str = "AzureLinux"
    os_disk_gb: int = 128
    gpu: bool = False


@dataclass(frozen=True)
class AksClusterArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    cluster_name: str
    kubernetes_version: str
    tenant_id: str
    admin_group_object_ids: tuple[str, ...]
    cluster_identity_id: pulumi.Input[str]
    kubelet_identity: KubeletIdentity
    node_subnet_id: pulumi.Input[str]
    apiserver_subnet_id: pulumi.Input[str]
    kms_key_id: pulumi.Input[str]
    kms_vault_id: pulumi.Input[str]
    disk_encryption_set_id: pulumi.Input[str]
    system_pool: NodePool
    workspace_id: pulumi.Input[str]
    tags: dict[str, str]
    gpu_pools: tuple[NodePool, ...] = ()
    user_pools: tuple[NodePool, ...] = ()  # CPU user pools (the workload pool)
    # Tenants' Entra group object IDs: the Cluster User Role on the cluster (a kubeconfig, no
    # Kubernetes rights: the tenant's RoleBinding to the group ID grants its namespace)
    user_group_object_ids: tuple[str, ...] = ()
    subscription_id: str = ""  # builds role definition IDs (with user groups)
    pod_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.245.0.0/16"
    dns_service_ip: str = "10.245.0.10"
    kubelogin_mode: str = "azurecli"


def _pool_profile(pool: NodePool, subnet_id: pulumi.Input[str], version: str) -> dict:
    if not (pool.name.isalnum() and pool.name.islower() and len(pool.name) <= 12):
        raise ValueError(f"AKS pool name {pool.name!r}: at most 12 lowercase letters/digits")
    profile = {
        "vm_size": pool.vm_size,
        "os_type": "Linux",
        "os_sku": pool.os_sku,
        "os_disk_type": "Managed",
        "os_disk_size_gb": pool.os_disk_gb,
        "type": "VirtualMachineScaleSets",
        "availability_zones": list(pool.zones),
        "enable_auto_scaling": True,
        "min_count": pool.min_count,
        "max_count": pool.max_count,
        "count": pool.count if pool.count is not None else pool.min_count,
        "vnet_subnet_id": subnet_id,
        "enable_node_public_ip": False,
        "enable_encryption_at_host": True,
        "orchestrator_version": version,
        "node_labels": pool.labels or None,
        "node_taints": list(pool.taints) or None,
        "upgrade_settings": {"max_surge": "33%"},
    }
    if pool.gpu:
        profile["gpu_profile"] = {"driver": "Install"}
    return profile


class AksCluster(pulumi.ComponentResource):
    cluster: azure.containerservice.ManagedCluster
    name: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    node_pools: list[azure.containerservice.AgentPool]

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:azure:AksCluster", name, None, opts)
        # the component's depends_on (role assignments of the identity it uses) reach the resource
        child = pulumi.ResourceOptions(parent=self, depends_on=upstream(opts))
        system = {
            **_pool_profile(args.system_pool, args.node_subnet_id, args.kubernetes_version),
            "name": args.system_pool.name,
            "mode": "System",
        }

        self.cluster = azure.containerservice.ManagedCluster(
            f"{name}-cluster",
            resource_name_=args.cluster_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=args.cluster_name,
            node_resource_group=f"{args.cluster_name}-nodes",
            kubernetes_version=args.kubernetes_version,
            sku={"name": "Base", "tier": "Standard"},
            support_plan="KubernetesOfficial",
            **_identity_and_access(args),
            **_network_and_lifecycle(args),
            agent_pool_profiles=[system],
            # container logs to the in-country workspace (components.azure.container_insights)
            addon_profiles=monitoring_addon(args.workspace_id),
            tags=args.tags,
            opts=child,
        )
        container_insights(
            name,
            self.cluster,
            args.resource_group_name,
            args.location,
            args.workspace_id,
            args.tags,
            child,
        )
        self.name = self.cluster.name
        self.oidc_issuer = self.cluster.oidc_issuer_profile.apply(
            lambda p: p.issuer_url if p else None
        )

        self.node_pools = []
        for pool in (*args.user_pools, *args.gpu_pools):
            profile = _pool_profile(pool, args.node_subnet_id, args.kubernetes_version)
            self.node_pools.append(
                azure.containerservice.AgentPool(
                    f"{name}-{pool.name}",
                    agent_pool_name=pool.name,
                    resource_name_=self.cluster.name,
                    resource_group_name=args.resource_group_name,
                    mode="User",
                    tags=args.tags,
                    opts=child,
                    **profile,
                )
            )

        self._tenant_groups(name, args)
        diagnostic_setting(
            f"{name}-control-plane",
            resource_uri=self.cluster.id,
            workspace_id=args.workspace_id,
            categories=CONTROL_PLANE_LOGS,
            parent=self,
        )

        credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=self.cluster.name,
            format="exec",
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda kcs: kubelogin_kubeconfig(kcs[0].value, args.kubelogin_mode)
            )
        )
        self.register_outputs({"name": self.name, "oidcIssuer": self.oidc_issuer})

    def _tenant_groups(self, name: str, args: AksClusterArgs) -> None:
        """Each tenant group may list user credentials (a kubeconfig) and nothing else."""
        if args.user_group_object_ids and not args.subscription_id:
            raise ValueError(f"{name}: tenant groups need the subscription ID for their role")
        for group in args.user_group_object_ids:
            azure.authorization.RoleAssignment(
                f"{name}-user-{group}",
                principal_id=group,
                principal_type="Group",
                role_definition_id=role_definition_id(args.subscription_id, CLUSTER_USER_ROLE),
                scope=self.cluster.id,
                description="mlplatform: a tenant group fetches its kubeconfig; its namespace's "
                "RoleBinding to this group ID is all it may do in the cluster",
                opts=pulumi.ResourceOptions(parent=self),
            )


def _identity_and_access(args: AksClusterArgs) -> dict[str, Any]:
    """Who the cluster is and who may reach it: user-assigned identities, Entra ID with Azure
    RBAC and no local accounts, a private API server (VNet-integrated for KMS with a private
    vault), KMS envelope encryption, workload identity and its OIDC issuer."""
    return {
        "identity": {
            "type": "UserAssigned",
            "user_assigned_identities": [args.cluster_identity_id],
        },
        "identity_profile": {
            "kubeletidentity": {
                "resource_id": args.kubelet_identity.resource_id,
                "client_id": args.kubelet_identity.client_id,
                "object_id": args.kubelet_identity.object_id,
            }
        },
        "enable_rbac": True,
        "disable_local_accounts": True,
        "aad_profile": {
            "managed": True,
            "enable_azure_rbac": True,
            "tenant_id": args.tenant_id,
            "admin_group_object_ids": list(args.admin_group_object_ids),
        },
        "api_server_access_profile": {
            "enable_private_cluster": True,
            "enable_private_cluster_public_fqdn": False,
            "private_dns_zone": "system",
            # KMS with a private vault needs API Server VNet Integration (not Konnectivity).
            "enable_vnet_integration": True,
            "subnet_id": args.apiserver_subnet_id,
            "disable_run_command": True,
        },
        "security_profile": {
            "azure_key_vault_kms": {
                "enabled": True,
                "key_id": args.kms_key_id,
                "key_vault_network_access": "Private",
                "key_vault_resource_id": args.kms_vault_id,
            },
            "workload_identity": {"enabled": True},
            "image_cleaner": {"enabled": True, "interval_hours": 168},
        },
        "oidc_issuer_profile": {"enabled": True},
    }


def _network_and_lifecycle(args: AksClusterArgs) -> dict[str, Any]:
    """CMK disks, Azure CNI overlay with Cilium policies, egress by the VNet's route to its
    firewall, patch auto-upgrades, disk CSI only."""
    return {
        "disk_encryption_set_id": args.disk_encryption_set_id,
        "network_profile": {
            "network_plugin": "azure",
            "network_plugin_mode": "overlay",
            "network_dataplane": "cilium",
            "network_policy": "cilium",
            "pod_cidr": args.pod_cidr,
            "service_cidr": args.service_cidr,
            "dns_service_ip": args.dns_service_ip,
            "load_balancer_sku": "standard",
            # Out through the VNet's egress firewall (the nodes subnet's route table), never
            # a load balancer's public address.
            "outbound_type": "userDefinedRouting",
        },
        "auto_upgrade_profile": {
            "upgrade_channel": "patch",
            "node_os_upgrade_channel": "NodeImage",
        },
        "storage_profile": {
            "disk_csi_driver": {"enabled": True},
            "snapshot_controller": {"enabled": True},
            # Azure Files and Blob CSI mount with storage account keys, which are disabled.
            "file_csi_driver": {"enabled": False},
            "blob_csi_driver": {"enabled": False},
        },
    }


def kubelogin_kubeconfig(encoded: str, mode: str) -> str:
    """Rewrite AKS's exec kubeconfig so `kubelogin` logs in non-interactively with `mode`.

    AKS returns a device-code kubeconfig; Pulumi (and CI) need `azurecli` (after `az login`,
    e.g. with a federated OIDC token) or `workloadidentity`. No static credential is involved:
    local accounts are disabled, every request carries an Entra ID token.
    """
    document = yaml.safe_load(base64.b64decode(encoded))
    for user in document.get("users") or []:
        entry = user.get("user") or {}
        if "exec" in entry:
            entry["exec"] = {
                "apiVersion": entry["exec"].get(
                    "apiVersion", "client.authentication.k8s.io/v1beta1"
                ),
                "command": "kubelogin",
                "args": ["get-token", "--login", mode, "--server-id", AKS_AAD_SERVER_APP_ID],
                "env": None,
                "provideClusterInfo": False,
                "interactiveMode": "Never",
            }
    return yaml.safe_dump(document, sort_keys=False)
