"""The Azure foundation (`cloud: azure`): everything the platform needs, in uaenorth.

Built in dependency order, every resource through one region-pinned `azure_native.Provider`
and with an explicit `location`:

| step | what (components from `components.azure`) |
|---|---|
| 1 | provider pinned to `azure.location`; resource group |
| 2 | `LogAnalytics`: workspace + subscription Activity Log export |
| 3 | `Network`: VNet, subnets, NSGs, private DNS zones |
| 4 | `KeyVault`: HSM keys data, logs, secrets, disks; a DR vault in `drLocation` |
| 5 | `ManagedIdentity` per job: CMK, DR backups, flow logs (more in `stacks.azure_cluster`) |
| 6 | `StorageAccount`: MLflow artifacts, Feast offline store, WORM audit; flow-log storage |
| 7 | `PostgresFlexible`, `RedisCache`, `ContainerRegistry` |
| 8 | `stacks.azure_cluster`: disk encryption set, private AKS, Kubernetes provider |
| 9 | `stacks.azure_cluster`: MLflow/Feast identities; `EventHubsKafka` if `kafka.mode: managed` |

Residency decisions. Azure pairs uaenorth with uaecentral — both in the UAE — so data that
Azure replicates to the pair stays in-country: storage uses GZRS and PostgreSQL geo-redundant
backups (encrypted with a key in a DR vault in uaecentral) only when `PAIRED_REGIONS` confirms
that `drLocation` is the pair of `location`; otherwise ZRS and no geo-backup (UAE-RES-002).
The DR location is used for nothing else. The Pulumi run needs network access to the private
API server (a runner in the VNet or a peered hub) and `kubelogin` on its PATH.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_random as random

from components import conventions as c
from components.azure.databases import (
    PostgresFlexible,
    PostgresFlexibleArgs,
    RedisCache,
    RedisCacheArgs,
)
from components.azure.identity import (
    CLIENT_ID_ANNOTATION,
    Grant,
    ManagedIdentity,
    ManagedIdentityArgs,
)
from components.azure.keyvault import KeyVault, KeyVaultArgs
from components.azure.monitoring import LogAnalytics, LogAnalyticsArgs, VnetFlowLog, VnetFlowLogArgs
from components.azure.network import Network, NetworkArgs
from components.azure.registry import ContainerRegistry, ContainerRegistryArgs
from components.azure.storage import StorageAccount, StorageAccountArgs
from components.endpoints import Credentials, ObjectStore, Postgres, Redis
from stacks import governance
from stacks.config import Azure, StackConfig
from stacks.foundation import Foundation, GpuPoolInfo, SecurityException

# Azure region pairs (learn.microsoft.com "Azure cross-region replication pairings"), for the
# UAE locations only: a pair outside this table is never used for replication.
PAIRED_REGIONS: dict[str, str] = {"uaenorth": "uaecentral", "uaecentral": "uaenorth"}

KEY_PURPOSES = ("data", "logs", "secrets", "disks")

# Log Analytics takes a customer-managed key only through a dedicated cluster
# (Microsoft.OperationalInsights/clusters, a commitment tier from 100 GB/day), which no default
# may impose on every customer; its data stays in the workspace's UAE location either way.
LOG_ANALYTICS_PLATFORM_KEYS = SecurityException(
    control="8.24",
    policy="UAE-LOG-003",
    what="the Log Analytics workspace (AKS kube-audit, Activity Log, Traffic Analytics) is "
    "encrypted with Microsoft-managed keys, not the platform's Key Vault key",
    why="customer-managed keys for Log Analytics need a dedicated cluster with a commitment "
    "tier from 100 GB/day; the workspace stays in the stack's UAE location",
    remedy="create a Log Analytics dedicated cluster with the Key Vault `logs` key in the same "
    "location and link the workspace to it (az monitor log-analytics cluster create; "
    "workspace linkedServices/cluster)",
)
ARTIFACTS_CONTAINER = "mlflow"
OFFLINE_CONTAINER = "feast-offline"
AUDIT_CONTAINER = "audit"
ENCRYPTION_USER = "Key Vault Crypto Service Encryption User"


def in_country_pair(azure: Azure) -> bool:
    """True when Azure's replication pair of `location` is `drLocation` (both in the UAE)."""
    return PAIRED_REGIONS.get(azure.location) == azure.dr_location


