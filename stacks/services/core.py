"""Core platform services, the same on every target: PKI, GPUs, queueing, training, Kafka.

`build(config, foundation)` declares, on the foundation's Kubernetes provider:

| service | component | notes |
|---|---|---|
| cert-manager, CA, CA bundle | `components.pki.PlatformPki` | shared with the on-prem foundation |
| NVIDIA GPU operator | `components.gpu.GpuOperator` | driver/toolkit only where nodes lack them |
| Kueue, flavors, `platform-gpu` | `components.kueue.GpuQueueing` | GPU quota = pool capacity |
| Kubeflow Trainer + `torch-distributed` | `components.trainer.TrainingOperator` | |
| Kafka | `components.kafka.StrimziKafka` | unless the foundation provides a managed Kafka |

Kafka has two clean branches. Without `foundation.kafka`, Strimzi is deployed and
`grant_kafka` creates each tenant's KafkaTopics, KafkaUser and credentials
(`components.kafka.StrimziTenantAccess`). With `foundation.kafka` (MSK, Event Hubs), nothing
Kafka-related is deployed here: the endpoint comes from the foundation and `grant_kafka` is the
factory registered for its kind in `stacks.services.managed_kafka`.
"""

from __future__ import annotations

import weakref
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.gpu import GpuOperator, GpuOperatorArgs
from components.kafka import (
    PLATFORM_TOPICS,
    TLS_PORT,
    StrimziKafka,
    StrimziKafkaArgs,
    StrimziTenantAccess,
    StrimziTenantAccessArgs,
)
from components.kueue import GpuFlavor, GpuQueueing, GpuQueueingArgs
from components.pki import PkiArgs, PlatformPki, VaultIssuer
from components.tenant import PlatformPeer
from components.trainer import TrainingOperator, TrainingOperatorArgs
from stacks import artifacts, governance
from stacks.config import StackConfig, Tenant
from stacks.config.quantity import parse_quantity
from stacks.foundation import Foundation
from stacks.platform import CoreServices, KafkaEndpoint, TenantKafkaAccess
from stacks.services import managed_kafka
from version_catalogue import CHARTS, IMAGES, KAFKA_VERSION

KAFKA_CLUSTER = "mlplatform"

# One PKI per Kubernetes provider (cluster). The on-prem foundation needs the CA before the
# platform layer runs (its Postgres/Redis serve certificates from it), so whoever asks first
# creates it and later callers get the same component.
_PKI: weakref.WeakKeyDictionary[k8s.Provider, PlatformPki] = weakref.WeakKeyDictionary()


