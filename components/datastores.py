"""On-prem data stores in the cluster: PostgreSQL (CloudNativePG) and Redis (OT redis-operator).

Used when the site does not already run them (`onprem.postgres.mode` / `onprem.redis.mode` =
`operator`); with `existing`, nothing is deployed and the foundation points at the site's
service. Both stores serve TLS only, with certificates from the platform CA (clients verify with
the `mlplatform-ca-bundle` every platform namespace carries), and require a password that
Pulumi generates (kept as a secret in the stack state, encrypted by the stack's secrets
provider) and hands to consumers through the foundation's `Credentials`.

| child | purpose |
|---|---|
| Namespace `mlplatform-data` | PSS restricted |
| NetworkPolicy x4-7 | default deny; DNS + in-namespace; the API server (operators, instance |
| | manager; + a CiliumNetworkPolicy on Cilium), the object store's addresses on its port |
| | (backups); Postgres only from MLflow/Feast, Redis only from Feast, the CNPG webhook port |
| helm Release cloudnative-pg | pinned operator, this namespace only, image from the mirror |
| RandomPassword + Secret `<pg>-app` | the application role's credentials (basic-auth) |
| Certificate `<pg>-server` | serving certificate for the -rw/-ro/-r services |
| Cluster `<pg>` (postgresql.cnpg.io/v1) | instances/storage from config, one per host, |
| | TLS-only pg_hba, checksums, no superuser, encrypted WAL + base backups to the object |
| | store, protected |
| Database `feast-registry` | the Feast registry database (the MLflow one is created at bootstrap) |
| ScheduledBackup | nightly base backup |
| helm Release redis-operator | pinned operator, image from the mirror |
| RandomPassword + Secret `<redis>-auth` | Redis AUTH password |
| Certificate `<redis>-tls` | serving certificate for Redis and its Sentinels |
| RedisReplication `<redis>` | redis.redis.opstreelabs.in/v1beta2: primary + replicas, |
| | Sentinel failover, TLS, AUTH, persistent storage, protected |

The CNPG and redis-operator custom resources are rendered from their upstream CRDs
(CloudNativePG chart 0.26.1 / operator 1.27.1, redis-operator v0.26.0) but are not in the
project's reference CRD set, so CI does not schema-validate them.

Outputs: `postgres_host`, `postgres_port`, `postgres_password`, `redis_host`, `redis_port`,
`redis_password`, `ready`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import conventions as c
from components.api_server import ApiServer, api_server_egress
from components.endpoints import EgressRule, Postgres
from components.flows import External, Flow, Pods, operator_flows
from components.helm import helm_release
from components.namespace import platform_namespace, pull_secrets
from components.pki import server_certificate, service_dns_names
from version_catalogue.artifacts import Chart, Image

POSTGRES_PORT = 5432
REDIS_PORT = 6379
RUN_AS = 1000  # the redis image's non-root user (CNPG runs postgres as UID 26 itself)


REDIS_OPERATOR_UID = 65532  # distroless `nonroot`, the USER of the redis-operator image


@dataclass(frozen=True)
class PostgresBackup:
    """Where WAL and base backups go: the site's S3-compatible object store (in-country)."""

    destination: str  # s3://bucket/prefix
    endpoint: str  # https://s3.dc1.example.ae
    credentials_secret: str  # keys `username` (access key ID) and `password` (secret key)
    retention: str = "30d"
    ca_secret: str | None = None  # key `ca.crt`: the store's internal CA, if not a public one


@dataclass(frozen=True, kw_only=True)
class PostgresSpec:
    operator_chart: Chart  # cloudnative-pg
    operator_image: Image
    image: Image  # the PostgreSQL operand
    # From the stack's `onprem.postgres` config (no defaults here: the config model holds them)
    instances: int
    storage_gi: int
    backup: PostgresBackup | None
    cluster_name: str = "mlplatform-pg"
    owner: str = "mlplatform"
    database: str = Postgres.mlflow_database  # created at bootstrap
    extra_databases: tuple[str, ...] = (Postgres.feast_database,)


