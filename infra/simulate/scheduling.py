"""Scheduling: does every pod the plan implies fit at least one declared node pool?

For each pool, as kube-scheduler's filters would: every `NoSchedule`/`NoExecute` taint
tolerated; `nodeSelector` and required node affinity satisfied by the pool's node labels;
the pod's effective requests (the larger of its containers' sum and its largest init
container; a limit stands in for a missing request) within one node's allocatable; an extended
resource (e.g. `nvidia.com/gpu`) only where the pool offers it, so GPU pods land only on GPU
pools. A pod that fits no pool would stay Pending: the finding gives each pool's reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from infra.simulate.checks import SCHEDULING, CheckRun
from infra.simulate.kube import items, mapping, quantity, show_quantity
from infra.simulate.pods import PodTemplate
from infra.simulate.pools import NodePool, Taint

_IGNORED_RESOURCES = frozenset({"ephemeral-storage"})


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Taint) -> bool:
    """Kubernetes' toleration matching (an empty key with Exists tolerates everything)."""
    for toleration in tolerations:
        key = str(toleration.get("key") or "")
        operator = toleration.get("operator") or "Equal"
        effect = toleration.get("effect") or ""
        if effect and effect != taint.effect:
            continue
        if not key and operator == "Exists":
            return True
        if key != taint.key:
            continue
        if operator == "Exists" or str(toleration.get("value") or "") == taint.value:
            return True
    return False


def requests(pod: PodTemplate) -> dict[str, Decimal]:
    """The pod's effective requests per resource (what the scheduler adds up)."""
    regular: dict[str, Decimal] = {}
    init: dict[str, Decimal] = {}
    for list_name, container in pod.containers():
        if list_name == "ephemeralContainers":
            continue
        resources = mapping(container.get("resources"))
        wanted = {**mapping(resources.get("limits")), **mapping(resources.get("requests"))}
        for name, value in wanted.items():
            if name in _IGNORED_RESOURCES:
                continue
            amount = quantity(value)
            if list_name == "initContainers":
                init[name] = max(init.get(name, Decimal(0)), amount)
            else:
                regular[name] = regular.get(name, Decimal(0)) + amount
    return {k: max(regular.get(k, Decimal(0)), init.get(k, Decimal(0))) for k in {*regular, *init}}


def why_not(pod: PodTemplate, pool: NodePool) -> list[str]:
    """Why `pod` cannot run on `pool`'s nodes (empty: it fits)."""
    spec, reasons = pod.spec, []
    tolerations = [mapping(t) for t in items(spec.get("tolerations"))]
    for taint in pool.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            reasons.append(f"taint {taint} not tolerated")
    for key, value in mapping(spec.get("nodeSelector")).items():
        if pool.labels.get(str(key)) != str(value):
            reasons.append(f"nodeSelector {key}={value} not on its nodes")
    affinity = mapping(
        mapping(mapping(spec.get("affinity")).get("nodeAffinity")).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
    )
    terms = items(affinity.get("nodeSelectorTerms"))
    if terms and not any(_term_matches(mapping(t), pool.labels) for t in terms):
        reasons.append("required node affinity matches none of its labels")
    reasons += _resources_fit(requests(pod), pool)
    return reasons


def _resources_fit(wanted: Mapping[str, Decimal], pool: NodePool) -> list[str]:
    if pool.allocatable is None:
        return [f"machine type {pool.machine!r} has no known size (add it to pools.MACHINES)"]
    reasons = []
    for name, amount in sorted(wanted.items()):
        if amount == 0:
            continue
        offered = pool.allocatable.get(name)
        if offered is None:
            reasons.append(f"requests {name} which its nodes do not offer")
        elif amount > offered:
            reasons.append(
                f"requests {name} {show_quantity(name, amount)} > allocatable "
                f"{show_quantity(name, offered)}"
            )
    return reasons


def _term_matches(term: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for expression in items(term.get("matchExpressions")):
        expression = mapping(expression)
        key, operator = str(expression.get("key")), expression.get("operator")
        values = [str(v) for v in items(expression.get("values"))]
        have = labels.get(key)
        if operator == "In" and have not in values:
            return False
        if operator == "NotIn" and have in values:
            return False
        if operator == "Exists" and have is None:
            return False
        if operator == "DoesNotExist" and have is not None:
            return False
        if operator in ("Gt", "Lt") and not _compare(have, operator, values):
            return False
    return True  # matchFields (node names) cannot be judged per pool: assumed to match


def _compare(have: str | None, operator: Any, values: list[str]) -> bool:
    try:
        number, bound = int(have or ""), int(values[0])
    except (ValueError, IndexError):
        return False
    return number > bound if operator == "Gt" else number < bound


def check(pods: Iterable[PodTemplate], pools: list[NodePool], target: str) -> CheckRun:
    run = CheckRun(SCHEDULING)
    for pod in pods:
        subject = pod.describe()
        run.examined.append(subject)
        if not pools:
            run.fail(subject, f"the {target} plan declares no node pool to run it on", pod.origin)
            continue
        reasons = {pool.describe(): why_not(pod, pool) for pool in pools}
        if any(not r for r in reasons.values()):
            continue
        grouped: dict[str, list[str]] = {}
        for pool_name, why in reasons.items():
            grouped.setdefault(", ".join(why), []).append(pool_name)
        detail = "; ".join(f"{', '.join(names)}: {why}" for why, names in grouped.items())
        run.fail(
            subject, f"fits no node pool of {target}, would stay Pending — {detail}", pod.origin
        )
    return run
