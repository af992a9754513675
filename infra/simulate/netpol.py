"""A NetworkPolicy evaluator: can this pod (or address) reach that pod (or address) on a port,
and which rule allows it?

Objects in (NetworkPolicies, Namespaces, and on Cilium its CiliumNetworkPolicies), answers out:

    policies = NetworkPolicies.from_objects(bodies, cni=CNIS["calico"])
    verdict = policies.can_reach(Pod("tenant-a", {"app": "x"}), Pod("tenant-b", {}), 8080)
    verdict.allowed, verdict.definite, verdict.explain()

Kubernetes semantics (networking.k8s.io/v1): a pod is isolated in a direction once any policy of
its namespace selects it with that policy type (`policyTypes`, or by default Ingress plus Egress
when the policy has egress rules); an isolated pod admits only what some selecting policy's rule
allows. Traffic needs both the source's egress and the destination's ingress. A rule without
ports allows every port; a port is a number or a name (resolved on the destination pod), with
`endPort` for ranges; a rule without peers allows every peer; peers are podSelector (in the
policy's namespace), namespaceSelector, both (pods in those namespaces), or ipBlock with except.

CNIs differ where the API leaves room (`Cni`): whether an ipBlock matches pod IPs (Calico,
AWS VPC CNI and Azure NPM match by IP; Cilium never applies CIDR rules to its own pods) and
whether it matches the API server's address (Cilium gives it the `kube-apiserver` identity,
which no ipBlock selects: allow it with a rule without peers or a CiliumNetworkPolicy
`toEntities: [kube-apiserver]`, both evaluated here). A match that depends on a pod's IP
falling in a block is "possible", not definite: flows must be definitely allowed, isolation
must not be even possibly breached.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.simulate import cilium
from infra.simulate.kube import (
    describe,
    items,
    labels_of,
    mapping,
    name_of,
    namespace_of,
    selector_matches,
)
from infra.simulate.peers import (
    CNIS,
    NAMESPACE_NAME_LABEL,
    Address,
    Cni,
    Endpoint,
    Match,
    Network,
    Pod,
)

__all__ = [
    "CNIS",
    "Address",
    "Cni",
    "Endpoint",
    "Match",
    "NetworkPolicies",
    "Pod",
    "Reachability",
    "Selecting",
    "Side",
    "policy_types",
]


# the policies isolating a pod in one direction: (policy, its name, its rules in that direction)
Selecting = tuple[tuple[Mapping[str, Any], str, tuple[Mapping[str, Any], ...]], ...]


@dataclass(frozen=True)
class Side:
    """One end's verdict: isolated by which policies, and the rules that allow the traffic."""

    direction: str  # egress | ingress
    isolated_by: tuple[str, ...]
    matches: tuple[Match, ...]

    @property
    def allowed(self) -> bool:
        return not self.isolated_by or bool(self.matches)

    @property
    def definite(self) -> bool:
        return not self.isolated_by or any(m.definite for m in self.matches)

    def explain(self) -> str:
        if not self.isolated_by:
            return f"{self.direction}: not isolated (no policy selects it)"
        if not self.matches:
            policies = ", ".join(self.isolated_by)
            return f"{self.direction}: denied (isolated by {policies}; no rule allows it)"
        best = sorted(self.matches, key=lambda m: not m.definite)[0]
        how = "allowed" if best.definite else "possibly allowed (if the pod's IP is in the block)"
        return f"{self.direction}: {how} by {best.rule}"


@dataclass(frozen=True)
class Reachability:
    source: Endpoint
    destination: Endpoint
    port: int
    protocol: str
    egress: Side | None  # None: the source is outside the pod network (not policed here)
    ingress: Side | None  # None: the destination is outside the pod network

    @property
    def allowed(self) -> bool:
        return all(s.allowed for s in (self.egress, self.ingress) if s is not None)

    @property
    def definite(self) -> bool:
        return self.allowed and all(
            s.definite for s in (self.egress, self.ingress) if s is not None
        )

    def explain(self) -> str:
        sides = "; ".join(s.explain() for s in (self.egress, self.ingress) if s is not None)
        return f"{self.source} → {self.destination} {self.protocol}/{self.port}: {sides}"


class NetworkPolicies:
    """The policies of a cluster, ready to answer reachability questions."""

    def __init__(
        self,
        policies: Iterable[Mapping[str, Any]],
        namespaces: Mapping[str, Mapping[str, str]],
        cni: Cni,
        pod_cidrs: tuple[str, ...] = ("0.0.0.0/0",),
    ) -> None:
        self.cni = cni
        self.pod_networks = tuple(ipaddress.ip_network(c, strict=False) for c in pod_cidrs)
        self.namespaces = {
            n: {**labels, NAMESPACE_NAME_LABEL: n} for n, labels in namespaces.items()
        }
        self.policies = [p for p in policies if p.get("kind") == "NetworkPolicy"]
        self.cilium = [
            p for p in policies if p.get("kind") == "CiliumNetworkPolicy" and cni.cilium_policies
        ]
        # a NetworkPolicy selects pods of its own namespace only: each question looks there
        self._by_namespace: dict[str, list[Mapping[str, Any]]] = {}
        for policy in self.policies:
            namespace = namespace_of(policy)
            if namespace is not None:  # one without a namespace selects no pod
                self._by_namespace.setdefault(namespace, []).append(policy)
        self._without: tuple[str, NetworkPolicies] | None = None
        self._selecting_cache: dict[tuple[str, str, frozenset[tuple[str, str]]], Selecting] = {}
        self._removed: str | None = None  # a without() view: the namespace it has no policies in

    @classmethod
    def from_objects(
        cls,
        bodies: Iterable[Mapping[str, Any]],
        cni: Cni,
        pod_cidrs: tuple[str, ...] = ("0.0.0.0/0",),
    ) -> NetworkPolicies:
        """From every object of a plan: its NetworkPolicies, Cilium policies and Namespaces."""
        bodies = list(bodies)
        namespaces = {name_of(b): labels_of(b) for b in bodies if b.get("kind") == "Namespace"}
        return cls(bodies, namespaces, cni, pod_cidrs)

    def in_namespace(self, namespace: str) -> list[Mapping[str, Any]]:
        """The NetworkPolicies of `namespace`, in the plan's order."""
        return self._by_namespace.get(namespace, [])

    def without(self, namespace: str) -> NetworkPolicies:
        """The same cluster with `namespace`'s policies gone: what its peers' policies allow.
        The last one asked is kept (a pairwise check asks for one source's many times)."""
        if self._without is not None and self._without[0] == namespace:
            return self._without[1]
        kept = [p for p in (*self.policies, *self.cilium) if namespace_of(p) != namespace]
        copy = NetworkPolicies(kept, {}, self.cni)
        copy.namespaces, copy.pod_networks = self.namespaces, self.pod_networks
        if self._removed is None:  # other namespaces' pods are selected as here: share them
            copy._selecting_cache, copy._removed = self._selecting_cache, namespace
        self._without = (namespace, copy)
        return copy

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return self.namespaces.get(namespace) or {NAMESPACE_NAME_LABEL: namespace}

    # ---------------------------------------------------------------- the question

    def can_reach(
        self, source: Endpoint, destination: Endpoint, port: int | str, protocol: str = "TCP"
    ) -> Reachability:
        """Whether `source` may open `protocol`/`port` to `destination`, and by which rules."""
        number = self._port_number(destination, port)
        egress = (
            self._side("egress", source, destination, number, protocol)
            if isinstance(source, Pod)
            else None
        )
        ingress = (
            self._side("ingress", destination, source, number, protocol)
            if isinstance(destination, Pod)
            else None
        )
        return Reachability(source, destination, number, protocol, egress, ingress)

    @staticmethod
    def _port_number(destination: Endpoint, port: int | str) -> int:
        if isinstance(port, int):
            return port
        if isinstance(destination, Pod) and port in destination.ports:
            return destination.ports[port]
        if str(port).isdigit():
            return int(port)
        raise ValueError(f"port {port!r} is not a number nor a named port of {destination}")

    def _side(self, direction: str, pod: Pod, peer: Endpoint, port: int, protocol: str) -> Side:
        # named ports are the destination pod's: the peer's on egress, this pod's on ingress
        destination = pod if direction == "ingress" else (peer if isinstance(peer, Pod) else None)
        isolating, matches = [], []
        for policy, described, rules in self.selecting(direction, pod):
            isolating.append(described)
            for index, rule in enumerate(rules):
                definite = self._rule_matches(
                    rule, direction, policy, peer, port, protocol, destination
                )
                if definite is not None:
                    matches.append(Match(f"{described} {direction}[{index}]", definite))
        for policy in self.cilium:  # Cilium's own policies, when the CNI enforces them
            isolated, found = cilium.evaluate(
                self.namespace_labels, policy, direction, pod, peer, port, protocol
            )
            if isolated:
                isolating.append(describe(policy))
                matches += found
        return Side(direction, tuple(isolating), tuple(matches))

    def selecting(self, direction: str, pod: Pod) -> Selecting:
        """The NetworkPolicies isolating `pod` in `direction` (each with its name and rules),
        found once per namespace, label set and direction: pairwise checks ask for the same
        candidate pods against every peer and port."""
        if pod.namespace == self._removed:
            return ()
        key = (direction, pod.namespace, frozenset(pod.labels.items()))
        found = self._selecting_cache.get(key)
        if found is None:
            policy_type = "Egress" if direction == "egress" else "Ingress"
            found = tuple(
                (
                    policy,
                    describe(policy),
                    tuple(mapping(r) for r in items(mapping(policy.get("spec")).get(direction))),
                )
                for policy in self.in_namespace(pod.namespace)
                if self._selects(policy, pod) and policy_type in policy_types(policy)
            )
            self._selecting_cache[key] = found
        return found

    def _selects(self, policy: Mapping[str, Any], pod: Pod) -> bool:
        if namespace_of(policy) != pod.namespace:
            return False
        selector = mapping(policy.get("spec")).get("podSelector")
        return selector_matches(mapping(selector) if selector is not None else {}, pod.labels)

    def _rule_matches(
        self,
        rule: Mapping[str, Any],
        direction: str,
        policy: Mapping[str, Any],
        peer: Endpoint,
        port: int,
        protocol: str,
        destination: Pod | None,
    ) -> bool | None:
        """None: the rule does not allow it; True/False: it does, definitely/possibly."""
        ports = items(rule.get("ports"))
        if ports and not any(_port_matches(mapping(p), port, protocol, destination) for p in ports):
            return None
        peers = items(rule.get("to" if direction == "egress" else "from"))
        if not peers:
            return True
        verdicts = [self.peer_matches(mapping(p), namespace_of(policy) or "", peer) for p in peers]
        if True in verdicts:
            return True
        return False if False in verdicts else None

    def peer_matches(
        self, peer: Mapping[str, Any], policy_ns: str, endpoint: Endpoint
    ) -> bool | None:
        """A NetworkPolicyPeer against an endpoint: None no, True yes, False possibly (by IP)."""
        if "ipBlock" in peer:
            return self._ip_block_matches(mapping(peer.get("ipBlock")), endpoint)
        if not isinstance(endpoint, Pod):
            return None
        pod_selector = peer.get("podSelector")
        ns_selector = peer.get("namespaceSelector")
        if ns_selector is None:
            in_namespace = endpoint.namespace == policy_ns
        else:
            in_namespace = selector_matches(
                mapping(ns_selector), self.namespace_labels(endpoint.namespace)
            )
        if not in_namespace:
            return None
        if pod_selector is not None and not selector_matches(
            mapping(pod_selector), endpoint.labels
        ):
            return None
        return True if (pod_selector is not None or ns_selector is not None) else None

    def _ip_block_matches(self, block: Mapping[str, Any], endpoint: Endpoint) -> bool | None:
        allowed = ipaddress.ip_network(str(block.get("cidr")), strict=False)
        excepts = [ipaddress.ip_network(str(e), strict=False) for e in items(block.get("except"))]
        if isinstance(endpoint, Address):
            if endpoint.entity is not None and not self.cni.ipblock_matches_entities:
                return None
            # the block's excepts that fall where the address never is do not count against it
            outside = [ipaddress.ip_network(e, strict=False) for e in endpoint.excepts]
            relevant = [e for e in excepts if not any(_inside(e, o) for o in outside)]
            return _covers(allowed, relevant, [endpoint.network])
        if not self.cni.ipblock_matches_pods:
            return None
        return _covers(allowed, excepts, list(self.pod_networks))


