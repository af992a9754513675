"""Data stores of the Azure target, and the identities that reach them.

| what | component |
|---|---|
| storage account: MLflow artifacts, Feast offline store, WORM audit container | `StorageAccount` |
| flow-log storage, its writer identity, the VNet flow log | `StorageAccount`, `VnetFlowLog` |
| PostgreSQL Flexible Server (MLflow and Feast registry databases) | `PostgresFlexible` |
| Azure Cache for Redis (Feast online store) | `RedisCache` |
| MLflow and Feast workload identities on their own container | `ManagedIdentity` (2) |

Storage is GZRS and PostgreSQL keeps geo-redundant backups only when the DR location is the
UAE pair of the primary (`site.in_country_pair`); otherwise ZRS and no geo-backup. The cache
takes no customer-managed key: a declared exception (`REDIS_PLATFORM_KEYS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components import conventions as c
from components.azure.databases import (
    PostgresFlexible,
    PostgresFlexibleArgs,
    RedisCache,
    RedisCacheArgs,
)
from components.azure.identity import FederatedSubject, Grant, ManagedIdentity
from components.azure.monitoring import VnetFlowLog, VnetFlowLogArgs, archive_activity_log
from components.azure.storage import StorageAccount, StorageAccountArgs
from components.endpoints import Postgres
from stacks.foundation import SecurityException
from stacks.targets.azure.cluster import AzureCluster
from stacks.targets.azure.security import Security
from stacks.targets.azure.site import (
    ARTIFACTS_CONTAINER,
    AUDIT_CONTAINER,
    OFFLINE_CONTAINER,
    AzureSite,
    in_country_pair,
)


@dataclass
class DataStores:
    storage: StorageAccount
    postgres: PostgresFlexible
    redis: RedisCache
    storage_sku: str
    storage_identities: dict[str, ManagedIdentity]  # service account → identity


def build_data_stores(cluster: AzureCluster) -> DataStores:
    site, sec = cluster.site, cluster.security
    storage_sku = "Standard_GZRS" if in_country_pair(site.azure) else "Standard_ZRS"
    data = _storage_accounts(site, sec, storage_sku)
    return DataStores(
        storage=data,
        postgres=_postgres(site, sec),
        redis=_redis(site, sec),
        storage_sku=storage_sku,
        storage_identities=_storage_identities(cluster, data),
    )


def _storage_accounts(site: AzureSite, sec: Security, sku: str) -> StorageAccount:
    """The data account (artifacts, offline store, WORM audit) and the flow-log account."""
    config, names, vault, cmk = site.config, site.names, sec.vault, sec.cmk
    zones = sec.network.dns_zone_ids

    def storage(name: str, account: str, key: str, **extra) -> StorageAccount:
        return StorageAccount(
            name,
            StorageAccountArgs(
                account_name=account,
                sku=sku,
                key_vault_uri=vault.vault_uri,
                key_name=vault.keys[key].name,
                identity_id=cmk.id,
                endpoint_subnet_id=sec.network.subnets["endpoints"].id,
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
    # the Activity Log's write-once copy: fed by this setting into AUDIT_CONTAINER (UAE-LOG-005)
    archive_activity_log(names["prefix"], data.id, site.opts(data))
    flow_storage = storage("st-logs", names["logs_storage"], "logs")
    flow_writer = site.identity("flowlogs", Grant("Storage Blob Data Contributor", flow_storage.id))
    VnetFlowLog(
        f"{names['prefix']}-vnet-flowlog",
        VnetFlowLogArgs(
            location=site.location,
            target_resource_id=sec.network.vnet.id,
            storage_account_id=flow_storage.id,
            identity_id=flow_writer.id,
            workspace=sec.logs.workspace,
            retention_days=config.logging.retention_days,
            tags=site.tags,
        ),
        opts=site.opts(flow_writer),
    )
    return data


def _postgres(site: AzureSite, sec: Security) -> PostgresFlexible:
    network = sec.network
    return PostgresFlexible(
        "pg",
        PostgresFlexibleArgs(
            server_name=site.names["postgres"],
            subnet_id=network.subnets["postgres"].id,
            dns_zone_id=network.postgres_dns_zone.id,
            key_uri=sec.vault.key_uris["data"],
            identity_id=sec.cmk.id,
            geo_backup_key_uri=sec.dr_vault.key_uris["backup"] if sec.dr_vault else None,
            geo_backup_identity_id=sec.geo_backup.id if sec.geo_backup else None,
            tenant_id=site.azure.tenant_id,
            databases=(Postgres.mlflow_database, Postgres.feast_database),
            workspace_id=sec.logs.id,
            protect=site.protect,
            **site.common(),
        ),
        opts=pulumi.ResourceOptions(
            # RandomPassword needs its own provider: default providers are disabled.
            providers=[site.provider, random.Provider("random")],
            depends_on=[sec.cmk] + ([sec.geo_backup] if sec.geo_backup else []),
        ),
    )


# Azure Cache for Redis Premium offers no customer-managed key (only Azure Managed Redis, the
# `redisenterprise` service, does); the cache keeps nothing on disk (no RDB/AOF persistence).
REDIS_PLATFORM_KEYS = SecurityException(
    control="8.24",
    policy="UAE-KEY-001",
    what="the Feast online store (Azure Cache for Redis Premium) is not encrypted with the "
    "platform's Key Vault key",
    why="Azure Cache for Redis Premium takes no customer-managed key; the cache runs without "
    "persistence, so the features it serves live in memory only (rebuilt from the offline "
    "store by materialisation), behind a private endpoint, TLS 1.2, in the stack's location",
    remedy="move the online store to Azure Managed Redis (Microsoft.Cache/redisEnterprise) with "
    "encryption.customerManagedKeyEncryption on the `data` key where it is offered in the "
    "stack's location, and point Feast at its endpoint (port 10000)",
)


def _redis(site: AzureSite, sec: Security) -> RedisCache:
    network = sec.network
    return RedisCache(
        "redis",
        RedisCacheArgs(
            cache_name=site.names["redis"],
            endpoint_subnet_id=network.subnets["endpoints"].id,
            dns_zone_id=network.dns_zone_ids["privatelink.redis.cache.windows.net"],
            protect=site.protect,
            **site.common(),
        ),
        opts=site.opts(),
    )


def _storage_identities(
    cluster: AzureCluster, storage: StorageAccount
) -> dict[str, ManagedIdentity]:
    """MLflow and Feast: Storage Blob Data Contributor on their own container, federated with
    their service accounts (`conventions.SA_MLFLOW` in `NS_MLFLOW`, ...)."""
    return {
        sa: cluster.site.identity(
            sa,
            Grant("Storage Blob Data Contributor", storage.container_ids[container]),
            issuer=cluster.aks.oidc_issuer,
            subjects=(FederatedSubject(namespace, sa),),
        )
        for sa, namespace, container in (
            (c.SA_MLFLOW, c.NS_MLFLOW, ARTIFACTS_CONTAINER),
            (c.SA_FEAST, c.NS_FEAST, OFFLINE_CONTAINER),
        )
    }
