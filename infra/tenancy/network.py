"""The network channel: can any pod of one tenant open a connection to a pod of another?

The NetworkPolicy evaluator is the cluster simulation's (`infra.simulate.netpol`, with its
Cilium semantics), asked through `infra.simulate.isolation.paths_between` for every ordered pair
of tenants under every CNI the target may run (EKS: the VPC CNI; AKS: its network policy
engine; on-prem: the declared CNI, else all of them). Only the end-to-end question is asked
here; SIM-FLW-002 also fails a pair when one end's policies alone would open it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.simulate.cluster import ClusterFacts
from infra.simulate.isolation import paths_between, pods_by_namespace, pods_of
from infra.simulate.kube import mapping
from infra.simulate.netpol import NetworkPolicies
from infra.simulate.pods import pod_templates
from infra.tenancy.check import ChannelRun
from infra.tenancy.view import PlanView

CHANNEL = "network"


def models(view: PlanView, stack: Mapping[str, Any]) -> dict[str, NetworkPolicies]:
    """One NetworkPolicy model per CNI the target may run."""
    facts = ClusterFacts.from_plan(view.resources, mapping(stack.get("cluster")))
    bodies = view.bodies()
    return {
        cni.name: NetworkPolicies.from_objects(bodies, cni, facts.pod_cidrs) for cni in facts.cnis
    }


def run(view: PlanView, stack: Mapping[str, Any]) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    by_cni = models(view, stack)
    grouped = pods_by_namespace(pod_templates(view.sources))
    tenants = list(view.tenants.values())
    for source in tenants:
        for target in tenants:
            if source.name == target.name:
                continue
            result.examined.append(f"{source.namespace} → {target.namespace}")
            pods = pods_of(grouped, source.namespace, target.namespace)
            for cni, model in by_cni.items():
                paths = paths_between(model, source.namespace, target.namespace, pods)
                if paths:
                    more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
                    result.path(
                        source.name,
                        target.name,
                        f"connect on {cni}: {paths[0].explain()}{more}",
                        f"NetworkPolicies of {source.namespace} and {target.namespace}",
                    )
                    break
    return result
