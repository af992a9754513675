"""Kafka on Strimzi (KRaft, TLS only) and per-tenant access to it.

`StrimziKafka`

| child | purpose |
|---|---|
| Namespace `kafka` | PSS restricted (Strimzi's `restricted` pod security provider) |
| NetworkPolicy `default-deny-ingress` | Strimzi's generated policies then allow its own flows |
| helm Release strimzi-kafka-operator | pinned 1.2.0; images from the mirror; watches `kafka` |
| Certificate `<cluster>-kafka-tls` | brokers' certificate from the platform CA: clients verify |
| | brokers with the CA bundle every namespace already has |
| KafkaNodePool `controllers`, `brokers` | KRaft roles, replicas, persistent storage from |
| | config, one per host (protected) |
| Kafka `<cluster>` | `kafka.strimzi.io/v1`; one internal TLS listener (9093), no plaintext; |
| | SCRAM-SHA-512 or mTLS; `authorization: simple`; replication and min ISR from |
| | config; no topic auto-creation (protected) |
| KafkaTopic per platform topic | feature, model and drift events (protected) |
| mTLS only: clients CA, ClusterIssuer `<cluster>-kafka-clients`, Bundle | a CA for Kafka |
| | client certificates only, trusted only by the brokers |

Outputs: `bootstrap`, `security_protocol`, `sasl_mechanism`, `platform_topics`, `ready`.

`StrimziTenantAccess` (one per tenant)

| child | purpose |
|---|---|
| KafkaTopic `<tenant>.<topic>` | the tenant's topics, in the Kafka namespace (protected) |
| KafkaUser `tenant-<tenant>` | ACLs: Read/Write/Describe on topics and transactional IDs |
| | prefixed `<tenant>.`, Read/Describe on groups prefixed `<tenant>.`, read-only on |
| | the platform topics (only the platform writes them: no tenant's records there) |
| SCRAM: RandomPassword + Secret in `kafka` + Secret `kafka-credentials` in the tenant namespace | |
| mTLS: Certificate `kafka-credentials` in the tenant namespace | |

Why credentials are made this way: the User Operator writes a KafkaUser's credentials into a
Secret in the *Kafka* namespace, which tenants cannot (and must not) read, and Kubernetes
cannot share a Secret across namespaces. So the platform owns the credential instead of the
operator: for SCRAM, Pulumi generates the password (a secret in state, encrypted by the
stack's in-country secrets provider) and writes it into a Secret in the Kafka namespace, which
the KafkaUser references (`spec.authentication.password.valueFrom`), and into the tenant's
`kafka-credentials` Secret; for mTLS, cert-manager issues the tenant's client certificate
directly into the tenant namespace (CN=`tenant-<tenant>`, the principal the KafkaUser's ACLs
name) from a clients CA the brokers trust through a `custom` TLS listener. No credential is
ever copied out of the Kafka namespace, and no tenant can mint a certificate (tenant RBAC
has no cert-manager rights).

Outputs: `topics`, `credentials_secret`, `principal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import conventions as c
from components.api_server import ApiServer
from components.flows import operator_flows
from components.helm import chart_labels, helm_release
from components.namespace import operator_policies, platform_namespace, pull_secrets
from components.pki import (
    PART_OF_MLPLATFORM,
    SELFSIGNED_ISSUER,
    server_certificate,
    service_dns_names,
)
from components.placement import Placement
from version_catalogue.artifacts import Chart, Image

TLS_PORT = 9093
CREDENTIALS_SECRET = "kafka-credentials"
CLIENTS_CA_MOUNT = "/mnt/kafka-clients-ca"
PLATFORM_TOPICS = {
    "features": "platform.feature-events",
    "models": "platform.model-events",
    "drift": "platform.drift-events",
}
_TOPIC_OPS = ["Read", "Write", "Describe", "DescribeConfigs"]
_GROUP_OPS = ["Read", "Describe"]


KAFKA_CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _crd(api_version: str = "kafka.strimzi.io/v1") -> dict[str, str]:
    return {"api_version": api_version}


@dataclass(frozen=True, kw_only=True)
class StrimziKafkaArgs:
    mirror: str
    labels: dict[str, str]
    storage_class: str
    chart: Chart  # strimzi-kafka-operator
    operator_image: Image  # <mirror>/strimzi/operator; operands share its repository and tag
    # The Kafka image of `kafka_version` (catalogue strimzi-kafka): its digest, when the mirror
    # lock has one, pins the brokers, exporter and Cruise Control.
    kafka_image: Image | None = None
    kafka_version: str  # a version the pinned Strimzi runs
    cluster_name: str
    # From the stack's `kafka` config (no defaults here: the config model holds them)
    authentication: str  # "tls" (mTLS) or "scram-sha-512"
    brokers: int
    controllers: int
    broker_storage_gi: int
    controller_storage_gi: int
    replication_factor: int
    min_insync_replicas: int
    retention_hours: int
    partitions: int
    pull_secret: str | None
    api_server: ApiServer  # where its pods reach the API server (components.api_server)
    broker_resources: dict = field(
        default_factory=lambda: {
            "requests": {"cpu": "2", "memory": "8Gi"},
            "limits": {"cpu": "4", "memory": "8Gi"},
        }
    )
    controller_resources: dict = field(
        default_factory=lambda: {
            "requests": {"cpu": "500m", "memory": "2Gi"},
            "limits": {"cpu": "1", "memory": "2Gi"},
        }
    )
    platform_topics: dict[str, str] = field(default_factory=lambda: dict(PLATFORM_TOPICS))
    # Namespaces whose pods may open connections to the listener.
    client_namespace_labels: dict[str, str] = field(
        default_factory=lambda: dict(PART_OF_MLPLATFORM)
    )
    protect: bool = True
    pki_namespace: str = c.NS_CERT_MANAGER
    ready: tuple[pulumi.Resource, ...] = ()  # cert-manager/trust-manager must exist first
    placement: Placement = field(default_factory=Placement)  # components.placement


def topic_spec(partitions: int, replicas: int, min_isr: int, retention_hours: int) -> dict:
    return {
        "partitions": partitions,
        "replicas": replicas,
        "config": {
            "min.insync.replicas": str(min_isr),
            "retention.ms": str(retention_hours * 3600 * 1000),
            "cleanup.policy": "delete",
        },
    }


def _kafka_spec(args: StrimziKafkaArgs, listener_auth: dict) -> dict:
    """The Kafka CR's `spec.kafka`: one internal TLS listener (9093), simple authorization,
    replication, retention and partitions from the Args, no topic auto-creation, TLS 1.2+."""
    rf, isr = args.replication_factor, args.min_insync_replicas
    return {
        "version": args.kafka_version,
        "listeners": [
            {
                "name": "tls",
                "port": TLS_PORT,
                "type": "internal",
                "tls": True,
                "authentication": listener_auth,
                "configuration": {
                    "brokerCertChainAndKey": {
                        "secretName": f"{args.cluster_name}-kafka-tls",
                        "certificate": "tls.crt",
                        "key": "tls.key",
                    }
                },
                "networkPolicyPeers": [
                    {"namespaceSelector": {"matchLabels": dict(args.client_namespace_labels)}}
                ],
            }
        ],
        "authorization": {"type": "simple"},
        "config": {
            "auto.create.topics.enable": False,
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "log.retention.hours": args.retention_hours,
            "num.partitions": args.partitions,
            "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
            "ssl.protocol": "TLSv1.3",
        },
    }


# Every chart key whose images are the Kafka image (`<defaultImageTag>-kafka-<version>`).
KAFKA_IMAGE_KEYS = ("kafka", "kafkaConnect", "kafkaMirrorMaker2", "kafkaExporter", "cruiseControl")


def _pinned_operator(image: Image) -> dict[str, str]:
    return {"tag": image.pinned_tag} if image.digest else {}


def _pinned_operands(args: StrimziKafkaArgs) -> dict[str, Any]:
    """Chart values pinning the operands by digest, where the stack's mirror lock has one.

    The operator's family (topic and user operators, the init container) takes `tag@digest`.
    The chart composes Kafka images as `<defaultImageTag>-kafka-<version>`, so those take the
    digest itself (`<repository>/kafka@sha256:...`): every Kafka version the operator lists then
    names the image of `kafka_version`, the only one this cluster runs."""
    values: dict[str, Any] = {}
    operator, kafka = args.operator_image, args.kafka_image
    if operator.digest:
        for key in ("topicOperator", "userOperator", "kafkaInit"):
            values[key] = {"image": _pinned_operator(operator)}
    if kafka is not None and kafka.digest:
        for key in KAFKA_IMAGE_KEYS:
            values[key] = {"image": {"digest": kafka.digest}}
    return values


# consumer lag and under-replicated partitions for the monitoring stack
# (components.observability: its PodMonitor scrapes port 9404)
KAFKA_EXPORTER: dict[str, Any] = {
    "topicRegex": ".*",
    "groupRegex": ".*",
    "resources": {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    },
}


def _check(args: StrimziKafkaArgs) -> None:
    """Refuse an authentication not set up here, or replication the brokers cannot hold."""
    if args.authentication not in ("tls", "scram-sha-512"):
        raise ValueError(f"unsupported Kafka authentication {args.authentication!r}")
    if args.min_insync_replicas > args.replication_factor or args.replication_factor > args.brokers:
        raise ValueError("need min.insync.replicas <= replication factor <= brokers")


class StrimziKafka(pulumi.ComponentResource):
    bootstrap: str
    security_protocol: str
    sasl_mechanism: str | None
    platform_topics: dict[str, str]
    clients_issuer: str | None

    def __init__(
        self, name: str, args: StrimziKafkaArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:kafka:StrimziKafka", name, None, opts)
        _check(args)
        ns, cluster = c.NS_KAFKA, args.cluster_name
        self.args = args
        # Default providers are disabled: tenants' SCRAM passwords use this explicit one.
        self.random_provider = random.Provider(
            f"{name}-random", opts=pulumi.ResourceOptions(parent=self)
        )
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            flows=operator_flows("strimzi"),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        operator = self._operator(name, args, in_ns)
        # Deny ingress by default; Strimzi generates the allow rules for its own pods (listener
        # peers above, replication and control-plane ports between cluster components).
        operator_policies(name, ns, args.labels, in_ns, args.api_server)
        after_pki = pulumi.ResourceOptions(parent=self, depends_on=[namespace, *args.ready])
        certificate = self._broker_certificate(name, args, after_pki)
        listener_auth, pod_template, clients = self._client_authentication(name, args, after_pki)
        stateful = pulumi.ResourceOptions(
            parent=self, depends_on=[operator, namespace], protect=args.protect
        )
        pools = [
            self._node_pool(name, "controllers", "controller", stateful),
            self._node_pool(name, "brokers", "broker", stateful),
        ]
        kafka_spec = _kafka_spec(args, listener_auth)
        if pod_template:
            kafka_spec["template"] = pod_template
        self.kafka = k8s.apiextensions.CustomResource(
            f"{name}-kafka",
            **_crd(),
            kind="Kafka",
            metadata={"name": cluster, "namespace": ns, "labels": args.labels},
            spec={
                "kafka": kafka_spec,
                "entityOperator": {"topicOperator": {}, "userOperator": {}},
                "kafkaExporter": KAFKA_EXPORTER,
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[operator, certificate, *pools, *clients],
                protect=args.protect,
            ),
        )
        self.topics = {
            purpose: self.topic(f"{name}-topic-{purpose}", topic, args.partitions)
            for purpose, topic in args.platform_topics.items()
        }
        self.bootstrap = f"{cluster}-kafka-bootstrap.{ns}.svc:{TLS_PORT}"
        self.security_protocol = "SSL" if args.authentication == "tls" else "SASL_SSL"
        self.sasl_mechanism = None if args.authentication == "tls" else "SCRAM-SHA-512"
        self.platform_topics = dict(args.platform_topics)
        self.ready: list[pulumi.Resource] = [operator, self.kafka]
        self.register_outputs(
            {
                "bootstrap": self.bootstrap,
                "securityProtocol": self.security_protocol,
                "platformTopics": self.platform_topics,
            }
        )

    def _operator(
        self, name: str, args: StrimziKafkaArgs, opts: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        """The Strimzi operator: 2 replicas, watches only `kafka`, images from the mirror."""
        secrets = pull_secrets(args.pull_secret)
        return helm_release(
            f"{name}-operator",
            release="strimzi-kafka-operator",
            chart=args.chart,
            mirror=args.mirror,
            namespace=c.NS_KAFKA,
            values={
                "replicas": 2,  # leader-elected; a standby takes over within seconds
                "watchNamespaces": [],
                "watchAnyNamespace": False,
                # <mirror>/strimzi/<name>:<tag> for the operator and every operand image.
                "defaultImageRegistry": args.mirror,
                "defaultImageRepository": args.operator_image.path.rsplit("/", 1)[0],
                "defaultImageTag": args.operator_image.tag,
                # A list also sets STRIMZI_IMAGE_PULL_SECRETS for the operands' pods.
                "image": {
                    "imagePullPolicy": "IfNotPresent",
                    **({"imagePullSecrets": secrets} if secrets else {}),
                    **_pinned_operator(args.operator_image),
                },
                **_pinned_operands(args),
                "extraEnvs": [
                    {"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"},
                ],
                "generateNetworkPolicy": True,
                **args.placement.chart(),  # the operator (the brokers run where tenants do)
                "labels": args.labels,  # the operator's pods
                "deploymentLabels": chart_labels(args.labels),  # its Deployment
            },
            opts=opts,
        )

    def _broker_certificate(
        self, name: str, args: StrimziKafkaArgs, opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        """Brokers' certificate from the platform CA: clients verify them with the CA bundle."""
        ns, cluster = c.NS_KAFKA, args.cluster_name
        return server_certificate(
            f"{name}-broker-tls",
            name=f"{cluster}-kafka-tls",
            namespace=ns,
            dns_names=[
                *service_dns_names(f"{cluster}-kafka-bootstrap", ns),
                f"*.{cluster}-kafka-brokers.{ns}.svc",
                f"*.{cluster}-kafka-brokers.{ns}.svc.cluster.local",
            ],
            labels=args.labels,
            opts=opts,
        )

    def _client_authentication(
        self, name: str, args: StrimziKafkaArgs, opts: pulumi.ResourceOptions
    ) -> tuple[dict, dict, list[pulumi.Resource]]:
        """(listener authentication, Kafka pod template, resources): SCRAM, or mTLS with a
        clients CA the brokers trust through a `custom` listener."""
        if args.authentication == "scram-sha-512":
            self.clients_issuer = None
            return {"type": "scram-sha-512"}, {}, []
        clients = self._clients_ca(name, args, opts)
        self.clients_issuer = f"{args.cluster_name}-kafka-clients"
        listener_auth = {
            "type": "custom",
            "sasl": False,
            "listenerConfig": {
                "ssl.client.auth": "required",
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": f"{CLIENTS_CA_MOUNT}/ca.crt",
            },
        }
        pod_template = {
            "pod": {
                "volumes": [
                    {"name": "kafka-clients-ca", "configMap": {"name": self.clients_issuer + "-ca"}}
                ]
            },
            "kafkaContainer": {
                "volumeMounts": [
                    {"name": "kafka-clients-ca", "mountPath": CLIENTS_CA_MOUNT, "readOnly": True}
                ]
            },
        }
        return listener_auth, pod_template, clients

    def topic(
        self, resource_name: str, topic: str, partitions: int, parent: pulumi.Resource | None = None
    ) -> k8s.apiextensions.CustomResource:
        """A KafkaTopic of this cluster (protected: deleting the CR deletes the data)."""
        a = self.args
        return k8s.apiextensions.CustomResource(
            resource_name,
            **_crd(),
            kind="KafkaTopic",
            metadata={
                "name": topic,
                "namespace": c.NS_KAFKA,
                "labels": {**a.labels, "strimzi.io/cluster": a.cluster_name},
            },
            spec={
                "topicName": topic,
                **topic_spec(
                    partitions, a.replication_factor, a.min_insync_replicas, a.retention_hours
                ),
            },
            opts=pulumi.ResourceOptions(
                parent=parent or self, depends_on=[self.kafka], protect=a.protect
            ),
        )

    def _node_pool(
        self, name: str, pool: str, role: str, opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        """A KRaft node pool (`controller` or `broker`): replicas, storage from the Args."""
        a = self.args
        replicas, size_gi, resources = (
            (a.controllers, a.controller_storage_gi, a.controller_resources)
            if role == "controller"
            else (a.brokers, a.broker_storage_gi, a.broker_resources)
        )
        selector = {"strimzi.io/cluster": a.cluster_name, "strimzi.io/pool-name": pool}
        return k8s.apiextensions.CustomResource(
            f"{name}-pool-{pool}",
            **_crd(),
            kind="KafkaNodePool",
            metadata={
                "name": pool,
                "namespace": c.NS_KAFKA,
                "labels": {**a.labels, "strimzi.io/cluster": a.cluster_name},
            },
            spec={
                "replicas": replicas,
                "roles": [role],
                "storage": {
                    "type": "persistent-claim",
                    "size": f"{size_gi}Gi",
                    "class": a.storage_class,
                    "deleteClaim": False,
                    "kraftMetadata": "shared",
                },
                "resources": resources,
                "template": {
                    "pod": {
                        # Replicas on one host would share its failure: spread them.
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": "kubernetes.io/hostname",
                                "whenUnsatisfiable": "DoNotSchedule",
                                "labelSelector": {"matchLabels": selector},
                            }
                        ]
                    },
                    # A template securityContext replaces the one Strimzi's restricted provider
                    # generates, so it restates it and adds a read-only root filesystem (Strimzi
                    # mounts /tmp and its config as volumes, so the image writes nowhere else).
                    "kafkaContainer": {"securityContext": KAFKA_CONTAINER_SECURITY},
                },
            },
            opts=opts,
        )

    def _clients_ca(
        self, name: str, args: StrimziKafkaArgs, opts: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """A CA for Kafka client certificates only, and its certificate in the Kafka namespace."""
        issuer = f"{args.cluster_name}-kafka-clients"
        ca = k8s.apiextensions.CustomResource(
            f"{name}-clients-ca",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata={
                "name": f"{issuer}-ca",
                "namespace": args.pki_namespace,
                "labels": args.labels,
            },
            spec={
                "isCA": True,
                "commonName": f"{args.cluster_name} Kafka clients CA",
                "secretName": f"{issuer}-ca",
                "duration": "43800h",
                "renewBefore": "8760h",
                "privateKey": {"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Never"},
                "usages": ["cert sign", "crl sign", "digital signature"],
                "issuerRef": {
                    "name": SELFSIGNED_ISSUER,
                    "kind": "ClusterIssuer",
                    "group": "cert-manager.io",
                },
            },
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=args.protect)),
        )
        cluster_issuer = k8s.apiextensions.CustomResource(
            f"{name}-clients-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata={"name": issuer, "labels": args.labels},
            spec={"ca": {"secretName": f"{issuer}-ca"}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ca]),
        )
        bundle = k8s.apiextensions.CustomResource(
            f"{name}-clients-bundle",
            api_version="trust.cert-manager.io/v1alpha1",
            kind="Bundle",
            metadata={"name": f"{issuer}-ca", "labels": args.labels},
            spec={
                "sources": [{"secret": {"name": f"{issuer}-ca", "key": "ca.crt"}}],
                "target": {
                    "configMap": {"key": "ca.crt"},
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": c.NS_KAFKA}
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ca]),
        )
        return [ca, cluster_issuer, bundle]


