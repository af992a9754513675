"""A pod the plan would run (`PodTemplate`), and the index custom resources' pods are derived
from (`Index`: runtimes, Kafka node pools, whether Strimzi runs its restricted provider).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.simulate.kube import SourceObject, items, labels_of, mapping, name_of, namespace_of

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class PodTemplate:
    """A pod the cluster would run: where, with which labels, its spec, and what made it."""

    subject: str  # the object that makes the pod, e.g. "Deployment mlflow/mlflow"
    origin: str  # the program URN or the release template it comes from
    namespace: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: Mapping[str, Any]
    kind: str  # the owning object's kind (DaemonSet pods place differently)
    derived: str = ""  # how a custom resource's pod was derived; empty for a pod template
    volume_claims: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def containers(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(list name, container) for init, regular and ephemeral containers."""
        for list_name in CONTAINER_LISTS:
            for container in items(self.spec.get(list_name)):
                if isinstance(container, Mapping):
                    yield list_name, container

    def named_ports(self) -> dict[str, int]:
        """Container port names → numbers (NetworkPolicy named ports resolve against these)."""
        found: dict[str, int] = {}
        for _, container in self.containers():
            for port in items(container.get("ports")):
                port = mapping(port)
                if port.get("name") and isinstance(port.get("containerPort"), int | float):
                    found[str(port["name"])] = int(port["containerPort"])
        return found

    def describe(self) -> str:
        return f"{self.subject} ({self.derived})" if self.derived else self.subject


@dataclass
class Index:
    """Objects custom resources refer to: runtimes, Kafka clusters, the Strimzi operator."""

    by_kind: dict[tuple[str, str | None, str], Mapping[str, Any]] = field(default_factory=dict)
    kafka_pools: dict[tuple[str, str], list[Mapping[str, Any]]] = field(default_factory=dict)
    strimzi_restricted: bool = False
    strimzi_pull_secrets: tuple[str, ...] = ()  # STRIMZI_IMAGE_PULL_SECRETS of the operator
    strimzi_kafka_images: dict[str, str] = field(default_factory=dict)  # version → image

    def __init__(self, objects: list[SourceObject]) -> None:
        self.by_kind, self.kafka_pools = {}, {}
        self.strimzi_restricted, self.strimzi_pull_secrets = False, ()
        self.strimzi_kafka_images = {}
        for obj in objects:
            body = obj.body
            kind = str(body.get("kind") or "")
            self.by_kind[(kind, namespace_of(body), name_of(body))] = body
            if kind == "KafkaNodePool":
                cluster = labels_of(body).get("strimzi.io/cluster", "")
                key = (namespace_of(body) or "default", cluster)
                self.kafka_pools.setdefault(key, []).append(body)
            if kind != "Deployment":
                continue
            if _env(body, "STRIMZI_POD_SECURITY_PROVIDER_CLASS") == "restricted":
                self.strimzi_restricted = True
            secrets = _env(body, "STRIMZI_IMAGE_PULL_SECRETS")
            if secrets:
                self.strimzi_pull_secrets = tuple(s.strip() for s in secrets.split(",") if s)
            for line in (_env(body, "STRIMZI_KAFKA_IMAGES") or "").split():
                version, _, image = line.partition("=")
                self.strimzi_kafka_images[version] = image

    def get(self, kind: str, namespace: str | None, name: str) -> Mapping[str, Any] | None:
        return self.by_kind.get((kind, namespace, name))


def _env(body: Mapping[str, Any], name: str) -> str | None:
    """The literal value a workload's containers give environment variable `name`."""
    spec = mapping(mapping(mapping(body.get("spec")).get("template")).get("spec"))
    for container in items(spec.get("containers")):
        for env in items(mapping(container).get("env")):
            if mapping(env).get("name") == name and "value" in mapping(env):
                return str(mapping(env)["value"])
    return None


POD_FIELDS = frozenset(
    {
        "affinity",
        "automountServiceAccountToken",
        "containers",
        "hostIPC",
        "hostNetwork",
        "hostPID",
        "imagePullSecrets",
        "initContainers",
        "nodeName",
        "nodeSelector",
        "priorityClassName",
        "runtimeClassName",
        "schedulerName",
        "securityContext",
        "serviceAccountName",
        "tolerations",
        "topologySpreadConstraints",
        "volumes",
    }
)
