"""The Azure foundation, part two: the AKS cluster and what hangs off its OIDC issuer.

- identities: disks (Crypto Service Encryption User on the `disks` key), kubelet (AcrPull on
  the registry), control plane (Network Contributor on its two subnets, Managed Identity
  Operator on the kubelet identity, Crypto User on the `secrets` key, Key Vault Contributor on
  the vault for the private KMS link, Reader on the disk encryption set) — all granted before
  the cluster is created;
- `DiskEncryptionSet`, `AksCluster` (system pool + one agent pool per `gpuPools` entry);
- MLflow and Feast workload identities: Storage Blob Data Contributor on their own container,
  federated with their service accounts (`conventions.SA_MLFLOW` in `NS_MLFLOW`, ...);
- the Kubernetes provider (kubeconfig from `listManagedClusterUserCredentials`, kubelogin) and
  the `managed-csi-cmk` StorageClass (zone-redundant Premium disks encrypted with the DES);
- with `kafka.mode: managed`, `EventHubsKafka`: platform hubs (`components.kafka.PLATFORM_TOPICS`)
  and each tenant's `<tenant>.<topic>` hubs with a per-tenant identity. `event_hubs_grant` is
  the core services' tenant grant for `ManagedKafka(kind="event-hubs")` (registered in
  `stacks.services.managed_kafka` on import); it reports what exists and declares nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from components.azure.eventhubs import KAFKA_PORT, EventHubsKafka, EventHubsKafkaArgs, TenantTopics
from components.azure.identity import CLIENT_ID_ANNOTATION, FederatedSubject, Grant, ManagedIdentity
from components.azure.network import subnet_prefixes
from components.endpoints import EgressRule
from components.kafka import PLATFORM_TOPICS
from stacks import governance
from stacks.config import GpuPool, StackConfig, Tenant
from stacks.foundation import Foundation, ManagedKafka
from stacks.platform import TenantKafkaAccess
from stacks.services import managed_kafka

if TYPE_CHECKING:
    from stacks.azure import AzureSite, DataStores, Security

STORAGE_CLASS = "managed-csi-cmk"
TENANT_SERVICE_ACCOUNT = "workloads"  # created by components.tenant.Tenant in tenant-<name>
# Pods that use Azure Workload Identity carry this label (the webhook injects the token).
WORKLOAD_IDENTITY_POD_LABEL = {"azure.workload.identity/use": "true"}
# The Azure SDK exchanges the projected service-account token for an Entra ID token at
# login.microsoftonline.com:443 (AZURE_AUTHORITY_HOST), a public, Microsoft-owned range that
# changes without notice: a NetworkPolicy cannot name it, so the rule admits 443 to public
# addresses only; private ranges (VNet, pods, services, link-local) stay denied. Narrowing to
# the FQDN is the job of the VNet's egress firewall (AzureActiveDirectory service tag).
PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
)
ENTRA_ID_EGRESS = EgressRule(
    name="entra-id",
    cidr="0.0.0.0/0",
    ports=(443,),
    except_cidrs=PRIVATE_RANGES,
    why="Entra ID token endpoint (login.microsoftonline.com) for Azure Workload Identity",
)


@dataclass
class Cluster:
    aks: AksCluster
    k8s_provider: k8s.Provider
    storage_class: str
    storage_identities: dict[str, ManagedIdentity]  # service account → identity


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


def build_cluster(site: AzureSite, sec: Security, stores: DataStores) -> Cluster:
    from stacks.azure import ARTIFACTS_CONTAINER, ENCRYPTION_USER, OFFLINE_CONTAINER

    azure, names, vault, network = site.azure, site.names, sec.vault, sec.network
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
    kubelet = site.identity("kubelet", Grant("AcrPull", stores.registry.id))
    control_plane = site.identity(
        "aks",
        Grant("Network Contributor", network.subnets["nodes"].id),
        Grant("Network Contributor", network.subnets["apiserver"].id),
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
                taints=("CriticalAddonsOnly=true:NoSchedule",),
            ),
            gpu_pools=tuple(gpu_node_pool(p) for p in site.config.gpu_pools),
            workspace_id=sec.logs.id,
            **site.common(),
        ),
        opts=site.opts(control_plane, kubelet, des, network),
    )

    storage_identities = {
        sa: site.identity(
            sa,
            Grant("Storage Blob Data Contributor", stores.storage.container_ids[container]),
            issuer=aks.oidc_issuer,
            subjects=(FederatedSubject(namespace, sa),),
        )
        for sa, namespace, container in (
            (c.SA_MLFLOW, c.NS_MLFLOW, ARTIFACTS_CONTAINER),
            (c.SA_FEAST, c.NS_FEAST, OFFLINE_CONTAINER),
        )
    }

    k8s_provider = k8s.Provider(
        "aks",
        kubeconfig=aks.kubeconfig,
        delete_unreachable=False,
        opts=pulumi.ResourceOptions(depends_on=[aks.cluster, *aks.node_pools]),
    )
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
        opts=pulumi.ResourceOptions(provider=k8s_provider),
    )
    return Cluster(aks, k8s_provider, STORAGE_CLASS, storage_identities)


def build_event_hubs(
    site: AzureSite, sec: Security, cluster: Cluster
) -> tuple[ManagedKafka | None, dict[str, Any]]:
    """Event Hubs Premium as the platform's Kafka when `kafka.mode: managed`, else Strimzi."""
    config = site.config
    if config.kafka.mode != "managed":
        return None, {}
    zone = sec.network.dns_zone_ids["privatelink.servicebus.windows.net"]
    endpoints_cidr = subnet_prefixes(site.azure.vnet_cidr)["endpoints"]
    event_hubs = EventHubsKafka(
        "evh",
        EventHubsKafkaArgs(
            namespace_name=site.names["eventhubs"],
            key_vault_uri=sec.vault.vault_uri,
            key_name=sec.vault.keys["data"].name,
            identity_id=sec.cmk.id,
            endpoint_subnet_id=sec.network.subnets["endpoints"].id,
            dns_zone_id=zone,
            subscription_id=site.azure.subscription_id,
            oidc_issuer=cluster.aks.oidc_issuer,
            tenants=tuple(
                TenantTopics(
                    t.name, c.tenant_namespace(t.name), TENANT_SERVICE_ACCOUNT, tuple(t.topics)
                )
                for t in config.tenants
            ),
            platform_topics=tuple(PLATFORM_TOPICS.values()),
            partitions=config.kafka.partitions,
            retention_hours=config.kafka.retention_hours,
            workspace_id=sec.logs.id,
            protect=site.protect,
            **site.common(),
        ),
        opts=site.opts(sec.cmk),
    )
    # The namespace's private endpoint lives in the endpoints subnet.
    endpoint = EgressRule(
        name="event-hubs",
        cidr=endpoints_cidr,
        ports=(KAFKA_PORT,),
        why="Event Hubs Kafka endpoint (private endpoint in the endpoints subnet)",
    )
    kafka = ManagedKafka(
        kind="event-hubs",
        bootstrap=event_hubs.bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="OAUTHBEARER",
        resource_id=event_hubs.namespace.id,
        client_egress=(endpoint,),  # OAUTHBEARER with the tenant's Entra workload identity
    )
    access = event_hubs.tenant_access
    facts = {
        "eventHubsNamespace": event_hubs.namespace.name,
        # The same keys as the AWS (MSK) foundation, for the tenant layer and the contract.
        "kafka_tenant_topics": {t: a.topics for t, a in access.items()},
        "kafka_tenant_principals": {t: a.principal_id for t, a in access.items()},
        # Tenant `workloads` service accounts need this annotation, their pods the label.
        "kafka_tenant_service_account_annotations": {
            t: {CLIENT_ID_ANNOTATION: a.client_id} for t, a in access.items()
        },
        "kafka_tenant_pod_labels": WORKLOAD_IDENTITY_POD_LABEL,
        # What tenant NetworkPolicies must admit: the namespace's private endpoint, Kafka port.
        "kafka_egress": {"cidr": endpoint.cidr, "port": endpoint.ports[0]},
    }
    return kafka, facts


def event_hubs_grant(config: StackConfig, foundation: Foundation):
    """The core services' per-tenant grant on Event Hubs: report the hubs and identity above."""
    topics = foundation.facts.get("kafka_tenant_topics", {})
    principals = foundation.facts.get("kafka_tenant_principals", {})

    def grant(tenant: Tenant, depends_on: pulumi.Resource) -> TenantKafkaAccess:
        if tenant.name not in topics:
            raise ValueError(f"tenant {tenant.name!r} has no Event Hubs access in the foundation")
        return TenantKafkaAccess(
            topics=list(topics[tenant.name]),
            credentials_secret=None,  # Azure Workload Identity: no credential in the namespace
            principal=principals[tenant.name],
        )

    return grant


managed_kafka.GRANT_FACTORIES.setdefault("event-hubs", event_hubs_grant)
