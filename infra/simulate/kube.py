"""Small pieces of Kubernetes semantics the simulation shares: label selectors, quantities,
strategic-merge patches and the object shape it reads.

Everything here works on plain mappings (objects as the API server would receive them), so the
checks run the same over the program's own manifests and over rendered Helm releases.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

Body = Mapping[str, Any]


class Origin(Protocol):
    """Where an object comes from (`infra.render.Origin` has this shape)."""

    def describe(self) -> str: ...


class SourceObject(Protocol):
    """An object the cluster would receive, with its origin (`infra.render.ClusterObject`)."""

    @property
    def origin(self) -> Origin: ...

    @property
    def body(self) -> Body: ...


def meta(body: Body) -> Mapping[str, Any]:
    found = body.get("metadata")
    return found if isinstance(found, Mapping) else {}


def name_of(body: Body) -> str:
    return str(meta(body).get("name") or "")


def namespace_of(body: Body) -> str | None:
    ns = meta(body).get("namespace")
    return ns if isinstance(ns, str) and ns else None


def labels_of(body: Body) -> dict[str, str]:
    found = meta(body).get("labels")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def annotations_of(body: Body) -> dict[str, str]:
    found = meta(body).get("annotations")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def describe(body: Body) -> str:
    """`Kind namespace/name` (or `Kind name` for a cluster-scoped object)."""
    ns = namespace_of(body)
    return (
        f"{body.get('kind')} {ns}/{name_of(body)}" if ns else f"{body.get('kind')} {name_of(body)}"
    )


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# --------------------------------------------------------------------------- label selectors


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against labels; `{}` selects all.

    `None` (no selector at all) selects nothing, as the API does for a missing selector.
    """
    if selector is None:
        return False
    for key, value in mapping(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in items(selector.get("matchExpressions")):
        if not _expression_matches(mapping(expression), labels):
            return False
    return True


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = str(expression.get("key"))
    operator = expression.get("operator")
    values = {str(v) for v in items(expression.get("values"))}
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # an unknown operator selects nothing (the API server would refuse it)


# --------------------------------------------------------------------------- quantities

_QUANTITY = re.compile(r"^(?P<num>[0-9]+(\.[0-9]+)?)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def quantity(value: Any) -> Decimal:
    """A resource quantity ("500m", "8", "16Gi", 2) in base units; ValueError if malformed."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return Decimal(match["num"]) * _FACTORS[match["suffix"]]


def show_quantity(resource: str, value: Decimal) -> str:
    """A quantity for a message: cores for cpu, GiB for memory, a count otherwise."""
    if resource == "memory":
        return f"{(value / Decimal(2) ** 30).quantize(Decimal('0.01'))}Gi"
    if resource == "cpu":
        return f"{value.normalize():f}"
    return f"{value.normalize():f}"


# --------------------------------------------------------------------------- strategic merge

# Merge keys of the PodSpec lists a patch merges item by item (Kubernetes' patchMergeKey);
# any other list is replaced whole, as a strategic-merge patch does.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "replicatedJobs": "name",
}


def strategic_merge(base: Any, patch: Any, key: str | None = None) -> Any:
    """`patch` applied to `base` like a strategic-merge patch over the PodSpec's merge keys."""
    if isinstance(base, Mapping) and isinstance(patch, Mapping):
        merged = {k: copy.deepcopy(v) for k, v in base.items()}
        for k, v in patch.items():
            merged[k] = strategic_merge(merged[k], v, k) if k in merged else copy.deepcopy(v)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        return _merge_list(base, patch, MERGE_KEYS[key])
    return copy.deepcopy(patch)


def _merge_list(base: Sequence[Any], patch: Sequence[Any], merge_key: str) -> list[Any]:
    merged = [copy.deepcopy(item) for item in base]
    for item in patch:
        wanted = mapping(item).get(merge_key)
        index = next(
            (i for i, old in enumerate(merged) if mapping(old).get(merge_key) == wanted), None
        )
        if index is None or wanted is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[index] = strategic_merge(merged[index], item)
    return merged