@dataclass(frozen=True, kw_only=True)
class RedisSpec:
    operator_chart: Chart  # redis-operator
    operator_image: Image
    image: Image
    sentinel_image: Image
    # From the stack's `onprem.redis` config (no defaults here: the config model holds them)
    replicas: int
    storage_gi: int
    name: str = "mlplatform-redis"
    sentinels: int = 3


@dataclass(frozen=True, kw_only=True)
class DataStoresArgs:
    mirror: str
    labels: dict[str, str]
    storage_class: str
    postgres: PostgresSpec | None  # None: the site runs its own (`mode: existing`)
    redis: RedisSpec | None
    pull_secret: str | None
    protect: bool = True
    ready: tuple[pulumi.Resource, ...] = ()  # the platform PKI (Certificates need cert-manager)
    # Namespaces whose pods may connect (MLflow and Feast hold the store credentials).
    postgres_clients: tuple[str, ...] = (c.NS_MLFLOW, c.NS_FEAST)
    redis_clients: tuple[str, ...] = (c.NS_FEAST,)
    # Where the stores open connections outside the namespace: the API server (operators, the
    # CNPG instance manager; components.api_server) and the object store (backups), nothing else.
    api_server: ApiServer
    object_store_egress: tuple[EgressRule, ...]  # the store's addresses on its endpoint's port


