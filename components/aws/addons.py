"""`ClusterAddons`: what an EKS cluster needs once its nodes exist.

| Args | meaning |
|---|---|
| `site` | account, region, tags |
| `cluster` | the `aws.eks.Cluster` (its name and ARN scope the Pod Identity roles) |
| `cluster_name` | its name, known before deployment |
| `volume_key_arn` | CMK for persistent volumes (EBS CSI StorageClass) |
| `storage_class` | name of the default, encrypted StorageClass |
| `labels` | governance labels for the Kubernetes objects |
| `mirror`, `autoscaler_chart` | the pinned chart, pulled from the in-country mirror (OCI) |
| `autoscaler_image` | its image in the mirror (minor = cluster's) |
| `system_node_selector` | where the autoscaler runs (the system node group) |

Outputs: `storage_class`, `autoscaler` (the Helm release), `addons` (CoreDNS, EBS CSI).

- CoreDNS and the EBS CSI driver as EKS add-ons (they need nodes to become healthy).
- The EBS CSI controller gets its own Pod Identity role (AmazonEBSCSIDriverPolicy plus use of
  the volume CMK through EC2 only); nodes carry no storage permissions.
- StorageClass `encrypted-gp3` (default): gp3, encrypted with the CMK, `Retain` so deleting a
  claim never destroys data by accident, bound in the pod's zone.
- The Cluster Autoscaler (pinned chart, image from the mirror) discovers the node groups by
  their tags; its role may describe groups and change only groups tagged as owned by this
  cluster. Its pod is hardened (non-root, read-only root, no capabilities, seccomp).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws.common import AwsSite, document, statement
from components.aws.eks import eks_addon
from components.aws.iam import PodIdentityRole, PodIdentityRoleArgs
from components.helm import chart_labels, helm_release
from version_catalogue.artifacts import Chart, Image

AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"


def ebs_csi_role_name(cluster_name: str) -> str:
    """The EBS CSI controller's role (the volume key's policy names it before it exists)."""
    return f"{cluster_name}-ebs-csi"


@dataclass(frozen=True)
class ClusterAddonsArgs:
    site: AwsSite
    cluster: aws.eks.Cluster
    cluster_name: str
    volume_key_arn: pulumi.Input[str]
    mirror: str  # the in-country registry charts and images come from
    autoscaler_chart: Chart  # cluster-autoscaler
    autoscaler_image: Image  # autoscaling/cluster-autoscaler of the cluster's minor
    labels: dict[str, str] = field(default_factory=dict)
    storage_class: str = "encrypted-gp3"
    system_node_selector: dict[str, str] = field(default_factory=dict)
    # add-on name → pinned EKS build; absent: EKS's default build (see `eks_addon`)
    addon_versions: Mapping[str, str] = field(default_factory=dict)


def autoscaler_policy(site: AwsSite, cluster_name: str) -> pulumi.Output[str]:
    return document(
        statement(
            # Describe calls have no resource-level permissions in AWS.
            "DiscoverGroups",
            (
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ),
        ),
        statement(
            "DescribeOwnNodeGroups",
            ("eks:DescribeNodegroup",),
            [site.arn("eks", f"nodegroup/{cluster_name}/*/*")],
        ),
        statement(
            "ScaleOwnGroupsOnly",
            ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"),
            conditions={
                "StringEquals": {
                    f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"
                }
            },
        ),
    )


def ebs_key_policy(site: AwsSite, key_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    via_ec2 = {"StringEquals": {"kms:ViaService": site.service("ec2")}}
    return document(
        statement(
            "UseVolumeKeyThroughEc2",
            (
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ),
            [key_arn],
            conditions=via_ec2,
        ),
        statement(
            "GrantsForVolumes",
            ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"),
            [key_arn],
            conditions={**via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    )


def autoscaler_values(args: ClusterAddonsArgs) -> dict:
    return {
        "cloudProvider": "aws",
        "awsRegion": args.site.region,
        "autoDiscovery": {"clusterName": args.cluster_name},
        "image": {
            "repository": f"{args.mirror}/{args.autoscaler_image.path}",
            "tag": args.autoscaler_image.pinned_tag,
        },
        "rbac": {"serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT}},
        "extraArgs": {
            "balance-similar-node-groups": True,
            "expander": "least-waste",
            "skip-nodes-with-local-storage": False,
            "scale-down-unneeded-time": "10m",
        },
        "replicaCount": 1,  # leader-elected; the PDB keeps one during drains
        "priorityClassName": "system-cluster-critical",
        "nodeSelector": args.system_node_selector,
        "additionalLabels": chart_labels(args.labels),  # every object, the pods included
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "fsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "300Mi"},
            "limits": {"cpu": "500m", "memory": "600Mi"},
        },
    }


class ClusterAddons(pulumi.ComponentResource):
    storage_class: k8s.storage.v1.StorageClass
    autoscaler: k8s.helm.v3.Release
    addons: list[aws.eks.Addon]

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:ClusterAddons", name, None, opts)
        site, cluster_name = args.site, args.cluster_name
        cluster_arn = site.arn("eks", f"cluster/{cluster_name}")

        coredns = eks_addon(
            f"{name}-coredns",
            site,
            args.cluster,
            "coredns",
            parent=self,
            version=args.addon_versions.get("coredns"),
        )
        ebs_csi = self._ebs_csi(name, args, cluster_arn)
        self.addons = [coredns, ebs_csi]

        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata={
                "name": args.storage_class,
                "labels": args.labels,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": args.volume_key_arn},
            reclaim_policy="Retain",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ebs_csi]),
        )

        autoscaler_role = PodIdentityRole(
            f"{name}-autoscaler-identity",
            PodIdentityRoleArgs(
                site=site,
                role_name=f"{cluster_name}-cluster-autoscaler",
                cluster_name=args.cluster.name,
                cluster_arn=cluster_arn,
                namespace="kube-system",
                service_account=AUTOSCALER_SERVICE_ACCOUNT,
                policy=autoscaler_policy(site, cluster_name),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.autoscaler = helm_release(
            f"{name}-cluster-autoscaler",
            release="cluster-autoscaler",
            chart=args.autoscaler_chart,
            mirror=args.mirror,
            namespace="kube-system",
            values=autoscaler_values(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[coredns, autoscaler_role]),
        )
        self.register_outputs({"storage_class": args.storage_class})

    def _ebs_csi(self, name: str, args: ClusterAddonsArgs, cluster_arn: str) -> aws.eks.Addon:
        """The EBS CSI driver add-on with its own Pod Identity role: the AWS managed driver
        policy plus use of the volume CMK through EC2 only."""
        site, cluster_name = args.site, args.cluster_name
        ebs_role = PodIdentityRole(
            f"{name}-ebs-csi-identity",
            PodIdentityRoleArgs(
                site=site,
                role_name=ebs_csi_role_name(cluster_name),
                cluster_name=args.cluster.name,
                cluster_arn=cluster_arn,
                namespace="kube-system",
                service_account=EBS_CSI_SERVICE_ACCOUNT,
                policy=ebs_key_policy(site, args.volume_key_arn),
                managed_policy_arns=(
                    f"arn:{site.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
                ),
                associate=False,  # the add-on creates the association
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        ebs_csi = eks_addon(
            f"{name}-ebs-csi",
            site,
            args.cluster,
            "aws-ebs-csi-driver",
            parent=self,
            version=args.addon_versions.get("aws-ebs-csi-driver"),
            # Nodes' IMDS answers only the node itself (hop limit 1): the controller takes its
            # region here; the node plugin falls back to the Kubernetes Node object.
            configuration={"controller": {"region": site.region}},
            pod_identity=[
                aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=ebs_role.arn, service_account=EBS_CSI_SERVICE_ACCOUNT
                )
            ],
        )
        return ebs_csi