def platform_pki(config: StackConfig, provider: k8s.Provider) -> PlatformPki:
    """The cluster's PlatformPki, declared on first use."""
    if provider not in _PKI:
        _PKI[provider] = PlatformPki(
            "pki",
            PkiArgs(
                mirror=config.image_registry,
                labels=governance.platform_labels(config),
                cert_manager_chart=CHARTS["cert-manager"],
                trust_manager_chart=CHARTS["trust-manager"],
                images=artifacts.pki_images(),
                pull_secret=config.registry.pull_secret,
                organization=config.tags.owner,
                protect=not config.ephemeral,
                vault=_vault_issuer(config),
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
    return _PKI[provider]


def _vault_issuer(config: StackConfig) -> VaultIssuer | None:
    vault = config.onprem.vault_pki if config.onprem else None
    if vault is None:
        return None
    return VaultIssuer(
        server=vault.server,
        path=vault.path,
        role=vault.role,
        ca_bundle_pem=vault.ca_bundle,
        auth_mount_path=vault.auth_mount_path,
    )


def _quantity(total: Decimal, unit: str = "") -> str:
    if unit == "Gi":
        return f"{int(total / (Decimal(2) ** 30))}Gi"
    return str(int(total)) if total == total.to_integral_value() else f"{int(total * 1000)}m"


def committed_capacity(config: StackConfig) -> tuple[str, str]:
    """CPU and memory promised to tenants (sum of their quotas), as Kubernetes quantities."""
    cpu = sum((parse_quantity(t.quota.cpu) for t in config.tenants), Decimal(0))
    memory = sum((parse_quantity(t.quota.memory) for t in config.tenants), Decimal(0))
    return _quantity(cpu or Decimal(1)), _quantity(memory or Decimal(2) ** 30, "Gi")


def build(config: StackConfig, foundation: Foundation) -> CoreServices:
    labels = governance.platform_labels(config)
    mirror = config.image_registry
    protect = not config.ephemeral
    pull_secret = config.registry.pull_secret
    provider = foundation.k8s_provider
    opts = pulumi.ResourceOptions(provider=provider, depends_on=list(foundation.ready))

    pki = platform_pki(config, provider)
    gpu = GpuOperator(
        "gpu-operator",
        GpuOperatorArgs(
            mirror=mirror,
            labels=labels,
            chart=CHARTS["gpu-operator"],
            images=artifacts.gpu_operator_images(),
            install_driver=not foundation.gpu_driver_preinstalled,
            pull_secret=pull_secret,
        ),
        opts=opts,
    )
    cpu, memory = committed_capacity(config)
    queueing = GpuQueueing(
        "kueue",
        GpuQueueingArgs(
            mirror=mirror,
            labels=labels,
            chart=CHARTS["kueue"],
            image=IMAGES["kueue"],
            flavors=tuple(
                GpuFlavor(name=p.name, node_labels=dict(p.labels), gpus=p.capacity)
                for p in foundation.gpu_pools
            ),
            cpu=cpu,
            memory=memory,
            pull_secret=pull_secret,
        ),
        opts=opts,
    )
    trainer = TrainingOperator(
        "trainer",
        TrainingOperatorArgs(
            mirror=mirror,
            labels=labels,
            chart=CHARTS["kubeflow-trainer"],
            controller_image=IMAGES["trainer-controller"],
            jobset_image=IMAGES["jobset"],
            training_image=IMAGES["training"],
            pull_secret=pull_secret,
        ),
        # Kueue's webhook must see TrainJobs from the start: install Trainer after it.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[queueing])),
    )
    resources: dict[str, pulumi.Resource] = {
        "pki": pki,
        "gpu-operator": gpu,
        "kueue": queueing,
        "trainer": trainer,
    }
    peers: list[PlatformPeer] = []

    if foundation.kafka is None:
        kafka = StrimziKafka(
            "kafka",
            StrimziKafkaArgs(
                mirror=mirror,
                labels=labels,
                storage_class=foundation.storage_class,
                chart=CHARTS["strimzi"],
                operator_image=IMAGES["strimzi-operator"],
                kafka_version=KAFKA_VERSION,
                authentication=config.kafka.authentication,
                cluster_name=KAFKA_CLUSTER,
                brokers=config.kafka.brokers,
                controllers=config.kafka.controllers,
                broker_storage_gi=config.kafka.broker_storage_gi,
                controller_storage_gi=config.kafka.controller_storage_gi,
                replication_factor=config.kafka.replication_factor,
                min_insync_replicas=config.kafka.min_insync_replicas,
                retention_hours=config.kafka.retention_hours,
                partitions=config.kafka.partitions,
                pull_secret=pull_secret,
                protect=protect,
                ready=tuple(pki.ready),
            ),
            opts=opts,
        )
        resources["kafka"] = kafka
        endpoint = KafkaEndpoint(
            bootstrap=kafka.bootstrap,
            security_protocol=kafka.security_protocol,
            sasl_mechanism=kafka.sasl_mechanism,
            authentication=config.kafka.authentication,
            platform_topics=kafka.platform_topics,
        )
        peers.append(
            PlatformPeer(
                namespace=c.NS_KAFKA,
                ports=(TLS_PORT,),
                pod_labels={"strimzi.io/cluster": KAFKA_CLUSTER, "strimzi.io/kind": "Kafka"},
            )
        )
        grant = strimzi_grant(config, kafka, provider)
    else:
        managed = foundation.kafka
        endpoint = KafkaEndpoint(
            bootstrap=managed.bootstrap,
            security_protocol=managed.security_protocol,
            sasl_mechanism=managed.sasl_mechanism,
            authentication={"msk": "iam", "event-hubs": "entra"}.get(managed.kind, managed.kind),
            platform_topics=dict(PLATFORM_TOPICS),
        )
        grant = managed_kafka.grant_for(config, foundation)

    return CoreServices(
        kafka=endpoint,
        cluster_queue=queueing.cluster_queue,
        ca_bundle=pki.ca_bundle,
        peers=peers,
        grant_kafka=grant,
        resources=resources,
        cluster_issuer=pki.cluster_issuer,
        ca_bundle_key=pki.ca_bundle_key,
        training_runtime=trainer.runtime,
        pki_ready=list(pki.ready),
    )


def strimzi_grant(config: StackConfig, kafka: StrimziKafka, provider: k8s.Provider):
    """The per-tenant grant on Strimzi: topics, KafkaUser and credentials in the tenant ns."""

    def grant(tenant: Tenant, depends_on: pulumi.Resource) -> TenantKafkaAccess:
        access = StrimziTenantAccess(
            f"kafka-{tenant.name}",
            kafka,
            StrimziTenantAccessArgs(
                tenant=tenant.name,
                namespace=c.tenant_namespace(tenant.name),
                topics=tuple(tenant.topics),
                labels=governance.tenant_labels(config, tenant),
            ),
            opts=pulumi.ResourceOptions(provider=provider),
            tenant_ready=(depends_on,),
        )
        return TenantKafkaAccess(
            topics=access.topics,
            credentials_secret=access.credentials_secret,
            principal=access.principal,
        )

    return grant
