"""The Kubernetes API server as a network peer, in forms every common CNI matches.

Two flows cross a namespace's NetworkPolicies: the API server calling the namespace's
admission webhooks (ingress), and pods calling the API server (egress: operators, TokenReview).
The API server is not a pod, and CNIs see its address differently:

- Calico, the AWS VPC CNI (EKS network policy agent) and Azure NPM match an ipBlock of the API
  server's endpoint addresses (on EKS the private endpoint's ENIs in the cluster's subnets)
  and a rule without peers;
- Cilium (AKS "Azure CNI powered by Cilium", many on-prem sites) gives those addresses the
  `kube-apiserver` identity, which no ipBlock selects — not even 0.0.0.0/0; it matches a rule
  without peers, and a CiliumNetworkPolicy `toEntities: [kube-apiserver]`.

So: webhooks are admitted by port with no `from` (`webhook_ingress`) — the only standard form
that matches the API server on all four; egress to the API server is a NetworkPolicy rule to the
endpoint addresses on its ports (`egress_rule`) plus, where the cluster runs Cilium, a
CiliumNetworkPolicy allowing the `kube-apiserver` entity on the same ports
(`api_server_egress`). Never `ipBlock 0.0.0.0/0`: it opens the ports to everything on the
CNIs where it works and still misses the API server on Cilium.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

CILIUM_API_SERVER_ENTITY = "kube-apiserver"


@dataclass(frozen=True)
class ApiServer:
    """Where a cluster's API server is, as its pods reach it."""

    cidrs: tuple[str, ...]  # the endpoint addresses (`kubectl get endpoints kubernetes`)
    ports: tuple[int, ...] = (443, 6443)  # the Service port and the endpoints' port
    cilium: bool = False  # the cluster's CNI is Cilium: add the entity policy


def webhook_ingress(ports: tuple[int, ...]) -> dict[str, Any]:
    """An ingress rule admitting the API server's webhook calls on `ports` (from any source)."""
    return {"ports": [{"protocol": "TCP", "port": p} for p in ports]}


def egress_rule(api: ApiServer) -> dict[str, Any]:
    """A NetworkPolicy egress rule to the API server's endpoint addresses on its ports."""
    if not api.cidrs:  # an empty `to` would allow every destination
        raise ValueError("the API server's endpoint addresses are unknown: set them")
    return {
        "to": [{"ipBlock": {"cidr": cidr}} for cidr in api.cidrs],
        "ports": [{"protocol": "TCP", "port": p} for p in api.ports],
    }


def api_server_egress(
    resource_name: str,
    namespace: str,
    labels: dict[str, str],
    pod_labels: dict[str, str],
    api: ApiServer,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """Egress from `pod_labels` pods (all pods for `{}`) to the API server, on every CNI.

    For namespaces whose egress is already default-deny: on Cilium the CiliumNetworkPolicy
    also isolates the selected pods' egress, which would cut pods that were not isolated.
    """
    selector: Any = {"matchLabels": pod_labels} if pod_labels else {}
    policy: Any = {
        "podSelector": selector,
        "policyTypes": ["Egress"],
        "egress": [egress_rule(api)],
    }
    metadata: Any = {"name": "allow-api-server-egress", "namespace": namespace, "labels": labels}
    created: list[pulumi.Resource] = [
        k8s.networking.v1.NetworkPolicy(
            f"{resource_name}-np-api-server-egress", metadata=metadata, spec=policy, opts=opts
        )
    ]
    if api.cilium:
        ports = [{"port": str(p), "protocol": "TCP"} for p in api.ports]
        created.append(
            k8s.apiextensions.CustomResource(
                f"{resource_name}-cnp-api-server",
                api_version="cilium.io/v2",
                kind="CiliumNetworkPolicy",
                metadata={"name": "allow-api-server", "namespace": namespace, "labels": labels},
                spec={
                    "endpointSelector": selector,
                    "egress": [
                        {"toEntities": [CILIUM_API_SERVER_ENTITY], "toPorts": [{"ports": ports}]}
                    ],
                },
                opts=opts,
            )
        )
    return created
