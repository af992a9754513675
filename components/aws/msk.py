"""Amazon MSK for `kafka.mode: managed`, and each tenant's slice of it.

`MskCluster`

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `cluster_name`, `kafka_version` | MSK cluster name and version (catalogue) |
| `vpc_id`, `subnet_ids` | private data subnets, one per zone ID (brokers spread across them) |
| `client_security_group_id` | the only group that may connect (EKS nodes) |
| `brokers`, `instance_type`, `broker_storage_gi` | sizing (brokers: multiple of zones) |
| `kms_key_arn` | CMK at rest (UAE-KEY-001) |
| `logs_key_arn`, `log_retention_days` | broker logs to an in-region CMK-encrypted group |
| `server_properties` | broker defaults (no auto-created topics, RF, min ISR…) |
| `platform_topics`, `partitions`, `replication_factor`, `topic_configs` | shared topics |

Outputs: `cluster`, `arn`, `bootstrap` (SASL/IAM over TLS, port 9098), `security_group`,
`platform_topics` (names).

TLS between clients and brokers and inside the cluster, IAM authentication only (no
unauthenticated or plaintext listener, no SCRAM secrets to store), public access disabled.

`MskTenantAccess`

| Args | meaning |
|---|---|
| `site` | account, region, tags |
| `tenant`, `namespace`, `service_account` | whose pods get access (`also_service_accounts`: |
| | other ServiceAccounts of the namespace, e.g. the retraining controller's) |
| `msk_cluster_arn` | the cluster |
| `eks_cluster_name`, `eks_cluster_arn` | where the Pod Identity association lives |
| `topics` | full topic names (all `<tenant>.`-prefixed) created here |
| `read_only_topics` | platform topics the tenant may read but not write |
| `partitions`, `replication_factor`, `topic_configs` | topic settings |

Outputs: `role` (`PodIdentityRole`), `topics` (names).

The tenant's role may connect, read/write only topics and consumer groups named `<tenant>.*`
(and idempotent writes), and read the platform topics, never write them (as on Strimzi: only the
platform writes there); it cannot create, delete or reconfigure topics: those are declared by
the platform.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite, document, statement
from components.aws.iam import PodIdentityRole, PodIdentityRoleArgs
from components.aws.network import security_group_for_clients

MSK_IAM_TLS_PORT = 9098


@dataclass(frozen=True)
class MskClusterArgs:
    site: AwsSite
    cluster_name: str
    kafka_version: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    # From the stack's `kafka` config (no defaults here: the config model holds them)
    brokers: int
    broker_storage_gi: int
    server_properties: dict[str, str]
    platform_topics: tuple[str, ...]
    partitions: int
    replication_factor: int
    topic_configs: dict[str, str]
    instance_type: str = "kafka.m5.large"


class MskCluster(pulumi.ComponentResource):
    cluster: aws.msk.Cluster
    arn: pulumi.Output[str]
    bootstrap: pulumi.Output[str]
    security_group: aws.ec2.SecurityGroup
    platform_topics: list[str]

    def __init__(self, name: str, args: MskClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:aws:MskCluster", name, None, opts)
        site, cluster_name = args.site, args.cluster_name
        if args.brokers % len(args.subnet_ids):
            raise ValueError(
                f"brokers ({args.brokers}) must be a multiple of the zones ({len(args.subnet_ids)})"
            )
        self.security_group = security_group_for_clients(
            f"{name}-sg",
            site,
            vpc_id=args.vpc_id,
            group_name=f"{cluster_name}-msk",
            description=f"{cluster_name}: Kafka SASL/IAM over TLS from EKS nodes only",
            ports=(MSK_IAM_TLS_PORT,),
            client_security_group_id=args.client_security_group_id,
            parent=self,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-broker-logs",
            name=f"/aws/msk/{cluster_name}/brokers",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=site.tags_for(f"{cluster_name}-broker-logs"),
            opts=site.stateful(self),
        )
        configuration = aws.msk.Configuration(
            f"{name}-config",
            name=cluster_name,
            description=f"{cluster_name}: platform broker defaults",
            kafka_versions=[args.kafka_version],
            server_properties="\n".join(
                f"{k}={v}" for k, v in sorted(args.server_properties.items())
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cluster = aws.msk.Cluster(
            f"{name}-cluster",
            cluster_name=cluster_name,
            kafka_version=args.kafka_version,
            number_of_broker_nodes=args.brokers,
            broker_node_group_info=_broker_nodes(args, self.security_group),
            client_authentication=aws.msk.ClusterClientAuthenticationArgs(
                sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True, scram=False),
                unauthenticated=False,
            ),
            encryption_info=aws.msk.ClusterEncryptionInfoArgs(
                encryption_at_rest_kms_key_arn=args.kms_key_arn,
                encryption_in_transit=aws.msk.ClusterEncryptionInfoEncryptionInTransitArgs(
                    client_broker="TLS", in_cluster=True
                ),
            ),
            configuration_info=aws.msk.ClusterConfigurationInfoArgs(
                arn=configuration.arn, revision=configuration.latest_revision
            ),
            logging_info=aws.msk.ClusterLoggingInfoArgs(
                broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                    cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(
                        enabled=True, log_group=log_group.name
                    )
                )
            ),
            enhanced_monitoring="PER_BROKER",
            tags=site.tags_for(cluster_name),
            opts=site.stateful(self),
        )
        self.arn = self.cluster.arn
        self.bootstrap = self.cluster.bootstrap_brokers_sasl_iam
        self.platform_topics = list(args.platform_topics)
        declare_topics(
            name,
            self.cluster.arn,
            args.platform_topics,
            args.partitions,
            args.replication_factor,
            args.topic_configs,
            parent=self,
        )
        self.register_outputs({"arn": self.arn, "bootstrap": self.bootstrap})


def _broker_nodes(
    args: MskClusterArgs, security_group: aws.ec2.SecurityGroup
) -> aws.msk.ClusterBrokerNodeGroupInfoArgs:
    """Brokers in the private data subnets, behind their own security group, no public access."""
    return aws.msk.ClusterBrokerNodeGroupInfoArgs(
        instance_type=args.instance_type,
        client_subnets=args.subnet_ids,
        security_groups=[security_group.id],
        storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoArgs(
            ebs_storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoEbsStorageInfoArgs(
                volume_size=args.broker_storage_gi
            )
        ),
        connectivity_info=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoArgs(
            public_access=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoPublicAccessArgs(
                type="DISABLED"
            )
        ),
    )


def declare_topics(
    name: str,
    cluster_arn: pulumi.Input[str],
    topics: Sequence[str],
    partitions: int,
    replication_factor: int,
    configs: dict[str, str],
    *,
    parent: pulumi.Resource,
) -> list[aws.msk.Topic]:
    """MSK topics through the MSK API (auto-creation is off on the brokers)."""
    return [
        aws.msk.Topic(
            f"{name}-{topic.replace('.', '-')}",
            cluster_arn=cluster_arn,
            name=topic,
            partition_count=partitions,
            replication_factor=replication_factor,
            configs=json.dumps(configs, sort_keys=True),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for topic in topics
    ]


def _kafka_arn(cluster_arn: pulumi.Input[str], kind: str, name: str) -> pulumi.Output[str]:
    """`arn:…:cluster/<name>/<uuid>` → `arn:…:<kind>/<name>/<uuid>/<name pattern>`."""
    return pulumi.Output.from_input(cluster_arn).apply(
        lambda arn: arn.replace(":cluster/", f":{kind}/", 1) + f"/{name}"
    )


def tenant_kafka_policy(
    cluster_arn: pulumi.Input[str], tenant: str, read_only: Sequence[str] = ()
) -> pulumi.Output[str]:
    prefix = f"{tenant}.*"
    # The platform topics: read, never written by a tenant (issue 13: a topic two tenants
    # write mixes their records).
    platform = (
        [
            statement(
                "ReadPlatformTopics",
                ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"),
                [_kafka_arn(cluster_arn, "topic", topic) for topic in read_only],
            )
        ]
        if read_only
        else []
    )
    return document(
        statement(
            "ConnectToCluster",
            (
                "kafka-cluster:Connect",
                "kafka-cluster:DescribeCluster",
                "kafka-cluster:WriteDataIdempotently",
            ),
            [cluster_arn],
        ),
        statement(
            "OwnTopics",
            (
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:DescribeTopicDynamicConfiguration",
                "kafka-cluster:ReadData",
                "kafka-cluster:WriteData",
            ),
            [_kafka_arn(cluster_arn, "topic", prefix)],
        ),
        statement(
            "OwnConsumerGroups",
            ("kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"),
            [_kafka_arn(cluster_arn, "group", prefix)],
        ),
        statement(
            "OwnTransactionalIds",
            ("kafka-cluster:AlterTransactionalId", "kafka-cluster:DescribeTransactionalId"),
            [_kafka_arn(cluster_arn, "transactional-id", prefix)],
        ),
        *platform,
    )


@dataclass(frozen=True)
class MskTenantAccessArgs:
    site: AwsSite
    tenant: str
    namespace: str
    service_account: str
    msk_cluster_arn: pulumi.Input[str]
    eks_cluster_name: pulumi.Input[str]
    eks_cluster_arn: str
    role_name: str
    topics: tuple[str, ...]
    partitions: int
    replication_factor: int
    topic_configs: dict[str, str] = field(default_factory=dict)
    read_only_topics: tuple[str, ...] = ()
    also_service_accounts: tuple[str, ...] = ()


class MskTenantAccess(pulumi.ComponentResource):
    role: PodIdentityRole
    topics: list[str]

    def __init__(
        self, name: str, args: MskTenantAccessArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:MskTenantAccess", name, None, opts)
        outside = [t for t in args.topics if not t.startswith(f"{args.tenant}.")]
        if outside:
            raise ValueError(f"topics {outside} are not prefixed with '{args.tenant}.'")
        child = pulumi.ResourceOptions(parent=self)
        self.topics = list(args.topics)
        declare_topics(
            name,
            args.msk_cluster_arn,
            args.topics,
            args.partitions,
            args.replication_factor,
            args.topic_configs,
            parent=self,
        )
        self.role = PodIdentityRole(
            f"{name}-identity",
            PodIdentityRoleArgs(
                site=args.site,
                role_name=args.role_name,
                cluster_name=args.eks_cluster_name,
                cluster_arn=args.eks_cluster_arn,
                namespace=args.namespace,
                service_account=args.service_account,
                also_service_accounts=args.also_service_accounts,
                policy=tenant_kafka_policy(
                    args.msk_cluster_arn, args.tenant, args.read_only_topics
                ),
                description=f"Tenant {args.tenant}: its own Kafka topics and groups on MSK",
            ),
            opts=child,
        )
        self.register_outputs({"role": self.role.arn, "topics": self.topics})
