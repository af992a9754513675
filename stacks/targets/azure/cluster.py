"""Step 1 of the Azure target: the registry, the AKS cluster and how the program reaches it.

- identities, all granted before the cluster is created: disks (Crypto Service Encryption
  User on the `disks` key), kubelet (AcrPull on the registry), control plane (Network
  Contributor on its two subnets, Managed Identity Operator on the kubelet identity, Crypto
  User on the `secrets` key, Key Vault Contributor on the vault for the private KMS link,
  Reader on the disk encryption set, Network Contributor on the nodes' route table);
- `ContainerRegistry` (ACR Premium, CMK, private endpoint): the in-country mirror;
- `DiskEncryptionSet`, `AksCluster` (system pool, the `workloads` user pool, one agent pool
  per `gpuPools` entry; outbound by user-defined routing through the egress firewall, which
  the cluster waits for);
- the Kubernetes provider (kubeconfig from `listManagedClusterUserCredentials`, kubelogin) and
  the `managed-csi-cmk` StorageClass (zone-redundant Premium disks encrypted with the DES).

Workload identity: pods labelled `WORKLOAD_IDENTITY_POD_LABEL` get an Entra token from the
webhook and exchange it at Entra ID (`ENTRA_ID_EGRESS`: Entra ID's published sign-in
ranges only, one NetworkPolicy each; the firewall admits the FQDN).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.azure.aks import (
    AksCluster,
    AksClusterArgs,
    DiskEncryptionSet,
    DiskEncryptionSetArgs,
    KubeletIdentity,
    NodePool,
)
from components.azure.identity import Grant
from components.azure.registry import ContainerRegistry, ContainerRegistryArgs
from components.endpoints import EgressRule
from components.placement import CRITICAL_ADDONS_ONLY
from stacks import governance
from stacks.config import GpuPool
from stacks.config.model import Azure
from stacks.targets.azure.security import Security
from stacks.targets.azure.site import ENCRYPTION_USER, AzureSite

STORAGE_CLASS = "managed-csi-cmk"
# The system pool keeps AKS's add-ons and the platform's services (which tolerate this taint and
# select the pool: stacks.composition.placement); everything else runs on the user pools.
_T = CRITICAL_ADDONS_ONLY
SYSTEM_POOL_TAINT = f"{_T['key']}=true:{_T['effect']}"
# Pods that use Azure Workload Identity carry this label (the webhook injects the token).
WORKLOAD_IDENTITY_POD_LABEL = {"azure.workload.identity/use": "true"}
# The Azure SDK exchanges the projected service-account token for an Entra ID token at
# login.microsoftonline.com:443 (AZURE_AUTHORITY_HOST). A NetworkPolicy cannot name an FQDN or a
# service tag, so pods may reach only the ranges Microsoft publishes for Entra ID's sign-in
# endpoints (Microsoft 365 IP address and URL web service, endpoint set 56, worldwide:
# login.microsoftonline.com and its siblings), never "any public address". The packets then
# leave through the VNet's egress firewall, which lets out only login.microsoftonline.com by
# name (components.azure.firewall.AKS_EGRESS). If Microsoft adds a range, update it here.
ENTRA_ID_RANGES = ("20.20.32.0/19", "20.190.128.0/18", "20.231.128.0/19", "40.126.0.0/18")
ENTRA_ID_EGRESS: tuple[EgressRule, ...] = tuple(
    EgressRule(
        name=f"entra-id-{n}",
        cidr=cidr,
        ports=(443,),
        why=f"Entra ID sign-in ({cidr}: login.microsoftonline.com) for Azure Workload Identity",
    )
    for n, cidr in enumerate(ENTRA_ID_RANGES, start=1)
)


@dataclass
class AzureCluster:
    """Step 1 of the Azure target: the cluster and what the next step builds on."""

    site: AzureSite
    security: Security
    registry: ContainerRegistry
    aks: AksCluster
    k8s_provider: k8s.Provider
    storage_class: str


def aks_pool_name(pool: GpuPool) -> str:
    """AKS pool names are at most 12 lowercase letters/digits; config names may have dashes."""
    return ("gpu" + "".join(ch for ch in pool.name if ch.isalnum()))[:12]


def gpu_node_pool(pool: GpuPool) -> NodePool:
    product = pool.product("azure")
    taint = c.GPU_TAINT
    return NodePool(
        name=aks_pool_name(pool),
        vm_size=pool.vm_size or "",
        min_count=pool.min_size,
        max_count=pool.max_size,
        count=pool.desired_size if pool.desired_size is not None else pool.min_size,
        labels={c.GPU_POOL_LABEL: pool.name, c.GPU_PRODUCT_LABEL: product},
        taints=(f"{taint['key']}={taint['value']}:{taint['effect']}",),
        os_sku="Ubuntu",
        os_disk_gb=256,
        gpu=True,
    )


def workload_pool(azure: Azure) -> NodePool:
    """The user pool tenants' CPU work and Kafka brokers run on (untainted)."""
    return NodePool(
        name="workloads",
        vm_size=azure.workload_vm_size,
        min_count=azure.workload_min_count,
        max_count=azure.workload_max_count,
        count=azure.workload_min_count,
        labels={"mlplatform.io/node-role": "workloads"},
    )


