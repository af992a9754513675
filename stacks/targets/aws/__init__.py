"""The AWS target (me-central-1): keys, network, EKS and GPU node groups, data stores.

Everything is declared through one explicit `aws.Provider` pinned to the validated region and
account (default providers are disabled for the project). `build_cluster(config)` is the
target's first step (1-5), `build_foundation(config, cluster, pki)` its second (6-9):

| step | module | components | what |
|---|---|---|---|
| 1 | `context` | (provider) | names checked against AWS limits, the pinned provider |
| 2 | `cluster` | `ClusterRoles`, `PlatformKeys` | EKS roles; CMKs `data`, `secrets`, `logs` |
| 3 | `cluster` | `PrivateNetwork` | VPC over the zone IDs, no internet path, endpoints |
| 4 | `cluster` | `EksCluster`, `NodeGroup` (n) | private EKS; system + one group per GPU pool |
| 5 | `cluster` | `ClusterAddons` | CoreDNS, EBS CSI + encrypted StorageClass, autoscaler |
| 6 | `data` | `SecureBucket` (2), `AuditTrail` | artifacts, offline store; CloudTrail + lock |
| 7 | `data` | `PostgresDatabase`, `RedisCache` | RDS (MLflow DB; Feast adds its own), ElastiCache |
| 8 | `data` | `ImageRegistry`, `PodIdentityRole` (2) | ECR for the catalogue; MLflow/Feast access |
| 9 | `kafka` | `MskCluster`, `MskTenantAccess` | only with `kafka.mode: managed` |

The platform's PKI (declared between the two steps) is not used here: RDS, ElastiCache and S3
serve certificates from AWS's CAs.

The `Foundation` it returns points the platform services at these: the EKS Kubernetes
provider, RDS/ElastiCache endpoints with generated credentials, S3 URIs (access through EKS Pod
Identity, no keys), key ARNs, the GPU pools, MSK when managed, and what to wait for.
"""

from __future__ import annotations

import pulumi

from components import conventions as c
from components.api_server import ApiServer
from components.aws.network import plan_subnets
from components.endpoints import Credentials, EgressRule, ObjectStore, Postgres, Redis
from components.pki import PlatformPki
from stacks.config import StackConfig
from stacks.foundation import AwsFacts, Foundation, SecurityException
from stacks.targets.aws.cluster import AwsCluster, build_eks
from stacks.targets.aws.context import (
    POSTGRES_USER,
    RDS_CA_BUNDLE_URL,
    RDS_CA_SECRET,
    STORAGE_CLASS,
    Names,
    context,
)
from stacks.targets.aws.data import AwsData, build_data
from stacks.targets.aws.kafka import build_kafka
from stacks.targets.aws.logs import build_log_shipping

__all__ = ["STORAGE_CLASS", "Names", "build_cluster", "build_foundation"]

# EKS Pod Identity needs no ServiceAccount annotation; this one records the binding on the
# ServiceAccount for reviewers and the compliance report.
ROLE_ANNOTATION = "mlplatform.io/aws-iam-role"
POD_IDENTITY_AGENT = "169.254.170.23/32"  # EKS Pod Identity agent (link-local, every node)
# Pods with a Pod Identity role fetch credentials from the node-local agent over HTTP: their
# namespace's egress NetworkPolicy must admit it (the VPC CNI enforces policies). The cluster
# is IPv4, so the agent's IPv6 address (fd00:ec2::23) is not used.
POD_IDENTITY_EGRESS = EgressRule(
    name="eks-pod-identity",
    cidr=POD_IDENTITY_AGENT,
    ports=(80,),
    why="EKS Pod Identity agent on the node: AWS credentials for the pod's IAM role",
)


# S3 is reached through the VPC's gateway endpoint at S3's own (public) addresses, which AWS
# publishes as a prefix list a NetworkPolicy cannot name: HTTPS to public addresses only. The
# VPC has no internet route, so S3 (limited by the endpoint policy) is all that answers.
S3_EGRESS = EgressRule(
    name="object-store",
    cidr="0.0.0.0/0",
    ports=(443,),
    except_cidrs=(
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
    ),
    why="S3 through the VPC gateway endpoint (the tenant's data prefix)",
    exception="S3 is reached through the VPC's gateway endpoint at S3's public addresses, which "
    "AWS publishes as a prefix list no NetworkPolicy can name: HTTPS to public addresses only "
    "(every private range excepted); the VPC has no internet gateway or NAT, so only S3 answers, "
    "and the gateway endpoint's policy admits only this account's buckets",
)


def api_server(vpc_cidr: str, zones: int) -> ApiServer:
    """The private endpoint's ENIs sit in the cluster's control-plane subnets, where no pod
    takes an address; the VPC CNI's network policy agent matches them by address, so a rule
    admitting the API server admits nothing else."""
    return ApiServer(plan_subnets(vpc_cidr, zones).control_plane)


def build_cluster(config: StackConfig) -> AwsCluster:
    return build_eks(context(config))


