"""The pods a plan would run: every pod template, including those custom resources imply.

- Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob: its own template;
- TrainJob: its runtime's (ClusterTrainingRuntime / TrainingRuntime) pods, with the TrainJob's
  image, command, env and resources on the trainer container and its `runtimePatches` applied;
- InferenceService: the predictor pod, i.e. its (Cluster)ServingRuntime's containers merged
  with the `model` container, and the predictor's pod fields;
- Kafka + KafkaNodePool (Strimzi): a pod per node pool (`template.pod`,
  `template.kafkaContainer`, the pool's resources, the operator's pod security provider);
- Cluster (CloudNativePG): an instance pod (the operator's restricted security context,
  `affinity`, `resources`);
- RedisReplication (redis-operator): a Redis pod (`podSecurityContext`, `securityContext`,
  `kubernetesConfig`).

Pods the operators derive are modelled from what the custom resource and the operator's
documented defaults determine; `PodTemplate.derived` says how each was obtained, so a finding
on one names the resource to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.simulate.kube import (
    SourceObject,
    describe,
    items,
    labels_of,
    mapping,
    meta,
    name_of,
    namespace_of,
    strategic_merge,
)

_WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
TRAINER_CONTAINER = "node"  # Kubeflow Trainer v2: the trainer step's container name
KSERVE_CONTAINER = "kserve-container"


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


def pod_templates(objects: Iterable[SourceObject]) -> list[PodTemplate]:
    """Every pod template among `objects`, custom resources' pods included."""
    objects = list(objects)
    index = _Index(objects)
    found: list[PodTemplate] = []
    for obj in objects:
        body = obj.body
        kind = str(body.get("kind") or "")
        origin = obj.origin.describe()
        if kind == "Pod":
            found.append(_template(body, origin, body))
        elif kind in _WORKLOADS:
            found.append(
                _template(body, origin, mapping(mapping(body.get("spec")).get("template")))
            )
        elif kind == "CronJob":
            job = mapping(mapping(body.get("spec")).get("jobTemplate"))
            found.append(_template(body, origin, mapping(mapping(job.get("spec")).get("template"))))
        else:
            group = str(body.get("apiVersion") or "").rpartition("/")[0]
            derive = _DERIVED.get((group, kind))
            if derive is not None:
                found += derive(body, origin, index)
    return found


def _template(owner: Mapping[str, Any], origin: str, template: Mapping[str, Any]) -> PodTemplate:
    claims = mapping(owner.get("spec")).get("volumeClaimTemplates")
    return PodTemplate(
        subject=describe(owner),
        origin=origin,
        namespace=namespace_of(owner) or "default",
        labels=labels_of(template),
        annotations=dict(mapping(meta(template).get("annotations"))),
        spec=mapping(template.get("spec")),
        kind=str(owner.get("kind")),
        volume_claims=tuple(mapping(c) for c in items(claims)),
    )


@dataclass
class _Index:
    """Objects custom resources refer to: runtimes, Kafka clusters, the Strimzi operator."""

    by_kind: dict[tuple[str, str | None, str], Mapping[str, Any]] = field(default_factory=dict)
    kafka_pools: dict[tuple[str, str], list[Mapping[str, Any]]] = field(default_factory=dict)
    strimzi_restricted: bool = False

    def __init__(self, objects: list[SourceObject]) -> None:
        self.by_kind, self.kafka_pools = {}, {}
        self.strimzi_restricted = False
        for obj in objects:
            body = obj.body
            kind = str(body.get("kind") or "")
            self.by_kind[(kind, namespace_of(body), name_of(body))] = body
            if kind == "KafkaNodePool":
                cluster = labels_of(body).get("strimzi.io/cluster", "")
                key = (namespace_of(body) or "default", cluster)
                self.kafka_pools.setdefault(key, []).append(body)
            if kind == "Deployment" and _sets_env(
                body, "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "restricted"
            ):
                self.strimzi_restricted = True

    def get(self, kind: str, namespace: str | None, name: str) -> Mapping[str, Any] | None:
        return self.by_kind.get((kind, namespace, name))


def _sets_env(body: Mapping[str, Any], name: str, value: str) -> bool:
    spec = mapping(mapping(mapping(body.get("spec")).get("template")).get("spec"))
    return any(
        mapping(env).get("name") == name and mapping(env).get("value") == value
        for container in items(spec.get("containers"))
        for env in items(mapping(container).get("env"))
    )