@dataclass(frozen=True)
class StrimziTenantAccessArgs:
    tenant: str
    namespace: str  # the tenant's namespace, where its credentials go
    topics: tuple[str, ...]
    labels: dict[str, str]


class StrimziTenantAccess(pulumi.ComponentResource):
    topics: list[str]
    credentials_secret: str
    principal: str

    def __init__(
        self,
        name: str,
        kafka: StrimziKafka,
        args: StrimziTenantAccessArgs,
        opts: pulumi.ResourceOptions | None = None,
        tenant_ready: tuple[pulumi.Resource, ...] = (),
    ):
        """`tenant_ready`: resources the tenant namespace's existence depends on."""
        super().__init__("mlplatform:kafka:StrimziTenantAccess", name, None, opts)
        a = kafka.args
        self._tenant_ready = list(tenant_ready)
        user = f"tenant-{args.tenant}"
        prefix = f"{args.tenant}."
        self.topics = [f"{prefix}{topic}" for topic in args.topics]
        for short, topic in zip(args.topics, self.topics, strict=True):
            kafka.topic(f"{name}-topic-{short}", topic, a.partitions, parent=self)

        acls = [
            {
                "resource": {"type": "topic", "name": prefix, "patternType": "prefix"},
                "operations": _TOPIC_OPS,
            },
            {
                "resource": {"type": "group", "name": prefix, "patternType": "prefix"},
                "operations": _GROUP_OPS,
            },
            {
                "resource": {"type": "transactionalId", "name": prefix, "patternType": "prefix"},
                "operations": ["Write", "Describe"],
            },
        ]
        # Tenants read the platform topics and never write them (issue 13): a topic two tenants
        # write mixes their records, and its readers cannot tell one tenant's from another's.
        for topic in kafka.platform_topics.values():
            acls.append(
                {
                    "resource": {"type": "topic", "name": topic, "patternType": "literal"},
                    "operations": ["Read", "Describe"],
                }
            )
        after = pulumi.ResourceOptions(parent=self, depends_on=[kafka.kafka])
        labels = {**args.labels, "strimzi.io/cluster": a.cluster_name}
        if a.authentication == "scram-sha-512":
            authentication, deps = self._scram(name, user, args, kafka)
            self.principal = f"User:{user}"
        else:
            authentication, deps = self._mtls(name, user, args, kafka)
            self.principal = f"User:CN={user}"
        self.user = k8s.apiextensions.CustomResource(
            f"{name}-user",
            **_crd(),
            kind="KafkaUser",
            metadata={"name": user, "namespace": c.NS_KAFKA, "labels": labels},
            spec={
                "authentication": authentication,
                "authorization": {"type": "simple", "acls": acls},
            },
            opts=pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=deps)),
        )
        self.credentials_secret = CREDENTIALS_SECRET
        self.register_outputs(
            {
                "topics": self.topics,
                "credentialsSecret": self.credentials_secret,
                "principal": self.principal,
            }
        )

    def _scram(
        self, name: str, user: str, args: StrimziTenantAccessArgs, kafka: StrimziKafka
    ) -> tuple[dict, list[pulumi.Resource]]:
        password = random.RandomPassword(
            f"{name}-password",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=kafka.random_provider),
        )
        source = f"{user}-scram-password"
        in_kafka = k8s.core.v1.Secret(
            f"{name}-scram-source",
            metadata={"name": source, "namespace": c.NS_KAFKA, "labels": args.labels},
            type="Opaque",
            string_data={"password": password.result},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[kafka.kafka]),
        )
        jaas = password.result.apply(  # stays a secret: derived from one
            lambda p: (
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{user}" password="{p}";'
            )
        )
        k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={
                "name": CREDENTIALS_SECRET,
                "namespace": args.namespace,
                "labels": args.labels,
            },
            type="Opaque",
            string_data={
                "bootstrap.servers": kafka.bootstrap,
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "SCRAM-SHA-512",
                "username": user,
                "password": password.result,
                "sasl.jaas.config": jaas,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._tenant_ready),
        )
        authentication = {
            "type": "scram-sha-512",
            "password": {"valueFrom": {"secretKeyRef": {"name": source, "key": "password"}}},
        }
        return authentication, [in_kafka]

    def _mtls(
        self, name: str, user: str, args: StrimziTenantAccessArgs, kafka: StrimziKafka
    ) -> tuple[dict, list[pulumi.Resource]]:
        cert = k8s.apiextensions.CustomResource(
            f"{name}-client-cert",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata={
                "name": CREDENTIALS_SECRET,
                "namespace": args.namespace,
                "labels": args.labels,
            },
            spec={
                "secretName": CREDENTIALS_SECRET,
                "secretTemplate": {"labels": args.labels},
                # The subject is exactly CN=<user>: the principal the ACLs name.
                "commonName": user,
                "duration": "2160h",
                "renewBefore": "720h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "usages": ["client auth", "digital signature"],
                "issuerRef": {
                    "name": kafka.clients_issuer,
                    "kind": "ClusterIssuer",
                    "group": "cert-manager.io",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[kafka.kafka, *self._tenant_ready]),
        )
        return {"type": "tls-external"}, [cert]