class OnPremDataStores(pulumi.ComponentResource):
    postgres_host: str | None = None
    redis_host: str | None = None

    def __init__(self, name: str, args: DataStoresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:data:OnPremDataStores", name, None, opts)
        self.args = args
        self.namespace = platform_namespace(
            f"{name}-ns",
            c.NS_DATA,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            flows=_flows(args),
        )
        self.random_provider = random.Provider(
            f"{name}-random", opts=pulumi.ResourceOptions(parent=self)
        )
        self.ready: list[pulumi.Resource] = []
        self.postgres_port, self.redis_port = POSTGRES_PORT, REDIS_PORT
        self.postgres_password: pulumi.Output[str] | None = None
        self.redis_password: pulumi.Output[str] | None = None
        if args.postgres:
            self._postgres(name, args.postgres)
        if args.redis:
            self._redis(name, args.redis)
        self._network_policies(name)
        self.register_outputs({"postgresHost": self.postgres_host, "redisHost": self.redis_host})

    # ------------------------------------------------------------------ network

    def _network_policies(self, name: str) -> None:
        """Default deny; then DNS, in-namespace traffic, named clients, API/object-store egress."""
        a, ns = self.args, c.NS_DATA
        opts = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        for suffix, spec in _policy_specs(a):
            metadata: Any = {"name": suffix, "namespace": ns, "labels": a.labels}
            body: Any = spec
            k8s.networking.v1.NetworkPolicy(
                f"{name}-np-{suffix}", metadata=metadata, spec=body, opts=opts
            )
        api_server_egress(name, ns, a.labels, {}, a.api_server, opts)

    # ------------------------------------------------------------------ PostgreSQL

    def _postgres(self, name: str, pg: PostgresSpec) -> None:
        a, ns = self.args, c.NS_DATA
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        operator = helm_release(
            f"{name}-cnpg",
            release="cloudnative-pg",
            chart=pg.operator_chart,
            mirror=a.mirror,
            namespace=ns,
            values={
                "replicaCount": 2,
                "image": {
                    "repository": f"{a.mirror}/{pg.operator_image.path}",
                    "tag": pg.operator_image.pinned_tag,
                },
                "imagePullSecrets": pull_secrets(a.pull_secret),
                "config": {"clusterWide": False},  # manages Clusters in this namespace only
                "crds": {"create": True},
            },
            opts=in_ns,
        )
        password = random.RandomPassword(
            f"{name}-pg-password",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=self.random_provider),
        )
        app_secret = k8s.core.v1.Secret(
            f"{name}-pg-app",
            metadata={"name": f"{pg.cluster_name}-app", "namespace": ns, "labels": a.labels},
            type="kubernetes.io/basic-auth",
            string_data={"username": pg.owner, "password": password.result},
            opts=in_ns,
        )
        services = [f"{pg.cluster_name}-{suffix}" for suffix in ("rw", "ro", "r")]
        certificate = server_certificate(
            f"{name}-pg-tls",
            name=f"{pg.cluster_name}-server",
            namespace=ns,
            dns_names=[dns for svc in services for dns in service_dns_names(svc, ns)],
            labels=a.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *a.ready]),
        )
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-pg",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata={"name": pg.cluster_name, "namespace": ns, "labels": a.labels},
            spec=_postgres_cluster_spec(a, pg),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[operator, app_secret, certificate], protect=a.protect
            ),
        )
        self._postgres_databases(name, pg, cluster)
        self.postgres_host = f"{pg.cluster_name}-rw.{ns}.svc"
        self.postgres_password = password.result
        self.ready += [operator, cluster]

    def _postgres_databases(self, name: str, pg: PostgresSpec, cluster: pulumi.Resource) -> None:
        """The extra databases (Feast's registry), and the nightly base backup."""
        a, ns = self.args, c.NS_DATA
        after_cluster = pulumi.ResourceOptions(parent=self, depends_on=[cluster], protect=a.protect)
        for database in pg.extra_databases:
            k8s.apiextensions.CustomResource(
                f"{name}-db-{database.replace('_', '-')}",
                api_version="postgresql.cnpg.io/v1",
                kind="Database",
                metadata={
                    "name": database.replace("_", "-"),
                    "namespace": ns,
                    "labels": a.labels,
                },
                spec={
                    "name": database,
                    "owner": pg.owner,
                    "cluster": {"name": pg.cluster_name},
                    "ensure": "present",
                    "databaseReclaimPolicy": "retain",
                },
                opts=after_cluster,
            )
        if pg.backup:
            k8s.apiextensions.CustomResource(
                f"{name}-pg-nightly",
                api_version="postgresql.cnpg.io/v1",
                kind="ScheduledBackup",
                metadata={
                    "name": f"{pg.cluster_name}-nightly",
                    "namespace": ns,
                    "labels": a.labels,
                },
                spec={
                    "schedule": "0 0 2 * * *",
                    "backupOwnerReference": "self",
                    "cluster": {"name": pg.cluster_name},
                    "method": "barmanObjectStore",
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
            )

    # ------------------------------------------------------------------ Redis

    def _redis(self, name: str, rd: RedisSpec) -> None:
        a, ns = self.args, c.NS_DATA
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        operator = helm_release(
            f"{name}-redis-operator",
            release="redis-operator",
            chart=rd.operator_chart,
            mirror=a.mirror,
            namespace=ns,
            values={
                "redisOperator": {
                    "imageName": f"{a.mirror}/{rd.operator_image.path}",
                    "imageTag": rd.operator_image.pinned_tag,
                    # the init container runs the operator image too; the chart's default tag
                    # for it would be unpinned (MIRROR-001)
                    "initContainerImageTag": rd.operator_image.pinned_tag,
                    "imagePullPolicy": "IfNotPresent",
                    "imagePullSecrets": pull_secrets(a.pull_secret),
                    "watchNamespace": ns,
                    "webhook": False,
                },
                # The chart's defaults are `{}`: Pod Security `restricted` (this namespace
                # enforces it) refuses such a pod. The image runs as distroless `nonroot`.
                "podSecurityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": REDIS_OPERATOR_UID,
                    "runAsGroup": REDIS_OPERATOR_UID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "certmanager": {"enabled": False},
                "issuer": {"create": False},
            },
            opts=in_ns,
        )
        password = random.RandomPassword(
            f"{name}-redis-password",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=self.random_provider),
        )
        auth = k8s.core.v1.Secret(
            f"{name}-redis-auth",
            metadata={"name": f"{rd.name}-auth", "namespace": ns, "labels": a.labels},
            type="Opaque",
            string_data={"password": password.result},
            opts=in_ns,
        )
        services = [rd.name, f"{rd.name}-master", f"{rd.name}-headless", f"{rd.name}-sentinel"]
        certificate = server_certificate(
            f"{name}-redis-tls",
            name=f"{rd.name}-tls",
            namespace=ns,
            dns_names=[
                *(dns for svc in services for dns in service_dns_names(svc, ns)),
                f"*.{rd.name}-headless.{ns}.svc",
                f"*.{rd.name}-headless.{ns}.svc.cluster.local",
            ],
            labels=a.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *a.ready]),
        )
        replication = k8s.apiextensions.CustomResource(
            f"{name}-redis",
            api_version="redis.redis.opstreelabs.in/v1beta2",
            kind="RedisReplication",
            metadata={"name": rd.name, "namespace": ns, "labels": a.labels},
            spec=_redis_replication_spec(a, rd),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[operator, auth, certificate], protect=a.protect
            ),
        )
        # The operator keeps `<name>-master` pointed at the current primary.
        self.redis_host = f"{rd.name}-master.{ns}.svc"
        self.redis_password = password.result
        self.ready += [operator, replication]


