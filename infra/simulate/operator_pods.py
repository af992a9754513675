"""The pods operators create from custom resources, as far as the resource and the operator's
documented defaults determine them: Strimzi's Kafka node pools, CloudNativePG's instances,
redis-operator's replication pods. `PodTemplate.derived` says how each was obtained.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.simulate.kube import (
    describe,
    items,
    mapping,
    name_of,
    namespace_of,
    strategic_merge,
)
from infra.simulate.podspec import POD_FIELDS, Index, PodTemplate


def kafka(body: Mapping[str, Any], origin: str, index: Index) -> list[PodTemplate]:
    """Strimzi: a pod per KafkaNodePool of this cluster (KRaft), with the image and pull
    Secrets the operator gives them (`STRIMZI_KAFKA_IMAGES`, `STRIMZI_IMAGE_PULL_SECRETS`)."""
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
        image = str(kafka_spec.get("image") or "") or index.strimzi_kafka_images.get(
            str(kafka_spec.get("version") or ""), ""
        )
        spec = _strimzi_pod(template, "kafkaContainer", resources, index, image)
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
    template: Mapping[str, Any], container_key: str, resources: Any, index: Index, image: str
) -> dict[str, Any]:
    pod_template = mapping(template.get("pod"))
    container_context = mapping(mapping(template.get(container_key)).get("securityContext"))
    if not container_context and index.strimzi_restricted:
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
    if image:
        container["image"] = image
    spec = {k: v for k, v in pod_template.items() if k in POD_FIELDS | {"volumes"}}
    spec["containers"] = [container]
    if "imagePullSecrets" not in spec and index.strimzi_pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in index.strimzi_pull_secrets]
    return spec


def cnpg_cluster(body: Mapping[str, Any], origin: str, index: Index) -> list[PodTemplate]:
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


def redis_replication(body: Mapping[str, Any], origin: str, index: Index) -> list[PodTemplate]:
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
