"""The version catalogue: every Helm chart and container image the platform deploys, pinned.

This is the single place versions live. An air-gapped site mirrors exactly what is listed here
(`mlplatform catalogue` prints it) into its in-country registry; stacks then pull charts from
`oci://<mirror>/charts/<name>` and images from `<mirror>/<path>`. Images carry a digest where
one is recorded; otherwise the mirror must enforce immutable tags (`registry.immutableTags`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    upstream: str  # the repository the mirror copies from (reference for the mirror job)

    def oci(self, mirror: str) -> str:
        return f"oci://{mirror}/charts/{self.name}"


@dataclass(frozen=True)
class Image:
    path: str  # repository path under the registry, e.g. "strimzi/kafka"
    tag: str
    upstream: str  # upstream registry host the mirror copies from
    digest: str | None = None

    def ref(self, mirror: str) -> str:
        reference = f"{mirror}/{self.path}:{self.tag}"
        return f"{reference}@{self.digest}" if self.digest else reference


# Operators and their CRDs. The CRD versions these render against are in
# ../shared/reference/crds (validated in tests).
CHARTS: dict[str, Chart] = {
    "strimzi": Chart(
        "strimzi-kafka-operator", "1.2.0", "oci://quay.io/strimzi-helm/strimzi-kafka-operator"
    ),
    "kueue": Chart("kueue", "0.19.2", "oci://registry.k8s.io/kueue/charts/kueue"),
    "cert-manager": Chart("cert-manager", "v1.21.1", "https://charts.jetstack.io"),
    "kserve-crd": Chart("kserve-crd", "v0.20.0", "oci://ghcr.io/kserve/charts/kserve-crd"),
    "kserve": Chart("kserve", "v0.20.0", "oci://ghcr.io/kserve/charts/kserve"),
    "gpu-operator": Chart("gpu-operator", "v25.10.1", "https://helm.ngc.nvidia.com/nvidia"),
    "kubeflow-trainer": Chart(
        "kubeflow-trainer", "2.3.0", "oci://ghcr.io/kubeflow/charts/kubeflow-trainer"
    ),
    "cloudnative-pg": Chart("cloudnative-pg", "0.26.1", "https://cloudnative-pg.github.io/charts"),
}

KAFKA_VERSION = "4.1.0"

IMAGES: dict[str, Image] = {
    # The platform's own images, built from workloads/Dockerfile.* by the release pipeline and
    # pushed to the mirror; the release records their digests in the stack config.
    "mlflow": Image("mlplatform/mlflow-server", "3.17.2", "built by this repository"),
    "feast": Image("mlplatform/feature-server", "0.67.0", "built by this repository"),
    "serving": Image("mlplatform/serving", "0.1.0", "built by this repository"),
    "training": Image("mlplatform/training", "0.1.0", "built by this repository"),
    "streaming": Image("mlplatform/streaming", "0.1.0", "built by this repository"),
    "monitoring": Image("mlplatform/monitoring", "0.1.0", "built by this repository"),
}
