"""Platform namespaces: one per service, Pod Security `restricted` unless an exemption is recorded.

A platform service that truly needs privileged pods (the NVIDIA GPU operator loads kernel modules
and configures the container runtime on the host) gets `enforce=privileged`, but only through an
entry in `PSS_EXEMPTIONS` below. The exemption is also written on the Namespace as an annotation
so the policy pack (UAE-K8S-001) and the compliance report can list it from the rendered objects.
Audit and warn stay `restricted` everywhere: the privileged pods are still reported, never silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.api_server import ApiServer, api_server_egress
from components.flows import Flow, flows_annotation

EXEMPTION_ANNOTATION = "mlplatform.io/pss-exemption"
EXEMPTION_CONTROL_ANNOTATION = "mlplatform.io/pss-exemption-control"


@dataclass(frozen=True)
class PssExemption:
    """A namespace allowed a weaker Pod Security level than `restricted`, and why."""

    namespace: str
    level: str  # "privileged" or "baseline"
    reason: str
    control: str = "UAE-K8S-001"


# The only namespaces allowed to run privileged pods. Adding one is a reviewed change.
PSS_EXEMPTIONS: tuple[PssExemption, ...] = (
    PssExemption(
        namespace=c.NS_GPU_OPERATOR,
        level="privileged",
        reason=(
            "NVIDIA GPU operator: the driver and container-toolkit daemonsets load kernel "
            "modules and reconfigure containerd on GPU hosts, the device plugin and DCGM "
            "exporter use host paths; no restricted alternative exists. Only the operator's "
            "own pods run here; tenant workloads stay in restricted namespaces."
        ),
    ),
    PssExemption(
        namespace="mlplatform-logging",
        level="privileged",
        reason=(
            "Fluent Bit reads every container's log and the API server's audit log from the "
            "node (/var/log) and buffers on the node's disk: hostPath volumes, which baseline "
            "and restricted refuse. The container runs read-only, without capabilities or "
            "privilege escalation; only Fluent Bit runs here."
        ),
    ),
)


EGRESS_EXCEPTION_ANNOTATION = "mlplatform.io/egress-exception"

# Platform namespaces whose egress is not yet default-deny, and why: their destinations are
# site services the configuration names by host only (no addresses a NetworkPolicy could
# take). Written on the Namespace (`mlplatform.io/egress-exception`), where UAE-NET-004 reads
# it; every other namespace the platform creates must default-deny egress. Reviewed changes.
EGRESS_EXCEPTIONS: dict[str, str] = {
    "mlplatform-monitoring": (
        "Prometheus scrapes the nodes (kubelet, node exporter at the nodes' addresses) and every "
        "monitored namespace, Alertmanager posts to the receivers the stack config names by URL, "
        "Grafana signs users in at the IdP's issuer URL: none of them has configured addresses "
        "yet. Remedy: the receivers' and IdP's addresses in config, then default-deny egress."
    ),
    "mlplatform-logging": (
        "Fluent Bit ships to the site's SIEM collector (observability.siem.host, a host name) "
        "or to CloudWatch Logs through the VPC's interface endpoint; the configuration gives "
        "neither as addresses. Remedy: the collector's / endpoint's addresses, then "
        "default-deny egress."
    ),
}


def exemption_for(namespace: str) -> PssExemption | None:
    return next((e for e in PSS_EXEMPTIONS if e.namespace == namespace), None)


def platform_namespace(
    resource_name: str,
    namespace: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    privileged: bool = False,
    flows: Sequence[Flow] = (),
) -> k8s.core.v1.Namespace:
    """A Namespace with governance labels and Pod Security labels.

    `privileged=True` is refused unless `PSS_EXEMPTIONS` lists the namespace. `flows` are the
    connections its pods need (`components.flows`), written on it for the plan to prove.
    """
    enforce = "restricted"
    annotations: dict[str, str] = dict(flows_annotation(flows))
    if namespace in EGRESS_EXCEPTIONS:
        annotations[EGRESS_EXCEPTION_ANNOTATION] = EGRESS_EXCEPTIONS[namespace]
    if privileged:
        exemption = exemption_for(namespace)
        if exemption is None:
            raise ValueError(
                f"namespace {namespace!r} asks for privileged pods but has no entry in "
                "components.namespace.PSS_EXEMPTIONS"
            )
        enforce = exemption.level
        annotations |= {
            EXEMPTION_ANNOTATION: exemption.reason,
            EXEMPTION_CONTROL_ANNOTATION: exemption.control,
        }
    return k8s.core.v1.Namespace(
        resource_name,
        metadata={
            "name": namespace,
            "labels": {
                **labels,
                c.PSS_ENFORCE: enforce,
                c.PSS_AUDIT: "restricted",
                c.PSS_WARN: "restricted",
            },
            "annotations": annotations or None,
        },
        opts=opts,
    )


def pull_secrets(name: str | None) -> list[dict[str, str]]:
    """imagePullSecrets for the mirror, in the `[{name: ...}]` shape most charts take."""
    return [{"name": name}] if name else []


def ingress_policies(
    resource_name: str,
    namespace: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    api_server_ports: tuple[int, ...] = (),
    tenant_ports: tuple[int, ...] = (),
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Default-deny ingress for an operator namespace, then only what the operator must serve.

    `api_server_ports`: admission webhooks / aggregated APIs the API server calls. Its source
    address differs per cluster (control-plane nodes, a cloud-managed endpoint), so these ports
    (only) are open to any source. `tenant_ports`: ports tenant pods may reach.
    Egress: `operator_policies` adds the default-deny and the flows an operator needs.
    """

    def policy(suffix: str, spec: Any) -> k8s.networking.v1.NetworkPolicy:
        metadata: Any = {"name": suffix, "namespace": namespace, "labels": labels}
        return k8s.networking.v1.NetworkPolicy(
            f"{resource_name}-np-{suffix}", metadata=metadata, spec=spec, opts=opts
        )

    def ports(numbers: tuple[int, ...]) -> list[dict[str, Any]]:
        return [{"protocol": "TCP", "port": p} for p in numbers]

    created = [policy("default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})]
    if api_server_ports:
        created.append(
            policy(
                "allow-api-server",
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"ports": ports(api_server_ports)}],
                },
            )
        )
    if tenant_ports:
        tenants = {"matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]}
        created.append(
            policy(
                "allow-tenants",
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {"from": [{"namespaceSelector": tenants}], "ports": ports(tenant_ports)}
                    ],
                },
            )
        )
    return created


