"""Step 1 of the AWS target: keys, network, EKS, node groups and cluster add-ons."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.aws.addons import ClusterAddons, ClusterAddonsArgs, ebs_csi_role_name
from components.aws.audit import trail_arn
from components.aws.eks import EksCluster, EksClusterArgs, NamespaceAccess
from components.aws.iam import ClusterRoles, ClusterRolesArgs
from components.aws.kms import KeySpec, PlatformKeys, PlatformKeysArgs
from components.aws.network import PrivateNetwork, PrivateNetworkArgs
from components.aws.nodegroups import NodeGroup, NodeGroupArgs
from stacks import artifacts, governance
from stacks.foundation import GpuPoolInfo
from stacks.targets.aws.context import (
    NVIDIA_AMI,
    STANDARD_AMI,
    STORAGE_CLASS,
    SYSTEM_NODE_LABEL,
    WORKLOAD_ROLES,
    AwsContext,
    workload_role_name,
)
from version_catalogue import CHARTS

SYSTEM_LABELS = {SYSTEM_NODE_LABEL: "system"}


@dataclass
class AwsCluster:
    """Step 1 of the AWS target: what the platform runs on, and the shared context."""

    context: AwsContext
    keys: PlatformKeys
    network: PrivateNetwork
    eks: EksCluster
    node_groups: list[NodeGroup]
    gpu_pools: list[GpuPoolInfo]
    k8s_provider: k8s.Provider
    addons: ClusterAddons


def platform_keys(ctx: AwsContext, roles: ClusterRoles) -> PlatformKeys:
    """CMKs per purpose, administered by `aws.adminRoleArns`; the secrets key names the EKS
    role, so roles come first; the data key's users (MLflow, Feast, the EBS CSI controller)
    are named before they exist (`aws:PrincipalArn`)."""
    site, names = ctx.site, ctx.names
    admins = tuple(ctx.aws_config.admin_role_arns)
    autoscaling_slr = site.role_arn(
        "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    specs = (
        KeySpec(
            "data",
            "Platform data at rest: S3, RDS, ElastiCache, MSK, EBS, ECR",
            via_services=("s3", "rds", "elasticache", "kafka", "ec2", "ecr"),
            service_users=(
                *(site.role_arn(workload_role_name(names, w)) for w in WORKLOAD_ROLES),
                site.role_arn(ebs_csi_role_name(names.cluster)),
            ),
            # Auto Scaling launches the nodes' CMK-encrypted root volumes (needs grants).
            service_linked_roles=(autoscaling_slr,),
        ),
        KeySpec(
            "secrets",
            "Kubernetes Secrets envelope encryption (EKS)",
            # The deploying admin's CreateCluster has EKS create a grant on the key.
            via_services=("eks",),
            direct_users=(roles.cluster_role.arn,),
        ),
        KeySpec(
            "logs",
            "Logs and audit trail: CloudWatch Logs, CloudTrail, audit bucket",
            via_services=("s3",),
            service_users=admins,  # reading the audit trail from its bucket
            cloudwatch_logs=True,
            cloudtrail_arns=(trail_arn(site, names.trail),),
        ),
    )
    return PlatformKeys(
        "keys",
        PlatformKeysArgs(site=site, prefix=names.prefix, keys=specs, admin_role_arns=admins),
        ctx.opts,
    )


def roles_and_keys(ctx: AwsContext) -> tuple[ClusterRoles, PlatformKeys]:
    """The EKS roles and the CMKs (the secrets key names the cluster role): also the
    bootstrap phase's, so both phases declare them identically."""
    roles = ClusterRoles(
        "eks-roles", ClusterRolesArgs(site=ctx.site, prefix=ctx.names.prefix), ctx.opts
    )
    return roles, platform_keys(ctx, roles)


def build_eks(ctx: AwsContext) -> AwsCluster:
    """Keys, the private network, EKS, its node groups, the Kubernetes provider, add-ons."""
    roles, keys = roles_and_keys(ctx)
    network = _network(ctx, keys)
    eks = _eks(ctx, roles, keys, network)
    groups, gpu_pools = _node_groups(ctx, roles, keys, network, eks)
    k8s_provider = k8s.Provider(
        "eks",
        kubeconfig=eks.kubeconfig,
        opts=pulumi.ResourceOptions(depends_on=[eks.cluster, *eks.access]),
    )
    addons = _addons(ctx, eks, keys, groups, k8s_provider)
    return AwsCluster(ctx, keys, network, eks, groups, gpu_pools, k8s_provider, addons)


def _network(ctx: AwsContext, keys: PlatformKeys) -> PrivateNetwork:
    return PrivateNetwork(
        "network",
        PrivateNetworkArgs(
            site=ctx.site,
            prefix=ctx.names.prefix,
            cidr=ctx.aws_config.vpc_cidr,
            zone_ids=tuple(ctx.aws_config.zone_ids),
            cluster_name=ctx.names.cluster,
            flow_log_key_arn=keys.arns["logs"],
            log_retention_days=ctx.config.logging.retention_days,
        ),
        ctx.opts,
    )


