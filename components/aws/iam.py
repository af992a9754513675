"""IAM for the cluster: the EKS service roles, and per-workload roles through EKS Pod Identity.

`ClusterRoles`

| Args | meaning |
|---|---|
| `site` | account, region, tags |
| `prefix` | role names `<prefix>-cluster`, `<prefix>-nodes` |

Outputs: `cluster_role`, `node_role` (`aws.iam.Role`). The node role has only
AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryPullOnly: the VPC CNI and EBS CSI
driver get their own roles through Pod Identity instead of borrowing the node's.

`PodIdentityRole`

| Args | meaning |
|---|---|
| `site` | account, region, tags |
| `role_name` | IAM role name |
| `cluster_name`, `cluster_arn` | the cluster whose Pod Identity agent may assume the role |
| `namespace`, `service_account` | the only Kubernetes identity the role is for (with |
| | `also_service_accounts`: others of the same namespace, each associated too) |
| `policy` | inline policy JSON (least privilege, written by the caller) |
| `managed_policy_arns` | AWS managed policies to attach (e.g. AmazonEBSCSIDriverPolicy) |
| `associate` | create the `PodIdentityAssociation` (False when an EKS add-on does it) |

Outputs: `role`, `arn`, `association` (or None).

No static keys anywhere (UAE-IAM-002): workloads receive short-lived credentials from the
Pod Identity agent. The trust policy accepts only `pods.eks.amazonaws.com` acting for this
cluster (`aws:SourceArn`) in this account, and only for sessions tagged with the expected
namespace and service account, so a second association cannot reuse the role.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite, document, service_trust, statement


@dataclass(frozen=True)
class ClusterRolesArgs:
    site: AwsSite
    prefix: str


class ClusterRoles(pulumi.ComponentResource):
    cluster_role: aws.iam.Role
    node_role: aws.iam.Role

    def __init__(
        self, name: str, args: ClusterRolesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:ClusterRoles", name, None, opts)
        site = args.site
        child = pulumi.ResourceOptions(parent=self)

        self.cluster_role = aws.iam.Role(
            f"{name}-cluster",
            name=f"{args.prefix}-cluster",
            description="EKS control plane service role",
            assume_role_policy=service_trust(
                "eks.amazonaws.com",
                actions=("sts:AssumeRole", "sts:TagSession"),
                conditions={"StringEquals": {"aws:SourceAccount": site.account_id}},
            ),
            tags=site.tags_for(f"{args.prefix}-cluster"),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=self.cluster_role.name,
            policy_arn=site.managed_policy("AmazonEKSClusterPolicy"),
            opts=child,
        )

        self.node_role = aws.iam.Role(
            f"{name}-nodes",
            name=f"{args.prefix}-nodes",
            description="EKS managed node groups (kubelet); no workload permissions",
            assume_role_policy=service_trust("ec2.amazonaws.com"),
            tags=site.tags_for(f"{args.prefix}-nodes"),
            opts=child,
        )
        for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"):
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{policy}",
                role=self.node_role.name,
                policy_arn=site.managed_policy(policy),
                opts=child,
            )
        self.register_outputs(
            {"cluster_role": self.cluster_role.arn, "node_role": self.node_role.arn}
        )


@dataclass(frozen=True)
class PodIdentityRoleArgs:
    site: AwsSite
    role_name: str
    cluster_name: pulumi.Input[str]
    cluster_arn: str
    namespace: str
    service_account: str
    policy: pulumi.Input[str] | None = None
    managed_policy_arns: tuple[str, ...] = ()
    associate: bool = True
    description: str = ""
    # Other ServiceAccounts of `namespace` sharing the role (e.g. a tenant's retraining
    # controller, which needs the tenant's Kafka access beside API rights of its own)
    also_service_accounts: tuple[str, ...] = ()


def pod_identity_trust(args: PodIdentityRoleArgs) -> pulumi.Output[str]:
    return document(
        statement(
            "EksPodIdentity",
            ("sts:AssumeRole", "sts:TagSession"),
            resources=None,
            principals={"Service": "pods.eks.amazonaws.com"},
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": args.site.account_id,
                    "aws:RequestTag/kubernetes-namespace": args.namespace,
                    "aws:RequestTag/kubernetes-service-account": (
                        [args.service_account, *args.also_service_accounts]
                        if args.also_service_accounts
                        else args.service_account
                    ),
                },
                "ArnEquals": {"aws:SourceArn": args.cluster_arn},
            },
        )
    )


class PodIdentityRole(pulumi.ComponentResource):
    role: aws.iam.Role
    arn: pulumi.Output[str]
    association: aws.eks.PodIdentityAssociation | None

    def __init__(
        self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:PodIdentityRole", name, None, opts)
        site = args.site
        child = pulumi.ResourceOptions(parent=self)
        subject = f"{args.namespace}/{args.service_account}"
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=args.description or f"Pod Identity role for {subject}",
            assume_role_policy=pod_identity_trust(args),
            tags=site.tags_for(args.role_name, **{"kubernetes-subject": subject}),
            opts=child,
        )
        if args.policy is not None:
            aws.iam.RolePolicy(
                f"{name}-policy",
                name=f"{args.role_name}-access",
                role=self.role.name,
                policy=args.policy,
                opts=child,
            )
        for arn in args.managed_policy_arns:
            aws.iam.RolePolicyAttachment(
                f"{name}-{arn.rsplit('/', 1)[-1]}",
                role=self.role.name,
                policy_arn=arn,
                opts=child,
            )
        self.arn = self.role.arn
        self.association = None
        if args.associate:
            self.association = aws.eks.PodIdentityAssociation(
                f"{name}-association",
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_account,
                role_arn=self.role.arn,
                tags=site.tags_for(args.role_name),
                opts=child,
            )
            for account in args.also_service_accounts:
                aws.eks.PodIdentityAssociation(
                    f"{name}-association-{account}",
                    cluster_name=args.cluster_name,
                    namespace=args.namespace,
                    service_account=account,
                    role_arn=self.role.arn,
                    tags=site.tags_for(args.role_name),
                    opts=child,
                )
        self.register_outputs({"arn": self.arn})