def build_aks(site: AzureSite, sec: Security) -> AzureCluster:
    """The registry nodes pull from, the AKS cluster with its identities, the provider."""
    azure, names, vault, network = site.azure, site.names, sec.vault, sec.network
    registry = container_registry(site, sec)
    disk_user = site.identity("disks", Grant(ENCRYPTION_USER, vault.key_ids["disks"]))
    des = DiskEncryptionSet(
        "des",
        DiskEncryptionSetArgs(
            des_name=names["des"],
            key_url=vault.keys["disks"].key_uri_with_version,
            vault_id=vault.vault_id,
            identity_id=disk_user.id,
            **site.common(),
        ),
        opts=site.opts(disk_user),
    )
    kubelet = site.identity("kubelet", Grant("AcrPull", registry.id))
    control_plane = site.identity(
        "aks",
        Grant("Network Contributor", network.subnets["nodes"].id),
        Grant("Network Contributor", network.subnets["apiserver"].id),
        # user-defined routing: AKS checks (and may update) the nodes' route table
        Grant("Network Contributor", network.route_table.id),
        Grant("Managed Identity Operator", kubelet.id),
        Grant("Key Vault Crypto User", vault.key_ids["secrets"]),
        # KMS with a private vault: AKS creates the private link, which needs vault management.
        Grant("Key Vault Contributor", vault.vault_id),
        Grant("Reader", des.id),
    )
    aks = AksCluster(
        "aks",
        AksClusterArgs(
            cluster_name=names["cluster"],
            kubernetes_version=site.config.kubernetes.version,
            tenant_id=azure.tenant_id,
            admin_group_object_ids=tuple(azure.admin_group_object_ids),
            cluster_identity_id=control_plane.id,
            kubelet_identity=KubeletIdentity(kubelet.id, kubelet.client_id, kubelet.principal_id),
            node_subnet_id=network.subnets["nodes"].id,
            apiserver_subnet_id=network.subnets["apiserver"].id,
            kms_key_id=vault.keys["secrets"].key_uri_with_version,
            kms_vault_id=vault.vault_id,
            disk_encryption_set_id=des.id,
            system_pool=NodePool(
                name="system",
                vm_size=azure.system_vm_size,
                min_count=azure.system_min_count,
                max_count=azure.system_max_count,
                taints=(SYSTEM_POOL_TAINT,),
            ),
            user_pools=(workload_pool(azure),),
            gpu_pools=tuple(gpu_node_pool(p) for p in site.config.gpu_pools),
            # Tenants sign in as their Entra groups (object IDs, validated in config)
            user_group_object_ids=tuple(t.idp_group for t in site.config.tenants),
            subscription_id=azure.subscription_id,
            workspace_id=sec.logs.id,
            **site.common(),
        ),
        # Nodes bootstrap through the egress firewall: it and its allowlist come first.
        opts=site.opts(control_plane, kubelet, des, network, sec.firewall),
    )

    k8s_provider = k8s.Provider(
        "aks",
        kubeconfig=aks.kubeconfig,
        delete_unreachable=False,
        opts=pulumi.ResourceOptions(depends_on=[aks.cluster, *aks.node_pools]),
    )
    _storage_class(site, des, k8s_provider)
    return AzureCluster(site, sec, registry, aks, k8s_provider, STORAGE_CLASS)


def _storage_class(site: AzureSite, des: DiskEncryptionSet, provider: k8s.Provider) -> None:
    """`managed-csi-cmk`: zone-redundant Premium disks encrypted with the disk encryption set."""
    k8s.storage.v1.StorageClass(
        "storage-class-cmk",
        metadata={"name": STORAGE_CLASS, "labels": governance.platform_labels(site.config)},
        provisioner="disk.csi.azure.com",
        parameters={
            "skuName": "Premium_ZRS",
            "diskEncryptionSetID": des.id,
            "diskEncryptionType": "EncryptionAtRestWithCustomerKey",
            "networkAccessPolicy": "DenyAll",
            "publicNetworkAccess": "Disabled",
            "tags": ",".join(f"{k}={v}" for k, v in site.tags.items()),
        },
        reclaim_policy="Retain",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        opts=pulumi.ResourceOptions(provider=provider),
    )


def container_registry(site: AzureSite, sec: Security, creating: bool = False) -> ContainerRegistry:
    """ACR Premium, the CMK, a private endpoint: also the bootstrap phase's. The bootstrap
    creates it encrypting with the CMK identity (ACR accepts only a user-assigned one at
    creation) and grants its system identity the key; the platform phase switches encryption
    to the system identity, the one that reaches the firewalled vault as a trusted service."""
    return ContainerRegistry(
        "acr",
        ContainerRegistryArgs(
            registry_name=site.azure.acr_name,
            key_uri=sec.vault.key_uris["data"],
            key_id=sec.vault.key_ids["data"],
            identity_id=sec.cmk.id,
            identity_client_id=sec.cmk.client_id,
            subscription_id=site.azure.subscription_id,
            key_identity="user-assigned" if creating else "system-assigned",
            endpoint_subnet_id=sec.network.subnets["endpoints"].id,
            dns_zone_id=sec.network.dns_zone_ids["privatelink.azurecr.io"],
            workspace_id=sec.logs.id,
            protect=site.protect,
            **site.common(),
        ),
        opts=site.opts(sec.cmk),
    )
