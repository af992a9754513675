"""The Azure target (`cloud: azure`): everything the platform needs, in uaenorth.

Built in dependency order, every resource through one region-pinned `azure_native.Provider`
and with an explicit `location`. `build_cluster(config)` is the target's first step (1-6),
`build_foundation(config, cluster, pki)` its second (7-9):

| step | module | what (components from `components.azure`) |
|---|---|---|
| 1 | `site` | provider pinned to `azure.location`; resource group |
| 2 | `security` | `LogAnalytics`: workspace + subscription Activity Log export |
| 3 | `security` | `Network`: VNet, subnets, NSGs (both ways), private DNS zones; the |
| | | `EgressFirewall` the nodes' route leads to (the only way out, an FQDN allowlist) |
| 4 | `security` | `KeyVault`: HSM keys data, logs, secrets, disks; a DR vault in `drLocation` |
| 5 | `cluster` | `ContainerRegistry`; identities; disk encryption set; private AKS |
| 6 | `cluster` | the Kubernetes provider and the CMK StorageClass |
| 7 | `data` | `StorageAccount` (artifacts, offline store, WORM audit; flow logs), |
| | | `PostgresFlexible`, `RedisCache`, MLflow/Feast workload identities |
| 8 | `eventhubs` | `EventHubsKafka` if `kafka.mode: managed` |
| 9 | here | the `Foundation` |

Residency decisions are in `site` (in-country replication pairs only). The platform's PKI
(declared between the two steps) is not used here: Azure's managed services serve
certificates that chain to public roots. The Pulumi run needs network access to the private
API server (a runner in the VNet or a peered hub) and `kubelogin` on its PATH.
"""

from __future__ import annotations

import pulumi

from components import conventions as c
from components.api_server import ApiServer
from components.azure.identity import CLIENT_ID_ANNOTATION
from components.azure.network import subnet_prefixes
from components.endpoints import Credentials, EgressRule, ObjectStore, Postgres, Redis
from components.pki import PlatformPki
from components.placement import CRITICAL_ADDONS_ONLY
from stacks.config import StackConfig
from stacks.foundation import AzureFacts, Foundation, GpuPoolInfo
from stacks.targets.azure.cluster import (
    ENTRA_ID_EGRESS,
    WORKLOAD_IDENTITY_POD_LABEL,
    AzureCluster,
    build_aks,
)
from stacks.targets.azure.data import REDIS_PLATFORM_KEYS, DataStores, build_data_stores
from stacks.targets.azure.eventhubs import build_event_hubs
from stacks.targets.azure.security import LOG_ANALYTICS_PLATFORM_KEYS, build_security
from stacks.targets.azure.site import (
    ARTIFACTS_CONTAINER,
    KEY_PURPOSES,
    OFFLINE_CONTAINER,
    open_site,
)

__all__ = ["build_cluster", "build_foundation"]


def build_cluster(config: StackConfig) -> AzureCluster:
    site = open_site(config)
    return build_aks(site, build_security(site))


def build_foundation(config: StackConfig, cluster: AzureCluster, pki: PlatformPki) -> Foundation:
    site, sec = cluster.site, cluster.security
    stores = build_data_stores(cluster)
    return Foundation(
        platform="azure",
        location=site.location,
        facts=_facts(cluster, stores),
        k8s_provider=cluster.k8s_provider,
        storage_class=cluster.storage_class,
        postgres=Postgres(
            host=stores.postgres.host,
            port=stores.postgres.port,
            credentials=Credentials(
                username=stores.postgres.admin_login, password=stores.postgres.admin_password
            ),
            ssl_mode="verify-full",  # server certificates chain to public DigiCert/Microsoft roots
        ),
        # Access-key auth (Feast's Redis store takes a password): AUTH <key>, no ACL user name.
        redis=Redis(
            host=stores.redis.host,
            port=stores.redis.port,
            credentials=Credentials(password=stores.redis.access_key),
            tls=True,
        ),
        object_store=_object_store(site.location, stores),
        key_refs={purpose: sec.vault.key_uris[purpose] for purpose in KEY_PURPOSES},
        gpu_pools=[
            GpuPoolInfo(
                name=p.name,
                product=p.product("azure"),
                gpus_per_node=p.gpus_per_node,
                capacity=p.capacity(config.target),
                labels={c.GPU_POOL_LABEL: p.name, c.GPU_PRODUCT_LABEL: p.product("azure")},
            )
            for p in config.gpu_pools
        ],
        api_server=ApiServer(
            (subnet_prefixes(config.azure.vnet_cidr)["apiserver"],) if config.azure else (),
            cilium=True,  # Azure CNI powered by Cilium (components.azure.aks)
        ),
        kafka=build_event_hubs(cluster),
        # The system pool's taint: DaemonSets that must run on every node tolerate it
        platform_tolerations=(dict(CRITICAL_ADDONS_ONLY),),
        # AKS GPU node images ship the NVIDIA driver and toolkit (gpuProfile.driver: Install).
        gpu_driver_preinstalled=True,
        workload_identity_egress=list(ENTRA_ID_EGRESS),
        object_store_egress=(
            EgressRule(
                name="object-store",
                cidr=subnet_prefixes(config.azure.vnet_cidr)["endpoints"] if config.azure else "",
                ports=(443,),
                why="the storage account's private endpoint (the tenant's data prefix)",
            ),
        ),
        exceptions=[LOG_ANALYTICS_PLATFORM_KEYS, REDIS_PLATFORM_KEYS, sec.egress_exception],
        workload_identity_pod_labels=dict(WORKLOAD_IDENTITY_POD_LABEL),
        ready=[cluster.aks.cluster, *cluster.aks.node_pools],
    )


def _object_store(location: str, stores: DataStores) -> ObjectStore:
    account = stores.storage.account_name
    return ObjectStore(
        kind="azure-blob",
        endpoint=stores.storage.blob_endpoint,
        region=location,
        artifact_uri=pulumi.Output.concat(
            "wasbs://", ARTIFACTS_CONTAINER, "@", account, ".blob.core.windows.net/artifacts"
        ),
        offline_store_uri=pulumi.Output.concat(
            "abfss://", OFFLINE_CONTAINER, "@", account, ".dfs.core.windows.net/offline"
        ),
        credentials=None,  # Azure Workload Identity, see the annotations
        service_account_annotations={
            sa: {CLIENT_ID_ANNOTATION: identity.client_id}
            for sa, identity in stores.storage_identities.items()
        },
    )


def _facts(cluster: AzureCluster, stores: DataStores) -> AzureFacts:
    site, sec = cluster.site, cluster.security
    return AzureFacts(
        location=site.azure.location,
        dr_location=site.azure.dr_location,
        resource_group=site.resource_group,
        cluster_name=cluster.aks.name,
        oidc_issuer=cluster.aks.oidc_issuer,
        registry=cluster.registry.login_server,
        key_vault=sec.vault.vault_uri,
        log_analytics_workspace=sec.logs.id,
        storage_redundancy=stores.storage_sku,
        postgres_geo_backup=sec.dr_vault is not None,
    )
