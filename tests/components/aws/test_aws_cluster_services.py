"""ImageRegistry, ClusterAddons, ClusterRoles: in-region images, encrypted volumes, autoscaler."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from components.aws.addons import ClusterAddons, ClusterAddonsArgs
from components.aws.iam import ClusterRoles, ClusterRolesArgs
from components.aws.registry import ImageRegistry, ImageRegistryArgs
from infra.synth.recording import synthesize
from tests.components.aws.aws_fixtures import (
    ACCOUNT,
    KEY_ARN,
    REGION,
    SITE,
    TAGS,
    by_sid,
    inputs,
    one,
    policy,
    run_aws,
)
from version_catalogue.artifacts import Chart, Image

MIRROR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlplatform"


@pytest.fixture(scope="module")
def registry():
    return run_aws(
        lambda opts: ImageRegistry(
            "registry",
            ImageRegistryArgs(
                site=SITE,
                repositories=("mlplatform/strimzi/kafka", "mlplatform/charts/kueue"),
                kms_key_arn=KEY_ARN,
            ),
            opts,
        )
    )


@pytest.fixture(scope="module")
def addons():
    def program():
        provider = aws.Provider("aws", region=REGION, allowed_account_ids=[ACCOUNT])
        cluster = aws.eks.Cluster(
            "c",
            name="mlplatform-test",
            role_arn="arn:aws:iam::111122223333:role/r",
            vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=["subnet-a"]),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        kube = k8s.Provider("k8s", kubeconfig="{}")
        ClusterAddons(
            "addons",
            ClusterAddonsArgs(
                site=SITE,
                cluster=cluster,
                cluster_name="mlplatform-test",
                volume_key_arn=KEY_ARN,
                mirror=MIRROR,
                autoscaler_chart=Chart("cluster-autoscaler", "9.59.0", "upstream"),
                autoscaler_image=Image("autoscaling/cluster-autoscaler", "v1.34.5", "upstream"),
                labels={"owner": "ml-platform-team", "residency": "uae"},
                system_node_selector={"mlplatform.io/node-role": "system"},
            ),
            pulumi.ResourceOptions(providers=[provider, kube]),
        )

    return synthesize("test", {}, program)


def test_repositories_are_immutable_scanned_and_cmk_encrypted(registry):
    repos = registry.of_type("aws:ecr/repository:Repository")
    assert {inputs(r)["name"] for r in repos} == {
        "mlplatform/strimzi/kafka",
        "mlplatform/charts/kueue",
    }
    for repo in repos:
        i = inputs(repo)
        assert i["imageTagMutability"] == "IMMUTABLE"
        assert i["imageScanningConfiguration"] == {"scanOnPush": True}
        assert i["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]
        assert repo.outputs["repositoryUrl"].startswith(f"{ACCOUNT}.dkr.ecr.{REGION}.")
        assert repo.options["protect"] is True
    types = {r.type for r in registry.resources}
    assert not [t for t in types if "replication" in t.lower()]


def test_default_storage_class_encrypts_volumes_with_the_cmk_and_retains_them(addons):
    sc = inputs(one(addons, "kubernetes:storage.k8s.io/v1:StorageClass"))
    assert sc["provisioner"] == "ebs.csi.aws.com"
    assert sc["parameters"] == {"type": "gp3", "encrypted": "true", "kmsKeyId": KEY_ARN}
    assert sc["reclaimPolicy"] == "Retain"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"


def test_autoscaler_is_pinned_from_the_mirror_and_hardened(addons):
    release = inputs(one(addons, "kubernetes:helm.sh/v3:Release"))
    assert release["chart"] == f"oci://{MIRROR}/charts/cluster-autoscaler"
    assert release["version"] == "9.59.0"
    values = release["values"]
    assert values["image"] == {
        "repository": f"{MIRROR}/autoscaling/cluster-autoscaler",
        "tag": "v1.34.5",
    }
    assert values["awsRegion"] == REGION
    assert values["autoDiscovery"] == {"clusterName": "mlplatform-test"}
    assert values["securityContext"]["runAsNonRoot"] is True
    assert values["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = values["containerSecurityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert values["resources"]["limits"] and values["resources"]["requests"]


def test_autoscaler_may_only_resize_groups_owned_by_this_cluster(addons):
    roles = {inputs(r)["name"]: r for r in addons.of_type("aws:iam/rolePolicy:RolePolicy")}
    access = by_sid(policy(roles["mlplatform-test-cluster-autoscaler-access"]))
    scale = access["ScaleOwnGroupsOnly"]
    assert scale["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/mlplatform-test": "owned"}
    }
    assert access["DescribeOwnNodeGroups"]["Resource"] == [
        f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/mlplatform-test/*/*"
    ]
    association = [
        inputs(a) for a in addons.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    ]
    assert association == [
        {**association[0], "namespace": "kube-system", "serviceAccount": "cluster-autoscaler"}
    ]


def test_ebs_csi_driver_uses_the_volume_key_only_through_ec2(addons):
    roles = {inputs(r)["name"]: r for r in addons.of_type("aws:iam/rolePolicy:RolePolicy")}
    access = by_sid(policy(roles["mlplatform-test-ebs-csi-access"]))
    for st in access.values():
        assert st["Resource"] == [KEY_ARN]
        assert st["Condition"]["StringEquals"] == {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    csi = [
        inputs(a)
        for a in addons.of_type("aws:eks/addon:Addon")
        if inputs(a)["addonName"] == "aws-ebs-csi-driver"
    ]
    assert csi[0]["podIdentityAssociations"][0]["serviceAccount"] == "ebs-csi-controller-sa"
    # nodes answer IMDS to themselves only (hop limit 1): the controller's region is configured
    assert json.loads(csi[0]["configurationValues"]) == {"controller": {"region": REGION}}


def test_node_role_has_no_workload_permissions():
    synthesis = run_aws(
        lambda opts: ClusterRoles("roles", ClusterRolesArgs(site=SITE, prefix="t"), opts)
    )
    attached = {
        inputs(a)["policyArn"].rsplit("/", 1)[-1]
        for a in synthesis.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert attached == {
        "AmazonEKSClusterPolicy",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    for role in synthesis.of_type("aws:iam/role:Role"):
        assert all(inputs(role)["tags"][k] == v for k, v in TAGS.items())