def physical_names(config: StackConfig, azure: Azure) -> dict[str, str]:
    """Readable names, with a stable suffix where Azure wants global uniqueness."""
    env = "".join(ch for ch in config.environment if ch.isalnum())[:8]
    seed = f"{azure.subscription_id}/{config.environment}".encode()
    suffix = hashlib.sha256(seed).hexdigest()[:6]
    prefix = f"mlplatform-{config.environment}"
    return {
        "prefix": prefix,
        "rg": f"{prefix}-rg",
        "vault": f"kv-mlp-{env}-{suffix}",
        "dr_vault": f"kvdr-mlp-{env}-{suffix}",
        "storage": f"stmlp{env}{suffix}",
        "logs_storage": f"stlog{env}{suffix}",
        "postgres": f"psql-mlp-{env}-{suffix}",
        "redis": f"redis-mlp-{env}-{suffix}",
        "eventhubs": f"evhns-mlp-{env}-{suffix}",
        "workspace": f"log-{prefix}",
        "cluster": f"aks-{prefix}",
        "des": f"des-{prefix}",
    }


@dataclass
class AzureSite:
    """What every step needs: config, names, tags and the region-pinned provider."""

    config: StackConfig
    azure: Azure
    names: dict[str, str]
    tags: dict[str, str]
    provider: azure_native.Provider
    resource_group: pulumi.Output[str]

    @property
    def location(self) -> str:
        return self.azure.location

    @property
    def protect(self) -> bool:
        return not self.config.ephemeral

    def opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on))

    def common(self) -> dict:
        """Args fields every Azure component shares."""
        return {
            "resource_group_name": self.resource_group,
            "location": self.location,
            "tags": self.tags,
        }

    def identity(self, name: str, *grants: Grant, **extra) -> ManagedIdentity:
        fields = {**self.common(), **extra}
        return ManagedIdentity(
            f"id-{name}",
            ManagedIdentityArgs(
                subscription_id=self.azure.subscription_id, grants=grants, **fields
            ),
            opts=self.opts(),
        )


@dataclass
class Security:
    logs: LogAnalytics
    network: Network
    vault: KeyVault
    cmk: ManagedIdentity  # Crypto Service Encryption User on the data and logs keys
    dr_vault: KeyVault | None
    geo_backup: ManagedIdentity | None


def _security(site: AzureSite) -> Security:
    config, azure = site.config, site.azure
    logs = LogAnalytics(
        "logs",
        LogAnalyticsArgs(
            workspace_name=site.names["workspace"],
            retention_days=max(30, config.logging.retention_days),
            **site.common(),
        ),
        opts=site.opts(),
    )
    network = Network(
        "net",
        NetworkArgs(
            name_prefix=site.names["prefix"], address_space=azure.vnet_cidr, **site.common()
        ),
        opts=site.opts(),
    )
    vault_zone = network.dns_zone_ids["privatelink.vaultcore.azure.net"]

    def key_vault(name: str, vault_name: str, keys: tuple[str, ...], location: str) -> KeyVault:
        fields = {**site.common(), "location": location}
        return KeyVault(
            name,
            KeyVaultArgs(
                vault_name=vault_name,
                tenant_id=azure.tenant_id,
                keys=keys,
                endpoint_subnet_id=network.subnets["endpoints"].id,
                endpoint_location=site.location,
                dns_zone_id=vault_zone,
                workspace_id=logs.id,
                protect=site.protect,
                **fields,
            ),
            opts=site.opts(),
        )

    vault = key_vault("kv", site.names["vault"], KEY_PURPOSES, site.location)
    cmk = site.identity(
        "cmk",
        Grant(ENCRYPTION_USER, vault.key_ids["data"]),
        Grant(ENCRYPTION_USER, vault.key_ids["logs"]),
    )
    dr_vault = geo_backup = None
    if in_country_pair(azure):
        # PostgreSQL geo-backups are encrypted with a key and identity in the paired region.
        dr_vault = key_vault("kv-dr", site.names["dr_vault"], ("backup",), azure.dr_location)
        geo_backup = site.identity(
            "geo-backup",
            Grant(ENCRYPTION_USER, dr_vault.key_ids["backup"]),
            location=azure.dr_location,
        )
    return Security(logs, network, vault, cmk, dr_vault, geo_backup)


