"""Declared flows, proved: every connection the platform says it needs is allowed at both ends.

Components write their flows on the Namespaces they own (`components.flows`, annotation
`mlplatform.io/flows`). Each flow is resolved to concrete endpoints — its source pods (the
annotated namespace's pod templates with those labels, and an arbitrary new pod with them), a
Service to the pods behind it (a Service in the plan by its selector and target ports, or the
Services operators create by their naming rules), an external address, the API server (its
addresses, with the `kube-apiserver` identity Cilium gives it) or the cluster DNS — and checked
with the NetworkPolicy evaluator under each CNI the target may run. A flow passes only when
every resolved path is definitely allowed (SIM-FLW-001).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.simulate.checks import FLOWS, CheckRun
from infra.simulate.cluster import ClusterFacts
from infra.simulate.kube import (
    annotations_of,
    items,
    mapping,
    name_of,
    namespace_of,
    selector_matches,
)
from infra.simulate.netpol import NetworkPolicies
from infra.simulate.peers import Address, Endpoint, Pod
from infra.simulate.pods import PodTemplate

FLOWS_ANNOTATION = "mlplatform.io/flows"
DNS_POD = Pod("kube-system", {"k8s-app": "kube-dns"}, name="cluster DNS (kube-system/kube-dns)")


@dataclass(frozen=True)
class DeclaredFlow:
    namespace: str
    name: str
    source: Mapping[str, Any]
    destination: Mapping[str, Any]
    ports: tuple[int, ...]
    protocol: str
    why: str

    @property
    def subject(self) -> str:
        return f"flow {self.name} (declared on namespace {self.namespace})"


@dataclass(frozen=True)
class Path:
    """One concrete source → destination:port a flow needs allowed."""

    source: Endpoint
    destination: Endpoint
    port: int


class UnresolvedFlow(ValueError):
    """A flow names an endpoint the plan does not have."""


def declared_flows(namespaces: Iterable[Mapping[str, Any]]) -> tuple[list[DeclaredFlow], list[str]]:
    """Flows written on Namespaces, and the annotations that could not be read."""
    found, errors = [], []
    for body in namespaces:
        text = annotations_of(body).get(FLOWS_ANNOTATION)
        if text is None:
            continue
        try:
            entries = json.loads(text)
            for entry in entries:
                found.append(
                    DeclaredFlow(
                        name_of(body),
                        str(entry["name"]),
                        mapping(entry["from"]),
                        mapping(entry["to"]),
                        tuple(int(p) for p in entry["ports"]),
                        str(entry.get("protocol") or "TCP"),
                        str(entry.get("why") or ""),
                    )
                )
        except (ValueError, KeyError, TypeError) as error:
            errors.append(
                f"Namespace {name_of(body)}: {FLOWS_ANNOTATION} is not a flow list: {error}"
            )
    return found, errors


class Resolver:
    """Turns a declared flow's endpoints into pods and addresses, from the plan's objects."""

    def __init__(
        self, objects: Iterable[Mapping[str, Any]], pods: list[PodTemplate], facts: ClusterFacts
    ):
        self.pods = pods
        self.facts = facts
        self.services = {
            (namespace_of(b) or "default", name_of(b)): b
            for b in objects
            if b.get("kind") == "Service"
        }

    def paths(self, flow: DeclaredFlow) -> list[Path]:
        sources = self._endpoints(flow.source, flow.namespace, source=True)
        found = []
        for port in flow.ports:
            for destination, target_port in self._destinations(flow, port):
                found += [Path(s, destination, target_port) for s in sources]
        return found

    def _destinations(self, flow: DeclaredFlow, port: int) -> list[tuple[Endpoint, int]]:
        to = flow.destination
        if "service" in to:
            return self._service(str(to["service"]), port)
        return [(e, port) for e in self._endpoints(to, flow.namespace, source=False)]

    def _endpoints(self, spec: Mapping[str, Any], namespace: str, source: bool) -> list[Endpoint]:
        if "pods" in spec:
            where = str(spec.get("namespace") or namespace)
            return self._pods(where, mapping(spec["pods"]), any_new=source)
        if spec.get("api-server"):
            if not self.facts.api_server:
                raise UnresolvedFlow("the plan states no API server address for this target")
            return list(self.facts.api_server)
        if spec.get("dns"):
            return [DNS_POD]
        if "cidr" in spec:
            name = str(spec.get("external") or spec["cidr"])
            excepts = tuple(str(e) for e in items(spec.get("except")))
            return [Address(str(spec["cidr"]), name, excepts=excepts)]
        raise UnresolvedFlow(
            f"endpoint {dict(spec)} is none of pods, service, external, api-server, dns"
        )

    def _pods(self, namespace: str, labels: Mapping[str, str], any_new: bool) -> list[Endpoint]:
        """The namespace's pod templates carrying `labels`; as a source also any new pod with
        just those labels (a tenant may start one)."""
        selector = {"matchLabels": dict(labels)}
        found: list[Endpoint] = [
            Pod(p.namespace, dict(p.labels), p.named_ports(), p.describe())
            for p in self.pods
            if p.namespace == namespace and selector_matches(selector, p.labels)
        ]
        if any_new and not labels:
            found.append(Pod(namespace, {}, {}, f"any pod in {namespace}"))
        if not found:
            raise UnresolvedFlow(f"no pod in namespace {namespace} has labels {dict(labels)}")
        return found

    def _service(self, host: str, port: int) -> list[tuple[Endpoint, int]]:
        parts = host.split(".")
        if len(parts) < 3 or parts[2] != "svc":
            raise UnresolvedFlow(f"{host} is not a <service>.<namespace>.svc name")
        name, namespace = parts[0], parts[1]
        service = self.services.get((namespace, name))
        if service is not None:
            return self._behind_service(service, port)
        operated = _operator_service(name)
        pods = [
            p
            for p in self.pods
            if p.namespace == namespace
            and operated is not None
            and selector_matches(operated, p.labels)
        ]
        if not pods:
            raise UnresolvedFlow(
                f"service {host} matches no Service in the plan nor any operator-made one"
            )
        return [
            (Pod(p.namespace, dict(p.labels), p.named_ports(), p.describe()), port) for p in pods
        ]

    def _behind_service(self, service: Mapping[str, Any], port: int) -> list[tuple[Endpoint, int]]:
        spec = mapping(service.get("spec"))
        entry = next(
            (mapping(p) for p in items(spec.get("ports")) if mapping(p).get("port") == port), None
        )
        if entry is None:
            raise UnresolvedFlow(
                f"Service {namespace_of(service)}/{name_of(service)} has no port {port}"
            )
        selector = {"matchLabels": dict(mapping(spec.get("selector")))}
        found: list[tuple[Endpoint, int]] = []
        for p in self.pods:
            if p.namespace != namespace_of(service) or not mapping(spec.get("selector")):
                continue
            if not selector_matches(selector, p.labels):
                continue
            target = entry.get("targetPort", port)
            number = (
                p.named_ports().get(str(target))
                if isinstance(target, str) and not target.isdigit()
                else int(target)
            )
            if number is None:
                raise UnresolvedFlow(f"{p.describe()} has no port named {target!r}")
            found.append((Pod(p.namespace, dict(p.labels), p.named_ports(), p.describe()), number))
        if not found:
            raise UnresolvedFlow(
                f"Service {namespace_of(service)}/{name_of(service)} selects no pod of the plan"
            )
        return found


def _operator_service(name: str) -> dict[str, Any] | None:
    """The pods behind the Services operators create, by their naming rules."""
    for suffix in ("-rw", "-ro", "-r"):  # CloudNativePG: <cluster>-rw|-ro|-r
        if name.endswith(suffix):
            return {"matchLabels": {"cnpg.io/cluster": name.removesuffix(suffix)}}
    if name.endswith("-kafka-bootstrap") or name.endswith("-kafka-brokers"):  # Strimzi
        cluster = name.removesuffix("-kafka-bootstrap").removesuffix("-kafka-brokers")
        return {"matchLabels": {"strimzi.io/cluster": cluster, "strimzi.io/broker-role": "true"}}
    for suffix in ("-leader", "-master", ""):  # redis-operator: <name>, <name>-leader/-master
        if suffix == "" or name.endswith(suffix):
            return {"matchLabels": {"app": name.removesuffix(suffix) if suffix else name}}
    return None


def check(
    flows: list[DeclaredFlow],
    errors: list[str],
    resolver: Resolver,
    models: Mapping[str, NetworkPolicies],
) -> CheckRun:
    """SIM-FLW-001 over every declared flow, under each CNI in `models` (name → evaluator)."""
    run = CheckRun(FLOWS)
    for error in errors:
        run.fail("flow declarations", error)
    for flow in flows:
        run.examined.append(flow.subject)
        try:
            paths = resolver.paths(flow)
        except UnresolvedFlow as error:
            run.fail(flow.subject, f"cannot be proved: {error}")
            continue
        for cni, model in models.items():
            for path in paths:
                verdict = model.can_reach(path.source, path.destination, path.port, flow.protocol)
                if not verdict.definite:
                    run.fail(flow.subject, f"blocked on {cni}: {verdict.explain()}")
    return run