# --------------------------------------------------------------------------- specs


def _from_namespaces(namespaces: tuple[str, ...], port: int) -> dict[str, Any]:
    return {
        "from": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
            for n in namespaces
        ],
        "ports": [{"protocol": "TCP", "port": port}],
    }


def _flows(a: DataStoresArgs) -> list[Flow]:
    """The operators' flows (API server, webhook, DNS) and PostgreSQL's backups."""
    found = operator_flows(
        "data-operators",
        (9443,) if a.postgres is not None else (),
        webhook_pods=Pods({"app.kubernetes.io/name": "cloudnative-pg"}),
    )
    if a.postgres is not None and a.postgres.backup is not None:
        instances = Pods({"cnpg.io/cluster": a.postgres.cluster_name})
        found += [
            Flow(
                f"postgres→{rule.name}",
                instances,
                External(rule.name, rule.cidr),
                rule.ports,
                why="WAL archive and base backups",
            )
            for rule in a.object_store_egress
        ]
    return found


_DNS_AND_NAMESPACE = {
    "podSelector": {},
    "policyTypes": ["Ingress", "Egress"],
    "ingress": [{"from": [{"podSelector": {}}]}],
    "egress": [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {"to": [{"podSelector": {}}]},
    ],
}


def _policy_specs(a: DataStoresArgs) -> list[tuple[str, dict[str, Any]]]:
    """(name, spec) of every NetworkPolicy in the data namespace, in declaration order."""
    specs: list[tuple[str, dict[str, Any]]] = [
        ("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        ("allow-dns-and-namespace", _DNS_AND_NAMESPACE),
        (
            "allow-object-store",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": rule.cidr}}],
                        "ports": [{"protocol": "TCP", "port": p} for p in rule.ports],
                    }
                    for rule in a.object_store_egress
                ],
            },
        ),
    ]
    if a.postgres:
        postgres = {"cnpg.io/cluster": a.postgres.cluster_name}
        specs.append(
            (
                "allow-postgres-clients",
                {
                    "podSelector": {"matchLabels": postgres},
                    "policyTypes": ["Ingress"],
                    "ingress": [_from_namespaces(a.postgres_clients, POSTGRES_PORT)],
                },
            )
        )
        # The API server calls the operator's admission webhook; its address is not
        # known in advance, so the webhook port (only) is open to any source.
        webhook = {"app.kubernetes.io/name": "cloudnative-pg"}
        specs.append(
            (
                "allow-cnpg-webhook",
                {
                    "podSelector": {"matchLabels": webhook},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"ports": [{"protocol": "TCP", "port": 9443}]}],
                },
            )
        )
    if a.redis:
        specs.append(
            (
                "allow-redis-clients",
                {
                    "podSelector": {"matchLabels": {"app": a.redis.name}},
                    "policyTypes": ["Ingress"],
                    "ingress": [_from_namespaces(a.redis_clients, REDIS_PORT)],
                },
            )
        )
    return specs


def _postgres_backup(b: PostgresBackup) -> dict[str, Any]:
    """WAL and base backups, compressed and AES256-encrypted, to the site's object store."""
    backup: dict[str, Any] = {
        "retentionPolicy": b.retention,
        "barmanObjectStore": {
            "destinationPath": b.destination,
            "endpointURL": b.endpoint,
            "s3Credentials": {
                "accessKeyId": {"name": b.credentials_secret, "key": "username"},
                "secretAccessKey": {"name": b.credentials_secret, "key": "password"},
            },
            "wal": {"compression": "gzip", "encryption": "AES256"},
            "data": {"compression": "gzip", "encryption": "AES256"},
        },
    }
    if b.ca_secret:  # barman verifies the endpoint with this CA instead of the OS store
        backup["barmanObjectStore"]["endpointCA"] = {"name": b.ca_secret, "key": "ca.crt"}
    return backup


