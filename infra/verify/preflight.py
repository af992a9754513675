"""Preflight: before `pulumi up`, does the cluster already have what the stack needs the site to
provide? (`mlplatform verify --preflight --stack NAME`)

The contract lists the site prerequisites (`stack.prerequisites`: kind, name, the namespaces it
must be in, the keys a Secret must hold, its purpose and how to create it); the plan's
simulation has already proved every other reference is created by the plan itself. Here each
prerequisite is looked up with `kubectl get <kind> <name> [-n <namespace>] -o json` in the
stack's kube context; a Secret must also hold the listed keys. Missing or incomplete items are
reported with how to create them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.verify.contract import ContractError
from infra.verify.discovery import Kubectl, KubectlError

# kubectl's resource names for the kinds a prerequisite may be
RESOURCES = {
    "Secret": "secret",
    "ConfigMap": "configmap",
    "ServiceAccount": "serviceaccount",
    "Namespace": "namespace",
    "StorageClass": "storageclass",
    "PriorityClass": "priorityclass",
    "ClusterIssuer": "clusterissuers.cert-manager.io",
    "Issuer": "issuers.cert-manager.io",
}
CLUSTER_SCOPED = frozenset({"Namespace", "StorageClass", "PriorityClass", "ClusterIssuer"})


@dataclass(frozen=True)
class Prerequisite:
    kind: str
    name: str
    namespace: str | None
    keys: tuple[str, ...]
    purpose: str
    how: str

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class Outcome:
    prerequisite: Prerequisite
    present: bool
    problem: str = ""  # why it does not count as present


def prerequisites(outputs: Mapping[str, Any]) -> list[Prerequisite]:
    """The contract's `stack.prerequisites`, one item per namespace; ContractError if malformed."""
    stack = outputs.get("stack")
    entries = stack.get("prerequisites", []) if isinstance(stack, Mapping) else None
    if not isinstance(entries, list):
        raise ContractError("the outputs have no stack.prerequisites list (plan it again)")
    found = []
    for index, entry in enumerate(entries):
        try:
            kind = str(entry["kind"])
            if kind not in RESOURCES:
                raise ContractError(
                    f"stack.prerequisites[{index}].kind {kind!r} is not one of {sorted(RESOURCES)}"
                )
            namespaces: list[str | None] = [str(n) for n in entry.get("namespaces") or []]
            if kind in CLUSTER_SCOPED and namespaces:
                raise ContractError(f"stack.prerequisites[{index}]: a {kind} has no namespace")
            for namespace in namespaces or [None]:
                found.append(
                    Prerequisite(
                        kind,
                        str(entry["name"]),
                        namespace,
                        tuple(str(k) for k in entry.get("keys") or []),
                        str(entry.get("purpose") or ""),
                        str(entry.get("howToCreate") or ""),
                    )
                )
        except (KeyError, TypeError, AttributeError) as error:
            raise ContractError(f"stack.prerequisites[{index}] is malformed: {error}") from None
    return found


def check(kubectl: Kubectl, items: list[Prerequisite]) -> list[Outcome]:
    return [_check_one(kubectl, item) for item in items]


def _check_one(kubectl: Kubectl, item: Prerequisite) -> Outcome:
    args = [RESOURCES[item.kind], item.name]
    if item.namespace:
        args += ["--namespace", item.namespace]
    try:
        found = kubectl.get(*args)
    except KubectlError as error:
        text = str(error)
        if "NotFound" in text or "not found" in text:
            return Outcome(item, False, "not found")
        return Outcome(item, False, f"cannot be read: {text}")
    if item.kind == "Secret":
        data = found.get("data") or {}
        missing = [k for k in item.keys if k not in data]
        if missing:
            return Outcome(item, False, f"lacks key(s) {', '.join(missing)}")
    return Outcome(item, True)