# --------------------------------------------------------------------------- Kubeflow Trainer


def _trainjob(body: Mapping[str, Any], origin: str, index: _Index) -> list[PodTemplate]:
    spec = mapping(body.get("spec"))
    ref = mapping(spec.get("runtimeRef"))
    namespace = namespace_of(body) or "default"
    kind = str(ref.get("kind") or "ClusterTrainingRuntime")
    scope = None if kind == "ClusterTrainingRuntime" else namespace
    runtime = index.get(kind, scope, str(ref.get("name")))
    if runtime is None:
        return []  # the references check reports the missing runtime
    jobs = mapping(mapping(mapping(runtime.get("spec")).get("template")).get("spec"))
    for patch in items(spec.get("runtimePatches")):
        patched = mapping(mapping(mapping(patch).get("trainingRuntimeSpec")).get("template"))
        jobs = strategic_merge(jobs, mapping(patched.get("spec")))
    found = []
    for job in items(jobs.get("replicatedJobs")):
        template = mapping(
            mapping(mapping(mapping(job).get("template")).get("spec")).get("template")
        )
        pod_spec = _trainer_overrides(mapping(template.get("spec")), mapping(spec.get("trainer")))
        labels = {
            **labels_of(template),
            "jobset.sigs.k8s.io/jobset-name": name_of(body),
            "jobset.sigs.k8s.io/replicatedjob-name": str(mapping(job).get("name")),
        }
        found.append(
            PodTemplate(
                subject=describe(body),
                origin=origin,
                namespace=namespace,
                labels=labels,
                annotations=dict(mapping(meta(template).get("annotations"))),
                spec=pod_spec,
                kind="TrainJob",
                derived=f"{kind} {ref.get('name')} step {mapping(job).get('name')}",
            )
        )
    return found


def _trainer_overrides(pod: Mapping[str, Any], trainer: Mapping[str, Any]) -> dict[str, Any]:
    """The TrainJob's `trainer` fields applied to the runtime's trainer container."""
    container: dict[str, Any] = {"name": TRAINER_CONTAINER}
    for field_name in ("image", "command", "args", "env"):
        if trainer.get(field_name) is not None:
            container[field_name] = trainer[field_name]
    if trainer.get("resourcesPerNode") is not None:
        container["resources"] = trainer["resourcesPerNode"]
    if len(container) == 1:
        return dict(pod)
    return dict(strategic_merge(pod, {"containers": [container]}))


# --------------------------------------------------------------------------- KServe


def _inference_service(body: Mapping[str, Any], origin: str, index: _Index) -> list[PodTemplate]:
    namespace = namespace_of(body) or "default"
    predictor = dict(mapping(mapping(body.get("spec")).get("predictor")))
    model = dict(mapping(predictor.pop("model", None)))
    runtime_name = model.pop("runtime", None)
    runtime = index.get("ServingRuntime", namespace, str(runtime_name)) or index.get(
        "ClusterServingRuntime", None, str(runtime_name)
    )
    pod: dict[str, Any] = {}
    derived = "predictor"
    if runtime is not None:
        runtime_spec = mapping(runtime.get("spec"))
        pod = {k: v for k, v in runtime_spec.items() if k in _POD_FIELDS or k == "containers"}
        derived = f"predictor on {runtime.get('kind')} {runtime_name}"
    for key in ("modelFormat", "protocolVersion", "storageUri", "storage"):
        model.pop(key, None)
    pod_fields = {k: v for k, v in predictor.items() if k in _POD_FIELDS}
    pod = strategic_merge(pod, pod_fields)
    if model:
        pod = strategic_merge(pod, {"containers": [{"name": KSERVE_CONTAINER, **model}]})
    name = name_of(body)
    labels = {
        **labels_of(body),
        "serving.kserve.io/inferenceservice": name,
        "component": "predictor",
        "app": f"isvc.{name}-predictor",
    }
    return [
        PodTemplate(describe(body), origin, namespace, labels, {}, pod, "InferenceService", derived)
    ]