def _postgres_cluster_spec(a: DataStoresArgs, pg: PostgresSpec) -> dict[str, Any]:
    """CNPG Cluster: TLS-only pg_hba, scram, checksums, no superuser, one instance per host."""
    tls_name = f"{pg.cluster_name}-server"
    spec: dict[str, Any] = {
        "instances": pg.instances,
        "imageName": pg.image.ref(a.mirror),
        "primaryUpdateStrategy": "unsupervised",
        "enableSuperuserAccess": False,
        "enablePDB": True,
        "inheritedMetadata": {"labels": a.labels},
        "bootstrap": {
            "initdb": {
                "database": pg.database,
                "owner": pg.owner,
                "secret": {"name": f"{pg.cluster_name}-app"},
                "dataChecksums": True,
            }
        },
        "storage": {"size": f"{pg.storage_gi}Gi", "storageClass": a.storage_class},
        # cert-manager's Secret carries ca.crt next to the key pair.
        "certificates": {"serverTLSSecret": tls_name, "serverCASecret": tls_name},
        "postgresql": {
            "parameters": {
                "ssl_min_protocol_version": "TLSv1.2",
                "password_encryption": "scram-sha-256",
                "log_connections": "on",
                "log_disconnections": "on",
            },
            # Applied after CNPG's own rules and before its catch-all `host` rule.
            "pg_hba": ["hostnossl all all all reject", "hostssl all all all scram-sha-256"],
        },
        "affinity": {
            "enablePodAntiAffinity": True,
            "topologyKey": "kubernetes.io/hostname",
            "podAntiAffinityType": "required",
        },
        "resources": {
            "requests": {"cpu": "1", "memory": "4Gi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        },
    }
    if a.pull_secret:
        spec["imagePullSecrets"] = pull_secrets(a.pull_secret)
    if pg.backup:
        spec["backup"] = _postgres_backup(pg.backup)
    return spec


# The redis image's entrypoint renders redis.conf into the image at start-up.
_REDIS_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
_REDIS_POD = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _redis_replication_spec(a: DataStoresArgs, rd: RedisSpec) -> dict[str, Any]:
    """Primary + replicas with Sentinel failover, TLS, AUTH, persistent storage, one per host."""
    secrets = pull_secrets(a.pull_secret)
    auth = {"name": f"{rd.name}-auth", "key": "password"}
    return {
        "clusterSize": rd.replicas,
        "kubernetesConfig": {
            "image": rd.image.ref(a.mirror),
            "imagePullPolicy": "IfNotPresent",
            "imagePullSecrets": secrets,
            "redisSecret": auth,
            "resources": {
                "requests": {"cpu": "500m", "memory": "2Gi"},
                "limits": {"cpu": "1", "memory": "2Gi"},
            },
        },
        "TLS": {
            "ca": "ca.crt",
            "cert": "tls.crt",
            "key": "tls.key",
            "secret": {"secretName": f"{rd.name}-tls"},
        },
        "storage": {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": a.storage_class,
                    "resources": {"requests": {"storage": f"{rd.storage_gi}Gi"}},
                }
            }
        },
        "podSecurityContext": _REDIS_POD,
        "securityContext": _REDIS_CONTAINER,
        "pdb": {"enabled": True, "maxUnavailable": 1},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": rd.name}},
            }
        ],
        "sentinel": {
            "image": rd.sentinel_image.ref(a.mirror),
            "imagePullPolicy": "IfNotPresent",
            "imagePullSecrets": secrets,
            "size": rd.sentinels,
            "quorum": str(rd.sentinels // 2 + 1),
            "redisSecret": auth,
            "podSecurityContext": _REDIS_POD,
            "securityContext": _REDIS_CONTAINER,
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "250m", "memory": "256Mi"},
            },
        },
    }