def _eks(
    ctx: AwsContext, roles: ClusterRoles, keys: PlatformKeys, network: PrivateNetwork
) -> EksCluster:
    config, aws_config = ctx.config, ctx.aws_config
    return EksCluster(
        "eks",
        EksClusterArgs(
            site=ctx.site,
            cluster_name=ctx.names.cluster,
            version=config.kubernetes.version,
            role_arn=roles.cluster_role.arn,
            # the API server's ENIs apart from the pods (components.aws.network)
            subnet_ids=network.control_plane_subnet_ids,
            secrets_key_arn=keys.arns["secrets"],
            logs_key_arn=keys.arns["logs"],
            log_retention_days=config.logging.retention_days,
            admin_role_arns=tuple(aws_config.admin_role_arns),
            # Each tenant's role acts as its IdP group, in its own namespace only.
            namespace_access=tuple(
                NamespaceAccess(t.aws_role_arn, c.tenant_namespace(t.name), t.idp_group)
                for t in config.tenants
                if t.aws_role_arn
            ),
            # Without named admins the deploying identity keeps access (else nobody could).
            bootstrap_creator_admin=not aws_config.admin_role_arns,
            deletion_protection=not config.ephemeral,
            addon_versions=aws_config.addon_versions,
        ),
        ctx.opts,
    )


def _node_groups(
    ctx: AwsContext,
    roles: ClusterRoles,
    keys: PlatformKeys,
    network: PrivateNetwork,
    eks: EksCluster,
) -> tuple[list[NodeGroup], list[GpuPoolInfo]]:
    """The system group and one tainted group per GPU pool (NVIDIA AMI), and the pools' facts."""
    config, aws_config = ctx.config, ctx.aws_config
    # Nodes join once the control plane, the CNI and the Pod Identity agent exist.
    after_cluster = pulumi.ResourceOptions(
        providers=[ctx.provider], depends_on=[eks.cluster, *eks.base_addons]
    )

    def node_group(group: str, **kwargs) -> NodeGroup:
        return NodeGroup(
            f"nodes-{group}",
            NodeGroupArgs(
                site=ctx.site,
                cluster_name=ctx.names.cluster,
                version=config.kubernetes.version,
                group_name=group,
                node_role_arn=roles.node_role.arn,
                subnet_ids=network.node_subnet_ids,
                security_group_ids=[eks.cluster_security_group_id, network.node_security_group.id],
                volume_key_arn=keys.arns["data"],
                **kwargs,
            ),
            after_cluster,
        )

    groups = [
        node_group(
            "system",
            instance_types=(aws_config.system_instance_type,),
            ami_type=STANDARD_AMI,
            min_size=aws_config.system_min_size,
            max_size=aws_config.system_max_size,
            desired_size=aws_config.system_min_size,
            labels=SYSTEM_LABELS,
        )
    ]
    gpu_pools: list[GpuPoolInfo] = []
    for pool in config.gpu_pools:
        product = pool.product("aws")
        labels = {c.GPU_POOL_LABEL: pool.name, c.GPU_PRODUCT_LABEL: product}
        groups.append(
            node_group(
                f"gpu-{pool.name}",
                instance_types=(pool.instance_type or "",),
                ami_type=NVIDIA_AMI,  # driver and container toolkit preinstalled
                min_size=pool.min_size,
                max_size=pool.max_size,
                desired_size=pool.min_size if pool.desired_size is None else pool.desired_size,
                labels=labels,
                taints=(dict(c.GPU_TAINT),),
                volume_size_gi=500,  # CUDA images and model weights are large
            )
        )
        gpu_pools.append(
            GpuPoolInfo(
                name=pool.name,
                product=product,
                gpus_per_node=pool.gpus_per_node,
                capacity=pool.capacity(config.target),
                labels=labels,
            )
        )
    return groups, gpu_pools


def _addons(
    ctx: AwsContext,
    eks: EksCluster,
    keys: PlatformKeys,
    groups: list[NodeGroup],
    k8s_provider: k8s.Provider,
) -> ClusterAddons:
    config = ctx.config
    return ClusterAddons(
        "cluster-addons",
        ClusterAddonsArgs(
            site=ctx.site,
            cluster=eks.cluster,
            cluster_name=ctx.names.cluster,
            volume_key_arn=keys.arns["data"],
            mirror=config.image_registry,
            autoscaler_chart=CHARTS["cluster-autoscaler"],
            autoscaler_image=artifacts.image(
                config, f"cluster-autoscaler-{config.kubernetes.version}"
            ),
            labels=governance.platform_labels(config),
            storage_class=STORAGE_CLASS,
            system_node_selector=SYSTEM_LABELS,
            addon_versions=ctx.aws_config.addon_versions,
        ),
        pulumi.ResourceOptions(
            providers=[ctx.provider, k8s_provider], depends_on=[g.node_group for g in groups]
        ),
    )