def build_foundation(config: StackConfig, cluster: AwsCluster, pki: PlatformPki) -> Foundation:
    ctx = cluster.context
    data = build_data(ctx, cluster)
    region = ctx.site.region
    roles = {c.SA_MLFLOW: data.mlflow_role.arn, c.SA_FEAST: data.feast_role.arn}
    return Foundation(
        platform="aws",
        location=region,
        facts=_facts(config, cluster, data, roles),
        k8s_provider=cluster.k8s_provider,
        storage_class=STORAGE_CLASS,
        postgres=_postgres(config, data),
        redis=Redis(
            host=data.cache.address,
            port=data.cache.port,
            credentials=Credentials(password=data.redis_token),
            tls=True,
        ),
        object_store=ObjectStore(
            kind="s3",
            endpoint=None,  # the regional endpoint, reached through the S3 gateway endpoint
            region=region,
            artifact_uri=pulumi.Output.concat("s3://", data.artifacts.name, "/mlflow"),
            offline_store_uri=pulumi.Output.concat("s3://", data.offline.name, "/feast"),
            credentials=None,
            service_account_annotations={sa: {ROLE_ANNOTATION: arn} for sa, arn in roles.items()},
        ),
        key_refs=dict(cluster.keys.arns),
        gpu_pools=cluster.gpu_pools,
        api_server=api_server(ctx.aws_config.vpc_cidr, len(ctx.aws_config.zone_ids)),
        kafka=build_kafka(ctx, cluster),
        gpu_driver_preinstalled=True,  # AL2023 NVIDIA AMI ships driver and container toolkit
        workload_identity_egress=[POD_IDENTITY_EGRESS],
        object_store_egress=(S3_EGRESS,),
        ready=[
            *(g.node_group for g in cluster.node_groups),
            *cluster.addons.addons,
            cluster.addons.storage_class,
        ],
        exceptions=_exceptions(config, region),
        log_shipping=build_log_shipping(cluster),
    )


def _facts(
    config: StackConfig, cluster: AwsCluster, data: AwsData, roles: dict[str, pulumi.Output[str]]
) -> AwsFacts:
    ctx = cluster.context
    return AwsFacts(
        region=ctx.site.region,
        account_id=ctx.site.account_id,
        zone_ids=list(ctx.aws_config.zone_ids),
        cluster_name=ctx.names.cluster,
        cluster_endpoint=cluster.eks.endpoint,
        vpc_id=cluster.network.vpc_id,
        registry=config.image_registry,
        audit_trail=data.trail.arn,
        audit_bucket=ctx.names.audit_bucket,
        postgres_ca_bundle_url=RDS_CA_BUNDLE_URL.format(region=ctx.site.region),
        workload_roles=dict(roles),
    )


def _postgres(config: StackConfig, data: AwsData) -> Postgres:
    """RDS as MLflow and Feast reach it: identity verified when the RDS CA bundle is configured.

    RDS certificates chain to Amazon's RDS CAs, which no OS trust store carries, so the bundle
    must be supplied (`aws.databaseCaBundle`). Without it clients still encrypt (the parameter
    group forces TLS) but cannot authenticate the server; `_exceptions` reports that.
    """
    bundle = config.aws.database_ca_bundle if config.aws else None
    return Postgres(
        host=data.database.address,
        port=data.database.port,
        credentials=Credentials(username=POSTGRES_USER, password=data.postgres_password),
        ssl_mode="verify-full" if bundle else "require",
        ca_secret=RDS_CA_SECRET if bundle else None,
        ca_pem=bundle,
        # RDS creates only its `db_name` (MLflow's); Feast creates its registry database.
        databases_to_create=(Postgres.feast_database,),
    )


# The one interface endpoint without a policy (components.aws.network.NO_ENDPOINT_POLICY).
EKS_AUTH_ENDPOINT_OPEN = SecurityException(
    control="8.20",
    policy="UAE-NET-001",
    what="the EKS Auth interface endpoint (com.amazonaws.<region>.eks-auth) carries no endpoint "
    "policy, unlike every other endpoint, which admits only this account's principals and "
    "resources",
    why="the EKS Auth API is called only by the Pod Identity agent on the nodes, with the node "
    "role, and answers only with roles this cluster's Pod Identity associations name; the "
    "endpoint takes no custom policy",
    remedy="none needed while only Pod Identity uses it; the node role's IAM policy "
    "(AmazonEKSWorkerNodePolicy: eks-auth:AssumeRoleForPodIdentity) is what limits it",
)


def _exceptions(config: StackConfig, region: str) -> list[SecurityException]:
    if config.aws and config.aws.database_ca_bundle:
        return [EKS_AUTH_ENDPOINT_OPEN]
    return [
        EKS_AUTH_ENDPOINT_OPEN,
        SecurityException(
            control="8.24",
            policy="UAE-ENC-001",
            what="MLflow and Feast connect to RDS with sslmode=require: encrypted, but the "
            "server's certificate is not verified",
            why="the RDS CA bundle is not configured (aws.databaseCaBundle), and RDS CAs are in "
            "no OS trust store",
            remedy="set aws.databaseCaBundle to the PEM from "
            + RDS_CA_BUNDLE_URL.format(region=region),
        ),
    ]