_POD_FIELDS = frozenset(
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


# --------------------------------------------------------------------------- operators


def _kafka(body: Mapping[str, Any], origin: str, index: _Index) -> list[PodTemplate]:
    """Strimzi: a pod per KafkaNodePool of this cluster (KRaft), plus the entity operator."""
    namespace, cluster = namespace_of(body) or "default", name_of(body)
    kafka_spec = mapping(mapping(body.get("spec")).get("kafka"))
    found = []
    for pool in index.kafka_pools.get((namespace, cluster), []):
        pool_spec = mapping(pool.get("spec"))
        template = strategic_merge(
            mapping(kafka_spec.get("template")), mapping(pool_spec.get("template"))
        )
        roles = {str(r) for r in items(pool_spec.get("roles"))}
        labels = {
            "strimzi.io/cluster": cluster,
            "strimzi.io/kind": "Kafka",
            "strimzi.io/name": f"{cluster}-kafka",
            "strimzi.io/pool-name": name_of(pool),
            "strimzi.io/broker-role": str("broker" in roles).lower(),
            "strimzi.io/controller-role": str("controller" in roles).lower(),
            **mapping(mapping(mapping(template.get("pod")).get("metadata")).get("labels")),
        }
        resources = pool_spec.get("resources") or kafka_spec.get("resources") or {}
        spec = _strimzi_pod(template, "kafkaContainer", resources, index.strimzi_restricted)
        found.append(
            PodTemplate(
                describe(pool),
                origin,
                namespace,
                labels,
                {},
                spec,
                "KafkaNodePool",
                f"Strimzi {cluster} pool {name_of(pool)}",
            )
        )
    return found


def _strimzi_pod(
    template: Mapping[str, Any], container_key: str, resources: Any, restricted: bool
) -> dict[str, Any]:
    pod_template = mapping(template.get("pod"))
    container_context = mapping(mapping(template.get(container_key)).get("securityContext"))
    if not container_context and restricted:
        container_context = {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    container = {
        "name": "kafka",
        "securityContext": dict(container_context),
        "resources": resources,
    }
    spec = {k: v for k, v in pod_template.items() if k in _POD_FIELDS | {"volumes"}}
    spec["containers"] = [container]
    return spec


def _cnpg_cluster(body: Mapping[str, Any], origin: str, index: _Index) -> list[PodTemplate]:
    """CloudNativePG instance pods: the operator always sets a restricted security context."""
    spec = mapping(body.get("spec"))
    affinity = mapping(spec.get("affinity"))
    container = {
        "name": "postgres",
        "resources": spec.get("resources") or {},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    pod: dict[str, Any] = {
        "containers": [container],
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": affinity.get("tolerations") or [],
        "nodeSelector": affinity.get("nodeSelector") or {},
        "imagePullSecrets": spec.get("imagePullSecrets") or [],
    }
    if spec.get("priorityClassName"):
        pod["priorityClassName"] = spec["priorityClassName"]
    labels = {"cnpg.io/cluster": name_of(body), "cnpg.io/podRole": "instance"}
    return [
        PodTemplate(
            describe(body),
            origin,
            namespace_of(body) or "default",
            labels,
            {},
            pod,
            "Cluster",
            "CloudNativePG instance",
        )
    ]


def _redis_replication(body: Mapping[str, Any], origin: str, index: _Index) -> list[PodTemplate]:
    spec = mapping(body.get("spec"))
    config = mapping(spec.get("kubernetesConfig"))
    container = {
        "name": "redis",
        "image": config.get("image"),
        "resources": config.get("resources") or {},
        "securityContext": spec.get("securityContext") or {},
    }
    pod: dict[str, Any] = {
        "containers": [container],
        "securityContext": spec.get("podSecurityContext") or {},
        "tolerations": spec.get("tolerations") or [],
        "nodeSelector": spec.get("nodeSelector") or {},
        "imagePullSecrets": config.get("imagePullSecrets") or [],
    }
    if spec.get("priorityClassName"):
        pod["priorityClassName"] = spec["priorityClassName"]
    labels = {"app": name_of(body), "redis_setup_type": "replication", "role": "replication"}
    return [
        PodTemplate(
            describe(body),
            origin,
            namespace_of(body) or "default",
            labels,
            {},
            pod,
            "RedisReplication",
            "redis-operator replication pod",
        )
    ]


_DERIVED = {
    ("trainer.kubeflow.org", "TrainJob"): _trainjob,
    ("serving.kserve.io", "InferenceService"): _inference_service,
    ("kafka.strimzi.io", "Kafka"): _kafka,
    ("postgresql.cnpg.io", "Cluster"): _cnpg_cluster,
    ("redis.redis.opstreelabs.in", "RedisReplication"): _redis_replication,
}
