"""The network flows a component's pods need, declared as data next to the component.

A component lists the connections its pods must be able to open (and the API server's calls
into its webhooks) as `Flow`s and writes them on the Namespace it owns, as the JSON annotation
`mlplatform.io/flows` (`flows_annotation`). The plan reads them back and proves each one
allowed by the NetworkPolicies at both ends (check SIM-FLW-001); anyone can read them on the
live cluster (`kubectl get ns mlflow -o jsonpath='{.metadata.annotations.mlplatform\\.io/flows}'`).

Endpoints:
- `Pods(labels[, namespace])`: pods with these labels (`{}`: any pod) in the annotated
  namespace, or in `namespace` (a destination elsewhere);
- `Service(host)`: what a client connects to, `<svc>.<ns>.svc[.cluster.local]`; the plan
  resolves it to the pods behind it (Services in the plan, and those operators make:
  CloudNativePG `<cluster>-rw`, Strimzi `<cluster>-kafka-bootstrap`, redis-operator `<name>`);
- `External(name, cidr)`: an address outside the cluster (a managed store, the object store);
- `API_SERVER`: the Kubernetes API server (its addresses; on Cilium its `kube-apiserver`
  identity);
- `DNS`: the cluster DNS (kube-system `k8s-app=kube-dns`, port 53).

A flow's source is `Pods` (of the annotated namespace) or `API_SERVER` (a webhook call into
the namespace's `Pods`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from components.network_policies import NetworkPeer

FLOWS_ANNOTATION = "mlplatform.io/flows"


@dataclass(frozen=True)
class Pods:
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace: str | None = None  # None: the annotated namespace

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"pods": dict(sorted(self.labels.items()))}
        if self.namespace:
            found["namespace"] = self.namespace
        return found


@dataclass(frozen=True)
class Service:
    host: str  # <service>.<namespace>.svc[.cluster.local]

    def to_json(self) -> dict[str, Any]:
        return {"service": self.host}


@dataclass(frozen=True)
class External:
    name: str
    cidr: str
    except_cidrs: tuple[str, ...] = ()  # ranges within `cidr` the destination is never in

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"external": self.name, "cidr": self.cidr}
        if self.except_cidrs:
            found["except"] = list(self.except_cidrs)
        return found


@dataclass(frozen=True)
class Special:
    kind: str  # api-server | dns

    def to_json(self) -> dict[str, Any]:
        return {self.kind: True}


API_SERVER = Special("api-server")
DNS = Special("dns")
Endpoint = Pods | Service | External | Special


@dataclass(frozen=True)
class Flow:
    """A connection the platform needs: from where, to where, on which ports, and why."""

    name: str  # e.g. "mlflow→postgres"
    source: Pods | Special
    destination: Endpoint
    ports: tuple[int, ...]
    protocol: str = "TCP"
    why: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from": self.source.to_json(),
            "to": self.destination.to_json(),
            "ports": list(self.ports),
            "protocol": self.protocol,
            "why": self.why,
        }


def dns_flows(name: str, pods: Pods | None = None) -> tuple[Flow, Flow]:
    """Name resolution: the cluster DNS on 53, UDP and TCP (large answers fall back to TCP)."""
    source = pods or Pods()
    return (
        Flow(f"{name}→dns", source, DNS, (53,), "UDP", "name resolution"),
        Flow(f"{name}→dns-tcp", source, DNS, (53,), "TCP", "name resolution (large answers)"),
    )


@dataclass(frozen=True)
class Store:
    """A store a client connects to: its flow name, host (a Service name in the cluster, else
    an external address) and port."""

    name: str
    host: object  # str, or a Pulumi Output for a store the cloud names
    port: int


def object_store(endpoint: object) -> Store:
    """The object store as a store: its endpoint's port (HTTPS 443 unless the URL says)."""
    port = 443
    if isinstance(endpoint, str):
        port = urlparse(endpoint).port or 443
    return Store("object-store", endpoint, port)


def egress_flows(
    client: str, source: Pods, stores: Sequence[Store], peers: Sequence[NetworkPeer]
) -> list[Flow]:
    """A client's flows: each store (its Service in the cluster, else the egress peer that
    reaches its port), every other named external peer (workload identity, brokers), DNS."""
    found, used = [], set()
    for store in stores:
        if isinstance(store.host, str) and ".svc" in store.host:
            destination: Endpoint = Service(store.host)
        else:
            peer = _peer_for(store, peers)
            used.add(id(peer))
            # the rule's block as it is, exceptions included (S3 at public addresses only)
            destination = External(store.name, str(peer.cidr), tuple(peer.except_cidrs))
        found.append(Flow(f"{client}→{store.name}", source, destination, (store.port,)))
    for peer in peers:
        if peer.cidr and peer.name and id(peer) not in used:
            target = External(peer.name, peer.cidr, tuple(peer.except_cidrs))
            found.append(Flow(f"{client}→{peer.name}", source, target, tuple(peer.ports)))
    return [*found, *dns_flows(client, source)]


def _peer_for(store: Store, peers: Sequence[NetworkPeer]) -> NetworkPeer:
    candidates = [p for p in peers if p.cidr and store.port in p.ports]
    named = [p for p in candidates if p.name == store.name]
    if not (named or candidates):
        raise ValueError(f"no egress rule reaches {store.name} on port {store.port}")
    return (named or candidates)[0]


def operator_flows(
    name: str,
    webhook_ports: Sequence[int] = (),
    pods: Pods | None = None,
    webhook_pods: Pods | None = None,
) -> list[Flow]:
    """An operator namespace's flows: the API server calling its webhooks (on `webhook_pods`,
    else `pods`), its pods calling the API server, and DNS."""
    source = pods or Pods()
    found = [Flow(f"{name}→api-server", source, API_SERVER, (443, 6443), why="watches, leases")]
    if webhook_ports:
        target = webhook_pods or source
        found.append(Flow(f"api-server→{name}-webhooks", API_SERVER, target, tuple(webhook_ports)))
    return [*found, *dns_flows(name, source)]


def flows_annotation(flows: Sequence[Flow]) -> dict[str, str]:
    """The Namespace annotation carrying `flows` (empty when there are none)."""
    if not flows:
        return {}
    return {FLOWS_ANNOTATION: json.dumps([f.to_json() for f in flows], separators=(",", ":"))}