@dataclass
class DataStores:
    storage: StorageAccount
    postgres: PostgresFlexible
    redis: RedisCache
    registry: ContainerRegistry
    storage_sku: str


def _data_stores(site: AzureSite, sec: Security) -> DataStores:
    config, azure, names = site.config, site.azure, site.names
    network, vault, cmk = sec.network, sec.vault, sec.cmk
    zones = network.dns_zone_ids
    endpoints = network.subnets["endpoints"].id
    storage_sku = "Standard_GZRS" if in_country_pair(azure) else "Standard_ZRS"

    def storage(name: str, account: str, key: str, **extra) -> StorageAccount:
        return StorageAccount(
            name,
            StorageAccountArgs(
                account_name=account,
                sku=storage_sku,
                key_vault_uri=vault.vault_uri,
                key_name=vault.keys[key].name,
                identity_id=cmk.id,
                endpoint_subnet_id=endpoints,
                dns_zone_ids={
                    "blob": zones["privatelink.blob.core.windows.net"],
                    "dfs": zones["privatelink.dfs.core.windows.net"],
                },
                protect=site.protect,
                **site.common(),
                **extra,
            ),
            opts=site.opts(cmk),
        )

    data = storage(
        "st",
        names["storage"],
        "data",
        containers=(ARTIFACTS_CONTAINER, OFFLINE_CONTAINER, AUDIT_CONTAINER),
        immutable_days={AUDIT_CONTAINER: config.logging.retention_days},
    )
    flow_storage = storage("st-logs", names["logs_storage"], "logs")
    flow_writer = site.identity("flowlogs", Grant("Storage Blob Data Contributor", flow_storage.id))
    VnetFlowLog(
        f"{names['prefix']}-vnet-flowlog",
        VnetFlowLogArgs(
            location=site.location,
            target_resource_id=network.vnet.id,
            storage_account_id=flow_storage.id,
            identity_id=flow_writer.id,
            workspace=sec.logs.workspace,
            retention_days=config.logging.retention_days,
            tags=site.tags,
        ),
        opts=site.opts(flow_writer),
    )

    postgres = PostgresFlexible(
        "pg",
        PostgresFlexibleArgs(
            server_name=names["postgres"],
            subnet_id=network.subnets["postgres"].id,
            dns_zone_id=network.postgres_dns_zone.id,
            key_uri=vault.key_uris["data"],
            identity_id=cmk.id,
            geo_backup_key_uri=sec.dr_vault.key_uris["backup"] if sec.dr_vault else None,
            geo_backup_identity_id=sec.geo_backup.id if sec.geo_backup else None,
            tenant_id=azure.tenant_id,
            databases=(Postgres.mlflow_database, Postgres.feast_database),
            workspace_id=sec.logs.id,
            protect=site.protect,
            **site.common(),
        ),
        opts=pulumi.ResourceOptions(
            # RandomPassword needs its own provider: default providers are disabled.
            providers=[site.provider, random.Provider("random")],
            depends_on=[cmk] + ([sec.geo_backup] if sec.geo_backup else []),
        ),
    )
    redis = RedisCache(
        "redis",
        RedisCacheArgs(
            cache_name=names["redis"],
            endpoint_subnet_id=endpoints,
            dns_zone_id=zones["privatelink.redis.cache.windows.net"],
            protect=site.protect,
            **site.common(),
        ),
        opts=site.opts(),
    )
    registry = ContainerRegistry(
        "acr",
        ContainerRegistryArgs(
            registry_name=azure.acr_name,
            key_uri=vault.key_uris["data"],
            identity_id=cmk.id,
            identity_client_id=cmk.client_id,
            endpoint_subnet_id=endpoints,
            dns_zone_id=zones["privatelink.azurecr.io"],
            workspace_id=sec.logs.id,
            protect=site.protect,
            **site.common(),
        ),
        opts=site.opts(cmk),
    )
    return DataStores(data, postgres, redis, registry, storage_sku)


