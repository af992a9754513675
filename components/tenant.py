"""`Tenant`: one ML team's isolated slice of the platform.

Deploys, for tenant `<name>` in namespace `tenant-<name>`:

| child | purpose |
|---|---|
| Namespace | Pod Security `restricted` (enforce, audit, warn), tenant + governance labels |
| ResourceQuota | CPU, memory, `requests.nvidia.com/gpu`, pods, services, PVCs; no LoadBalancers |
| LimitRange | default requests/limits so every container is bounded |
| NetworkPolicies | default-deny in+out, then allow DNS, same namespace, each platform service, |
| | and each destination outside the cluster in `egress` (`allow-<rule name>`, an `ipBlock`) |
| ServiceAccount | workloads' identity; token automount off (mount projected tokens explicitly) |
| Role + RoleBinding | the tenant's IdP group may manage workloads in its namespace; no wildcards |
| LocalQueue | Kueue queue `default` pointing at the platform's GPU ClusterQueue |

`egress` comes from the foundation: managed Kafka brokers (MSK, Event Hubs private endpoint)
and, when tenants authenticate with a cloud workload identity, where its credentials come from
(EKS Pod Identity agent, Entra ID). Strimzi and the platform services are `peers` instead.

Outputs: `namespace`, `service_account`, `queue`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.endpoints import EgressRule
from components.flows import External, Flow, Pods, dns_flows, flows_annotation
from components.network_policies import NetworkPeer, egress_exception
from components.objects import upstream


@dataclass(frozen=True)
class PlatformPeer:
    """A platform service tenant pods may reach: its namespace and TCP ports."""

    namespace: str
    ports: tuple[int, ...]
    pod_labels: dict[str, str] = field(default_factory=dict)
    name: str = ""  # names the egress policy and flow when a namespace has several (Feast)

    @property
    def label(self) -> str:
        return self.name or self.namespace


@dataclass(frozen=True, kw_only=True)
class TenantArgs:
    name: str
    idp_group: str
    cpu: str
    memory: str
    gpus: int
    labels: dict[str, str]
    image_pull_secret: str | None  # the mirror's pull secret, from `registry.pullSecret`
    peers: tuple[PlatformPeer, ...] = ()
    egress: tuple[EgressRule, ...] = ()  # destinations outside the cluster (ipBlock)
    cluster_queue: str = c.CLUSTER_QUEUE
    max_pods: int = 200
    # Cloud workload identity for the tenant's service account (IRSA / Azure WI), if any.
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # Flows of what else runs in the namespace, declared on it (the ML loop's controllers'
    # calls to the API server: `components.ml_loop.controller_flows`).
    flows: tuple[Flow, ...] = ()


# What the tenant's IdP group may do in its own namespace. Explicit verbs and resources only
# (UAE-IAM-001): no `*`, no access to Secrets beyond reading those the platform put there.
# Kubernetes bodies here are camelCase manifests passed through verbatim; the SDK's *ArgsDict
# TypedDicts spell fields in snake_case, so such bodies are typed Any where they are passed.
_TENANT_RULES: Any = [
    {
        "apiGroups": [""],
        "resources": [
            "pods",
            "pods/log",
            "services",
            "configmaps",
            "persistentvolumeclaims",
            "events",
        ],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "replicasets"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["batch"],
        "resources": ["jobs", "cronjobs"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["serving.kserve.io"],
        "resources": ["inferenceservices"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["trainer.kubeflow.org"],
        "resources": ["trainjobs"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["kueue.x-k8s.io"],
        "resources": ["workloads", "localqueues"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["kafka.strimzi.io"],
        "resources": ["kafkatopics"],
        "verbs": ["get", "list", "watch"],
    },
]


def tenant_flows(args: TenantArgs) -> list[Flow]:
    """What any of the tenant's pods (its TrainJobs, predictors...) must reach: each platform
    service it is given, each destination outside the cluster, DNS."""
    tenant, anyone = c.tenant_namespace(args.name), Pods()
    found = [
        Flow(f"{tenant}→{peer.label}", anyone, Pods(peer.pod_labels, peer.namespace), peer.ports)
        for peer in args.peers
    ]
    found += [
        Flow(
            f"{tenant}→{rule.name}",
            anyone,
            External(rule.name, rule.cidr, rule.except_cidrs),
            rule.ports,
            why=rule.why,
        )
        for rule in args.egress
    ]
    return [*found, *args.flows, *dns_flows(tenant)]


class Tenant(pulumi.ComponentResource):
    namespace: str
    service_account: str
    queue: str

    def __init__(self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:tenancy:Tenant", name, None, opts)
        # Pulumi does not hand a component's depends_on to its children: pass it on, so the
        # namespace waits for the platform (e.g. Kueue's CRDs before the LocalQueue).
        child = pulumi.ResourceOptions(parent=self, depends_on=upstream(opts))
        ns_name = c.tenant_namespace(args.name)
        labels = {**args.labels, c.TENANT_LABEL: args.name}

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={
                "name": ns_name,
                "labels": {
                    **labels,
                    c.PSS_ENFORCE: "restricted",
                    c.PSS_AUDIT: "restricted",
                    c.PSS_WARN: "restricted",
                },
                "annotations": flows_annotation(tenant_flows(args)),
            },
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        def meta(resource_name: str) -> k8s.meta.v1.ObjectMetaArgsDict:
            return {"name": resource_name, "namespace": ns_name, "labels": labels}

        self._limits(name, args, meta, in_ns)
        self._network_policies(name, ns_name, labels, args, in_ns)

        sa = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={**meta("workloads"), "annotations": args.service_account_annotations},
            automount_service_account_token=False,
            image_pull_secrets=[{"name": args.image_pull_secret}]
            if args.image_pull_secret
            else None,
            opts=in_ns,
        )
        self._developer_access(name, args, meta, namespace, in_ns)
        k8s.apiextensions.CustomResource(
            f"{name}-queue",
            api_version="kueue.x-k8s.io/v1beta2",
            kind="LocalQueue",
            metadata=meta(c.LOCAL_QUEUE),
            spec={"clusterQueue": args.cluster_queue},
            opts=in_ns,
        )

        self.namespace = ns_name
        self.service_account = "workloads"
        self.queue = c.LOCAL_QUEUE
        self.service_account_resource = sa
        self.register_outputs(
            {"namespace": ns_name, "serviceAccount": self.service_account, "queue": self.queue}
        )

    def _limits(
        self,
        name: str,
        args: TenantArgs,
        meta: Callable[[str], k8s.meta.v1.ObjectMetaArgsDict],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """ResourceQuota (CPU, memory, GPUs, pods; no LoadBalancers) and default limits."""
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("tenant-quota"),
            spec={
                "hard": {
                    "requests.cpu": args.cpu,
                    "limits.cpu": args.cpu,
                    "requests.memory": args.memory,
                    "limits.memory": args.memory,
                    f"requests.{c.GPU_RESOURCE}": str(args.gpus),
                    "pods": str(args.max_pods),
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                    "persistentvolumeclaims": "50",
                }
            },
            opts=opts,
        )
        limits: Any = {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "1", "memory": "2Gi"},
                    "defaultRequest": {"cpu": "250m", "memory": "512Mi"},
                    "max": {"cpu": args.cpu, "memory": args.memory},
                }
            ]
        }
        k8s.core.v1.LimitRange(
            f"{name}-limits", metadata=meta("tenant-defaults"), spec=limits, opts=opts
        )

    def _developer_access(
        self,
        name: str,
        args: TenantArgs,
        meta: Callable[[str], k8s.meta.v1.ObjectMetaArgsDict],
        namespace: pulumi.Resource,
        opts: pulumi.ResourceOptions,
    ) -> None:
        """The IdP group's Role (no wildcards) in the namespace, and its binding."""
        role = k8s.rbac.v1.Role(
            f"{name}-role", metadata=meta("tenant-developer"), rules=_TENANT_RULES, opts=opts
        )
        role_ref: Any = {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "tenant-developer",
        }
        subjects: Any = [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": args.idp_group}
        ]
        k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=meta("tenant-developer"),
            role_ref=role_ref,
            subjects=subjects,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, role]),
        )

    def _network_policies(
        self,
        name: str,
        ns_name: str,
        labels: dict[str, str],
        args: TenantArgs,
        opts: pulumi.ResourceOptions,
    ) -> None:
        def policy(suffix: str, spec: dict[str, Any], notes: dict[str, str] | None = None) -> None:
            body: Any = spec
            metadata: Any = {"name": suffix, "namespace": ns_name, "labels": labels}
            if notes:
                metadata["annotations"] = notes
            k8s.networking.v1.NetworkPolicy(
                f"{name}-np-{suffix}", metadata=metadata, spec=body, opts=opts
            )

        policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        policy(
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        )
        policy(
            "allow-same-namespace",
            {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        )
        for peer in args.peers:
            to: dict = {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": peer.namespace}
                }
            }
            if peer.pod_labels:
                to["podSelector"] = {"matchLabels": peer.pod_labels}
            policy(
                f"allow-to-{peer.label}",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {"to": [to], "ports": [{"protocol": "TCP", "port": p} for p in peer.ports]}
                    ],
                },
            )
        for rule in args.egress:
            policy(
                f"allow-{rule.name}",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [NetworkPeer.egress(rule).rule("to")],
                },
                egress_exception([NetworkPeer.egress(rule)]),
            )
