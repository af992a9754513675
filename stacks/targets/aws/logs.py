"""Container logs on AWS: the CloudWatch log group Fluent Bit writes to, and its identity.

The group lives in the stack's region, encrypted with the logs CMK and kept
`logging.retentionDays` (UAE-LOG-001/003); Fluent Bit (`mlplatform-logging/fluent-bit`) gets an
EKS Pod Identity role that may only create streams in and put events to that group (it never
creates groups: `auto_create_group Off`).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws.common import document, statement
from components.aws.iam import PodIdentityRole, PodIdentityRoleArgs
from components.observability.logs import NAMESPACE, RELEASE
from stacks.foundation import LogShippingTarget
from stacks.targets.aws.cluster import AwsCluster
from stacks.targets.aws.context import workload_role_name


def build_log_shipping(cluster: AwsCluster) -> LogShippingTarget:
    ctx = cluster.context
    site, names = ctx.site, ctx.names
    group_name = f"/mlplatform/{names.prefix}/containers"
    group = aws.cloudwatch.LogGroup(
        "container-logs",
        name=group_name,
        retention_in_days=ctx.config.logging.retention_days,
        kms_key_id=cluster.keys.arns["logs"],
        tags=site.tags_for(group_name),
        opts=pulumi.ResourceOptions(providers=[ctx.provider], protect=site.protect),
    )
    policy = document(
        statement(
            "ShipContainerLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
            [group.arn, pulumi.Output.concat(group.arn, ":log-stream:*")],
        )
    )
    role = PodIdentityRole(
        "identity-fluent-bit",
        PodIdentityRoleArgs(
            site=site,
            role_name=workload_role_name(names, "fluent-bit"),
            cluster_name=cluster.eks.name,
            cluster_arn=ctx.cluster_arn,
            namespace=NAMESPACE,
            service_account=RELEASE,
            policy=policy,
            description="Fluent Bit: container logs to the stack's CloudWatch log group",
        ),
        pulumi.ResourceOptions(providers=[ctx.provider], depends_on=[*cluster.eks.base_addons]),
    )
    return LogShippingTarget(log_group=group_name, role_arn=role.arn)
