"""Declared flows resolved and proved, and tenant isolation, over small hand-made clusters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.flows import API_SERVER, Flow, Pods, Service, dns_flows, flows_annotation
from infra.simulate import flows, isolation
from infra.simulate.cluster import ClusterFacts
from infra.simulate.netpol import CNIS, Address, NetworkPolicies
from infra.simulate.pods import pod_templates

API = Address("10.0.0.0/28", "api", "kube-apiserver")
FACTS = ClusterFacts("onprem", [], (CNIS["calico"], CNIS["cilium"]), ("10.244.0.0/16",), (API,))


@dataclass(frozen=True)
class Origin:
    def describe(self) -> str:
        return "program"


@dataclass(frozen=True)
class Obj:
    body: dict[str, Any]
    origin: Origin = Origin()


def namespace(
    name: str, declared: list[Flow] | None = None, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": labels or {},
            "annotations": flows_annotation(declared or []),
        },
    }


def deployment(ns: str, labels: dict[str, str], port: int | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c"}
    if port:
        container["ports"] = [{"name": "http", "containerPort": port}]
    return {
        "kind": "Deployment",
        "metadata": {"name": next(iter(labels.values())), "namespace": ns},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}},
    }


def netpol(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def deny(ns: str) -> dict[str, Any]:
    return netpol(ns, "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


APP = {"app": "web"}
DB = {"app": "db"}
TO_DB = Flow("web→db", Pods(APP), Service("db.data.svc"), (5432,))


def cluster(*extra: dict[str, Any], declared: list[Flow] | None = None) -> list[dict[str, Any]]:
    service = {
        "kind": "Service",
        "metadata": {"name": "db", "namespace": "data"},
        "spec": {"selector": DB, "ports": [{"port": 5432, "targetPort": "http"}]},
    }
    return [
        namespace("shop", declared if declared is not None else [TO_DB]),
        namespace("data"),
        deployment("shop", APP),
        deployment("data", DB, port=5432),
        service,
        *extra,
    ]


def run(bodies: list[dict[str, Any]], facts: ClusterFacts = FACTS):
    objects = [Obj(b) for b in bodies]
    pods = pod_templates(objects)
    found, errors = flows.declared_flows([b for b in bodies if b["kind"] == "Namespace"])
    models = {c.name: NetworkPolicies.from_objects(bodies, c, facts.pod_cidrs) for c in facts.cnis}
    return flows.check(found, errors, flows.Resolver(bodies, pods, facts), models)


EGRESS_TO_DB = netpol(
    "shop",
    "to-db",
    {
        "podSelector": {"matchLabels": APP},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}}}
                ],
                "ports": [{"port": 5432}],
            }
        ],
    },
)
INGRESS_FROM_SHOP = netpol(
    "data",
    "from-shop",
    {
        "podSelector": {"matchLabels": DB},
        "ingress": [
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}
                ],
                "ports": [{"port": 5432}],
            }
        ],
    },
)


def test_a_declared_flow_through_a_service_is_proved_under_every_cni() -> None:
    result = run(cluster(deny("shop"), deny("data"), EGRESS_TO_DB, INGRESS_FROM_SHOP))
    assert result.status == "pass", result.findings
    assert result.examined == ["flow web→db (declared on namespace shop)"]


def test_cutting_either_end_fails_the_flow_naming_the_policy() -> None:
    result = run(cluster(deny("shop"), deny("data"), EGRESS_TO_DB))
    assert result.status == "fail" and result.findings[0].check == "SIM-FLW-001"
    assert "web→db" in result.findings[0].subject
    assert "ingress: denied (isolated by NetworkPolicy data/deny" in result.findings[0].message


def test_unresolvable_endpoints_are_findings_not_silent_passes() -> None:
    gone = Flow("web→cache", Pods(APP), Service("cache.data.svc"), (6379,))
    result = run(cluster(declared=[gone]))
    assert "matches no Service in the plan" in result.findings[0].message
    ghost = Flow("ghost→db", Pods({"app": "ghost"}), Service("db.data.svc"), (5432,))
    assert (
        "no pod in namespace shop has labels" in run(cluster(declared=[ghost])).findings[0].message
    )
    broken = cluster()
    broken[0]["metadata"]["annotations"] = {flows.FLOWS_ANNOTATION: "{not json"}
    assert "is not a flow list" in run(broken).findings[0].message


def test_operator_services_resolve_by_their_naming_rules() -> None:
    cnpg = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "pg", "namespace": "data"},
        "spec": {},
    }
    to_pg = Flow("web→pg", Pods(APP), Service("pg-rw.data.svc.cluster.local"), (5432,))
    result = run([namespace("shop", [to_pg]), namespace("data"), deployment("shop", APP), cnpg])
    assert result.status == "pass"


def test_the_api_server_needs_more_than_an_ip_block_on_cilium() -> None:
    to_api = Flow("web→api", Pods(APP), API_SERVER, (443,))
    ip_block = netpol(
        "shop",
        "api",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}],
        },
    )
    result = run(cluster(deny("shop"), ip_block, declared=[to_api]))
    assert [f.message.split(":")[0] for f in result.findings] == ["blocked on cilium"]
    entity = {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "endpointSelector": {},
            "egress": [
                {"toEntities": ["kube-apiserver"], "toPorts": [{"ports": [{"port": "443"}]}]}
            ],
        },
    }
    assert run(cluster(deny("shop"), ip_block, entity, declared=[to_api])).status == "pass"


def test_webhook_calls_from_the_api_server_and_dns() -> None:
    webhook = Flow("api→web", API_SERVER, Pods(APP), (8443,))
    declared = [webhook, *dns_flows("shop")]
    any_source = netpol(
        "shop",
        "webhook",
        {"podSelector": {"matchLabels": APP}, "ingress": [{"ports": [{"port": 8443}]}]},
    )
    dns = netpol(
        "shop",
        "dns",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }
            ],
        },
    )
    assert run(cluster(deny("shop"), any_source, dns, declared=declared)).status == "pass"
    assert run(cluster(deny("shop"), any_source, declared=declared)).status == "fail"


def tenants_cluster(*policies: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    bodies = [
        namespace("tenant-a", labels={isolation.TENANT_LABEL: "a"}),
        namespace("tenant-b", labels={isolation.TENANT_LABEL: "b"}),
        deployment("tenant-a", {"app": "job"}),
        deployment("tenant-b", {"app": "model"}, port=8080),
        deny("tenant-a"),
        deny("tenant-b"),
        netpol(
            "tenant-a",
            "same",
            {
                "podSelector": {},
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        ),
        netpol(
            "tenant-b",
            "same",
            {
                "podSelector": {},
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        ),
        *policies,
    ]
    models = {c.name: NetworkPolicies.from_objects(bodies, c, FACTS.pod_cidrs) for c in FACTS.cnis}
    pods = pod_templates([Obj(b) for b in bodies])
    return bodies, isolation.check(isolation.tenant_namespaces(bodies), pods, models)


def test_tenants_isolated_by_default_deny_and_same_namespace_rules() -> None:
    _, result = tenants_cluster()
    assert result.status == "pass"
    assert sorted(result.examined) == ["tenant-a → tenant-b", "tenant-b → tenant-a"]


def test_a_tenant_policy_admitting_every_tenant_namespace_breaks_isolation() -> None:
    every_tenant = {
        "namespaceSelector": {
            "matchExpressions": [{"key": isolation.TENANT_LABEL, "operator": "Exists"}]
        }
    }
    open_b = netpol(
        "tenant-b", "from-tenants", {"podSelector": {}, "ingress": [{"from": [every_tenant]}]}
    )
    open_a = netpol(
        "tenant-a",
        "to-tenants",
        {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [every_tenant]}]},
    )
    _, result = tenants_cluster(open_a, open_b)
    assert result.status == "fail"
    (finding,) = result.findings
    assert finding.check == "SIM-FLW-002" and finding.subject == "tenant-a → tenant-b"
    assert "tenant-b/from-tenants" in finding.message and "tenant-a/to-tenants" in finding.message


def test_labels_a_tenant_can_give_its_own_pods_are_considered() -> None:
    labelled_egress = netpol(
        "tenant-a",
        "exporter",
        {
            "podSelector": {"matchLabels": {"role": "exporter"}},
            "policyTypes": ["Egress"],
            "egress": [{}],
        },
    )
    open_b = netpol(
        "tenant-b", "public", {"podSelector": {}, "ingress": [{"ports": [{"port": 8080}]}]}
    )
    _, result = tenants_cluster(labelled_egress, open_b)
    assert result.status == "fail"
    assert "role" in json.dumps(result.findings[0].message)


def test_one_end_open_to_another_tenant_is_a_finding_even_if_the_other_end_blocks() -> None:
    from_a = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tenant-a"}}}
    admit_a = netpol("tenant-b", "from-a", {"podSelector": {}, "ingress": [{"from": [from_a]}]})
    _, result = tenants_cluster(admit_a)
    (finding,) = result.findings
    assert finding.subject == "tenant-a → tenant-b"
    assert "tenant-b's NetworkPolicies admit pods of tenant tenant-a" in finding.message
    assert "NetworkPolicy tenant-b/from-a ingress[0]" in finding.message
