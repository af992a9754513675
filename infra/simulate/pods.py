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

from collections.abc import Iterable, Mapping
from typing import Any

from infra.simulate import operator_pods
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
from infra.simulate.podspec import CONTAINER_LISTS, POD_FIELDS, Index, PodTemplate

__all__ = ["CONTAINER_LISTS", "PodTemplate", "pod_templates"]

_WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}
TRAINER_CONTAINER = "node"  # Kubeflow Trainer v2: the trainer step's container name
KSERVE_CONTAINER = "kserve-container"


def pod_templates(objects: Iterable[SourceObject]) -> list[PodTemplate]:
    """Every pod template among `objects`, custom resources' pods included."""
    objects = list(objects)
    index = Index(objects)
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


# --------------------------------------------------------------------------- Kubeflow Trainer


def _trainjob(body: Mapping[str, Any], origin: str, index: Index) -> list[PodTemplate]:
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


def _inference_service(body: Mapping[str, Any], origin: str, index: Index) -> list[PodTemplate]:
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
        pod = {k: v for k, v in runtime_spec.items() if k in POD_FIELDS or k == "containers"}
        derived = f"predictor on {runtime.get('kind')} {runtime_name}"
    for key in ("modelFormat", "protocolVersion", "storageUri", "storage"):
        model.pop(key, None)
    pod_fields = {k: v for k, v in predictor.items() if k in POD_FIELDS}
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


_DERIVED = {
    ("trainer.kubeflow.org", "TrainJob"): _trainjob,
    ("serving.kserve.io", "InferenceService"): _inference_service,
    ("kafka.strimzi.io", "Kafka"): operator_pods.kafka,
    ("postgresql.cnpg.io", "Cluster"): operator_pods.cnpg_cluster,
    ("redis.redis.opstreelabs.in", "RedisReplication"): operator_pods.redis_replication,
}
