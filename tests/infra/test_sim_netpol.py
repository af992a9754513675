"""The NetworkPolicy evaluator against the API's semantics, one rule of the API per case."""

from __future__ import annotations

from typing import Any

import pytest

from infra.simulate.netpol import CNIS, Address, NetworkPolicies, Pod

CALICO, CILIUM = CNIS["calico"], CNIS["cilium"]
WEB = Pod("shop", {"app": "web"}, {"http": 8080})
DB = Pod("data", {"app": "db"}, {"pg": 5432})
OTHER = Pod("other", {"app": "x"})
API = Address("10.0.0.0/28", "api-server", entity="kube-apiserver")
NAMESPACES = {"shop": {"team": "shop"}, "data": {"team": "data"}, "other": {"team": "x"}}


def policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def deny_all(namespace: str) -> dict[str, Any]:
    return policy(namespace, "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def model(*policies: dict[str, Any], cni: Any = CALICO, pods: tuple[str, ...] = ("10.244.0.0/16",)):
    return NetworkPolicies(policies, NAMESPACES, cni, pods)


def test_no_policy_means_not_isolated() -> None:
    verdict = model().can_reach(WEB, DB, 5432)
    assert verdict.allowed and verdict.definite
    assert "not isolated" in verdict.explain()


def test_default_deny_isolates_both_directions_and_names_the_policy() -> None:
    verdict = model(deny_all("shop"), deny_all("data")).can_reach(WEB, DB, 5432)
    assert not verdict.allowed
    assert "NetworkPolicy shop/deny" in verdict.explain()
    assert "NetworkPolicy data/deny" in verdict.explain()


def test_flow_needs_egress_at_the_source_and_ingress_at_the_destination() -> None:
    egress = policy(
        "shop",
        "to-db",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"team": "data"}}}],
                    "ports": [{"port": 5432}],
                }
            ],
        },
    )
    ingress = policy(
        "data",
        "from-web",
        {
            "podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": "shop"}},
                            "podSelector": {"matchLabels": {"app": "web"}},
                        }
                    ],
                    "ports": [{"port": "pg"}],  # a named port of the destination
                }
            ],
        },
    )
    both = model(deny_all("shop"), deny_all("data"), egress, ingress)
    verdict = both.can_reach(WEB, DB, 5432)
    assert verdict.allowed and verdict.definite
    assert "shop/to-db egress[0]" in verdict.explain()
    assert "data/from-web ingress[0]" in verdict.explain()
    assert not both.can_reach(WEB, DB, 5433).allowed  # another port
    assert not both.can_reach(OTHER, DB, 5432).allowed  # namespace + pod selector are ANDed
    assert not model(deny_all("shop"), deny_all("data"), ingress).can_reach(WEB, DB, 5432).allowed


def test_pod_selector_alone_selects_only_in_the_policys_namespace() -> None:
    same_ns = policy(
        "data",
        "from-app-x",
        {
            "podSelector": {},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}],
        },
    )
    assert not model(same_ns).can_reach(OTHER, DB, 5432).allowed
    assert model(same_ns).can_reach(Pod("data", {"app": "x"}), DB, 5432).allowed


def test_match_expressions_and_empty_selectors() -> None:
    tenants = policy(
        "data",
        "tenants",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {"key": "team", "operator": "In", "values": ["shop"]}
                                ]
                            }
                        }
                    ]
                }
            ],
        },
    )
    assert model(tenants).can_reach(WEB, DB, 1).allowed
    assert not model(tenants).can_reach(OTHER, DB, 1).allowed
    everyone = policy(
        "data", "all", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}
    )
    assert model(everyone).can_reach(OTHER, DB, 1).allowed


def test_policy_types_default_adds_egress_only_when_there_are_egress_rules() -> None:
    ingress_only = policy("shop", "in", {"podSelector": {}, "ingress": []})
    assert model(ingress_only).can_reach(WEB, DB, 5432).allowed  # egress not isolated
    assert not model(ingress_only).can_reach(DB, WEB, 8080).allowed  # ingress isolated
    with_egress = policy(
        "shop", "out", {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}
    )
    assert not model(with_egress).can_reach(WEB, DB, 5432).allowed
    assert model(with_egress).can_reach(WEB, DB, 53, "UDP").allowed


