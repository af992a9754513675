"""The endpoints the NetworkPolicy evaluator reasons about, and how CNIs read the API.

`Pod` and `Address` are what a reachability question is asked about; `Cni` captures where
implementations differ (see `infra.simulate.netpol`); `Match` is one rule that allows traffic.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Pod:
    """A pod (or every pod with these labels) in a namespace."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)  # named container ports
    name: str = ""

    def __str__(self) -> str:
        return self.name or f"pods {dict(self.labels) or '(any labels)'} in {self.namespace}"


@dataclass(frozen=True)
class Address:
    """A peer outside the pod network: an address range, or a special identity in it.

    `entity` is the identity Cilium gives the address: "kube-apiserver" for the API server's
    endpoints, "host"/"remote-node" for nodes; None for any other ("world") address.
    """

    cidr: str
    name: str = ""
    entity: str | None = None
    excepts: tuple[str, ...] = ()  # ranges within `cidr` the address is never in

    @property
    def network(self) -> Network:
        return ipaddress.ip_network(self.cidr, strict=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.cidr})" if self.name else self.cidr


Endpoint = Pod | Address


@dataclass(frozen=True)
class Cni:
    """How a CNI reads the parts of NetworkPolicy the API leaves to the implementation."""

    name: str
    ipblock_matches_pods: bool  # an ipBlock covering pod IPs selects pods
    ipblock_matches_entities: bool  # an ipBlock selects the API server / nodes by address
    cilium_policies: bool  # CiliumNetworkPolicy objects are enforced


CNIS: dict[str, Cni] = {
    "calico": Cni("calico", True, True, False),
    "aws-vpc-cni": Cni("aws-vpc-cni", True, True, False),
    "azure-npm": Cni("azure-npm", True, True, False),
    "cilium": Cni("cilium", False, False, True),
}


@dataclass(frozen=True)
class Match:
    """One rule's verdict on a peer and port: no, possibly (IP-dependent), or yes."""

    rule: str  # e.g. "NetworkPolicy mlflow/allow-service egress[0]"
    definite: bool
