"""Kafka for the platform: Strimzi in-cluster, or the managed service the foundation provides.

Two clean branches, one typed result (`PlatformKafka`):

- no `foundation.kafka`: `StrimziKafka` is deployed; the grant (`StrimziGrant`) declares each
  tenant's KafkaTopics, KafkaUser and credentials (`components.kafka.StrimziTenantAccess`);
  tenants reach the brokers as a platform peer.
- `foundation.kafka` (MSK, Event Hubs): nothing is deployed here; the foundation declared the
  tenants' topics and identities with the service, and the grant (`ManagedKafkaGrant`) reports
  them. Tenants reach the brokers through the foundation's `client_egress` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.kafka import (
    PLATFORM_TOPICS,
    TLS_PORT,
    StrimziKafka,
    StrimziKafkaArgs,
    StrimziTenantAccess,
    StrimziTenantAccessArgs,
)
from components.pki import PlatformPki
from components.tenant import PlatformPeer
from stacks import artifacts, governance
from stacks.composition.placement import platform_placement
from stacks.composition.results import KafkaEndpoint, KafkaGrant, TenantKafkaAccess
from stacks.config import StackConfig, Tenant
from stacks.foundation import Foundation, ManagedKafka
from version_catalogue import CHARTS, KAFKA_VERSION

KAFKA_CLUSTER = "mlplatform"


@dataclass(frozen=True)
class PlatformKafka:
    endpoint: KafkaEndpoint
    grant: KafkaGrant
    component: StrimziKafka | None  # None with a managed Kafka
    peers: list[PlatformPeer]


@dataclass(frozen=True)
class StrimziGrant:
    """Per tenant on Strimzi: topics, KafkaUser and credentials in the tenant namespace."""

    config: StackConfig
    kafka: StrimziKafka
    provider: k8s.Provider

    def grant(self, tenant: Tenant, depends_on: pulumi.Resource) -> TenantKafkaAccess:
        access = StrimziTenantAccess(
            f"kafka-{tenant.name}",
            self.kafka,
            StrimziTenantAccessArgs(
                tenant=tenant.name,
                namespace=c.tenant_namespace(tenant.name),
                topics=tuple(self.config.tenant_topics(tenant)),  # with its ML loop's
                labels=governance.tenant_labels(self.config, tenant),
            ),
            opts=pulumi.ResourceOptions(provider=self.provider),
            tenant_ready=(depends_on,),
        )
        return TenantKafkaAccess(
            topics=access.topics,
            credentials_secret=access.credentials_secret,
            principal=access.principal,
        )


@dataclass(frozen=True)
class ManagedKafkaGrant:
    """Per tenant on MSK / Event Hubs: report what the foundation declared; create nothing."""

    kafka: ManagedKafka

    def grant(self, tenant: Tenant, depends_on: pulumi.Resource) -> TenantKafkaAccess:
        access = self.kafka.tenants.get(tenant.name)
        if access is None:
            raise ValueError(f"tenant {tenant.name!r} has no {self.kafka.kind} access")
        return TenantKafkaAccess(
            topics=list(access.topics),
            credentials_secret=None,  # workload identity: no credential in the namespace
            principal=access.principal,
        )


def build_kafka(
    config: StackConfig, foundation: Foundation, pki: PlatformPki, opts: pulumi.ResourceOptions
) -> PlatformKafka:
    managed = foundation.kafka
    if managed is not None:
        endpoint = KafkaEndpoint(
            bootstrap=managed.bootstrap,
            security_protocol=managed.security_protocol,
            sasl_mechanism=managed.sasl_mechanism,
            authentication=managed.authentication,
            platform_topics=dict(PLATFORM_TOPICS),
        )
        return PlatformKafka(endpoint, ManagedKafkaGrant(managed), None, [])
    kafka = _strimzi(config, foundation, pki, opts)
    endpoint = KafkaEndpoint(
        bootstrap=kafka.bootstrap,
        security_protocol=kafka.security_protocol,
        sasl_mechanism=kafka.sasl_mechanism,
        authentication=config.kafka.authentication,
        platform_topics=kafka.platform_topics,
    )
    peer = PlatformPeer(
        namespace=c.NS_KAFKA,
        ports=(TLS_PORT,),
        pod_labels={
            "strimzi.io/cluster": KAFKA_CLUSTER,
            "strimzi.io/kind": "Kafka",
            "strimzi.io/broker-role": "true",  # the listeners run on the brokers only
        },
    )
    grant = StrimziGrant(config, kafka, foundation.k8s_provider)
    return PlatformKafka(endpoint, grant, kafka, [peer])


def _strimzi(
    config: StackConfig, foundation: Foundation, pki: PlatformPki, opts: pulumi.ResourceOptions
) -> StrimziKafka:
    k = config.kafka
    return StrimziKafka(
        "kafka",
        StrimziKafkaArgs(
            mirror=config.image_registry,
            labels=governance.platform_labels(config),
            storage_class=foundation.storage_class,
            chart=CHARTS["strimzi"],
            operator_image=artifacts.image(config, "strimzi-operator"),
            kafka_image=artifacts.image(config, "strimzi-kafka"),
            kafka_version=KAFKA_VERSION,
            authentication=k.authentication,
            cluster_name=KAFKA_CLUSTER,
            brokers=k.brokers,
            controllers=k.controllers,
            broker_storage_gi=k.broker_storage_gi,
            controller_storage_gi=k.controller_storage_gi,
            replication_factor=k.replication_factor,
            min_insync_replicas=k.min_insync_replicas,
            retention_hours=k.retention_hours,
            partitions=k.partitions,
            pull_secret=config.registry.pull_secret,
            api_server=foundation.api_server,
            protect=not config.ephemeral,
            ready=tuple(pki.ready),
            placement=platform_placement(config),
        ),
        opts=opts,
    )
