"""Amazon MSK for `kafka.mode: managed`, with each tenant's topics and Pod Identity role.

Tenant topics are `<tenant>.<topic>`, declared here by the platform (tenants cannot create
topics); the tenant's `workloads` service account in `tenant-<name>` gets a role limited to
`<tenant>.*` topics and consumer groups. With `kafka.mode: strimzi` nothing is declared here and
the core services run Strimzi on EKS.
"""

from __future__ import annotations

import math
from typing import Any

from components import conventions as c
from components.aws.msk import MskCluster, MskClusterArgs, MskTenantAccess, MskTenantAccessArgs
from stacks.aws.cluster import AwsCluster
from stacks.aws.names import AwsContext
from stacks.catalogue import MSK_KAFKA_VERSION
from stacks.foundation import ManagedKafka

TENANT_SERVICE_ACCOUNT = "workloads"  # components.tenant.Tenant's service account


def tenant_topic(tenant: str, topic: str) -> str:
    return f"{tenant}.{topic}"


def build_kafka(ctx: AwsContext, cluster: AwsCluster) -> tuple[ManagedKafka | None, dict[str, Any]]:
    config = ctx.config
    if config.kafka.mode != "managed":
        return None, {}
    k, network, keys = config.kafka, cluster.network, cluster.keys
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
        ),
        ctx.opts,
    )
    roles, topics = {}, {}
    for tenant in config.tenants:
        access = MskTenantAccess(
            f"kafka-tenant-{tenant.name}",
            MskTenantAccessArgs(
                site=ctx.site,
                tenant=tenant.name,
                namespace=c.tenant_namespace(tenant.name),
                service_account=TENANT_SERVICE_ACCOUNT,
                msk_cluster_arn=msk.arn,
                eks_cluster_name=cluster.eks.name,
                eks_cluster_arn=ctx.cluster_arn,
                role_name=f"{ctx.names.prefix}-tenant-{tenant.name}-kafka",
                topics=tuple(tenant_topic(tenant.name, topic) for topic in tenant.topics),
                partitions=k.partitions,
                replication_factor=k.replication_factor,
                topic_configs={
                    "cleanup.policy": "delete",
                    "min.insync.replicas": str(k.min_insync_replicas),
                    "retention.ms": str(k.retention_hours * 3_600_000),
                },
            ),
            ctx.opts,
        )
        roles[tenant.name] = access.role.arn
        topics[tenant.name] = access.topics
    kafka = ManagedKafka(
        kind="msk",
        bootstrap=msk.bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="AWS_MSK_IAM",
        resource_id=msk.arn,
    )
    return kafka, {"kafka_tenant_roles": roles, "kafka_tenant_topics": topics}
