"""`FeatureStore`: the shared Feast feature store, served to tenants through Feast's remote servers.

Tenants never receive database, Redis or object-store credentials: they talk to three Feast
servers over TLS and authenticate with their Kubernetes service-account token (Feast
`auth: kubernetes`); only the servers hold the store credentials.

| child | purpose |
|---|---|
| Namespace `feast` | Pod Security `restricted` |
| Certificate `feast-tls` | one certificate for the three Services, platform CA |
| Secrets `feast-{postgres,redis,object-store}` | store credentials (or the site's Secrets) |
| ConfigMap `feast-server-config` | server `feature_store.yaml` (see below) |
| ServiceAccount `feast` + RBAC | TokenReview, RoleBinding reads: Feast's Kubernetes authz |
| Roles `feast-reader`/`feast-writer` | role names Feast permissions use, bound to clients |
| Deployment, Service, PDB (3 each) | `feast-registry` gRPC 6570, `feast-online` HTTPS 6566, |
| | `feast-offline` Arrow Flight 8815, all TLS |
| NetworkPolicy (3) | default deny; from tenants; to stores, DNS, the API server |
| Job `create-db-<registry db>` | only where the foundation does not create the registry database |
| | (`Postgres.databases_to_create`, RDS): `components.database_bootstrap`, before the servers |

Server config: SQL registry on Postgres (`sslmode` from the foundation), Redis online store
over TLS, dask offline store reading the object store, `auth: kubernetes`. Each store is
verified with the CA Secret the foundation names (`ca_secret` of Postgres, Redis and the object
store: the platform CA bundle for the in-cluster operators, a site's internal CA), else with the
OS trust store; the object store's CA reaches botocore/s3fs as `AWS_CA_BUNDLE`.

Args (`FeatureStoreArgs`): `image`, `labels`, `project`, `postgres`, `redis`, `object_store`,
`replicas`, `clients` (service accounts granted the Feast roles), `store_egress` (where the
stores are, plus what the workload identity needs), `postgres_egress` (where Postgres is, for
the database bootstrap Job), `client_ca_file` (where tenant pods mount the platform CA),
`service_account_annotations`, `pod_labels`, `image_pull_secret`, `cluster_issuer`.

Outputs: `project`, `feature_server` (https URL), `registry`, `online_store`, `offline_store`
(client config sections), `feature_store_yaml` (the tenant's file), `roles`, `peer`.

Why Deployments and not the Feast operator: the operator (v0.66) ships only as a kustomize
`install.yaml` applied with server-side apply (its 1.4 MB CRD exceeds client-side apply limits);
there is no Helm chart, so it would be invisible to synthesis and policy checks, and vendoring
its CRD is not allowed. Its `FeatureStore` CR also cannot set container security contexts
(read-only root filesystem, dropped capabilities), which UAE-K8S-001/002 require. The same
remote-server topology (registry/online/offline servers, TLS, Kubernetes authz) is therefore
declared directly, with every object visible to CrossGuard and checkov.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import conventions as c
from components.api_server import ApiServer, api_server_egress
from components.availability import pod_disruption_budget, spread
from components.credentials import SECRET_FILE_MODE, SecretEnv, exec_with_secret_env
from components.database_bootstrap import DatabaseBootstrapArgs, create_database
from components.endpoints import ObjectStore, Postgres, Redis
from components.feast_authz import READER, TOKEN_REASON, WRITER, FeastClient, authz_rbac
from components.feast_config import (
    OFFLINE_PORT,
    ONLINE_PORT,
    REGISTRY_PORT,
    client_config,
    server_config,
)
from components.feast_stores import (
    PG_CA,
    REDIS_CA,
    StoreSecrets,
    store_env,
    store_secrets,
    trust_volumes,
)
from components.flows import API_SERVER, Flow, Pods, Store, egress_flows, object_store
from components.namespace import platform_namespace, pull_secrets
from components.network_policies import NetworkPeer, service_network_policies
from components.objects import object_meta, upstream
from components.pki import server_certificate, service_dns_names
from components.security_context import container_security, pod_security, tmp_volume
from components.tenant import PlatformPeer
from components.trust import postgres_root_cert

_REPO = "/etc/feast/repo"
_TLS = "/etc/feast/tls"
_SERVICES = [f"feast-{role}" for role in ("registry", "online", "offline")]
_PORTS = (REGISTRY_PORT, ONLINE_PORT, OFFLINE_PORT)


@dataclass(frozen=True, kw_only=True)
class FeatureStoreArgs:
    image: str
    labels: dict[str, str]
    postgres: Postgres
    redis: Redis
    object_store: ObjectStore
    # From the stack config (no defaults here: the config model holds them)
    project: str
    replicas: int
    clients: tuple[FeastClient, ...]  # the tenants' service accounts
    image_pull_secret: str | None
    api_server: ApiServer  # the servers call TokenReview (components.api_server)
    namespace: str = c.NS_FEAST
    store_egress: tuple[NetworkPeer, ...] = ()
    postgres_egress: tuple[NetworkPeer, ...] = ()
    client_ca_file: str = "/etc/mlplatform/ca/ca.crt"
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    cluster_issuer: str = c.CLUSTER_ISSUER


@dataclass(frozen=True)
class _Server:
    role: str
    port: int
    command: list[str]
    probe: dict[str, Any]
    secrets: list[SecretEnv]
    requests: dict[str, str]
    limits: dict[str, str]


SERVERS = {"app.kubernetes.io/name": "feast"}  # every Feast server pod


def flows(args: FeatureStoreArgs) -> list[Flow]:
    """The servers' connections: Postgres (registry), Redis (online), the object store
    (offline), the API server (TokenReview), credentials (cloud), DNS."""
    stores = [
        Store("postgres", args.postgres.host, args.postgres.port),
        Store("redis", args.redis.host, args.redis.port),
        object_store(args.object_store.endpoint),
    ]
    found = egress_flows("feast", Pods(SERVERS), stores, args.store_egress)
    return [*found, Flow("feast→api-server", Pods(SERVERS), API_SERVER, args.api_server.ports)]


class FeatureStore(pulumi.ComponentResource):
    project: str
    feature_server: str
    registry: dict[str, Any]
    online_store: dict[str, Any]
    offline_store: dict[str, Any]
    feature_store_yaml: str
    roles: tuple[str, ...]
    peer: PlatformPeer

    def __init__(
        self, name: str, args: FeatureStoreArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:ml:FeatureStore", name, None, opts)
        ns = args.namespace
        labels = {**args.labels, "app.kubernetes.io/name": "feast"}
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self, depends_on=upstream(opts)),
            flows=flows(args),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        tls = server_certificate(
            f"{name}-cert",
            name="feast-tls",
            namespace=ns,
            labels=labels,
            dns_names=[d for s in _SERVICES for d in service_dns_names(s, ns)],
            issuer=args.cluster_issuer,
            opts=in_ns,
        )
        secrets = store_secrets(
            name, ns, labels, (args.postgres, args.redis, args.object_store), in_ns
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=object_meta("feast-server-config", ns, labels),
            data={
                "feature_store.yaml": server_config(
                    args.project,
                    args.postgres,
                    args.redis,
                    postgres_ca=postgres_root_cert(args.postgres, f"{PG_CA}/ca.crt"),
                    redis_ca=f"{REDIS_CA}/ca.crt" if args.redis.ca_secret else None,
                )
            },
            opts=in_ns,
        )
        sa = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=object_meta(c.SA_FEAST, ns, labels, args.service_account_annotations),
            # Off by default; the server pods opt in with a recorded reason (TOKEN_REASON).
            automount_service_account_token=False,
            opts=in_ns,
        )
        authz_rbac(name, ns, labels, args.clients, in_ns)
        policies: list[pulumi.Resource] = [
            *service_network_policies(
                name,
                ns,
                labels,
                {"app.kubernetes.io/name": "feast"},
                [NetworkPeer(_PORTS, tenants=True)],
                list(args.store_egress),
                in_ns,
            )
        ]
        # TokenReview: the API server by its addresses, and its Cilium identity where it runs
        policies += api_server_egress(name, ns, labels, SERVERS, args.api_server, in_ns)
        depends: list[pulumi.Resource] = [namespace, tls, config, sa]
        registry_db = self._registry_database(name, args, secrets.postgres, [namespace, *policies])
        if registry_db is not None:
            depends.append(registry_db)
        for server in _servers(secrets):
            self._deploy(name, args, labels, server, depends)

        client = client_config(args.project, ns, args.client_ca_file)
        self.project = args.project
        self.registry = client["registry"]
        self.online_store = client["online_store"]
        self.offline_store = client["offline_store"]
        self.feature_server = client["online_store"]["path"]
        self.feature_store_yaml = yaml.safe_dump(client, sort_keys=False)
        self.roles = (READER, WRITER)
        self.peer = PlatformPeer(namespace=ns, ports=_PORTS, pod_labels=SERVERS)
        self.register_outputs({"project": args.project, "featureServer": self.feature_server})

    def _registry_database(
        self,
        name: str,
        args: FeatureStoreArgs,
        credentials: SecretEnv,
        depends_on: list[pulumi.Resource],
    ) -> pulumi.Resource | None:
        """The registry database, created by a Job where the foundation does not (RDS)."""
        if args.postgres.feast_database not in args.postgres.databases_to_create:
            return None
        if not args.postgres_egress:
            raise ValueError(f"{name}: creating the registry database needs postgres_egress")
        return create_database(
            self,
            f"{name}-registry-db",
            DatabaseBootstrapArgs(
                database=args.postgres.feast_database,
                postgres=args.postgres,
                image=args.image,
                namespace=args.namespace,
                labels=args.labels,
                credentials=credentials,
                egress=args.postgres_egress,
                image_pull_secret=args.image_pull_secret,
            ),
            depends_on=depends_on,
        )

    def _deploy(
        self,
        name: str,
        args: FeatureStoreArgs,
        labels: dict[str, str],
        server: _Server,
        depends: list[pulumi.Resource],
    ) -> None:
        """One server: its Deployment, Service (TLS on its port) and PDB."""
        ns, svc = args.namespace, f"feast-{server.role}"
        selector = {"app.kubernetes.io/name": "feast", "app.kubernetes.io/component": server.role}
        opts = pulumi.ResourceOptions(parent=self, depends_on=depends)
        k8s.apps.v1.Deployment(
            f"{name}-{server.role}",
            metadata={"name": svc, "namespace": ns, "labels": labels},
            spec=_deployment_spec(args, labels, server, selector),
            opts=opts,
        )
        service_spec: Any = {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [
                {
                    "name": "tls",
                    "port": server.port,
                    "targetPort": server.port,
                    "protocol": "TCP",
                }
            ],
        }
        k8s.core.v1.Service(
            f"{name}-{server.role}-svc",
            metadata={"name": svc, "namespace": ns, "labels": labels},
            spec=service_spec,
            opts=opts,
        )
        pod_disruption_budget(f"{name}-{server.role}-pdb", svc, ns, labels, selector, opts)


def _servers(secrets: StoreSecrets) -> list[_Server]:
    """The three Feast servers, each with only the store credentials it needs."""
    tls_args = ["--key", f"{_TLS}/tls.key", "--cert", f"{_TLS}/tls.crt"]
    feast = ["feast", "--chdir", _REPO]
    pg = secrets.postgres
    return [
        _Server(
            "registry",
            REGISTRY_PORT,
            [*feast, "serve_registry", "--port", str(REGISTRY_PORT), *tls_args],
            {"tcpSocket": {"port": REGISTRY_PORT}},
            [pg],
            {"cpu": "250m", "memory": "512Mi"},
            {"cpu": "1", "memory": "1Gi"},
        ),
        _Server(
            "online",
            ONLINE_PORT,
            [
                *feast,
                "serve",
                "--host",
                "0.0.0.0",
                "--port",
                str(ONLINE_PORT),
                "--workers",
                "2",
                *tls_args,
            ],
            {"httpGet": {"path": "/health", "port": ONLINE_PORT, "scheme": "HTTPS"}},
            [pg, secrets.redis],
            {"cpu": "500m", "memory": "1Gi"},
            {"cpu": "2", "memory": "2Gi"},
        ),
        _Server(
            "offline",
            OFFLINE_PORT,
            [*feast, "serve_offline", "--host", "0.0.0.0", "--port", str(OFFLINE_PORT), *tls_args],
            {"tcpSocket": {"port": OFFLINE_PORT}},
            [pg, *secrets.object_store],
            {"cpu": "500m", "memory": "2Gi"},
            {"cpu": "4", "memory": "8Gi"},
        ),
    ]


def _volumes(
    args: FeatureStoreArgs, server: _Server
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, mounts): /tmp, the server config, the TLS pair, its Secrets, the store CAs."""
    # dask spills to /tmp when joining large offline datasets
    tmp, tmp_mount = tmp_volume("20Gi" if server.role == "offline" else "1Gi")
    volumes = [
        tmp,
        {"name": "config", "configMap": {"name": "feast-server-config"}},
        {"name": "tls", "secret": {"secretName": "feast-tls", "defaultMode": SECRET_FILE_MODE}},
        *[s.volume_spec() for s in server.secrets],
    ]
    mounts = [
        tmp_mount,
        {"name": "config", "mountPath": _REPO, "readOnly": True},
        {"name": "tls", "mountPath": _TLS, "readOnly": True},
        *[s.mount_spec() for s in server.secrets],
    ]
    ca_volumes, ca_mounts = trust_volumes(server.role, args.postgres, args.redis, args.object_store)
    return volumes + ca_volumes, mounts + ca_mounts


