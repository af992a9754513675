"""The facts about the target cluster the simulation needs and the objects do not carry.

`ClusterFacts.from_plan(resources, site)`: for EKS and AKS everything comes from the recorded
resources — node pools, the CNI (EKS: the VPC CNI's network policy agent; AKS: its
`networkProfile.networkPolicy`), the pod address ranges (EKS pods take VPC addresses; AKS
overlay its `podCidr`) and the API server's addresses (the EKS cluster's subnets, the AKS
VNet-integration subnet). An on-prem cluster exists before the program: the site states them
in config, and the contract publishes them (`stack.cluster`: `nodePools`, `cni`, `podCidrs`,
`apiServerCidrs`), which is where `site` comes from. An unknown on-prem CNI is checked under
every CNI the evaluator knows, so a flow must work on all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.simulate.kube import items, mapping
from infra.simulate.peers import CNIS, Address, Cni
from infra.simulate.pools import NodePool, from_resources, from_site

API_SERVER_ENTITY = "kube-apiserver"
_AKS_POLICY_CNI = {"cilium": "cilium", "azure": "azure-npm", "calico": "calico"}


@dataclass(frozen=True)
class ClusterFacts:
    target: str  # onprem | aws | azure
    pools: list[NodePool]
    cnis: tuple[Cni, ...]
    pod_cidrs: tuple[str, ...]
    api_server: tuple[Address, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_plan(
        cls, resources: Iterable[Mapping[str, Any]], site: Mapping[str, Any] | None = None
    ) -> ClusterFacts:
        resources = list(resources)
        types = {str(r.get("type")) for r in resources}
        if "aws:eks/cluster:Cluster" in types:
            return _eks(resources)
        if "azure-native:containerservice:ManagedCluster" in types:
            return _aks(resources)
        return _onprem(resources, site or {})


def _by_type(resources: list[Mapping[str, Any]], type_: str) -> list[Mapping[str, Any]]:
    return [r for r in resources if r.get("type") == type_]


def _eks(resources: list[Mapping[str, Any]]) -> ClusterFacts:
    subnets = {
        str(r.get("id")): str(mapping(r.get("inputs")).get("cidrBlock"))
        for r in _by_type(resources, "aws:ec2/subnet:Subnet")
    }
    cluster = mapping(_by_type(resources, "aws:eks/cluster:Cluster")[0].get("inputs"))
    cluster_subnets = items(mapping(cluster.get("vpcConfig")).get("subnetIds"))
    api = tuple(
        Address(subnets[s], f"API server endpoint (subnet {subnets[s]})", API_SERVER_ENTITY)
        for s in cluster_subnets
        if s in subnets
    )
    # The VPC CNI gives pods addresses of their node's subnets
    node_subnets = {
        subnets[s]
        for group in _by_type(resources, "aws:eks/nodeGroup:NodeGroup")
        for s in items(mapping(group.get("inputs")).get("subnetIds"))
        if s in subnets
    }
    return ClusterFacts(
        "aws",
        from_resources(resources),
        (CNIS["aws-vpc-cni"],),
        tuple(sorted(node_subnets)) or ("0.0.0.0/0",),
        api,
        (
            "EKS: pods take their nodes' subnet addresses (VPC CNI); the API server's private "
            "endpoint ENIs sit in the cluster's subnets",
        ),
    )


def _aks(resources: list[Mapping[str, Any]]) -> ClusterFacts:
    subnets = {
        str(r.get("id")): str(mapping(r.get("inputs")).get("addressPrefix"))
        for r in _by_type(resources, "azure-native:network:Subnet")
    }
    cluster = mapping(
        _by_type(resources, "azure-native:containerservice:ManagedCluster")[0].get("inputs")
    )
    network = mapping(cluster.get("networkProfile"))
    cni = CNIS[_AKS_POLICY_CNI.get(str(network.get("networkPolicy")), "azure-npm")]
    api_subnet = subnets.get(str(mapping(cluster.get("apiServerAccessProfile")).get("subnetId")))
    api = (
        (
            Address(
                api_subnet, f"API server (VNet integration subnet {api_subnet})", API_SERVER_ENTITY
            ),
        )
        if api_subnet
        else ()
    )
    return ClusterFacts(
        "azure",
        from_resources(resources),
        (cni,),
        (str(network.get("podCidr") or "10.244.0.0/16"),),
        api,
        (f"AKS: network policy engine {network.get('networkPolicy')}",),
    )


def _onprem(resources: list[Mapping[str, Any]], site: Mapping[str, Any]) -> ClusterFacts:
    declared = site.get("cni")
    cnis = (CNIS[str(declared)],) if declared in CNIS else tuple(CNIS.values())
    api = tuple(
        Address(str(c), f"API server ({c})", API_SERVER_ENTITY)
        for c in items(site.get("apiServerCidrs"))
    )
    notes = (
        ()
        if declared in CNIS
        else ("the site's CNI is not stated: flows are checked under every CNI",)
    )
    return ClusterFacts(
        "onprem",
        from_site([mapping(p) for p in items(site.get("nodePools"))], resources),
        cnis,
        tuple(str(c) for c in items(site.get("podCidrs"))) or ("0.0.0.0/0",),
        api,
        notes,
    )
