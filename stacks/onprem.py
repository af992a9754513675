"""The on-prem foundation: an existing Kubernetes cluster in a UAE data centre.

What the site already has is referenced, not created: the cluster (kube context), the GPU
nodes (claimed by label + taint), the S3-compatible object store (endpoint + a credentials
Secret the site provides in consumer namespaces, with a CA Secret beside it when the store's
certificate comes from an internal CA), the keys (URIs of the site's Vault transit keys or HSM
objects; no key material enters the program), and optionally Postgres/Redis
(`onprem.<store>.mode: existing`, each with its `caSecret` when needed). What it lacks is
deployed in the cluster: PostgreSQL (CloudNativePG) and Redis (redis-operator), serving TLS
from the platform CA, whose cert-manager/CA this foundation therefore declares first
(`core.platform_pki`; the platform layer reuses the same component).

Postgres backups go to the site object store under `<objectStore.backupBucket>/postgres`,
encrypted (AES256 server-side) and never leaving the site.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.datastores import (
    POSTGRES_PORT,
    REDIS_PORT,
    DataStoresArgs,
    OnPremDataStores,
    PostgresBackup,
)
from components.endpoints import Credentials, ObjectStore, Postgres, Redis
from components.gpu import GpuNodePool, GpuNodePoolArgs
from components.pki import CA_BUNDLE
from stacks import artifacts, governance
from stacks.config import ExistingService, StackConfig
from stacks.foundation import Foundation, GpuPoolInfo
from stacks.services.core import platform_pki


def build_foundation(config: StackConfig) -> Foundation:
    onprem = config.onprem
    if onprem is None:  # the loader's validation already refused this
        raise ValueError("mlplatform:onprem is required when target is 'onprem'")
    labels = governance.platform_labels(config)
    protect = not config.ephemeral

    provider = k8s.Provider(
        "onprem-k8s",
        context=onprem.kube_context,
        enable_server_side_apply=True,
    )
    opts = pulumi.ResourceOptions(provider=provider)

    pools: list[GpuPoolInfo] = []
    patches: list[pulumi.Resource] = []
    for pool in config.gpu_pools:
        product = pool.product("onprem")
        node_pool = GpuNodePool(
            f"gpu-pool-{pool.name}",
            GpuNodePoolArgs(
                pool=pool.name,
                product=product,
                nodes=tuple(pool.nodes),
                gpus_per_node=pool.gpus_per_node,
                labels=labels,
            ),
            opts=opts,
        )
        patches.append(node_pool)
        pools.append(
            GpuPoolInfo(
                name=pool.name,
                product=product,
                gpus_per_node=pool.gpus_per_node,
                capacity=node_pool.capacity,
                labels=node_pool.node_labels,
            )
        )

    store = onprem.object_store
    artifact_root = f"s3://{store.artifact_bucket}"
    object_store = ObjectStore(
        kind="s3",
        endpoint=store.endpoint,
        region=store.region,
        artifact_uri=f"{artifact_root}/mlflow",
        offline_store_uri=f"s3://{store.offline_store_bucket}/feast",
        credentials=Credentials(existing_secret=store.credentials_secret),
        ca_secret=store.ca_secret,  # None: a CA the clients' system store already trusts
    )

    pg_cfg, redis_cfg = onprem.postgres, onprem.redis
    deploy_pg = pg_cfg.mode == "operator"
    deploy_redis = redis_cfg.mode == "operator"
    ready: list[pulumi.Resource] = [*patches]
    stores: OnPremDataStores | None = None
    if deploy_pg or deploy_redis:
        pki = platform_pki(config, provider)
        stores = OnPremDataStores(
            "data",
            DataStoresArgs(
                mirror=config.image_registry,
                labels=labels,
                storage_class=onprem.storage_class,
                postgres=artifacts.postgres_spec(
                    instances=pg_cfg.instances,
                    storage_gi=pg_cfg.storage_gi,
                    backup=PostgresBackup(
                        destination=f"s3://{store.backup_bucket}/postgres",
                        endpoint=store.endpoint,
                        credentials_secret=store.credentials_secret,
                        ca_secret=store.ca_secret,
                    ),
                )
                if deploy_pg
                else None,
                redis=artifacts.redis_spec(
                    replicas=redis_cfg.replicas, storage_gi=redis_cfg.storage_gi
                )
                if deploy_redis
                else None,
                pull_secret=config.registry.pull_secret,
                protect=protect,
                ready=tuple(pki.ready),
            ),
            opts=opts,
        )
        ready.append(stores)

    if deploy_pg and stores is not None and stores.postgres_host is not None:
        postgres = Postgres(
            host=stores.postgres_host,
            port=POSTGRES_PORT,
            credentials=Credentials(username="mlplatform", password=stores.postgres_password),
            ssl_mode="verify-full",
            ca_secret=CA_BUNDLE,  # the platform CA signed the server certificate
        )
    else:
        postgres = _existing_postgres(pg_cfg.existing)
    if deploy_redis and stores is not None and stores.redis_host is not None:
        redis = Redis(
            host=stores.redis_host,
            port=REDIS_PORT,
            credentials=Credentials(password=stores.redis_password),
            tls=True,
            ca_secret=CA_BUNDLE,  # the platform CA signed the server certificate
        )
    else:
        redis = _existing_redis(redis_cfg.existing)

    keys = onprem.keys
    return Foundation(
        platform="onprem",
        location=onprem.site.name,
        k8s_provider=provider,
        storage_class=onprem.storage_class,
        postgres=postgres,
        redis=redis,
        object_store=object_store,
        key_refs={
            "data": keys.data_key_uri,
            "secrets": keys.secrets_key_uri,
            "logs": keys.logs_key_uri,
        },
        gpu_pools=pools,
        kafka=None,  # Strimzi in-cluster
        gpu_driver_preinstalled=False,
        ready=ready,
        facts={
            "site": onprem.site.name,
            "country": onprem.site.country,
            "emirate": onprem.site.emirate,
            "facility": onprem.site.facility,
            "kubeContext": onprem.kube_context or "",
            "keyProvider": keys.provider,
            "objectStoreEndpoint": store.endpoint,
            "postgres": pg_cfg.mode,
            "redis": redis_cfg.mode,
            "clusterIssuer": c.CLUSTER_ISSUER,
            # Host names of the existing GPU nodes, per pool: post-deploy verification reaches
            # them over SSH without needing the cluster's API.
            "gpuNodes": {pool.name: list(pool.nodes) for pool in config.gpu_pools},
        },
    )


def _existing_postgres(existing: ExistingService | None) -> Postgres:
    if existing is None:  # validation requires it with mode: existing
        raise ValueError("onprem.postgres.existing is required when mode is 'existing'")
    return Postgres(
        host=existing.host,
        port=existing.port,
        credentials=Credentials(existing_secret=existing.credentials_secret),
        ssl_mode="verify-full",
        ca_secret=existing.ca_secret,  # None: a CA the clients' system store already trusts
    )


def _existing_redis(existing: ExistingService | None) -> Redis:
    if existing is None:
        raise ValueError("onprem.redis.existing is required when mode is 'existing'")
    return Redis(
        host=existing.host,
        port=existing.port,
        credentials=Credentials(existing_secret=existing.credentials_secret),
        tls=True,
        ca_secret=existing.ca_secret,  # None: a CA the clients' system store already trusts
    )