def build_foundation(config: StackConfig) -> Foundation:
    from stacks import azure_cluster

    azure = config.azure
    if azure is None:
        raise ValueError("the azure target needs the `azure` config section")
    if config.logging.retention_days > 730:
        raise ValueError(
            "logging.retentionDays above 730 needs Log Analytics long-term retention, "
            "which this distribution does not configure on Azure"
        )
    names = physical_names(config, azure)
    tags = governance.cloud_tags(config)
    provider = azure_native.Provider(
        f"azure-{azure.location}",
        location=azure.location,
        subscription_id=azure.subscription_id,
        tenant_id=azure.tenant_id,
    )
    group = azure_native.resources.ResourceGroup(
        "rg",
        resource_group_name=names["rg"],
        location=azure.location,
        tags=tags,
        opts=pulumi.ResourceOptions(provider=provider, protect=not config.ephemeral),
    )
    site = AzureSite(config, azure, names, tags, provider, group.name)

    sec = _security(site)
    stores = _data_stores(site, sec)
    cluster = azure_cluster.build_cluster(site, sec, stores)
    storage_user = cluster.storage_identities
    kafka, kafka_facts = azure_cluster.build_event_hubs(site, sec, cluster)

    account = stores.storage.account_name
    return Foundation(
        platform="azure",
        location=azure.location,
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
        object_store=ObjectStore(
            kind="azure-blob",
            endpoint=stores.storage.blob_endpoint,
            region=azure.location,
            artifact_uri=pulumi.Output.concat(
                "wasbs://", ARTIFACTS_CONTAINER, "@", account, ".blob.core.windows.net/artifacts"
            ),
            offline_store_uri=pulumi.Output.concat(
                "abfss://", OFFLINE_CONTAINER, "@", account, ".dfs.core.windows.net/offline"
            ),
            credentials=None,  # Azure Workload Identity, see the annotations
            service_account_annotations={
                sa: {CLIENT_ID_ANNOTATION: identity.client_id}
                for sa, identity in storage_user.items()
            },
        ),
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
        kafka=kafka,
        # AKS GPU node images ship the NVIDIA driver and toolkit (gpuProfile.driver: Install).
        gpu_driver_preinstalled=True,
        workload_identity_egress=[azure_cluster.ENTRA_ID_EGRESS],
        exceptions=[LOG_ANALYTICS_PLATFORM_KEYS],
        workload_identity_pod_labels=dict(azure_cluster.WORKLOAD_IDENTITY_POD_LABEL),
        ready=[cluster.aks.cluster, *cluster.aks.node_pools],
        facts={
            "location": azure.location,
            "drLocation": azure.dr_location,
            "resourceGroup": site.resource_group,
            "clusterName": cluster.aks.name,
            "oidcIssuer": cluster.aks.oidc_issuer,
            "registry": stores.registry.login_server,
            "keyVault": sec.vault.vault_uri,
            "logAnalyticsWorkspace": sec.logs.id,
            "storageRedundancy": stores.storage_sku,
            "postgresGeoBackup": sec.dr_vault is not None,
            "workloadIdentityPodLabels": azure_cluster.WORKLOAD_IDENTITY_POD_LABEL,
            **kafka_facts,
        },
    )
