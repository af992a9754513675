"""References: everything pods and custom resources point at must exist when they start.

What is referenced: `infra.simulate.referencing` (from every pod, custom resources' pods
included, and from custom resources and PersistentVolumeClaims).

What provides it: an object of the plan (the program's or a rendered release's); what an
object makes once running (a Certificate its Secret, a trust-manager Bundle its ConfigMap in
the namespaces it targets, the Secrets CloudNativePG and Strimzi create by their naming rules);
what Kubernetes or the cloud gives every cluster (`default` ServiceAccount, `kube-root-ca.crt`,
the system PriorityClasses, the cloud's built-in StorageClasses); or a site prerequisite the
stack declares (`stack.prerequisites` in the contract, checked on the cluster by
`mlplatform verify --preflight`). Anything else is a finding (SIM-REF-001).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.simulate.checks import REFERENCES, CheckRun
from infra.simulate.kube import (
    items,
    labels_of,
    mapping,
    name_of,
    namespace_of,
    selector_matches,
)
from infra.simulate.podspec import PodTemplate
from infra.simulate.referencing import (
    CLUSTER,
    CLUSTER_KINDS,
    Reference,
    object_references,
    pod_references,
)

BUILT_IN_STORAGE_CLASSES = {
    "aws": ("gp2",),
    "azure": (
        "default",
        "managed",
        "managed-csi",
        "managed-csi-premium",
        "managed-premium",
        "azurefile",
        "azurefile-csi",
        "azurefile-csi-premium",
        "azurefile-premium",
    ),
    "onprem": (),
}
BUILT_IN_PRIORITY_CLASSES = ("system-cluster-critical", "system-node-critical")
BUILT_IN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class Prerequisite:
    """Something the site must create before `pulumi up` (from the contract)."""

    kind: str
    name: str
    namespace: str  # CLUSTER for cluster-scoped kinds
    purpose: str
    how: str
    keys: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @classmethod
    def from_contract(cls, entry: Mapping[str, Any]) -> list[Prerequisite]:
        namespaces = [str(n) for n in items(entry.get("namespaces"))] or [CLUSTER]
        return [
            cls(
                str(entry["kind"]),
                str(entry["name"]),
                namespace,
                str(entry.get("purpose") or ""),
                str(entry.get("howToCreate") or ""),
                tuple(str(k) for k in items(entry.get("keys"))),
            )
            for namespace in namespaces
        ]


@dataclass
class Provided:
    """Everything that will exist: keys (kind, namespace, name) → what provides it."""

    by: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def add(self, kind: str, namespace: str | None, name: str, why: str) -> None:
        scope = CLUSTER if kind in CLUSTER_KINDS else (namespace or "default")
        self.by.setdefault((kind, scope, name), why)


def provided(objects: Iterable[Mapping[str, Any]], target: str) -> Provided:
    objects = list(objects)
    found = Provided()
    namespaces = [b for b in objects if b.get("kind") == "Namespace"]
    names = [name_of(n) for n in namespaces] + list(BUILT_IN_NAMESPACES)
    for ns in names:
        found.add("ServiceAccount", ns, "default", "created by Kubernetes in every namespace")
        found.add("ConfigMap", ns, "kube-root-ca.crt", "published by Kubernetes in every namespace")
        found.add(
            "Namespace", None, ns, "the plan" if ns not in BUILT_IN_NAMESPACES else "Kubernetes"
        )
    for pc in BUILT_IN_PRIORITY_CLASSES:
        found.add("PriorityClass", None, pc, "built into Kubernetes")
    for sc in BUILT_IN_STORAGE_CLASSES.get(target, ()):
        found.add("StorageClass", None, sc, f"created by the {target} managed cluster")
    for body in objects:
        found.add(str(body.get("kind")), namespace_of(body), name_of(body), "the plan")
        for made_kind, made_ns, made_name, why in _made_by(body, namespaces):
            found.add(made_kind, made_ns, made_name, why)
    return found


def _made_by(
    body: Mapping[str, Any], namespaces: list[Mapping[str, Any]]
) -> Iterator[tuple[str, str | None, str, str]]:
    """Objects an object makes once its controller runs."""
    kind, ns, name, spec = (
        str(body.get("kind")),
        namespace_of(body),
        name_of(body),
        mapping(body.get("spec")),
    )
    if kind == "Certificate" and spec.get("secretName"):
        yield "Secret", ns, str(spec["secretName"]), f"issued by Certificate {ns}/{name}"
    elif kind == "Bundle":
        target = mapping(spec.get("target"))
        selector = target.get("namespaceSelector")
        for namespace in namespaces:
            labels = {**labels_of(namespace), "kubernetes.io/metadata.name": name_of(namespace)}
            if selector is None or selector_matches(mapping(selector), labels):
                for made in ("configMap", "secret"):
                    if made in target:
                        yield made[0].upper() + made[1:], name_of(namespace), name, f"Bundle {name}"
    elif kind == "Cluster" and str(body.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
        for suffix in ("app", "superuser", "ca", "server", "replication"):
            yield "Secret", ns, f"{name}-{suffix}", f"CloudNativePG Cluster {ns}/{name}"
    elif kind == "Kafka" and str(body.get("apiVersion", "")).startswith("kafka.strimzi.io/"):
        for suffix in ("cluster-ca-cert", "cluster-ca", "clients-ca-cert", "clients-ca"):
            yield "Secret", ns, f"{name}-{suffix}", f"Strimzi Kafka {ns}/{name}"
    elif kind == "KafkaUser":
        yield "Secret", ns, name, f"Strimzi user operator (KafkaUser {ns}/{name})"


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Registry:
    """The stack's image mirror and the Secret pods need to pull from it (None: node-level)."""

    prefix: str
    pull_secret: str | None