def test_end_port_ranges_and_protocols() -> None:
    ranged = policy(
        "shop",
        "range",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": 9092, "endPort": 9098}]}],
        },
    )
    assert model(ranged).can_reach(WEB, DB, 9096).allowed
    assert not model(ranged).can_reach(WEB, DB, 9099).allowed
    assert not model(ranged).can_reach(WEB, DB, 9096, "UDP").allowed


@pytest.mark.parametrize(
    ("block", "address", "expected"),
    [
        ({"cidr": "10.40.0.0/16"}, "10.40.3.0/24", True),
        ({"cidr": "10.40.0.0/16", "except": ["10.40.3.0/24"]}, "10.40.3.7/32", False),
        ({"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}, "20.1.2.3/32", True),
        ({"cidr": "10.40.0.0/24"}, "10.40.0.0/16", "possibly"),  # only part of the range
    ],
)
def test_ip_block_with_except(block: dict[str, Any], address: str, expected: Any) -> None:
    out = policy(
        "shop",
        "out",
        {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": block}]}]},
    )
    verdict = model(out).can_reach(WEB, Address(address), 443)
    if expected == "possibly":
        assert verdict.allowed and not verdict.definite
    else:
        assert verdict.allowed is expected


def test_ip_block_over_pod_ips_matches_by_ip_on_calico_and_never_on_cilium() -> None:
    def from_block(cidr: str) -> dict[str, Any]:
        return policy(
            "data", "in", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}]}
        )

    whole = model(from_block("10.0.0.0/8")).can_reach(OTHER, DB, 5432)  # pods: 10.244.0.0/16
    assert whole.definite
    part = model(from_block("10.244.1.0/24")).can_reach(OTHER, DB, 5432)
    assert part.allowed and not part.definite
    assert "possibly allowed" in part.explain()
    assert not model(from_block("10.0.0.0/8"), cni=CILIUM).can_reach(OTHER, DB, 5432).allowed


def test_api_server_by_ip_block_works_except_on_cilium() -> None:
    out = policy(
        "shop",
        "api",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}],
        },
    )
    assert model(out).can_reach(WEB, API, 443).definite
    verdict = model(out, cni=CILIUM).can_reach(WEB, API, 443)
    assert not verdict.allowed
    ports_only = policy(
        "shop",
        "api",
        {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 443}]}]},
    )
    assert model(ports_only, cni=CILIUM).can_reach(WEB, API, 443).definite


def test_cilium_policy_to_the_kube_apiserver_entity() -> None:
    cnp = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "endpointSelector": {},
            "egress": [
                {
                    "toEntities": ["kube-apiserver"],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                }
            ],
        },
    }
    verdict = model(deny_all("shop"), cnp, cni=CILIUM).can_reach(WEB, API, 443)
    assert verdict.definite and "CiliumNetworkPolicy shop/api egress[0]" in verdict.explain()
    assert not model(deny_all("shop"), cnp, cni=CILIUM).can_reach(WEB, API, 6443).allowed
    # not enforced where the CNI is not Cilium: the standard policies decide
    assert not model(deny_all("shop"), cnp).can_reach(WEB, API, 443).allowed


def test_cilium_endpoint_selectors_stay_in_the_policys_namespace_unless_they_name_one() -> None:
    def cnp(selector: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "in", "namespace": "data"},
            "spec": {"endpointSelector": {}, "ingress": [{"fromEndpoints": [selector]}]},
        }

    assert not model(cnp({}), cni=CILIUM).can_reach(WEB, DB, 5432).allowed
    named = cnp({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "shop"}})
    assert model(named, cni=CILIUM).can_reach(WEB, DB, 5432).allowed


def test_named_port_unknown_to_the_destination_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a number nor a named port"):
        model().can_reach(WEB, DB, "metrics")


def test_a_destination_that_is_never_in_private_ranges_is_covered_despite_the_except() -> None:
    """Entra ID: "any public address" — the rule's excepts are where the destination never is."""
    private = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    public = {"cidr": "0.0.0.0/0", "except": list(private)}
    out = policy(
        "shop",
        "out",
        {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": public}]}]},
    )
    entra = Address("0.0.0.0/0", "entra-id", excepts=private)
    for cni in (CALICO, CILIUM):
        assert model(out, cni=cni).can_reach(WEB, entra, 443).definite
    anywhere = Address("0.0.0.0/0", "anything")
    assert not model(out).can_reach(WEB, anywhere, 443).definite
