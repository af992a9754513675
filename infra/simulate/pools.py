"""The node pools a plan declares, as the scheduler would see their nodes.

- EKS: each `aws:eks/nodeGroup:NodeGroup` (instance type, labels, taints), with the labels
  EKS puts on every node;
- AKS: the system pool of `ManagedCluster.agentPoolProfiles` and each `AgentPool`, with the
  labels AKS puts on every node;
- on-prem: the site's pools as the contract states them (`stack.cluster.nodePools`, from
  config), with the labels and taints the GPU nodes' `NodePatch`es give them.

Allocatable is the machine's capacity less what the kubelet reserves: CPU by the tiered
formula EKS, AKS and GKE share (6 % of the first core, 1 % of the second, 0.5 % of the next two,
0.25 % above four); memory by EKS's (255 MiB + 11 MiB per pod, 110 pods) or AKS's
(20 MiB per pod + 50 MiB, 250 pods, at most 25 %) rule, plus the 100 MiB eviction threshold.
On-prem pools state their allocatable themselves. A machine type missing from `MACHINES` leaves
the pool's size unknown: the scheduling check then says so rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.simulate.kube import items, mapping, quantity
from stacks.config.machine_types import APPROVED

GPU_RESOURCE = "nvidia.com/gpu"
GIB = Decimal(2) ** 30
MIB = Decimal(2) ** 20

# (vCPUs, memory GiB) of the machine types the shipped stacks and their docs use; the GPU
# count of each GPU type comes from the approved list (stacks/config/machine_types.py).
MACHINES: dict[str, tuple[int, int]] = {
    # AWS general purpose
    "m7i.large": (2, 8),
    "m7i.xlarge": (4, 16),
    "m7i.2xlarge": (8, 32),
    "m7i.4xlarge": (16, 64),
    "m6i.xlarge": (4, 16),
    "m6i.2xlarge": (8, 32),
    # AWS GPU
    "p5.48xlarge": (192, 2048),
    "p5e.48xlarge": (192, 2048),
    "p4d.24xlarge": (96, 1152),
    "g6e.xlarge": (4, 32),
    "g6e.12xlarge": (48, 384),
    "g6e.48xlarge": (192, 1536),
    "g6.xlarge": (4, 16),
    "g6.12xlarge": (48, 192),
    "g6.48xlarge": (192, 768),
    "g5.xlarge": (4, 16),
    "g5.12xlarge": (48, 192),
    "g5.48xlarge": (192, 768),
    # Azure general purpose
    "Standard_D4ds_v5": (4, 16),
    "Standard_D8ds_v5": (8, 32),
    "Standard_D16ds_v5": (16, 64),
    "Standard_D4s_v5": (4, 16),
    "Standard_D8s_v5": (8, 32),
    "Standard_D16s_v5": (16, 64),
    # Azure GPU
    "Standard_NC24ads_A100_v4": (24, 220),
    "Standard_NC48ads_A100_v4": (48, 440),
    "Standard_NC96ads_A100_v4": (96, 880),
    "Standard_NC40ads_H100_v5": (40, 320),
    "Standard_NC80adis_H100_v5": (80, 640),
    "Standard_ND96isr_H100_v5": (96, 1900),
    "Standard_ND96asr_v4": (96, 900),
}

# Labels the NVIDIA GPU operator's node feature discovery puts on a GPU node (its operands
# select nodes by them).
GPU_NODE_LABELS = {
    "feature.node.kubernetes.io/pci-10de.present": "true",
    "nvidia.com/gpu.present": "true",
    "nvidia.com/gpu.deploy.driver": "true",
    "nvidia.com/gpu.deploy.container-toolkit": "true",
    "nvidia.com/gpu.deploy.device-plugin": "true",
    "nvidia.com/gpu.deploy.dcgm": "true",
    "nvidia.com/gpu.deploy.dcgm-exporter": "true",
    "nvidia.com/gpu.deploy.gpu-feature-discovery": "true",
    "nvidia.com/gpu.deploy.operator-validator": "true",
}
_EKS_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute"}
_EKS_EFFECTS["PREFER_NO_SCHEDULE"] = "PreferNoSchedule"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule | PreferNoSchedule | NoExecute

    def __str__(self) -> str:
        return (
            f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"
        )

    @classmethod
    def parse(cls, text: str) -> Taint:
        """`key=value:Effect` (AKS's spelling) → Taint."""
        head, _, effect = text.rpartition(":")
        key, _, value = head.partition("=")
        return cls(key, value, effect)


@dataclass(frozen=True)
class NodePool:
    name: str
    source: str  # what declares it, for messages
    machine: str
    labels: Mapping[str, str]
    taints: tuple[Taint, ...]
    allocatable: Mapping[str, Decimal] | None  # None: the machine's size is unknown
    gpu: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        return f"{self.name} ({self.machine})" if self.machine else self.name


def allocatable(machine: str, provider: str) -> dict[str, Decimal] | None:
    """What the kubelet lets pods request on one node of `machine` (None if unknown)."""
    size = MACHINES.get(machine)
    if size is None:
        return None
    cpus, memory_gib = size
    gpus = APPROVED.get(provider, {}).get(machine)
    memory = Decimal(memory_gib) * GIB
    found = {
        "cpu": Decimal(cpus) - _reserved_cpu(cpus),
        "memory": memory - _reserved_memory(provider, memory) - 100 * MIB,
        "pods": Decimal(110 if provider == "aws" else 250),
    }
    if gpus is not None:
        found[GPU_RESOURCE] = Decimal(gpus.gpus)
    return found


def _reserved_cpu(cpus: int) -> Decimal:
    tiers = ((1, "0.06"), (1, "0.01"), (2, "0.005"))
    left, reserved = Decimal(cpus), Decimal(0)
    for size, share in tiers:
        used = min(left, Decimal(size))
        reserved += used * Decimal(share)
        left -= used
    return reserved + left * Decimal("0.0025")


def _reserved_memory(provider: str, memory: Decimal) -> Decimal:
    if provider == "azure":
        return min(20 * MIB * 250 + 50 * MIB, memory / 4)
    return 255 * MIB + 11 * MIB * 110


# --------------------------------------------------------------------------- from resources


def from_resources(resources: Iterable[Mapping[str, Any]]) -> list[NodePool]:
    """EKS node groups and AKS pools declared among recorded resources (resources.json)."""
    found: list[NodePool] = []
    for r in resources:
        inputs = mapping(r.get("inputs"))
        if r.get("type") == "aws:eks/nodeGroup:NodeGroup":
            found.append(_eks(inputs))
        elif r.get("type") == "azure-native:containerservice:ManagedCluster":
            found += [
                _aks(mapping(p), str(mapping(p).get("name")))
                for p in items(inputs.get("agentPoolProfiles"))
            ]
        elif r.get("type") == "azure-native:containerservice:AgentPool":
            found.append(_aks(inputs, str(inputs.get("agentPoolName") or r.get("name"))))
    return found


def _eks(inputs: Mapping[str, Any]) -> NodePool:
    name = str(inputs.get("nodeGroupName") or "")
    machine = str((items(inputs.get("instanceTypes")) or [""])[0])
    gpu = "NVIDIA" in str(inputs.get("amiType") or "") or machine in APPROVED["aws"]
    labels = {
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "arm64" if "ARM" in str(inputs.get("amiType")) else "amd64",
        "node.kubernetes.io/instance-type": machine,
        "eks.amazonaws.com/nodegroup": name,
        "eks.amazonaws.com/capacityType": str(inputs.get("capacityType") or "ON_DEMAND"),
        **({**GPU_NODE_LABELS} if gpu else {}),
        **{str(k): str(v) for k, v in mapping(inputs.get("labels")).items()},
    }
    taints = tuple(
        Taint(
            str(mapping(t).get("key")),
            str(mapping(t).get("value") or ""),
            _EKS_EFFECTS.get(str(mapping(t).get("effect")), str(mapping(t).get("effect"))),
        )
        for t in items(inputs.get("taints"))
    )
    return NodePool(
        name, f"EKS node group {name}", machine, labels, taints, allocatable(machine, "aws"), gpu
    )


def _aks(profile: Mapping[str, Any], name: str) -> NodePool:
    machine = str(profile.get("vmSize") or "")
    gpu = machine in APPROVED["azure"]
    mode = str(profile.get("mode") or "User").lower()
    labels = {
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": machine,
        "kubernetes.azure.com/agentpool": name,
        "kubernetes.azure.com/mode": mode,
        **({"kubernetes.azure.com/accelerator": "nvidia", **GPU_NODE_LABELS} if gpu else {}),
        **{str(k): str(v) for k, v in mapping(profile.get("nodeLabels")).items()},
    }
    taints = tuple(Taint.parse(str(t)) for t in items(profile.get("nodeTaints")))
    return NodePool(
        name, f"AKS {mode} pool {name}", machine, labels, taints, allocatable(machine, "azure"), gpu
    )


# --------------------------------------------------------------------------- on-prem


def from_site(
    site_pools: Iterable[Mapping[str, Any]], resources: Iterable[Mapping[str, Any]]
) -> list[NodePool]:
    """On-prem pools as the contract states them (`stack.cluster.nodePools`), each GPU pool with
    the labels and taints its nodes' `NodePatch`es give them."""
    patched: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        if r.get("type") == "kubernetes:core/v1:NodePatch":
            inputs = mapping(r.get("inputs"))
            node = str(mapping(inputs.get("metadata")).get("name"))
            patched.setdefault(node, []).append(inputs)
    found = []
    for pool in site_pools:
        name = str(pool.get("name"))
        labels = {
            "kubernetes.io/os": "linux",
            **{str(k): str(v) for k, v in mapping(pool.get("labels")).items()},
        }
        taints = [Taint.parse(str(t)) for t in items(pool.get("taints"))]
        for node in items(pool.get("nodes")):
            for patch in patched.get(str(node), []):
                labels.update(
                    {
                        str(k): str(v)
                        for k, v in mapping(mapping(patch.get("metadata")).get("labels")).items()
                    }
                )
                taints += [
                    Taint(
                        str(mapping(t).get("key")),
                        str(mapping(t).get("value") or ""),
                        str(mapping(t).get("effect")),
                    )
                    for t in items(mapping(patch.get("spec")).get("taints"))
                ]
        gpus = int(pool.get("gpusPerNode") or 0)
        if gpus:
            labels.update(GPU_NODE_LABELS)
        size = {
            "cpu": quantity(pool["cpu"]),
            "memory": quantity(pool["memory"]),
            "pods": Decimal(110),
        }
        if gpus:
            size[GPU_RESOURCE] = Decimal(gpus)
        found.append(
            NodePool(
                name,
                f"site pool {name}",
                str(pool.get("machine") or ""),
                labels,
                tuple(dict.fromkeys(taints)),
                size,
                gpus > 0,
            )
        )
    return found
