"""`NodeGroup`: one EKS managed node group with a hardened launch template.

| Args | meaning |
|---|---|
| `site` | account, region, tags |
| `cluster_name`, `version` | the cluster (depend on it through `opts`) and its minor |
| `group_name` | node group name (also the launch template's) |
| `node_role_arn` | the kubelet role (`ClusterRoles.node_role`) |
| `subnet_ids` | node subnets, one per zone ID (the group spans every zone) |
| `security_group_ids` | the EKS cluster security group and the platform's node group |
| `instance_types`, `ami_type` | e.g. `("p5.48xlarge",)`, `AL2023_x86_64_NVIDIA` |
| `min_size`, `max_size`, `desired_size` | scaling bounds (the autoscaler moves `desired`) |
| `labels`, `taints` | Kubernetes labels and taints (taints in Kubernetes spelling) |
| `volume_key_arn`, `volume_size_gi` | CMK and size of the gp3 root volume |
| `metadata_hop_limit`, `hop_limit_reason` | IMDSv2 hop limit: 1 unless a reason is given |

Outputs: `node_group`, `launch_template`.

Every node: IMDSv2 only (`httpTokens=required`) with a response hop limit of 1, so only the
node itself and host-network pods reach the instance metadata service and the node role's
credentials; pods get theirs from EKS Pod Identity (the node-local agent) and never need IMDS.
A higher limit needs a stated reason (`hop_limit_reason`) and a UAE-CMP-001 exemption in the
pack config. The EBS CSI node plugin reads its instance facts from the Kubernetes Node object
instead (its documented fallback) and the controller its region from its add-on configuration.
CMK-encrypted gp3 root volume, no public IP on its interface, detailed monitoring, governance
tags on the instance, volume and ENI
(the ASG does not inherit the provider's default tags). The group carries the cluster
autoscaler auto-discovery tags (EKS copies them to the ASG) and lets the autoscaler own
`desiredSize` (ignored after creation, so `pulumi up` does not undo a scale-out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite

# Kubernetes taint effects → the EKS API's spelling.
EKS_TAINT_EFFECT = {
    "NoSchedule": "NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}


@dataclass(frozen=True)
class NodeGroupArgs:
    site: AwsSite
    cluster_name: str  # pass depends_on=[cluster, base add-ons] in opts
    version: str
    group_name: str
    node_role_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    instance_types: tuple[str, ...]
    ami_type: str
    min_size: int
    max_size: int
    desired_size: int
    volume_key_arn: pulumi.Input[str]
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict[str, str], ...] = ()
    volume_size_gi: int = 100
    metadata_hop_limit: int = 1
    hop_limit_reason: str = ""  # why pods on this group must reach IMDS (needed above 1)
    capacity_type: str = "ON_DEMAND"


def autoscaler_tags(cluster_name: str) -> dict[str, str]:
    """Auto-discovery tags the cluster autoscaler looks for (`--node-group-auto-discovery`)."""
    return {
        "k8s.io/cluster-autoscaler/enabled": "true",
        f"k8s.io/cluster-autoscaler/{cluster_name}": "owned",
    }


class NodeGroup(pulumi.ComponentResource):
    node_group: aws.eks.NodeGroup
    launch_template: aws.ec2.LaunchTemplate

    def __init__(self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:aws:NodeGroup", name, None, opts)
        if args.metadata_hop_limit > 1 and not args.hop_limit_reason:
            raise ValueError(
                f"node group {args.group_name}: metadata_hop_limit {args.metadata_hop_limit} "
                "lets pods reach the node role's credentials through IMDS; keep 1 (pods use EKS "
                "Pod Identity) or state why in hop_limit_reason"
            )
        full_name = f"{args.cluster_name}-{args.group_name}"
        tags = args.site.tags_for(full_name, **{"mlplatform.io/node-group": args.group_name})
        self.launch_template = self._launch_template(name, args, full_name, tags)
        self.node_group = aws.eks.NodeGroup(
            f"{name}-group",
            cluster_name=args.cluster_name,
            node_group_name=full_name,
            version=args.version,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type=args.ami_type,
            capacity_type=args.capacity_type,
            instance_types=list(args.instance_types),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id,
                version=self.launch_template.latest_version.apply(str),
            ),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.min_size,
                max_size=args.max_size,
                desired_size=args.desired_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            labels=args.labels,
            taints=[
                aws.eks.NodeGroupTaintArgs(
                    key=t["key"], value=t.get("value"), effect=EKS_TAINT_EFFECT[t["effect"]]
                )
                for t in args.taints
            ],
            tags={**tags, **autoscaler_tags(args.cluster_name)},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"]),
        )
        self.register_outputs({"node_group": self.node_group.arn})

    def _launch_template(
        self, name: str, args: NodeGroupArgs, full_name: str, tags: dict[str, str]
    ) -> aws.ec2.LaunchTemplate:
        """IMDSv2 only (hop limit from the Args), a CMK-encrypted root volume, no public IP."""
        return aws.ec2.LaunchTemplate(
            f"{name}-lt",
            name=full_name,
            description=f"EKS node group {full_name}: IMDSv2, CMK root volume, no public IP",
            update_default_version=True,
            ebs_optimized="true",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=args.metadata_hop_limit,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",  # AL2023 root device
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.volume_size_gi,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.volume_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=args.security_group_ids,
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