def pull_secret_gaps(
    pods: list[PodTemplate], bodies: list[Mapping[str, Any]], registry: Registry
) -> Iterator[tuple[PodTemplate, str]]:
    """(pod, image) where the pod pulls from the mirror without the mirror's pull Secret, on the
    pod or on its ServiceAccount (the kubelet would pull anonymously and be refused)."""
    if not registry.pull_secret:
        return
    by_account = {
        (namespace_of(b), name_of(b)): {
            mapping(s).get("name") for s in items(b.get("imagePullSecrets"))
        }
        for b in bodies
        if b.get("kind") == "ServiceAccount"
    }
    for pod in pods:
        account = str(pod.spec.get("serviceAccountName") or "default")
        names = {mapping(s).get("name") for s in items(pod.spec.get("imagePullSecrets"))}
        names |= by_account.get((pod.namespace, account), set())
        if registry.pull_secret in names:
            continue
        for _, container in pod.containers():
            image = str(container.get("image") or "")
            if image.startswith(registry.prefix.rstrip("/") + "/"):
                yield pod, image
                break


def check(
    objects: list[tuple[Mapping[str, Any], str]],
    pods: list[PodTemplate],
    target: str,
    prerequisites: list[Prerequisite],
    registry: Registry | None = None,
) -> tuple[CheckRun, dict[tuple[str, str, str], list[Reference]]]:
    """SIM-REF-001, and which references each declared prerequisite satisfies."""
    run = CheckRun(REFERENCES)
    if registry is not None:
        for pod, image in pull_secret_gaps(pods, [b for b, _ in objects], registry):
            run.fail(
                pod.describe(),
                f"pulls {image} from the stack's mirror without its pull Secret "
                f"{registry.pull_secret} (registry.pullSecret) on the pod or its ServiceAccount: "
                "the kubelet would pull anonymously and be refused",
                pod.origin,
            )
    have = provided([b for b, _ in objects], target)
    declared = {p.key: p for p in prerequisites}
    used: dict[tuple[str, str, str], list[Reference]] = {}
    references = [r for p in pods for r in pod_references(p)]
    references += [r for body, origin in objects for r in object_references(body, origin)]
    for ns_ref in {p.namespace for p in pods}:
        references.append(
            Reference("Namespace", CLUSTER, ns_ref, f"pods in {ns_ref}", "", "metadata.namespace")
        )
    for reference in dict.fromkeys(references):
        run.examined.append(f"{reference.by} → {reference.target()}")
        if reference.key in have.by:
            continue
        if reference.key in declared:
            used.setdefault(reference.key, []).append(reference)
            continue
        run.fail(
            reference.by,
            f"references {reference.target()} ({reference.via}), which nothing in the plan "
            "creates and the stack does not declare as a site prerequisite",
            reference.origin,
        )
    return run, used
