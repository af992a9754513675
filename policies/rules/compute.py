"""UAE-CMP-001: GPU and compute nodes.

Approved machine types, IMDSv2 with a hop limit of 1 (pods get credentials from EKS Pod Identity;
a limit of 2 lets every pod on the node reach the node role's credentials through IMDS, so a node
group that needs it carries a pack exemption with its reason), encrypted root volumes, no public
IPs or SSH, and the NVIDIA taint on GPU pools (so only pods that tolerate it land there).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Policy,
    ResourceView,
    Severity,
    as_list,
    get,
    number,
    truthy,
    types,
)
from policies.pack_config import PackConfig

AWS_GPU = re.compile(r"^(p\d|g\d)[a-z]*\.")
AZURE_GPU = re.compile(r"^Standard_N", re.IGNORECASE)
GPU_TAINT_KEY = "nvidia.com/gpu"


def _imds(r: ResourceView, options: Any) -> Iterator[str]:
    if options is UNKNOWN:
        return
    tokens = get(options, "httpTokens")
    if tokens != "required":
        shown = tokens or "optional (default)"
        yield f"{r.describe()} allows IMDSv1 (metadataOptions.httpTokens={shown})."
    hops = number(get(options, "httpPutResponseHopLimit"))
    if hops is not None and hops > 1:
        yield (
            f"{r.describe()} sets the IMDS hop limit to {hops:.0f}: pods on the node can reach "
            "the node role's credentials; keep it 1 (pods use EKS Pod Identity)."
        )


def _machine(r: ResourceView, cfg: PackConfig, machine: Any) -> Iterator[str]:
    if isinstance(machine, str) and machine and not cfg.instance_type_approved(machine):
        yield f"{r.describe()} uses machine type '{machine}', which is not on the approved list."


def _aws_gpu_taint(r: ResourceView, machines: list[Any]) -> Iterator[str]:
    if not any(isinstance(m, str) and AWS_GPU.match(m) for m in machines):
        return
    taints = as_list(r.props.get("taints"))
    if not any(
        get(t, "key") == GPU_TAINT_KEY and get(t, "effect") == "NO_SCHEDULE" for t in taints
    ):
        yield f"{r.describe()} is a GPU node group without the {GPU_TAINT_KEY}:NoSchedule taint."


def _azure_pool(
    r: ResourceView, cfg: PackConfig, pool: Mapping[str, Any], where: str
) -> Iterator[str]:
    size = pool.get("vmSize")
    yield from _machine(r, cfg, size)
    if truthy(pool.get("enableNodePublicIP")):
        yield f"{r.describe()} {where} gives nodes public IPs (enableNodePublicIP)."
    if isinstance(size, str) and AZURE_GPU.match(size):
        taints = [str(t) for t in as_list(pool.get("nodeTaints"))]
        if not any(t.startswith(GPU_TAINT_KEY) and t.endswith(":NoSchedule") for t in taints):
            yield (
                f"{r.describe()} {where} is a GPU pool without the "
                f"{GPU_TAINT_KEY}:NoSchedule taint."
            )


def check_compute(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t == "aws:ec2/launchTemplate:LaunchTemplate":
        yield from _imds(r, p.get("metadataOptions") or {})
        yield from _machine(r, cfg, p.get("instanceType"))
        for i, nic in enumerate(as_list(p.get("networkInterfaces"))):
            if truthy(get(nic, "associatePublicIpAddress")):
                yield f"{r.describe()} network interface {i} gets a public IP."
        for i, mapping in enumerate(as_list(p.get("blockDeviceMappings"))):
            if truthy(get(mapping, "ebs.encrypted")) is False and get(mapping, "ebs") is not None:
                yield f"{r.describe()} block device {i} is not encrypted."
    elif t == "aws:ec2/instance:Instance":
        yield from _imds(r, p.get("metadataOptions") or {})
        yield from _machine(r, cfg, p.get("instanceType"))
        if truthy(p.get("associatePublicIpAddress")):
            yield f"{r.describe()} gets a public IP."
        if truthy(get(p, "rootBlockDevice.encrypted")) is False:
            yield f"{r.describe()} has an unencrypted root volume."
    elif t == "aws:eks/nodeGroup:NodeGroup":
        machines = as_list(p.get("instanceTypes"))
        for machine in machines:
            yield from _machine(r, cfg, machine)
        if not p.get("launchTemplate"):
            yield (
                f"{r.describe()} uses EKS's default launch template: IMDSv2, hop limit and "
                "CMK-encrypted root volumes are not enforced."
            )
        if p.get("remoteAccess"):
            yield f"{r.describe()} enables SSH remote access to nodes."
        yield from _aws_gpu_taint(r, machines)
    elif t == "aws:ec2/subnet:Subnet":
        if truthy(p.get("mapPublicIpOnLaunch")):
            yield f"{r.describe()} gives instances public IPs on launch (mapPublicIpOnLaunch)."
    elif t == "azure-native:containerservice:ManagedCluster":
        for i, pool in enumerate(as_list(p.get("agentPoolProfiles"))):
            if isinstance(pool, Mapping):
                yield from _azure_pool(r, cfg, pool, f"pool '{pool.get('name') or i}'")
    elif t == "azure-native:containerservice:AgentPool":
        yield from _azure_pool(r, cfg, p, "pool")


CMP_001 = Policy(
    id="UAE-CMP-001",
    name="Hardened GPU and compute nodes",
    description=(
        "Node groups and pools use approved machine types, IMDSv2 (hop limit 1), encrypted root "
        "volumes, no public IPs or SSH, and GPU pools carry the nvidia.com/gpu NoSchedule taint."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("8.9", "8.20"),
    uae_refs=(),
    remediation=(
        "Give node groups a launch template with metadataOptions {httpTokens: required, "
        "httpPutResponseHopLimit: 1} (a group that must give pods IMDS: a pack exemption with the "
        "reason) and encrypted CMK root volumes; no public IPs; taint GPU "
        "pools nvidia.com/gpu=present:NoSchedule; pick machine types from "
        "stacks/config/machine_types.py."
    ),
    domain="compute",
    applies=types(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/instance:Instance",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:ec2/subnet:Subnet",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
    ),
    check=check_compute,
    config_keys=("approved_instance_types",),
)

POLICIES = (CMP_001,)
