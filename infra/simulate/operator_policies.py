"""NetworkPolicies operators create at run time, which the plan does not hold but the cluster
will: Strimzi's, for each Kafka cluster (unless the operator runs with
`STRIMZI_NETWORK_POLICY_GENERATION=false`).

Strimzi's `<cluster>-network-policy-kafka` selects the cluster's Kafka pods and admits: each
listener's port from its `networkPolicyPeers` (from anywhere when it lists none), and the
control-plane (9090) and replication (9091) ports from the cluster's own Kafka pods and its
operators (Strimzi 1.x, KRaft).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.simulate.kube import items, mapping, name_of, namespace_of

CONTROL_PLANE_PORT, REPLICATION_PORT = 9090, 9091
GENERATION_ENV = "STRIMZI_NETWORK_POLICY_GENERATION"


def strimzi_policies(bodies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    bodies = list(bodies)
    if any(_disables_generation(b) for b in bodies):
        return []
    return [
        _kafka_policy(b)
        for b in bodies
        if b.get("kind") == "Kafka" and str(b.get("apiVersion", "")).startswith("kafka.strimzi.io/")
    ]


def _disables_generation(body: Mapping[str, Any]) -> bool:
    if body.get("kind") != "Deployment":
        return False
    spec = mapping(mapping(mapping(body.get("spec")).get("template")).get("spec"))
    return any(
        mapping(env).get("name") == GENERATION_ENV and str(mapping(env).get("value")) == "false"
        for container in items(spec.get("containers"))
        for env in items(mapping(container).get("env"))
    )


def _kafka_policy(kafka: Mapping[str, Any]) -> dict[str, Any]:
    cluster, namespace = name_of(kafka), namespace_of(kafka) or "default"
    kafka_pods = {
        "strimzi.io/cluster": cluster,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": f"{cluster}-kafka",
    }
    internal = [
        {"podSelector": {"matchLabels": kafka_pods}},
        {"podSelector": {"matchLabels": {"strimzi.io/kind": "cluster-operator"}},
         "namespaceSelector": {}},
        {"podSelector": {"matchLabels": {"strimzi.io/cluster": cluster,
                                         "strimzi.io/name": f"{cluster}-entity-operator"}}},
    ]  # fmt: skip
    ingress: list[dict[str, Any]] = [
        {"from": internal, "ports": [{"protocol": "TCP", "port": CONTROL_PLANE_PORT}]},
        {"from": internal, "ports": [{"protocol": "TCP", "port": REPLICATION_PORT}]},
    ]
    for listener in items(mapping(mapping(kafka.get("spec")).get("kafka")).get("listeners")):
        listener = mapping(listener)
        rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": listener.get("port")}]}
        peers = items(listener.get("networkPolicyPeers"))
        if peers:
            rule["from"] = peers
        ingress.append(rule)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{cluster}-network-policy-kafka", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": kafka_pods},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }
