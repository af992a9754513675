"""Cross-namespace reachability: can any pod of namespace A open a connection to any pod of
namespace B, and by which rules? (SIM-FLW-002 asks it for every pair of tenants; the
cross-tenant access matrix reuses `paths_between` for its network channel.)

Pods in a tenant namespace carry whatever labels their owners give them, so the candidate pods
of a namespace are: one with no labels, each pod template the plan runs there, and one for each
label set its NetworkPolicies select (a policy that allows something to `app: x` pods allows
it to any pod a tenant labels so). The candidate ports are every port those policies and pods
name, plus a few common ones (a rule without ports opens them all). A path counts when it is
even possibly allowed (an ipBlock that may cover pod addresses included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.simulate.checks import TENANT_ISOLATION, CheckRun
from infra.simulate.kube import items, labels_of, mapping, name_of, namespace_of, selector_matches
from infra.simulate.netpol import NetworkPolicies, Reachability
from infra.simulate.peers import Pod
from infra.simulate.pods import PodTemplate

TENANT_LABEL = "mlplatform.io/tenant"
COMMON_PORTS = (22, 53, 80, 443, 5000, 6379, 8080, 8443, 9092, 9093)


def candidate_pods(
    model: NetworkPolicies, namespace: str, pods: Iterable[PodTemplate]
) -> list[Pod]:
    """Representative pods of `namespace` (see the module docstring)."""
    label_sets: list[dict[str, str]] = [{}]
    label_sets += [dict(p.labels) for p in pods if p.namespace == namespace]
    for policy in _policies_in(model, namespace):
        selector = mapping(mapping(policy.get("spec")).get("podSelector"))
        label_sets.append({str(k): str(v) for k, v in mapping(selector.get("matchLabels")).items()})
    unique = {tuple(sorted(s.items())) for s in label_sets}
    named = {k: v for p in pods if p.namespace == namespace for k, v in p.named_ports().items()}
    return [Pod(namespace, dict(s), named) for s in sorted(unique)]


def candidate_ports(
    model: NetworkPolicies, namespaces: Iterable[str], pods: Iterable[PodTemplate]
) -> list[int]:
    found = set(COMMON_PORTS)
    namespaces = set(namespaces)
    for policy in (p for namespace in sorted(namespaces) for p in model.in_namespace(namespace)):
        spec = mapping(policy.get("spec"))
        for rule in [*items(spec.get("ingress")), *items(spec.get("egress"))]:
            for port in items(mapping(rule).get("ports")):
                value = mapping(port).get("port")
                if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
                    found.add(int(value))
    for p in pods:
        if p.namespace in namespaces:
            found.update(p.named_ports().values())
    return sorted(found)


def _policies_in(model: NetworkPolicies, namespace: str) -> list[Mapping[str, Any]]:
    return model.in_namespace(namespace)


def paths_between(
    model: NetworkPolicies, source_ns: str, destination_ns: str, pods: Iterable[PodTemplate]
) -> list[Reachability]:
    """Every (candidate pod, candidate pod, port) path from one namespace to the other that the
    policies may allow (TCP and UDP)."""
    pods = list(pods)
    destinations = candidate_pods(model, destination_ns, pods)
    if not may_admit(model, source_ns, destination_ns, destinations):
        return []
    sources = candidate_pods(model, source_ns, pods)
    ports = candidate_ports(model, (source_ns, destination_ns), pods)
    found = []
    for protocol in ("TCP", "UDP"):
        for port in ports:
            for source in sources:
                for destination in destinations:
                    verdict = model.can_reach(source, destination, port, protocol)
                    if verdict.allowed:
                        found.append(verdict)
    return found


def may_admit(
    model: NetworkPolicies, source_ns: str, destination_ns: str, destinations: list[Pod]
) -> bool:
    """False only when no pod of `source_ns` can be admitted by any of `destinations`, whatever
    the port and whatever the source's own policies: every candidate is isolated for ingress
    and every rule of every policy isolating it names peers that cannot be in `source_ns` (a
    podSelector alone means the policy's own namespace; a namespaceSelector that does not
    select `source_ns`). A rule without peers, an ipBlock or a Cilium policy in the namespace
    answers True: `paths_between` then asks every pod, port and protocol. Most tenant pairs end
    here, so a plan's pairwise checks cost a few selector matches per pair."""
    if any(namespace_of(c) in (None, destination_ns) for c in model.cilium):
        return True
    source_labels = model.namespace_labels(source_ns)
    for pod in destinations:
        isolating = model.selecting("ingress", pod)
        if not isolating:
            return True
        for _policy, _name, rules in isolating:
            for rule in rules:
                peers = [mapping(p) for p in items(rule.get("from"))]
                if not peers or any(_may_be_from(peer, source_labels) for peer in peers):
                    return True
    return False


def _may_be_from(peer: Mapping[str, Any], source_labels: Mapping[str, str]) -> bool:
    if "ipBlock" in peer:
        return True
    selector = peer.get("namespaceSelector")
    return selector is not None and selector_matches(mapping(selector), source_labels)


def pods_by_namespace(pods: Iterable[PodTemplate]) -> dict[str, list[PodTemplate]]:
    """Pod templates grouped by namespace, in the plan's order within each."""
    grouped: dict[str, list[PodTemplate]] = {}
    for pod in pods:
        grouped.setdefault(pod.namespace, []).append(pod)
    return grouped


def pods_of(grouped: Mapping[str, list[PodTemplate]], *namespaces: str) -> list[PodTemplate]:
    """The pod templates of these namespaces: all `paths_between` looks at, found once per
    pair rather than by scanning every pod of the plan."""
    return [pod for namespace in namespaces for pod in grouped.get(namespace, [])]


def tenant_namespaces(namespaces: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(name_of(b) for b in namespaces if TENANT_LABEL in labels_of(b))


def check(
    tenants: list[str], pods: list[PodTemplate], models: Mapping[str, NetworkPolicies]
) -> CheckRun:
    """SIM-FLW-002 for every ordered pair of tenants, under every CNI: no path from one to the
    other, and no tenant's ingress admitting another's pods on its own (the source's egress
    then being one policy from a breach). A source's egress alone is not judged: rules to
    shared address ranges (the API server, managed brokers) cover pod addresses on CNIs that
    give pods VPC addresses, and the destination's ingress is what protects it."""
    run = CheckRun(TENANT_ISOLATION)
    grouped = pods_by_namespace(pods)
    for source in tenants:
        for destination in tenants:
            if source == destination:
                continue
            subject = f"{source} → {destination}"
            run.examined.append(subject)
            pair = pods_of(grouped, source, destination)
            for cni, model in models.items():
                breach = _breach(model, source, destination, pair, cni)
                if breach:
                    run.fail(subject, breach)
                    break  # one finding per pair: the first CNI that shows it
    return run


def _breach(
    model: NetworkPolicies, source: str, destination: str, pods: list[PodTemplate], cni: str
) -> str | None:
    views = (
        (model, f"tenant {source} can reach tenant {destination}"),
        (
            model.without(source),
            f"{destination}'s NetworkPolicies admit pods of tenant {source} (only {source}'s "
            "own egress policy stands in the way)",
        ),
    )
    for view, what in views:
        paths = paths_between(view, source, destination, pods)
        if paths:
            shown = "; ".join(p.explain() for p in paths[:3])
            more = f" (and {len(paths) - 3} more paths)" if len(paths) > 3 else ""
            return f"{what} on {cni}: {shown}{more}"
    return None
