"""Amazon MSK for `kafka.mode: managed`, with each tenant's topics and Pod Identity role.

Topics are declared here by the platform (auto-creation is off, tenants cannot create topics):
the platform topics (`components.kafka.PLATFORM_TOPICS`, the same names as on Strimzi) and each
tenant's `<tenant>.<topic>`. The tenant's `workloads` service account in `tenant-<name>` gets a
role limited to `<tenant>.*` topics and consumer groups, plus read-only on the platform
topics (the Strimzi ACLs' equivalent). The returned `ManagedKafka` carries each tenant's topics
and role (`ManagedKafka.tenants`), which the platform reports to the tenant. With
`kafka.mode: strimzi` nothing is declared here and the platform runs Strimzi on EKS.
"""

from __future__ import annotations

import ipaddress
import math

from components import conventions as c
from components.aws.msk import (
    MSK_IAM_TLS_PORT,
    MskCluster,
    MskClusterArgs,
    MskTenantAccess,
    MskTenantAccessArgs,
)
from components.aws.network import plan_subnets
from components.endpoints import EgressRule
from components.kafka import PLATFORM_TOPICS
from stacks.config import Tenant
from stacks.config.ml_loop import loop_service_accounts
from stacks.foundation import ManagedKafka, ManagedTenantKafka
from stacks.targets.aws.cluster import AwsCluster
from stacks.targets.aws.context import AwsContext
from version_catalogue import MSK_KAFKA_VERSION

TENANT_SERVICE_ACCOUNT = "workloads"  # components.tenant.Tenant's service account


def covering(cidrs: tuple[str, ...]) -> str:
    """The smallest block holding every one of `cidrs` (the data subnets are adjacent)."""
    networks = [ipaddress.IPv4Network(c) for c in cidrs]
    block = networks[0]
    while not all(n.subnet_of(block) for n in networks):
        block = block.supernet()
    return str(block)


def tenant_topic(tenant: str, topic: str) -> str:
    return f"{tenant}.{topic}"


def build_kafka(ctx: AwsContext, cluster: AwsCluster) -> ManagedKafka | None:
    config = ctx.config
    if config.kafka.mode != "managed":
        return None
    k, network, keys = config.kafka, cluster.network, cluster.keys
    topic_configs = {
        "cleanup.policy": "delete",
        "min.insync.replicas": str(k.min_insync_replicas),
        "retention.ms": str(k.retention_hours * 3_600_000),
    }
    zones = len(network.data_subnet_ids)
    brokers = math.ceil(k.brokers / zones) * zones  # MSK spreads brokers evenly over zones
    msk = MskCluster(
        "msk",
        MskClusterArgs(
            site=ctx.site,
            cluster_name=ctx.names.kafka,
            kafka_version=MSK_KAFKA_VERSION,
            vpc_id=network.vpc_id,
            subnet_ids=network.data_subnet_ids,
            client_security_group_id=network.node_security_group.id,
            kms_key_arn=keys.arns["data"],
            logs_key_arn=keys.arns["logs"],
            log_retention_days=config.logging.retention_days,
            brokers=brokers,
            broker_storage_gi=k.broker_storage_gi,
            server_properties={
                "auto.create.topics.enable": "false",
                "default.replication.factor": str(k.replication_factor),
                "min.insync.replicas": str(k.min_insync_replicas),
                "num.partitions": str(k.partitions),
                "log.retention.hours": str(k.retention_hours),
                "unclean.leader.election.enable": "false",
            },
            platform_topics=tuple(PLATFORM_TOPICS.values()),
            partitions=k.partitions,
            replication_factor=k.replication_factor,
            topic_configs=topic_configs,
        ),
        ctx.opts,
    )
    tenants = {
        tenant.name: _tenant_access(ctx, cluster, msk, tenant, topic_configs)
        for tenant in config.tenants
    }
    # Broker ENIs get addresses in the data subnets. Not the whole VPC: with the VPC CNI every
    # pod has a VPC address too, so a VPC-wide rule would let tenants open connections to other
    # tenants' pods on the listener's port (the plan's isolation check, SIM-FLW-002).
    data = plan_subnets(ctx.aws_config.vpc_cidr, len(ctx.aws_config.zone_ids)).data
    listener = EgressRule(
        name="msk-brokers",
        cidr=covering(data),
        ports=(MSK_IAM_TLS_PORT,),
        why="MSK brokers' IAM listener in the stack's VPC",
    )
    return ManagedKafka(
        kind="msk",
        name=ctx.names.kafka,
        bootstrap=msk.bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="AWS_MSK_IAM",
        authentication="iam",
        resource_id=msk.arn,
        client_egress=(listener,),  # IAM auth with the tenant's Pod Identity role
        tenants=tenants,
    )


def _tenant_access(
    ctx: AwsContext,
    cluster: AwsCluster,
    msk: MskCluster,
    tenant: Tenant,
    topic_configs: dict[str, str],
) -> ManagedTenantKafka:
    """The tenant's `<tenant>.<topic>` topics and its Pod Identity role limited to them."""
    k = ctx.config.kafka
    access = MskTenantAccess(
        f"kafka-tenant-{tenant.name}",
        MskTenantAccessArgs(
            site=ctx.site,
            tenant=tenant.name,
            namespace=c.tenant_namespace(tenant.name),
            service_account=TENANT_SERVICE_ACCOUNT,
            also_service_accounts=loop_service_accounts(ctx.config.tenant_loop(tenant)),
            msk_cluster_arn=msk.arn,
            eks_cluster_name=cluster.eks.name,
            eks_cluster_arn=ctx.cluster_arn,
            role_name=f"{ctx.names.prefix}-tenant-{tenant.name}-kafka",
            topics=tuple(
                tenant_topic(tenant.name, topic) for topic in ctx.config.tenant_topics(tenant)
            ),
            partitions=k.partitions,
            replication_factor=k.replication_factor,
            topic_configs=topic_configs,
            read_only_topics=tuple(PLATFORM_TOPICS.values()),
        ),
        ctx.opts,
    )
    # EKS Pod Identity: no ServiceAccount annotation, no credential in the namespace.
    return ManagedTenantKafka(topics=access.topics, principal=access.role.arn)