def _deployment_spec(
    args: FeatureStoreArgs, labels: dict[str, str], server: _Server, selector: dict[str, str]
) -> Any:
    """Any: camelCase manifests pass through verbatim (the SDK's ArgsDicts are snake_case)."""
    volumes, mounts = _volumes(args, server)
    container = {
        "name": server.role,
        "image": args.image,
        "imagePullPolicy": "IfNotPresent",
        "command": exec_with_secret_env(server.command, server.secrets),
        "ports": [{"name": "tls", "containerPort": server.port, "protocol": "TCP"}],
        "env": [{"name": "HOME", "value": "/tmp"}, *store_env(server.role, args.object_store)],
        "resources": {"requests": server.requests, "limits": server.limits},
        "securityContext": container_security(),
        "readinessProbe": {**server.probe, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {
            **server.probe,
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
            "timeoutSeconds": 5,
        },
        "volumeMounts": mounts,
    }
    return {
        "replicas": args.replicas,
        "selector": {"matchLabels": selector},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {
                "labels": {**labels, **selector, **args.pod_labels},
                "annotations": {c.TOKEN_REASON_ANNOTATION: TOKEN_REASON},
            },
            "spec": {
                "serviceAccountName": c.SA_FEAST,
                "automountServiceAccountToken": True,  # see TOKEN_REASON
                "securityContext": pod_security(),
                "topologySpreadConstraints": spread(selector),
                "imagePullSecrets": pull_secrets(args.image_pull_secret) or None,
                "containers": [container],
                "volumes": volumes,
            },
        },
    }


__all__ = [
    "OFFLINE_PORT",
    "ONLINE_PORT",
    "READER",
    "REGISTRY_PORT",
    "WRITER",
    "FeastClient",
    "FeatureStore",
    "FeatureStoreArgs",
]