_DNS_EGRESS: dict[str, Any] = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def egress_policies(
    resource_name: str,
    namespace: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    api_server: ApiServer,
) -> list[pulumi.Resource]:
    """Default-deny egress for an operator namespace, then the flows every operator needs:
    the cluster DNS, its own namespace's pods (operator → the operands it manages, webhooks
    → their controllers) and the API server (`components.api_server`, with the Cilium entity
    policy where the CNI is Cilium). Nothing else leaves the namespace."""

    def policy(suffix: str, spec: Any) -> k8s.networking.v1.NetworkPolicy:
        metadata: Any = {"name": suffix, "namespace": namespace, "labels": labels}
        return k8s.networking.v1.NetworkPolicy(
            f"{resource_name}-np-{suffix}", metadata=metadata, spec=spec, opts=opts
        )

    return [
        policy("default-deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}),
        policy(
            "allow-dns-and-namespace-egress",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [_DNS_EGRESS, {"to": [{"podSelector": {}}]}],
            },
        ),
        *api_server_egress(resource_name, namespace, labels, {}, api_server, opts),
    ]


def operator_policies(
    resource_name: str,
    namespace: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    api_server: ApiServer,
    api_server_ports: tuple[int, ...] = (),
    tenant_ports: tuple[int, ...] = (),
) -> list[pulumi.Resource]:
    """An operator namespace's NetworkPolicies: default deny both ways, then what it serves
    (`ingress_policies`) and what it calls (`egress_policies`)."""
    return [
        *ingress_policies(resource_name, namespace, labels, opts, api_server_ports, tenant_ports),
        *egress_policies(resource_name, namespace, labels, opts, api_server),
    ]
