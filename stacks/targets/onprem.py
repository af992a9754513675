"""The on-prem target: an existing Kubernetes cluster in a UAE data centre.

What the site already has is referenced, not created: the cluster (kube context), the GPU
nodes (claimed by label + taint), the S3-compatible object store (endpoint + a credentials
Secret the site provides in consumer namespaces, with a CA Secret beside it when the store's
certificate comes from an internal CA), the keys (URIs of the site's Vault transit keys or HSM
objects; no key material enters the program), and optionally Postgres/Redis
(`onprem.<store>.mode: existing`, each with its `caSecret` when needed). What it lacks is
deployed in the cluster: PostgreSQL (CloudNativePG) and Redis (redis-operator), serving TLS
from the platform CA, which is why the program declares the PKI between this target's two
steps:

| step | function | what |
|---|---|---|
| 1 | `build_cluster` | the Kubernetes provider (kube context); `GpuNodePool` per pool |
| 2 | `build_foundation` | the object store (referenced); `OnPremDataStores` (certificates |
| | | from the PKI of the previous step); key URIs; the `Foundation` |

Postgres backups go to the site object store under `<objectStore.backupBucket>/postgres`,
encrypted (AES256 server-side) and never leaving the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.api_server import ApiServer
from components.datastores import (
    POSTGRES_PORT,
    REDIS_PORT,
    DataStoresArgs,
    OnPremDataStores,
    PostgresBackup,
)
from components.endpoints import Credentials, EgressRule, ObjectStore, Postgres, Redis
from components.gpu import GpuNodePool, GpuNodePoolArgs
from components.pki import CA_BUNDLE, PlatformPki
from stacks import artifacts, governance
from stacks.config import ExistingService, StackConfig
from stacks.config.model import OnPrem
from stacks.foundation import Foundation, GpuPoolInfo, OnPremFacts, SitePrerequisite


@dataclass(frozen=True)
class OnPremCluster:
    """Step 1: the site's cluster as the platform reaches it, and its claimed GPU nodes."""

    site: OnPrem
    k8s_provider: k8s.Provider
    gpu_pools: list[GpuPoolInfo]
    node_patches: list[pulumi.Resource]


def build_cluster(config: StackConfig) -> OnPremCluster:
    onprem = config.onprem
    if onprem is None:  # the loader's validation already refused this
        raise ValueError("mlplatform:onprem is required when target is 'onprem'")
    provider = k8s.Provider(
        "onprem-k8s",
        context=onprem.kube_context,
        enable_server_side_apply=True,
    )
    labels = governance.platform_labels(config)
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
            opts=pulumi.ResourceOptions(provider=provider),
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
    return OnPremCluster(onprem, provider, pools, patches)


def build_foundation(config: StackConfig, cluster: OnPremCluster, pki: PlatformPki) -> Foundation:
    onprem = cluster.site
    stores = _data_stores(config, cluster, pki)
    ready: list[pulumi.Resource] = [*cluster.node_patches]
    if stores is not None:
        ready.append(stores)
    keys = onprem.keys
    return Foundation(
        platform="onprem",
        location=onprem.site.name,
        facts=_facts(config, onprem),
        k8s_provider=cluster.k8s_provider,
        storage_class=onprem.storage_class,
        postgres=_postgres(onprem, stores),
        redis=_redis(onprem, stores),
        object_store=_object_store(onprem),
        key_refs={
            "data": keys.data_key_uri,
            "secrets": keys.secrets_key_uri,
            "logs": keys.logs_key_uri,
        },
        gpu_pools=cluster.gpu_pools,
        api_server=api_server(onprem),
        kafka=None,  # Strimzi in-cluster
        gpu_driver_preinstalled=False,
        prerequisites=site_prerequisites(config, onprem),
        object_store_egress=object_store_egress(onprem),
        ready=ready,
    )


