"""NodeGroup: IMDSv2, CMK root volumes, no public IPs, GPU taints, autoscaler discovery."""

from __future__ import annotations

import pytest

from components import conventions as c
from components.aws.nodegroups import NodeGroup, NodeGroupArgs
from tests.components.aws.aws_fixtures import (
    KEY_ARN,
    MANDATORY_TAGS,
    SITE,
    inputs,
    one,
    run_aws,
)

GPU_LABELS = {c.GPU_POOL_LABEL: "train", c.GPU_PRODUCT_LABEL: "nvidia-h100-80gb"}


def _group(**overrides):
    args = {
        "site": SITE,
        "cluster_name": "mlplatform-test",
        "version": "1.34",
        "group_name": "gpu-train",
        "node_role_arn": "arn:aws:iam::111122223333:role/nodes",
        "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
        "security_group_ids": ["sg-cluster", "sg-nodes"],
        "instance_types": ("p5.48xlarge",),
        "ami_type": "AL2023_x86_64_NVIDIA",
        "min_size": 0,
        "max_size": 2,
        "desired_size": 0,
        "volume_key_arn": KEY_ARN,
        "labels": GPU_LABELS,
        "taints": (dict(c.GPU_TAINT),),
        "volume_size_gi": 500,
        **overrides,
    }
    return run_aws(lambda opts: NodeGroup("gpu-train", NodeGroupArgs(**args), opts))


@pytest.fixture(scope="module")
def gpu():
    return _group()


def test_launch_template_requires_imdsv2_answering_the_node_only(gpu):
    """Issue 13: hop limit 2 lets every pod reach the node role's credentials; pods use Pod
    Identity, so IMDS answers the node (and host-network pods) only."""
    metadata = inputs(one(gpu, "aws:ec2/launchTemplate:LaunchTemplate"))["metadataOptions"]
    assert metadata["httpTokens"] == "required"
    assert metadata["httpEndpoint"] == "enabled"
    assert metadata["httpPutResponseHopLimit"] == 1


def test_root_volume_is_gp3_encrypted_with_the_cmk(gpu):
    (device,) = inputs(one(gpu, "aws:ec2/launchTemplate:LaunchTemplate"))["blockDeviceMappings"]
    assert device["deviceName"] == "/dev/xvda"
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["kmsKeyId"] == KEY_ARN
    assert device["ebs"]["volumeType"] == "gp3" and device["ebs"]["volumeSize"] == 500


def test_nodes_get_no_public_ip_and_the_given_security_groups(gpu):
    (nic,) = inputs(one(gpu, "aws:ec2/launchTemplate:LaunchTemplate"))["networkInterfaces"]
    assert nic["associatePublicIpAddress"] == "false"
    assert nic["securityGroups"] == ["sg-cluster", "sg-nodes"]


def test_instances_volumes_and_interfaces_carry_governance_tags(gpu):
    specs = inputs(one(gpu, "aws:ec2/launchTemplate:LaunchTemplate"))["tagSpecifications"]
    assert {s["resourceType"] for s in specs} == {"instance", "volume", "network-interface"}
    for spec in specs:
        assert all(spec["tags"].get(k) for k in MANDATORY_TAGS)


def test_gpu_group_uses_the_nvidia_ami_the_taint_and_pool_labels(gpu):
    group = inputs(one(gpu, "aws:eks/nodeGroup:NodeGroup"))
    assert group["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
    ]
    assert group["labels"] == GPU_LABELS
    assert group["instanceTypes"] == ["p5.48xlarge"]
    assert group["scalingConfig"] == {"minSize": 0, "maxSize": 2, "desiredSize": 0}
    assert len(group["subnetIds"]) == 3


def test_group_is_discoverable_by_the_autoscaler_which_owns_desired_size(gpu):
    group = one(gpu, "aws:eks/nodeGroup:NodeGroup")
    tags = inputs(group)["tags"]
    assert tags["k8s.io/cluster-autoscaler/enabled"] == "true"
    assert tags["k8s.io/cluster-autoscaler/mlplatform-test"] == "owned"
    assert "scalingConfig.desiredSize" in group.options["ignoreChanges"]


def test_group_uses_its_launch_template(gpu):
    template = one(gpu, "aws:ec2/launchTemplate:LaunchTemplate")
    launch = inputs(one(gpu, "aws:eks/nodeGroup:NodeGroup"))["launchTemplate"]
    assert launch["id"] == template.id


def test_a_higher_hop_limit_needs_a_reason():
    with pytest.raises(ValueError, match=r"gpu-train: metadata_hop_limit 2 .*hop_limit_reason"):
        _group(metadata_hop_limit=2)
    stated = _group(metadata_hop_limit=2, hop_limit_reason="a vendor agent reads IMDS")
    metadata = inputs(one(stated, "aws:ec2/launchTemplate:LaunchTemplate"))["metadataOptions"]
    assert metadata["httpPutResponseHopLimit"] == 2
