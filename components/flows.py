"""The network flows a component's pods need, declared as data next to the component.

A component lists the connections its pods must be able to open (and the API server's calls
into its webhooks) as `Flow`s and writes them on the Namespace it owns, as the JSON annotation
`mlplatform.io/flows` (`flows_annotation`). The plan reads them back and proves each one
allowed by the NetworkPolicies at both ends (check SIM-FLW-001); anyone can read them on the
live cluster (`kubectl get ns mlflow -o jsonpath='{.metadata.annotations.mlplatform\\.io/flows}'`).

Endpoints:
- `Pods(labels)`: pods of the annotated namespace with these labels (`{}`: any of its pods);
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

FLOWS_ANNOTATION = "mlplatform.io/flows"


@dataclass(frozen=True)
class Pods:
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"pods": dict(sorted(self.labels.items()))}


@dataclass(frozen=True)
class Service:
    host: str  # <service>.<namespace>.svc[.cluster.local]

    def to_json(self) -> dict[str, Any]:
        return {"service": self.host}


@dataclass(frozen=True)
class External:
    name: str
    cidr: str

    def to_json(self) -> dict[str, Any]:
        return {"external": self.name, "cidr": self.cidr}


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


def flows_annotation(flows: Sequence[Flow]) -> dict[str, str]:
    """The Namespace annotation carrying `flows` (empty when there are none)."""
    if not flows:
        return {}
    return {FLOWS_ANNOTATION: json.dumps([f.to_json() for f in flows], separators=(",", ":"))}
