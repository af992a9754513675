"""NetworkPolicies of a platform service: default deny, DNS, then exactly the listed flows.

`NetworkPeer` names where traffic may go or come from (a namespace, its pods, a CIDR, every
tenant namespace, or a foundation's `EgressRule`); `service_network_policies` declares the
namespace's policies for one service's pods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.endpoints import EgressRule


@dataclass(frozen=True)
class NetworkPeer:
    """Where traffic may go or come from: a namespace (optionally pods in it) or a CIDR."""

    ports: tuple[int, ...]
    namespace: str | None = None
    pod_labels: dict[str, str] = field(default_factory=dict)
    cidr: str | None = None
    tenants: bool = False  # every namespace labelled as a tenant's
    except_cidrs: tuple[str, ...] = ()  # with `cidr`: ranges that stay denied
    name: str = ""  # what is there (e.g. "postgres"): the declared flow's name (components.flows)
    # Any source or destination, on `ports` only: how the API server's webhook calls are
    # admitted on every CNI (components.api_server); never for anything else.
    anywhere: bool = False
    exception: str = ""  # a world range's declared exception (EgressRule.exception)

    @classmethod
    def egress(cls, rule: EgressRule) -> NetworkPeer:
        """The peer for a destination the foundation describes (workload identity, Kafka)."""
        return cls(
            rule.ports,
            cidr=rule.cidr,
            except_cidrs=rule.except_cidrs,
            name=rule.name,
            exception=rule.exception,
        )

    def peer(self) -> dict[str, Any]:
        if self.tenants:
            selector = {"matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]}
            return {"namespaceSelector": selector}
        if self.cidr:
            block: dict[str, Any] = {"cidr": self.cidr}
            if self.except_cidrs:
                block["except"] = list(self.except_cidrs)
            return {"ipBlock": block}
        out: dict[str, Any] = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": self.namespace}}
        }
        if self.pod_labels:
            out["podSelector"] = {"matchLabels": self.pod_labels}
        return out

    def rule(self, direction: str) -> dict[str, Any]:
        if self.anywhere:
            return {"ports": [{"protocol": "TCP", "port": p} for p in self.ports]}
        return {
            direction: [self.peer()],
            "ports": [{"protocol": "TCP", "port": p} for p in self.ports],
        }


_DNS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def service_network_policies(
    name: str,
    namespace: str,
    labels: dict[str, str],
    pod_labels: dict[str, str],
    ingress: list[NetworkPeer],
    egress: list[NetworkPeer],
    opts: pulumi.ResourceOptions,
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Default-deny the namespace, then allow exactly the listed flows for `pod_labels` pods.

    Pods of the same namespace may talk to each other (servers, bootstrap jobs, probes).
    Returns the policies, for pods that must not start before they apply (bootstrap Jobs).
    """

    def policy(
        suffix: str, spec: dict[str, Any], annotations: dict[str, str] | None = None
    ) -> k8s.networking.v1.NetworkPolicy:
        metadata: Any = {"name": suffix, "namespace": namespace, "labels": labels}
        if annotations:
            metadata["annotations"] = annotations
        body: Any = spec  # the SDK's TypedDicts do not accept plain dicts under mypy
        return k8s.networking.v1.NetworkPolicy(
            f"{name}-np-{suffix}",
            metadata=metadata,
            spec=body,
            opts=opts,
        )

    deny = policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    within = policy(
        "allow-dns-and-namespace",
        {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [_DNS, {"to": [{"podSelector": {}}]}],
        },
    )
    service = policy(
        "allow-service",
        {
            "podSelector": {"matchLabels": pod_labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [peer.rule("from") for peer in ingress],
            "egress": [peer.rule("to") for peer in egress],
        },
        egress_exception(egress),
    )
    return [deny, within, service]


EGRESS_EXCEPTION_ANNOTATION = "mlplatform.io/egress-exception"


def egress_exception(peers: list[NetworkPeer]) -> dict[str, str]:
    """The annotation declaring why a policy's egress names a world range (UAE-NET-004)."""
    reasons = [p.exception for p in peers if p.exception]
    return {EGRESS_EXCEPTION_ANNOTATION: "; ".join(reasons)} if reasons else {}
