"""`PrivateNetwork`: a private VPC across the UAE zones, with no route to the internet.

| Args | meaning |
|---|---|
| `site` | account, region, tags |
| `prefix` | name prefix of every resource |
| `cidr` | VPC CIDR (at most /20) |
| `zone_ids` | zone IDs (`mec1-az1`…): subnets are placed by ID, not by per-account name |
| `cluster_name` | tags node subnets for internal load balancers of this cluster |
| `flow_log_key_arn`, `log_retention_days` | CMK and retention of the flow-log group |
| `interface_endpoints` | AWS APIs reachable privately (interface endpoints, private DNS) |

Outputs: `vpc`, `vpc_id`, `node_subnet_ids`, `data_subnet_ids`, `endpoint_subnet_ids`,
`control_plane_subnet_ids`,
`node_security_group`, `endpoint_security_group`, `s3_endpoint`, `flow_log_group`.

Layout of the CIDR: three quarters for node subnets (pods take VPC addresses with the VPC
CNI), the last quarter split into data-store, endpoint and control-plane subnets, one of each
per zone. EKS places the API server's private endpoint ENIs in the control-plane subnets, apart
from the pods: a NetworkPolicy that admits the API server by address then admits nothing else.

There is no internet gateway, NAT or public subnet: the platform pulls images from ECR in-region
and talks to AWS APIs through VPC endpoints, so no traffic can leave the region by the network
path (and no public IP can be mapped on launch). The S3 gateway endpoint's policy only allows
this account's buckets plus the regional ECR layer bucket, so the network itself refuses copies
to buckets of other accounts. Every interface endpoint whose service takes a policy admits only
this account's principals acting on this account's resources (`interface_endpoint_policy`), plus
what AWS itself serves the cluster (EKS add-on images) and assuming this account's roles (STS);
the EKS Auth endpoint takes none (`NO_ENDPOINT_POLICY`). The default security group is emptied;
VPC flow logs go to a CMK-encrypted CloudWatch group with the stack's retention (UAE-NET-006).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite, document, statement

# The registry EKS runs its own add-ons from (VPC CNI, kube-proxy, CoreDNS, the Pod Identity
# agent, the EBS CSI driver), by region ("View Amazon container image registries for Amazon EKS
# add-ons"): its account is AWS's, so the ECR endpoints admit pulls from it by name.
EKS_ADDON_REGISTRY_ACCOUNTS: dict[str, str] = {"me-central-1": "759879836304"}
# Endpoint services that take no custom endpoint policy: the EKS Auth API (only the Pod Identity
# agent calls it, with the node role, for this cluster's associations); a declared exception.
NO_ENDPOINT_POLICY: frozenset[str] = frozenset({"eks-auth"})

DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ecr.api",
    "ecr.dkr",
    "sts",
    "kms",
    "logs",
    "eks",
    "eks-auth",  # EKS Pod Identity agent
    "ec2",
    "elasticloadbalancing",
    "autoscaling",  # cluster autoscaler
)


@dataclass(frozen=True)
class SubnetPlan:
    nodes: tuple[str, ...]
    data: tuple[str, ...]
    endpoints: tuple[str, ...]
    control_plane: tuple[str, ...]  # the EKS API server's endpoint ENIs (no pods)


def plan_subnets(cidr: str, zones: int) -> SubnetPlan:
    """Carve `cidr` into per-zone node, data and endpoint subnets (deterministic)."""
    network = ipaddress.IPv4Network(cidr)
    if network.prefixlen > 20 or zones > 3:
        raise ValueError(f"{cidr}: need at most /20 and at most 3 zones")
    quarters = list(network.subnets(prefixlen_diff=2))
    small = list(quarters[3].subnets(new_prefix=network.prefixlen + 8))
    return SubnetPlan(
        nodes=tuple(str(q) for q in quarters[:zones]),
        data=tuple(str(s) for s in small[:zones]),
        endpoints=tuple(str(s) for s in small[8 : 8 + zones]),
        control_plane=tuple(str(s) for s in small[16 : 16 + zones]),
    )


@dataclass(frozen=True)
class PrivateNetworkArgs:
    site: AwsSite
    prefix: str
    cidr: str
    zone_ids: tuple[str, ...]
    cluster_name: str
    flow_log_key_arn: pulumi.Input[str]
    log_retention_days: int
    interface_endpoints: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINTS


class PrivateNetwork(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    vpc_id: pulumi.Output[str]
    node_subnet_ids: list[pulumi.Output[str]]
    data_subnet_ids: list[pulumi.Output[str]]
    endpoint_subnet_ids: list[pulumi.Output[str]]
    control_plane_subnet_ids: list[pulumi.Output[str]]
    node_security_group: aws.ec2.SecurityGroup
    endpoint_security_group: aws.ec2.SecurityGroup
    s3_endpoint: aws.ec2.VpcEndpoint
    flow_log_group: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:PrivateNetwork", name, None, opts)
        site, prefix = args.site, args.prefix
        child = pulumi.ResourceOptions(parent=self)
        plan = plan_subnets(args.cidr, len(args.zone_ids))

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,  # required for private DNS of interface endpoints
            enable_dns_hostnames=True,
            tags=site.tags_for(prefix),
            opts=child,
        )
        self.vpc_id = self.vpc.id
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=site.tags_for(f"{prefix}-default-deny-all"),
            opts=child,
        )
        route_table = aws.ec2.RouteTable(
            f"{name}-private",
            vpc_id=self.vpc.id,
            tags=site.tags_for(f"{prefix}-private"),
            opts=child,
        )
        self.node_subnet_ids = self._subnets(
            name,
            args,
            route_table,
            "nodes",
            plan.nodes,
            **{
                "kubernetes.io/role/internal-elb": "1",
                f"kubernetes.io/cluster/{args.cluster_name}": "shared",
            },
        )
        self.data_subnet_ids = self._subnets(name, args, route_table, "data", plan.data)
        self.endpoint_subnet_ids = self._subnets(
            name, args, route_table, "endpoints", plan.endpoints
        )
        self.control_plane_subnet_ids = self._subnets(
            name, args, route_table, "control-plane", plan.control_plane
        )
        self._endpoints(name, args, route_table)
        self._node_security_group(name, args)
        self._flow_logs(name, args)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "node_subnet_ids": self.node_subnet_ids,
                "data_subnet_ids": self.data_subnet_ids,
            }
        )

    def _subnets(
        self,
        name: str,
        args: PrivateNetworkArgs,
        route_table: aws.ec2.RouteTable,
        tier: str,
        cidrs: tuple[str, ...],
        **extra: str,
    ) -> list[pulumi.Output[str]]:
        """One private subnet of `tier` per zone ID, on the route table without internet."""
        site, child = args.site, pulumi.ResourceOptions(parent=self)
        ids = []
        for zone_id, cidr in zip(args.zone_ids, cidrs, strict=True):
            subnet = aws.ec2.Subnet(
                f"{name}-{tier}-{zone_id}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone_id=zone_id,
                map_public_ip_on_launch=False,
                tags=site.tags_for(f"{args.prefix}-{tier}-{zone_id}", tier=tier, **extra),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-{tier}-{zone_id}",
                subnet_id=subnet.id,
                route_table_id=route_table.id,
                opts=child,
            )
            ids.append(subnet.id)
        return ids

    def _endpoints(
        self, name: str, args: PrivateNetworkArgs, route_table: aws.ec2.RouteTable
    ) -> None:
        """The S3 gateway endpoint (this account's buckets only) and the interface endpoints,
        reachable on 443 from inside the VPC."""
        site, prefix, child = args.site, args.prefix, pulumi.ResourceOptions(parent=self)
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=site.endpoint_service("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[route_table.id],
            policy=_s3_endpoint_policy(site),
            tags=site.tags_for(f"{prefix}-s3"),
            opts=child,
        )
        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            name=f"{prefix}-endpoints",
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            vpc_id=self.vpc.id,
            tags=site.tags_for(f"{prefix}-endpoints"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=self.endpoint_security_group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.cidr,
            tags=site.tags_for(f"{prefix}-endpoints-https"),
            opts=child,
        )
        for service in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=self.vpc.id,
                service_name=site.endpoint_service(service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.endpoint_subnet_ids,
                security_group_ids=[self.endpoint_security_group.id],
                policy=interface_endpoint_policy(site, service),
                tags=site.tags_for(f"{prefix}-{service}"),
                opts=child,
            )

    def _node_security_group(self, name: str, args: PrivateNetworkArgs) -> None:
        """Nodes (and pods, which share the node ENIs' security groups with the VPC CNI)."""
        site, prefix, child = args.site, args.prefix, pulumi.ResourceOptions(parent=self)
        self.node_security_group = aws.ec2.SecurityGroup(
            f"{name}-nodes",
            name=f"{prefix}-nodes",
            description="EKS nodes: node-to-node traffic, egress inside the VPC and to S3",
            vpc_id=self.vpc.id,
            tags=site.tags_for(f"{prefix}-nodes"),
            opts=child,
        )
        sg = self.node_security_group.id
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-nodes-self",
            security_group_id=sg,
            description="node to node (pods across nodes)",
            ip_protocol="-1",
            referenced_security_group_id=sg,
            tags=site.tags_for(f"{prefix}-nodes-self"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-nodes-vpc",
            security_group_id=sg,
            description="anything inside the VPC (endpoints, data stores, other nodes)",
            ip_protocol="-1",
            cidr_ipv4=args.cidr,
            tags=site.tags_for(f"{prefix}-nodes-vpc"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-nodes-s3",
            security_group_id=sg,
            description="S3 over HTTPS through the gateway endpoint",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            prefix_list_id=self.s3_endpoint.prefix_list_id,
            tags=site.tags_for(f"{prefix}-nodes-s3"),
            opts=child,
        )

    def _flow_logs(self, name: str, args: PrivateNetworkArgs) -> None:
        """VPC flow logs to a CMK-encrypted log group with the stack's retention."""
        site, prefix, child = args.site, args.prefix, pulumi.ResourceOptions(parent=self)
        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{prefix}/flow-logs",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.flow_log_key_arn,
            tags=site.tags_for(f"{prefix}-flow-logs"),
            opts=site.stateful(self),
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            name=f"{prefix}-flow-logs",
            description="VPC flow log delivery to CloudWatch Logs",
            assume_role_policy=document(
                statement(
                    "FlowLogsDelivery",
                    ("sts:AssumeRole",),
                    resources=None,
                    principals={"Service": "vpc-flow-logs.amazonaws.com"},
                    conditions={
                        "StringEquals": {"aws:SourceAccount": site.account_id},
                        "ArnLike": {"aws:SourceArn": site.arn("ec2", "vpc-flow-log/*")},
                    },
                )
            ),
            tags=site.tags_for(f"{prefix}-flow-logs"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            name=f"{prefix}-flow-logs-delivery",
            role=flow_role.name,
            policy=document(
                statement(
                    "WriteFlowLogs",
                    (
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                    ),
                    [self.flow_log_group.arn, self.flow_log_group.arn.apply(lambda a: f"{a}:*")],
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            tags=site.tags_for(f"{prefix}-flow-log"),
            opts=child,
        )


def _s3_endpoint_policy(site: AwsSite) -> pulumi.Output[str]:
    """Only this account's principals, only this account's buckets (plus ECR image layers).

    Endpoint policies filter rather than grant, and AWS requires `Principal: "*"` narrowed by
    conditions here; the conditions pin both the caller's and the bucket's account. The ECR
    layer statement carries no account condition: image layers are downloaded from ECR's own
    regional bucket through URLs ECR presigns with its own credentials, so the request's
    principal is never this account (a condition on it 403s every pull, and with no NAT the
    nodes never become Ready). It is read-only and names that one in-region bucket.
    """
    mine = {"aws:PrincipalAccount": site.account_id}
    return document(
        {
            "Sid": "ThisAccountsBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:*"],
            "Resource": ["*"],
            "Condition": {"StringEquals": {**mine, "aws:ResourceAccount": site.account_id}},
        },
        {
            "Sid": "EcrImageLayersInRegion",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::prod-{site.region}-starport-layer-bucket/*"],
        },
    )


def interface_endpoint_policy(site: AwsSite, service: str) -> pulumi.Output[str] | None:
    """This account's principals on this account's resources, through one interface endpoint.

    Endpoint policies filter, they grant nothing: `Principal: "*"` is narrowed by
    `aws:PrincipalAccount` and `aws:ResourceAccount` (`IfExists`: calls without a resource, such
    as `sts:GetCallerIdentity` or the Describe calls, carry no resource account). Two additions
    keep the cluster working: the ECR endpoints let this account pull EKS's add-on images from
    AWS's registry in the region (nodes never become Ready without them), and the STS endpoint
    lets any caller assume a role *of this account* (a CI runner federating into the deploying
    role is not yet a principal of the account). None for services that take no policy.
    """
    if service in NO_ENDPOINT_POLICY:
        return None
    mine = {"aws:PrincipalAccount": site.account_id}
    statements: list[dict] = [
        {
            "Sid": "ThisAccountsPrincipalsAndResources",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": mine,
                "StringEqualsIfExists": {"aws:ResourceAccount": site.account_id},
            },
        }
    ]
    eks_registry = EKS_ADDON_REGISTRY_ACCOUNTS.get(site.region)
    if service in ("ecr.api", "ecr.dkr") and eks_registry:
        statements.append(
            {
                "Sid": "EksAddOnImages",
                "Effect": "Allow",
                "Principal": "*",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": [f"arn:{site.partition}:ecr:{site.region}:{eks_registry}:repository/*"],
                "Condition": {"StringEquals": mine},
            }
        )
    if service == "sts":
        statements.append(
            {
                "Sid": "AssumeThisAccountsRoles",
                "Effect": "Allow",
                "Principal": "*",
                "Action": [
                    "sts:AssumeRole",
                    "sts:AssumeRoleWithWebIdentity",
                    "sts:AssumeRoleWithSAML",
                    "sts:TagSession",
                    "sts:SetSourceIdentity",
                ],
                "Resource": [site.role_arn("*")],
            }
        )
    return document(*statements)


def security_group_for_clients(
    resource_name: str,
    site: AwsSite,
    *,
    vpc_id: pulumi.Input[str],
    group_name: str,
    description: str,
    ports: tuple[int, ...],
    client_security_group_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """A data store's security group: the given TCP ports from one client group, nothing else.

    No CIDR ingress at all (so never 0.0.0.0/0, UAE-NET-003) and no egress rules (replies to
    admitted connections are allowed by the security group's statefulness).
    """
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        resource_name,
        name=group_name,
        description=description,
        vpc_id=vpc_id,
        tags=site.tags_for(group_name),
        opts=child,
    )
    for port in ports:
        aws.vpc.SecurityGroupIngressRule(
            f"{resource_name}-{port}",
            security_group_id=group.id,
            description=f"TCP {port} from the EKS nodes only",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=client_security_group_id,
            tags=site.tags_for(f"{group_name}-{port}"),
            opts=child,
        )
    return group
