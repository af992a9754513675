"""UAE-CMP-001: hardened GPU and compute nodes."""

from __future__ import annotations

from policy_fixtures import assert_fails, assert_passes, aws, azure, check

from policies.pack_config import DEFAULT_INSTANCE_TYPES

GPU_TAINT = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]


def launch_template(name: str = "gpu", **inputs: object) -> dict:
    body = {
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": "k"}}
        ],
        **inputs,
    }
    return aws("aws:ec2/launchTemplate:LaunchTemplate", name, body)


def test_hardened_node_groups_pass() -> None:
    group = aws(
        "aws:eks/nodeGroup:NodeGroup",
        "train",
        {
            "instanceTypes": ["p5.48xlarge"],
            "launchTemplate": {"id": "lt-1", "version": "1"},
            "taints": GPU_TAINT,
        },
    )
    pool = azure(
        "azure-native:containerservice:AgentPool",
        "infer",
        {"vmSize": "Standard_NC96ads_A100_v4", "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"]},
    )
    assert_passes(check("UAE-CMP-001", launch_template(), group, pool))


def test_imdsv1_public_ips_and_untainted_gpu_pools_fail() -> None:
    lt = launch_template(metadataOptions={"httpTokens": "optional", "httpPutResponseHopLimit": 3})
    group = aws(
        "aws:eks/nodeGroup:NodeGroup",
        "train",
        {"instanceTypes": ["p3.16xlarge"], "remoteAccess": {"ec2SshKey": "k"}},
    )
    pool = azure(
        "azure-native:containerservice:AgentPool",
        "infer",
        {"vmSize": "Standard_NC24ads_A100_v4", "enableNodePublicIP": True},
    )
    subnet = aws("aws:ec2/subnet:Subnet", "public", {"mapPublicIpOnLaunch": True})
    result = check("UAE-CMP-001", lt, group, pool, subnet)
    assert_fails(result, "LaunchTemplate 'gpu'", "IMDSv1", "hop limit to 3")
    assert_fails(
        result, "NodeGroup 'train'", "p3.16xlarge", "default launch template", "SSH", "taint"
    )
    assert_fails(result, "AgentPool 'infer'", "public IPs", "taint")
    assert_fails(result, "Subnet 'public'", "mapPublicIpOnLaunch")


def test_hop_limit_two_lets_pods_reach_the_node_role_and_fails() -> None:
    """Issue 13: the old rule admitted 2, the limit at which pods reach the node's IMDS."""
    lt = launch_template(metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2})
    assert_fails(check("UAE-CMP-001", lt), "LaunchTemplate 'gpu'", "hop limit to 2", "node role")


def test_approved_types_mirror_the_stack_gpu_catalogue() -> None:
    import fnmatch

    from stacks.config.machine_types import APPROVED

    for platform in APPROVED.values():
        for machine in platform:
            assert any(fnmatch.fnmatchcase(machine, p) for p in DEFAULT_INSTANCE_TYPES), machine