def _covers(allowed: Network, excepts: list[Network], targets: list[Network]) -> bool | None:
    """True if every target address is in `allowed` and in no except; False if only some may
    be (an address the pod or peer might have); None if none can be."""
    usable = [t for t in targets if t.version == allowed.version]
    excepted = [e for e in excepts if e.version == allowed.version]
    if all(_inside(t, allowed) and not any(t.overlaps(e) for e in excepted) for t in targets):
        return True
    possible = [
        t for t in usable if t.overlaps(allowed) and not any(_inside(t, e) for e in excepted)
    ]
    return False if possible else None


def _inside(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _port_matches(
    spec: Mapping[str, Any], port: int, protocol: str, destination: Pod | None
) -> bool:
    """A NetworkPolicyPort: protocol (TCP by default), a number (with endPort) or a name."""
    if str(spec.get("protocol") or "TCP") != protocol:
        return False
    wanted = spec.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str) and not wanted.isdigit():
        return destination is not None and destination.ports.get(wanted) == port
    first = int(wanted)
    last = int(spec.get("endPort") or first)
    return first <= port <= last


def policy_types(policy: Mapping[str, Any]) -> tuple[str, ...]:
    """`spec.policyTypes`, or the API's default: Ingress, plus Egress when egress rules exist."""
    spec = mapping(policy.get("spec"))
    declared = items(spec.get("policyTypes"))
    if declared:
        return tuple(str(t) for t in declared)
    return ("Ingress", "Egress") if items(spec.get("egress")) else ("Ingress",)
