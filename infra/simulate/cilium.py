"""CiliumNetworkPolicy (cilium.io/v2), the part the evaluator needs, on clusters whose CNI is
Cilium: `endpointSelector`; `ingress`/`egress` rules with `from/toEndpoints`,
`from/toEntities`, `from/toCIDR`, `from/toCIDRSet` and `toPorts`. A rule with `toPorts` and no
peer is an L4-only rule (every peer). Endpoint selectors of a namespaced policy select in its
namespace unless they name one (`k8s:io.kubernetes.pod.namespace`); namespace labels are read
through `io.cilium.k8s.namespace.labels.<key>`. Deny rules, FQDN and service selectors are not
modelled (the platform declares none).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from infra.simulate.kube import describe, items, mapping, namespace_of, selector_matches
from infra.simulate.peers import Address, Endpoint, Match, Pod

NamespaceLabels = Callable[[str], Mapping[str, str]]

NAMESPACE_KEYS = ("io.kubernetes.pod.namespace",)
NAMESPACE_LABEL_PREFIX = "io.cilium.k8s.namespace.labels."


def evaluate(
    model: NamespaceLabels,
    policy: Mapping[str, Any],
    direction: str,
    pod: Pod,
    peer: Endpoint,
    port: int,
    protocol: str,
) -> tuple[bool, list[Match]]:
    """(whether `policy` isolates `pod` in `direction`, the rules that allow `peer` on `port`)."""
    policy_ns = namespace_of(policy) or ""
    isolated, found = False, []
    for number, spec in enumerate(_specs(policy)):
        selector = mapping(spec.get("endpointSelector"))
        if pod.namespace != policy_ns or not _endpoint_matches(model, selector, pod, policy_ns):
            continue
        if direction not in spec:
            continue
        isolated = True
        for index, rule in enumerate(items(spec.get(direction))):
            rule = mapping(rule)
            if not _ports_match(items(rule.get("toPorts")), port, protocol):
                continue
            if _peer_matches(model, rule, direction, peer, policy_ns):
                where = f"specs[{number}]." if "specs" in policy else ""
                found.append(Match(f"{describe(policy)} {where}{direction}[{index}]", True))
    return isolated, found


def _specs(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "specs" in policy:
        return [mapping(s) for s in items(policy.get("specs"))]
    return [mapping(policy.get("spec"))]


def _peer_matches(
    model: NamespaceLabels, rule: Mapping[str, Any], direction: str, peer: Endpoint, policy_ns: str
) -> bool:
    side = "to" if direction == "egress" else "from"
    endpoints = rule.get(f"{side}Endpoints")
    entities = rule.get(f"{side}Entities")
    cidrs: list[Mapping[str, Any]] = [{"cidr": c} for c in items(rule.get(f"{side}CIDR"))]
    cidrs += [mapping(c) for c in items(rule.get(f"{side}CIDRSet"))]
    if endpoints is None and entities is None and not cidrs:
        return True  # an L4-only rule: every peer on those ports
    if any(_entity_matches(str(e), peer) for e in items(entities)):
        return True
    selectors = [mapping(s) for s in items(endpoints)]
    pod = peer if isinstance(peer, Pod) else None
    if pod is not None and any(_endpoint_matches(model, s, pod, policy_ns) for s in selectors):
        return True
    return any(_cidr_matches(c, peer) for c in cidrs)


def _entity_matches(entity: str, peer: Endpoint) -> bool:
    if entity == "all":
        return True
    if isinstance(peer, Pod):
        return entity == "cluster"
    kind = peer.entity
    if entity == "world":
        return kind is None
    if entity == "cluster":
        return kind in ("host", "remote-node")
    return kind == entity


def _cidr_matches(block: Mapping[str, Any], peer: Endpoint) -> bool:
    """Cilium's CIDR rules select only addresses outside the cluster's identities."""
    if not isinstance(peer, Address) or peer.entity is not None:
        return False
    network = peer.network
    allowed = ipaddress.ip_network(str(block.get("cidr")), strict=False)
    if network.version != allowed.version or not network.subnet_of(allowed):  # type: ignore[arg-type]
        return False
    excepts = [ipaddress.ip_network(str(e), strict=False) for e in items(block.get("except"))]
    outside = [ipaddress.ip_network(e, strict=False) for e in peer.excepts]
    return not any(
        network.overlaps(e) and not any(e.subnet_of(o) for o in outside if o.version == e.version)  # type: ignore[arg-type]
        for e in excepts
    )


def _endpoint_matches(
    model: NamespaceLabels, selector: Mapping[str, Any], pod: Pod, policy_ns: str
) -> bool:
    """A Cilium endpoint selector: pod labels, its namespace and the namespace's labels."""
    labels: dict[str, str] = {k: v for k, v in pod.labels.items()}
    labels["io.kubernetes.pod.namespace"] = pod.namespace
    for key, value in model(pod.namespace).items():
        labels[NAMESPACE_LABEL_PREFIX + key] = value
    stripped = _strip_sources(selector)
    names_namespace = any(k in NAMESPACE_KEYS for k in mapping(stripped.get("matchLabels"))) or any(
        mapping(e).get("key") in NAMESPACE_KEYS for e in items(stripped.get("matchExpressions"))
    )
    if not names_namespace and pod.namespace != policy_ns:
        return False
    return selector_matches(stripped, labels)


def _strip_sources(selector: Mapping[str, Any]) -> dict[str, Any]:
    """Drop Cilium's label-source prefixes (`k8s:`, `any:`) from a selector's keys."""

    def strip(key: Any) -> str:
        text = str(key)
        for prefix in ("k8s:", "any:"):
            if text.startswith(prefix):
                return text[len(prefix) :]
        return text

    return {
        "matchLabels": {strip(k): v for k, v in mapping(selector.get("matchLabels")).items()},
        "matchExpressions": [
            {**mapping(e), "key": strip(mapping(e).get("key"))}
            for e in items(selector.get("matchExpressions"))
        ],
    }


def _ports_match(to_ports: list[Any], port: int, protocol: str) -> bool:
    if not to_ports:
        return True
    for entry in to_ports:
        for spec in items(mapping(entry).get("ports")):
            spec = mapping(spec)
            wanted_protocol = str(spec.get("protocol") or "ANY")
            if wanted_protocol not in ("ANY", protocol):
                continue
            first = int(str(spec.get("port") or 0))
            last = int(str(spec.get("endPort") or first))
            if first == 0 or first <= port <= last:
                return True
    return False
