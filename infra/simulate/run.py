"""One simulation of a plan: every check over every object, and the report it gives.

`simulate(objects, resources, contract)` takes what the cluster would receive (the program's
objects and every rendered release object, each with its origin), the recorded resources
(node pools, networks) and the contract's `stack` block (on-prem site facts and the declared
site prerequisites), and returns a `Simulation`: the cluster facts it assumed, each check's run,
the prerequisites and what references them, the flows it proved. `to_dict()` is what
compliance.json and simulation.json carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.simulate import admission, flows, isolation, references, scheduling
from infra.simulate.checks import CheckRun
from infra.simulate.cluster import ClusterFacts
from infra.simulate.kube import SourceObject, mapping
from infra.simulate.netpol import NetworkPolicies
from infra.simulate.operator_policies import strimzi_policies
from infra.simulate.pods import PodTemplate, pod_templates
from infra.simulate.references import Prerequisite, Reference


@dataclass
class Simulation:
    facts: ClusterFacts
    pods: list[PodTemplate]
    runs: list[CheckRun]
    prerequisites: list[tuple[Prerequisite, list[Reference]]]
    flows: list[flows.DeclaredFlow]

    @property
    def passed(self) -> bool:
        return not any(r.findings for r in self.runs if r.check.mandatory)

    @property
    def findings(self) -> list[Any]:
        return [f for r in self.runs for f in r.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "cluster": {
                "target": self.facts.target,
                "cnis": [c.name for c in self.facts.cnis],
                "podCidrs": list(self.facts.pod_cidrs),
                "apiServer": [a.cidr for a in self.facts.api_server],
                "pools": [_pool(p) for p in self.facts.pools],
                "notes": list(self.facts.notes),
            },
            "checks": [_run(r) for r in self.runs],
            "prerequisites": [_prerequisite(p, used) for p, used in self.prerequisites],
            "flows": sorted(
                (
                    {
                        "namespace": f.namespace,
                        "name": f.name,
                        "ports": list(f.ports),
                        "protocol": f.protocol,
                        "why": f.why,
                    }
                    for f in self.flows
                ),
                key=lambda f: (f["namespace"], f["name"]),
            ),
            "pods": len(self.pods),
        }


def _pool(pool: Any) -> dict[str, Any]:
    return {
        "name": pool.name,
        "source": pool.source,
        "machine": pool.machine,
        "gpu": pool.gpu,
        "taints": [str(t) for t in pool.taints],
        "allocatable": {k: str(v) for k, v in sorted((pool.allocatable or {}).items())},
    }


def _run(run: CheckRun) -> dict[str, Any]:
    check = run.check
    return {
        "id": check.id,
        "name": check.title,
        "severity": check.severity,
        "enforcement": "mandatory" if check.mandatory else "advisory",
        "isoControls": list(check.iso_controls),
        "status": run.status,
        "examined": len(run.examined),
        "remediation": check.remediation,
        "findings": sorted(
            (
                {"subject": f.subject, "message": f.message, "origin": f.origin}
                for f in run.findings
            ),
            key=lambda f: (f["subject"], f["message"]),
        ),
        "exemptions": sorted(
            ({"subject": e.subject, "reason": e.reason} for e in run.exemptions),
            key=lambda e: (e["subject"], e["reason"]),
        ),
    }


def _prerequisite(p: Prerequisite, used: list[Reference]) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "name": p.name,
        "namespace": p.namespace or None,
        "keys": list(p.keys),
        "purpose": p.purpose,
        "howToCreate": p.how,
        "referencedBy": sorted({f"{r.by} ({r.via})" for r in used}),
    }


def simulate(
    objects: Iterable[SourceObject],
    resources: Sequence[Mapping[str, Any]],
    stack: Mapping[str, Any] | None = None,
) -> Simulation:
    """Every simulation check over a plan (see the module docstring)."""
    stack = stack or {}
    objects = list(objects)
    bodies = [o.body for o in objects if not _is_patch(o)]
    facts = ClusterFacts.from_plan(resources, mapping(stack.get("cluster")))
    pods = pod_templates([o for o in objects if not _is_patch(o)])
    namespaces = [b for b in bodies if b.get("kind") == "Namespace"]
    # what the cluster will also hold: the policies operators generate (Strimzi's)
    policed = [*bodies, *strimzi_policies(bodies)]
    models = {
        cni.name: NetworkPolicies.from_objects(policed, cni, facts.pod_cidrs) for cni in facts.cnis
    }
    declared = [
        p
        for entry in stack.get("prerequisites") or []
        for p in Prerequisite.from_contract(mapping(entry))
    ]
    registry = None
    if stack.get("registry"):
        pull = stack.get("registryPullSecret")
        registry = references.Registry(str(stack["registry"]), str(pull) if pull else None)
    ref_run, used = references.check(
        [(o.body, o.origin.describe()) for o in objects if not _is_patch(o)],
        pods,
        facts.target,
        declared,
        registry,
    )
    found_flows, flow_errors = flows.declared_flows(namespaces)
    runs = [
        admission.check(pods, admission.namespace_levels(namespaces)),
        scheduling.check(pods, facts.pools, facts.target),
        ref_run,
        flows.check(found_flows, flow_errors, flows.Resolver(bodies, pods, facts), models),
        isolation.check(isolation.tenant_namespaces(namespaces), pods, models),
    ]
    prerequisites = [(p, used.get(p.key, [])) for p in declared]
    return Simulation(facts, pods, runs, prerequisites, found_flows)


def _is_patch(obj: SourceObject) -> bool:
    return bool(getattr(obj.origin, "patch", False))
