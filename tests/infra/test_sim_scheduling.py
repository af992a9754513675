"""Scheduling as the simulation models kube-scheduler's filters, and the pools it reads from
EKS node groups, AKS agent pools and on-prem site pools."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from infra.simulate import pools, scheduling
from infra.simulate.pods import PodTemplate

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def pod(spec: dict[str, Any]) -> PodTemplate:
    return PodTemplate("Deployment ns/app", "urn", "ns", {}, {}, spec, "Deployment")


def container(
    requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": "c", "resources": resources}


def aks_resources() -> list[dict[str, Any]]:
    return [
        {
            "type": "azure-native:containerservice:ManagedCluster",
            "inputs": {
                "agentPoolProfiles": [
                    {
                        "name": "system",
                        "mode": "System",
                        "vmSize": "Standard_D8ds_v5",
                        "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"],
                    }
                ]
            },
        },
        {
            "type": "azure-native:containerservice:AgentPool",
            "name": "aks-gputrain",
            "inputs": {
                "agentPoolName": "gputrain",
                "mode": "User",
                "vmSize": "Standard_ND96isr_H100_v5",
                "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"],
                "nodeLabels": {"mlplatform.io/gpu-pool": "train"},
            },
        },
    ]


def test_aks_pools_and_their_size() -> None:
    system, gpu = pools.from_resources(aks_resources())
    assert [str(t) for t in system.taints] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system.labels["kubernetes.azure.com/mode"] == "system"
    assert system.allocatable is not None and Decimal(7) < system.allocatable["cpu"] < Decimal(8)
    assert gpu.gpu and gpu.allocatable is not None and gpu.allocatable["nvidia.com/gpu"] == 8
    assert gpu.labels["mlplatform.io/gpu-pool"] == "train"


def test_eks_node_group_taints_are_translated() -> None:
    (group,) = pools.from_resources(
        [
            {
                "type": "aws:eks/nodeGroup:NodeGroup",
                "inputs": {
                    "nodeGroupName": "gpu",
                    "instanceTypes": ["g6e.12xlarge"],
                    "amiType": "AL2023_x86_64_NVIDIA",
                    "taints": [
                        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
                    ],
                },
            }
        ]
    )
    assert [str(t) for t in group.taints] == ["nvidia.com/gpu=present:NoSchedule"]
    assert group.allocatable is not None and group.allocatable["nvidia.com/gpu"] == 4


def test_an_untolerated_taint_leaves_a_pod_pending_and_says_which() -> None:
    run = scheduling.check(
        [pod({"containers": [container({"cpu": "1"})]})],
        pools.from_resources(aks_resources()),
        "azure",
    )
    assert run.status == "fail" and run.findings[0].check == "SIM-SCH-001"
    message = run.findings[0].message
    assert (
        "system (Standard_D8ds_v5): taint CriticalAddonsOnly=true:NoSchedule not tolerated"
        in message
    )
    tolerant = {
        "containers": [container({"cpu": "1"})],
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
    }
    assert (
        scheduling.check([pod(tolerant)], pools.from_resources(aks_resources()), "azure").status
        == "pass"
    )


def test_gpu_requests_land_only_on_gpu_pools() -> None:
    eks = [
        {
            "type": "aws:eks/nodeGroup:NodeGroup",
            "inputs": {"nodeGroupName": "system", "instanceTypes": ["m7i.xlarge"]},
        },
    ]
    gpu_pod = pod(
        {"containers": [container(limits={"nvidia.com/gpu": "1"})], "tolerations": [GPU_TOLERATION]}
    )
    run = scheduling.check([gpu_pod], pools.from_resources(eks), "aws")
    assert "requests nvidia.com/gpu which its nodes do not offer" in run.findings[0].message


def test_requests_must_fit_one_node() -> None:
    system = pools.from_resources(aks_resources())[:1]
    huge = {"containers": [container({"memory": "40Gi"})], "tolerations": [{"operator": "Exists"}]}
    message = scheduling.check([pod(huge)], system, "azure").findings[0].message
    assert "requests memory 40.00Gi > allocatable" in message
    # init containers count by their largest, regular containers by their sum
    split = {
        "initContainers": [container({"cpu": "7"})],
        "containers": [container({"cpu": "4"}), container({"cpu": "3"})],
        "tolerations": [{"operator": "Exists"}],
    }
    assert scheduling.requests(pod(split))["cpu"] == 7
    assert scheduling.check([pod(split)], system, "azure").status == "pass"


def test_node_selector_and_required_affinity() -> None:
    gpu = pools.from_resources(aks_resources())[1:]
    base = {"containers": [container({"cpu": "1"})], "tolerations": [GPU_TOLERATION]}
    assert scheduling.check([pod(base)], gpu, "azure").status == "pass"
    wrong = {**base, "nodeSelector": {"mlplatform.io/gpu-pool": "infer"}}
    assert (
        "nodeSelector mlplatform.io/gpu-pool=infer"
        in scheduling.check([pod(wrong)], gpu, "azure").findings[0].message
    )
    term = {
        "matchExpressions": [
            {"key": "mlplatform.io/gpu-pool", "operator": "In", "values": ["infer"]}
        ]
    }
    affinity = {
        **base,
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
            }
        },
    }
    assert (
        "required node affinity"
        in scheduling.check([pod(affinity)], gpu, "azure").findings[0].message
    )


def test_tolerations_matching() -> None:
    taint = pools.Taint("nvidia.com/gpu", "present", "NoSchedule")
    assert scheduling.tolerates([{"operator": "Exists"}], taint)
    assert scheduling.tolerates([{"key": "nvidia.com/gpu", "value": "present"}], taint)
    assert not scheduling.tolerates([{"key": "nvidia.com/gpu", "value": "absent"}], taint)
    assert not scheduling.tolerates(
        [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}], taint
    )


def test_on_prem_site_pools_take_the_gpu_nodes_patches() -> None:
    site = [
        {"name": "workers", "cpu": "32", "memory": "128Gi"},
        {"name": "h100", "cpu": "96", "memory": "1Ti", "gpusPerNode": 8, "nodes": ["gpu-01"]},
    ]
    patch = {
        "type": "kubernetes:core/v1:NodePatch",
        "inputs": {
            "metadata": {"name": "gpu-01", "labels": {"mlplatform.io/gpu-pool": "h100"}},
            "spec": {
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
            },
        },
    }
    workers, h100 = pools.from_site(site, [patch])
    assert not workers.taints and not workers.gpu
    assert [str(t) for t in h100.taints] == ["nvidia.com/gpu=present:NoSchedule"]
    assert h100.labels["mlplatform.io/gpu-pool"] == "h100" and h100.gpu


def test_an_unknown_machine_type_is_said_not_guessed() -> None:
    unknown = [
        {
            "type": "aws:eks/nodeGroup:NodeGroup",
            "inputs": {"nodeGroupName": "x", "instanceTypes": ["z9.huge"]},
        }
    ]
    message = (
        scheduling.check(
            [pod({"containers": [container({"cpu": "1"})]})], pools.from_resources(unknown), "aws"
        )
        .findings[0]
        .message
    )
    assert "machine type 'z9.huge' has no known size" in message


def test_no_pool_at_all() -> None:
    run = scheduling.check([pod({"containers": [container()]})], [], "onprem")
    assert "declares no node pool" in run.findings[0].message
