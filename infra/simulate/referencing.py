"""What pods and custom resources reference, by kind (`Reference`s the check resolves).

From a pod: its ServiceAccount, Secrets and ConfigMaps (volumes, projected sources, env,
envFrom; `optional` ones excepted), image pull Secrets, PriorityClass and the StorageClasses of
its claim templates and ephemeral volumes. From custom resources the objects they name:
cert-manager issuers and CA Secrets, trust-manager sources, CloudNativePG and redis-operator
Secrets and StorageClasses, Strimzi certificates and StorageClasses, Trainer runtimes and Kueue
queues, KServe runtimes, Kueue flavors; from PersistentVolumeClaims their StorageClass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from infra.simulate.kube import describe, items, labels_of, mapping, name_of, namespace_of
from infra.simulate.podspec import PodTemplate

CLUSTER = ""  # the "namespace" of cluster-scoped kinds
CLUSTER_KINDS = frozenset(
    {
        "StorageClass",
        "PriorityClass",
        "ClusterIssuer",
        "ClusterTrainingRuntime",
        "ClusterServingRuntime",
        "ClusterQueue",
        "ResourceFlavor",
        "Namespace",
    }
)


@dataclass(frozen=True)
class Reference:
    kind: str
    namespace: str  # CLUSTER for cluster-scoped kinds
    name: str
    by: str  # the referencing object, e.g. "Deployment mlflow/mlflow"
    origin: str
    via: str  # where in it, e.g. "volume tmp" or "spec.issuerRef"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    def target(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind} {self.name}"
        )


def pod_references(pod: PodTemplate) -> Iterator[Reference]:
    spec, ns = pod.spec, pod.namespace

    def ref(kind: str, name: Any, via: str, scope: str | None = None) -> Reference:
        return Reference(
            kind,
            CLUSTER if kind in CLUSTER_KINDS else (scope or ns),
            str(name),
            pod.describe(),
            pod.origin,
            via,
        )

    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    yield ref("ServiceAccount", account, "serviceAccountName")
    for secret in items(spec.get("imagePullSecrets")):
        yield ref("Secret", mapping(secret).get("name"), "imagePullSecrets")
    if spec.get("priorityClassName"):
        yield ref("PriorityClass", spec["priorityClassName"], "priorityClassName")
    for volume in items(spec.get("volumes")):
        volume = mapping(volume)
        via = f"volume {volume.get('name')}"
        yield from _volume_references(volume, via, ref)
    for list_name, container in pod.containers():
        via = f"{list_name}[{container.get('name')}]"
        for env in items(container.get("env")):
            source = mapping(mapping(env).get("valueFrom"))
            for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                target = mapping(source.get(key))
                if target and not target.get("optional"):
                    yield ref(kind, target.get("name"), f"{via} env {mapping(env).get('name')}")
        for env_from in items(container.get("envFrom")):
            for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                target = mapping(mapping(env_from).get(key))
                if target and not target.get("optional"):
                    yield ref(kind, target.get("name"), f"{via} envFrom")
    for claim in pod.volume_claims:
        storage_class = mapping(claim.get("spec")).get("storageClassName")
        if storage_class:
            yield ref("StorageClass", storage_class, f"volumeClaimTemplate {name_of(claim)}")


def _volume_references(volume: Mapping[str, Any], via: str, ref: Any) -> Iterator[Reference]:
    secret = mapping(volume.get("secret"))
    if secret and not secret.get("optional"):
        yield ref("Secret", secret.get("secretName"), via)
    config_map = mapping(volume.get("configMap"))
    if config_map and not config_map.get("optional"):
        yield ref("ConfigMap", config_map.get("name"), via)
    for source in items(mapping(volume.get("projected")).get("sources")):
        for key, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
            target = mapping(mapping(source).get(key))
            if target and not target.get("optional"):
                yield ref(kind, target.get("name"), f"{via} (projected)")
    template = mapping(mapping(volume.get("ephemeral")).get("volumeClaimTemplate"))
    storage_class = mapping(template.get("spec")).get("storageClassName")
    if storage_class:
        yield ref("StorageClass", storage_class, f"{via} (ephemeral)")


def object_references(body: Mapping[str, Any], origin: str) -> Iterator[Reference]:
    """What a custom resource (or a PVC) names, by kind."""
    kind, ns = str(body.get("kind")), namespace_of(body) or CLUSTER
    spec = mapping(body.get("spec"))

    def ref(target_kind: str, name: Any, via: str, scope: str | None = None) -> Reference:
        namespace = (
            CLUSTER if target_kind in CLUSTER_KINDS else (scope if scope is not None else ns)
        )
        return Reference(target_kind, namespace, str(name), describe(body), origin, via)

    handler = _OBJECT_REFERENCES.get(kind)
    if handler is not None:
        yield from handler(body, spec, ref)


def _certificate(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    issuer = mapping(spec.get("issuerRef"))
    if issuer.get("group", "cert-manager.io") == "cert-manager.io":
        yield ref(str(issuer.get("kind") or "Issuer"), issuer.get("name"), "spec.issuerRef")


def _issuer(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    secret = mapping(spec.get("ca")).get("secretName")
    if secret:
        # a ClusterIssuer's Secret lives in cert-manager's cluster resource namespace
        scope = "cert-manager" if body.get("kind") == "ClusterIssuer" else None
        yield ref("Secret", secret, "spec.ca.secretName", scope)


def _bundle(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    for source in items(spec.get("sources")):
        for key, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
            name = mapping(mapping(source).get(key)).get("name")
            if name:
                yield ref(kind, name, f"spec.sources {key}", "cert-manager")  # trust namespace


def _cnpg(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    if not str(body.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
        return
    for path in ("storage", "walStorage"):
        if mapping(spec.get(path)).get("storageClass"):
            yield ref("StorageClass", mapping(spec.get(path))["storageClass"], f"spec.{path}")
    secrets = [
        mapping(mapping(mapping(spec.get("bootstrap")).get("initdb")).get("secret")).get("name")
    ]
    secrets += [mapping(spec.get("superuserSecret")).get("name")]
    secrets += [v for v in mapping(spec.get("certificates")).values() if isinstance(v, str)]
    barman = mapping(mapping(spec.get("backup")).get("barmanObjectStore"))
    secrets += [mapping(v).get("name") for v in mapping(barman.get("s3Credentials")).values()]
    secrets += [mapping(barman.get("endpointCA")).get("name")]
    for name in secrets:
        if name:
            yield ref("Secret", name, "spec (credentials/certificates)")


def _named_cluster(
    body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any
) -> Iterator[Reference]:
    name = mapping(spec.get("cluster")).get("name")
    if name:
        yield ref("Cluster", name, "spec.cluster")


def _redis(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    config = mapping(spec.get("kubernetesConfig"))
    for name in (
        mapping(config.get("redisSecret")).get("name"),
        mapping(mapping(spec.get("TLS")).get("secret")).get("secretName"),
    ):
        if name:
            yield ref("Secret", name, "spec (credentials/TLS)")
    claim = mapping(mapping(spec.get("storage")).get("volumeClaimTemplate"))
    if mapping(claim.get("spec")).get("storageClassName"):
        yield ref("StorageClass", mapping(claim["spec"])["storageClassName"], "spec.storage")


def _kafka(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    for listener in items(mapping(spec.get("kafka")).get("listeners")):
        chain = mapping(
            mapping(mapping(listener).get("configuration")).get("brokerCertChainAndKey")
        )
        if chain.get("secretName"):
            yield ref("Secret", chain["secretName"], f"listener {mapping(listener).get('name')}")


def _node_pool(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    storage = mapping(spec.get("storage"))
    for volume in [storage, *[mapping(v) for v in items(storage.get("volumes"))]]:
        if volume.get("class"):
            yield ref("StorageClass", volume["class"], "spec.storage")


def _trainjob(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    runtime = mapping(spec.get("runtimeRef"))
    yield ref(
        str(runtime.get("kind") or "ClusterTrainingRuntime"), runtime.get("name"), "spec.runtimeRef"
    )
    queue = labels_of(body).get("kueue.x-k8s.io/queue-name")
    if queue:
        yield ref("LocalQueue", queue, "label kueue.x-k8s.io/queue-name")


def _inference_service(
    body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any
) -> Iterator[Reference]:
    runtime = mapping(mapping(spec.get("predictor")).get("model")).get("runtime")
    if runtime:
        yield ref("ClusterServingRuntime", runtime, "spec.predictor.model.runtime")


def _local_queue(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    if spec.get("clusterQueue"):
        yield ref("ClusterQueue", spec["clusterQueue"], "spec.clusterQueue")


def _cluster_queue(
    body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any
) -> Iterator[Reference]:
    for group in items(spec.get("resourceGroups")):
        for flavor in items(mapping(group).get("flavors")):
            yield ref("ResourceFlavor", mapping(flavor).get("name"), "spec.resourceGroups")


def _claim(body: Mapping[str, Any], spec: Mapping[str, Any], ref: Any) -> Iterator[Reference]:
    if spec.get("storageClassName"):
        yield ref("StorageClass", spec["storageClassName"], "spec.storageClassName")


_OBJECT_REFERENCES = {
    "Certificate": _certificate,
    "Issuer": _issuer,
    "ClusterIssuer": _issuer,
    "Bundle": _bundle,
    "Cluster": _cnpg,
    "Database": _named_cluster,
    "ScheduledBackup": _named_cluster,
    "RedisReplication": _redis,
    "Kafka": _kafka,
    "KafkaNodePool": _node_pool,
    "TrainJob": _trainjob,
    "InferenceService": _inference_service,
    "LocalQueue": _local_queue,
    "ClusterQueue": _cluster_queue,
    "PersistentVolumeClaim": _claim,
}
