"""Keeping a replicated service up through drains and failures: its PDB and topology spread."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def pod_disruption_budget(
    name: str,
    pdb_name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.policy.v1.PodDisruptionBudget:
    # maxUnavailable (not minAvailable) so a single-replica test stack can still drain nodes.
    metadata: Any = {"name": pdb_name, "namespace": namespace, "labels": labels}
    spec: Any = {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    return k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata=metadata,
        spec=spec,
        opts=opts,
    )


def spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Spread replicas over zones and nodes (best effort: a one-zone site still schedules)."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
