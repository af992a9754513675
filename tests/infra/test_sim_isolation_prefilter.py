"""The pairwise isolation check's shortcut (infra.simulate.isolation.may_admit): a tenant pair is
skipped only when the destination's ingress cannot admit the source's pods at all; every way a
NetworkPolicy could admit them keeps the full search, which then finds the path."""

from __future__ import annotations

from typing import Any

import pytest

from infra.simulate.isolation import candidate_pods, may_admit, paths_between
from infra.simulate.netpol import CNIS, NetworkPolicies

TENANT = "mlplatform.io/tenant"


def namespace(name: str) -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {TENANT: name}}}


def policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": name, "namespace": ns}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta,
        "spec": spec,
    }


def deny_all(ns: str) -> dict[str, Any]:
    return policy(ns, "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def allow_egress(ns: str) -> dict[str, Any]:
    return policy(ns, "out", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})


def cluster(*extra: dict[str, Any], cni: str = "calico") -> NetworkPolicies:
    bodies = [namespace("a"), namespace("b"), deny_all("a"), deny_all("b"), allow_egress("a")]
    return NetworkPolicies.from_objects([*bodies, *extra], CNIS[cni], ("10.244.0.0/16",))


def admits(model: NetworkPolicies) -> bool:
    return may_admit(model, "a", "b", candidate_pods(model, "b", []))


def test_isolated_tenants_are_skipped_and_have_no_path() -> None:
    same_namespace_only = policy(
        "b", "own", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}
    )
    model = cluster(same_namespace_only)
    assert not admits(model)
    assert paths_between(model, "a", "b", []) == []


@pytest.mark.parametrize(
    "peers",
    [
        [{"namespaceSelector": {"matchLabels": {TENANT: "a"}}}],  # names the source
        [{"namespaceSelector": {}}],  # every namespace
        [{"ipBlock": {"cidr": "10.244.0.0/16"}}],  # pod addresses
        [],  # no peers: anyone
    ],
    ids=["selects-source", "any-namespace", "ip-block", "no-peers"],
)
def test_every_way_in_keeps_the_full_search_which_finds_the_path(
    peers: list[dict[str, Any]],
) -> None:
    rule: dict[str, Any] = {"from": peers} if peers else {}
    model = cluster(policy("b", "in", {"podSelector": {}, "ingress": [rule]}))
    assert admits(model)
    paths = paths_between(model, "a", "b", [])
    assert paths and "NetworkPolicy b/in ingress[0]" in paths[0].explain()


def test_a_namespace_selector_for_another_tenant_is_skipped() -> None:
    other = policy(
        "b",
        "in",
        {
            "podSelector": {},
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {TENANT: "c"}}}]}],
        },
    )
    model = cluster(other)
    assert not admits(model)
    assert paths_between(model, "a", "b", []) == []


def test_a_destination_without_ingress_isolation_admits() -> None:
    bodies = [namespace("a"), namespace("b"), deny_all("a"), allow_egress("a")]
    model = NetworkPolicies.from_objects(bodies, CNIS["calico"], ("10.244.0.0/16",))
    assert admits(model)
    assert paths_between(model, "a", "b", [])