def site_prerequisites(config: StackConfig, onprem: OnPrem) -> list[SitePrerequisite]:
    """What the site creates before `pulumi up`: the Secrets its own services need in the
    namespaces that consume them, and its encrypted StorageClass."""
    store, found = onprem.object_store, []
    store_users = [c.NS_MLFLOW, c.NS_FEAST]
    if onprem.postgres.mode == "operator":
        store_users.append(c.NS_DATA)  # CloudNativePG's backups
    found.append(
        _secret(
            store.credentials_secret,
            store_users,
            ("username", "password"),
            f"the access key of the platform's user on {store.endpoint} (artifacts, offline "
            "store, backups)",
            "--from-literal=username=<access key> --from-literal=password=<secret key>",
        )
    )
    if config.sample_workloads.enabled:  # the sample tenant reads its data with its own user
        tenant = c.tenant_namespace(config.sample_workloads.tenant)
        found.append(
            _secret(
                store.credentials_secret,
                [tenant],
                ("username", "password"),
                f"the tenant's own user on {store.endpoint}, limited by the site's policy to the "
                "tenant's prefix (its training data, batch scores)",
                "--from-literal=username=<access key> --from-literal=password=<secret key>",
            )
        )
        store_users.append(tenant)  # for the CA Secret below
    if store.ca_secret:
        found.append(_ca_secret(store.ca_secret, store_users, store.endpoint))
    for name, existing, users in (
        ("postgres", onprem.postgres.existing, [c.NS_MLFLOW, c.NS_FEAST]),
        ("redis", onprem.redis.existing, [c.NS_FEAST]),
    ):
        if existing is None:
            continue
        found.append(
            _secret(
                existing.credentials_secret,
                users,
                ("username", "password"),
                f"the platform's user on the site's {name} at {existing.host}",
                "--from-literal=username=<user> --from-literal=password=<password>",
            )
        )
        if existing.ca_secret:
            found.append(_ca_secret(existing.ca_secret, users, existing.host))
    found.append(
        SitePrerequisite(
            kind="StorageClass",
            name=onprem.storage_class,
            namespaces=(),
            purpose="encrypted volumes for Kafka, PostgreSQL and Redis (onprem.storageClass)",
            how="the site's CSI driver's StorageClass with encryption at rest "
            "(e.g. dm-crypt/LUKS or the array's own), named as onprem.storageClass",
        )
    )
    return found


def _secret(
    name: str, namespaces: list[str], keys: tuple[str, ...], purpose: str, literals: str
) -> SitePrerequisite:
    return SitePrerequisite(
        kind="Secret",
        name=name,
        namespaces=tuple(sorted(set(namespaces))),
        purpose=purpose,
        how=f"in each namespace: kubectl create namespace <ns> (if absent), then kubectl -n "
        f"<ns> create secret generic {name} {literals}",
        keys=keys,
    )


def _ca_secret(name: str, namespaces: list[str], server: str) -> SitePrerequisite:
    return _secret(
        name,
        namespaces,
        ("ca.crt",),
        f"the internal CA that signed {server}'s certificate",
        "--from-file=ca.crt=<the CA's PEM certificate>",
    )


def api_server(onprem: OnPrem) -> ApiServer:
    """The site's API server endpoints (`onprem.cluster.apiServerCidrs`), Cilium or not."""
    return ApiServer(tuple(onprem.cluster.api_server_cidrs), cilium=onprem.cluster.cni == "cilium")


def object_store_egress(onprem: OnPrem) -> tuple[EgressRule, ...]:
    """The site store's addresses on its endpoint's port (`onprem.objectStore.addresses`)."""
    store = onprem.object_store
    port = urlparse(store.endpoint).port or 443
    many = len(store.addresses) > 1
    return tuple(
        EgressRule(
            name=f"object-store-{i}" if many else "object-store",
            cidr=cidr,
            ports=(port,),
            why=f"the site's object store {store.endpoint}",
        )
        for i, cidr in enumerate(store.addresses, start=1)
    )


def _object_store(onprem: OnPrem) -> ObjectStore:
    store = onprem.object_store
    return ObjectStore(
        kind="s3",
        endpoint=store.endpoint,
        region=store.region,
        artifact_uri=f"s3://{store.artifact_bucket}/mlflow",
        offline_store_uri=f"s3://{store.offline_store_bucket}/feast",
        credentials=Credentials(existing_secret=store.credentials_secret),
        ca_secret=store.ca_secret,  # None: a CA the clients' system store already trusts
    )


def _data_stores(
    config: StackConfig, cluster: OnPremCluster, pki: PlatformPki
) -> OnPremDataStores | None:
    """PostgreSQL and/or Redis in the cluster, unless the site runs both (`mode: existing`)."""
    onprem = cluster.site
    pg_cfg, redis_cfg, store = onprem.postgres, onprem.redis, onprem.object_store
    deploy_pg, deploy_redis = pg_cfg.mode == "operator", redis_cfg.mode == "operator"
    if not (deploy_pg or deploy_redis):
        return None
    backup = PostgresBackup(
        destination=f"s3://{store.backup_bucket}/postgres",
        endpoint=store.endpoint,
        credentials_secret=store.credentials_secret,
        ca_secret=store.ca_secret,
    )
    return OnPremDataStores(
        "data",
        DataStoresArgs(
            mirror=config.image_registry,
            labels=governance.platform_labels(config),
            storage_class=onprem.storage_class,
            postgres=artifacts.postgres_spec(
                pg_cfg.instances, pg_cfg.storage_gi, backup, artifacts.pin_for(config)
            )
            if deploy_pg
            else None,
            redis=artifacts.redis_spec(
                redis_cfg.replicas, redis_cfg.storage_gi, artifacts.pin_for(config)
            )
            if deploy_redis
            else None,
            pull_secret=config.registry.pull_secret,
            api_server=api_server(onprem),
            object_store_egress=object_store_egress(onprem),
            protect=not config.ephemeral,
            ready=tuple(pki.ready),
        ),
        opts=pulumi.ResourceOptions(provider=cluster.k8s_provider),
    )


def _postgres(onprem: OnPrem, stores: OnPremDataStores | None) -> Postgres:
    if stores is not None and stores.postgres_host is not None:
        return Postgres(
            host=stores.postgres_host,
            port=POSTGRES_PORT,
            credentials=Credentials(username="mlplatform", password=stores.postgres_password),
            ssl_mode="verify-full",
            ca_secret=CA_BUNDLE,  # the platform CA signed the server certificate
        )
    existing = _existing(onprem.postgres.existing, "postgres")
    return Postgres(
        host=existing.host,
        port=existing.port,
        credentials=Credentials(existing_secret=existing.credentials_secret),
        ssl_mode="verify-full",
        ca_secret=existing.ca_secret,  # None: a CA the clients' system store already trusts
    )


def _redis(onprem: OnPrem, stores: OnPremDataStores | None) -> Redis:
    if stores is not None and stores.redis_host is not None:
        return Redis(
            host=stores.redis_host,
            port=REDIS_PORT,
            credentials=Credentials(password=stores.redis_password),
            tls=True,
            ca_secret=CA_BUNDLE,  # the platform CA signed the server certificate
        )
    existing = _existing(onprem.redis.existing, "redis")
    return Redis(
        host=existing.host,
        port=existing.port,
        credentials=Credentials(existing_secret=existing.credentials_secret),
        tls=True,
        ca_secret=existing.ca_secret,  # None: a CA the clients' system store already trusts
    )


def _existing(existing: ExistingService | None, store: str) -> ExistingService:
    if existing is None:  # validation requires it with mode: existing
        raise ValueError(f"onprem.{store}.existing is required when mode is 'existing'")
    return existing


def _facts(config: StackConfig, onprem: OnPrem) -> OnPremFacts:
    return OnPremFacts(
        site=onprem.site.name,
        country=onprem.site.country,
        emirate=onprem.site.emirate,
        facility=onprem.site.facility,
        kube_context=onprem.kube_context or "",
        key_provider=onprem.keys.provider,
        object_store_endpoint=onprem.object_store.endpoint,
        postgres=onprem.postgres.mode,
        redis=onprem.redis.mode,
        cluster_issuer=c.CLUSTER_ISSUER,
        gpu_nodes={pool.name: list(pool.nodes) for pool in config.gpu_pools},
        cni=onprem.cluster.cni,
        api_server_cidrs=list(onprem.cluster.api_server_cidrs),
        pod_cidrs=list(onprem.cluster.pod_cidrs),
        node_pools=_node_pools(config, onprem),
    )


def _node_pools(config: StackConfig, onprem: OnPrem) -> list[dict[str, object]]:
    """The site's pools as the contract states them: per-node allocatable, GPUs, node names."""
    workers = onprem.cluster.workers
    pools: list[dict[str, object]] = [
        {"name": "workers", "cpu": str(workers.cpu), "memory": str(workers.memory)}
    ]
    for pool in config.gpu_pools:
        size = onprem.cluster.gpu_nodes[pool.name]
        pools.append(
            {
                "name": pool.name,
                "cpu": str(size.cpu),
                "memory": str(size.memory),
                "gpusPerNode": pool.gpus_per_node,
                "nodes": list(pool.nodes),
            }
        )
    return pools
