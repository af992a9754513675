"""The version catalogue: every Helm chart and container image the platform deploys, pinned.

A neutral package: it imports nothing of the program. The stacks hand these values to the
components through their Args (`chart`, `images`); components import only the `Chart` and
`Image` types (`version_catalogue.artifacts`), never the pins.

This is the single place versions live. An air-gapped site mirrors exactly what is listed here
(`mlplatform catalogue` prints it) into its in-country registry; stacks then pull charts from
`oci://<mirror>/charts/<name>` and images from `<mirror>/<path>`. Images carry a digest where
one is recorded; otherwise the mirror must enforce immutable tags (`registry.immutableTags`).
"""

from __future__ import annotations

from version_catalogue.artifacts import Chart, Image

__all__ = [
    "BUILD_IMAGES",
    "CHARTS",
    "IMAGES",
    "KAFKA_VERSION",
    "MSK_KAFKA_VERSION",
    "Chart",
    "Image",
]

# Operators and their CRDs. The CRD versions these render against are in
# ../shared/reference/crds (validated in tests).
CHARTS: dict[str, Chart] = {
    "strimzi": Chart(
        "strimzi-kafka-operator", "1.2.0", "oci://quay.io/strimzi-helm/strimzi-kafka-operator"
    ),
    "kueue": Chart("kueue", "0.19.2", "oci://registry.k8s.io/kueue/charts/kueue"),
    "cert-manager": Chart("cert-manager", "v1.21.1", "https://charts.jetstack.io"),
    "kserve-crd": Chart("kserve-crd", "v0.20.0", "oci://ghcr.io/kserve/charts/kserve-crd"),
    # Since v0.15 the controller chart is `kserve-resources` (the old `kserve` chart stopped
    # at 0.1x); the key stays `kserve`.
    "kserve": Chart("kserve-resources", "v0.20.0", "oci://ghcr.io/kserve/charts/kserve-resources"),
    "gpu-operator": Chart("gpu-operator", "v25.10.1", "https://helm.ngc.nvidia.com/nvidia"),
    "kubeflow-trainer": Chart(
        "kubeflow-trainer", "2.3.0", "oci://ghcr.io/kubeflow/charts/kubeflow-trainer"
    ),
    "cloudnative-pg": Chart("cloudnative-pg", "0.26.1", "https://cloudnative-pg.github.io/charts"),
    # Distributes the platform CA to every platform and tenant namespace (Bundle CR).
    "trust-manager": Chart("trust-manager", "v0.24.0", "https://charts.jetstack.io"),
    # On-prem Redis (RedisReplication + RedisSentinel CRs, TLS and password auth).
    "redis-operator": Chart(
        "redis-operator", "0.26.0", "https://ot-container-kit.github.io/helm-charts"
    ),
    # EKS node autoscaling (managed node groups, auto-discovery). Image per Kubernetes minor
    # below: the autoscaler's minor must match the cluster's.
    "cluster-autoscaler": Chart(
        "cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler"
    ),
    # Observability (components.observability): the Prometheus operator stack (its CRDs are
    # prometheus-operator v0.93.1), Grafana, and Fluent Bit for container and audit logs.
    "kube-prometheus-stack": Chart(
        "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts"
    ),
    "grafana": Chart("grafana", "12.11.1", "https://grafana-community.github.io/helm-charts"),
    "fluent-bit": Chart("fluent-bit", "0.58.1", "https://fluent.github.io/helm-charts"),
}

# Amazon MSK (`kafka.mode: managed` on AWS): newest KRaft version MSK Standard brokers run.
MSK_KAFKA_VERSION = "4.1.x.kraft"

# Strimzi 1.1 dropped Kafka 4.1.x; 1.2.0 runs 4.2.x and 4.3.x (4.3.1 is its newest).
KAFKA_VERSION = "4.3.1"

IMAGES: dict[str, Image] = {
    # The platform's own images, built from workloads/Dockerfile.* by the release pipeline and
    # pushed to the mirror; the release records their digests in the stack config.
    "mlflow": Image("mlflow-server", "3.17.2", "built by this repository"),
    "feast": Image("feature-server", "0.67.0", "built by this repository"),
    "serving": Image("serving", "0.1.0", "built by this repository"),
    "training": Image("training", "0.1.0", "built by this repository"),
    "streaming": Image("streaming", "0.1.0", "built by this repository"),
    "monitoring": Image("monitoring", "0.1.0", "built by this repository"),
    # Operator and operand images pulled by the charts and custom resources above. The
    # components point each chart's image values at `<mirror>/<path>`; tags match the pinned
    # chart's appVersion, so the mirror job copies exactly these.
    "strimzi-operator": Image("strimzi/operator", "1.2.0", "quay.io"),
    "strimzi-kafka": Image("strimzi/kafka", f"1.2.0-kafka-{KAFKA_VERSION}", "quay.io"),
    "cert-manager-controller": Image("jetstack/cert-manager-controller", "v1.21.1", "quay.io"),
    "cert-manager-webhook": Image("jetstack/cert-manager-webhook", "v1.21.1", "quay.io"),
    "cert-manager-cainjector": Image("jetstack/cert-manager-cainjector", "v1.21.1", "quay.io"),
    "cert-manager-acmesolver": Image("jetstack/cert-manager-acmesolver", "v1.21.1", "quay.io"),
    "cert-manager-startupapicheck": Image(
        "jetstack/cert-manager-startupapicheck", "v1.21.1", "quay.io"
    ),
    "trust-manager": Image("jetstack/trust-manager", "v0.24.0", "quay.io"),
    "gpu-operator": Image("nvidia/gpu-operator", "v25.10.1", "nvcr.io"),
    "gpu-driver": Image("nvidia/driver", "580.105.08", "nvcr.io"),  # operator appends -<os>
    "gpu-container-toolkit": Image("nvidia/k8s/container-toolkit", "v1.18.1", "nvcr.io"),
    "gpu-device-plugin": Image("nvidia/k8s-device-plugin", "v0.18.1", "nvcr.io"),
    "gpu-dcgm-exporter": Image("nvidia/k8s/dcgm-exporter", "4.4.2-4.7.0-distroless", "nvcr.io"),
    "gpu-mig-manager": Image("nvidia/cloud-native/k8s-mig-manager", "v0.13.1", "nvcr.io"),
    # The driver DaemonSet's init container (drains and reloads the driver on upgrades): the
    # chart's default (driver.manager) would pull it from nvcr.io.
    "gpu-driver-manager": Image("nvidia/cloud-native/k8s-driver-manager", "v0.9.1", "nvcr.io"),
    "gpu-cuda-base": Image("nvidia/cuda", "13.0.1-base-ubi9", "nvcr.io"),
    "node-feature-discovery": Image("nfd/node-feature-discovery", "v0.18.2", "registry.k8s.io"),
    "kueue": Image("kueue/kueue", "v0.19.2", "registry.k8s.io"),
    "trainer-controller": Image("kubeflow/trainer/trainer-controller-manager", "v2.3.0", "ghcr.io"),
    "jobset": Image("jobset/jobset", "v0.12.0", "registry.k8s.io"),
    "cloudnative-pg": Image("cloudnative-pg/cloudnative-pg", "1.27.1", "ghcr.io"),
    "postgresql": Image("cloudnative-pg/postgresql", "17.6-system-trixie", "ghcr.io"),
    "redis-operator": Image("opstree/redis-operator", "v0.26.0", "quay.io"),
    "redis": Image("opstree/redis", "v7.0.15", "quay.io"),
    "redis-sentinel": Image("opstree/redis-sentinel", "v7.0.15", "quay.io"),
    # KServe v0.20.0 (chart kserve-resources): controller, its metrics proxy, and the images
    # the controller injects into InferenceService pods (storage initializer, agent, router).
    "kserve-controller": Image("kserve/kserve-controller", "v0.20.0", "docker.io"),
    "kserve-storage-initializer": Image("kserve/storage-initializer", "v0.20.0", "docker.io"),
    "kserve-agent": Image("kserve/agent", "v0.20.0", "docker.io"),
    "kserve-router": Image("kserve/router", "v0.20.0", "docker.io"),
    # The ART explainer runtime the controller injects for `explainer.art` (chart default
    # kserve/art-explainer on Docker Hub), mirrored so a tenant's explainer never pulls from it.
    "kserve-art-explainer": Image("kserve/art-explainer", "v0.20.0", "docker.io"),
    "kube-rbac-proxy": Image("brancz/kube-rbac-proxy", "v0.18.0", "quay.io"),
    # kube-prometheus-stack 88.5.3 (operator v0.93.1) and what it runs or injects; Grafana
    # 12.11.1's appVersion; kube-state-metrics run by the platform; Fluent Bit 0.58.1's.
    "prometheus-operator": Image("prometheus-operator/prometheus-operator", "v0.93.1", "quay.io"),
    "prometheus-config-reloader": Image(
        "prometheus-operator/prometheus-config-reloader", "v0.93.1", "quay.io"
    ),
    "prometheus": Image("prometheus/prometheus", "v3.14.0-distroless", "quay.io"),
    "alertmanager": Image("prometheus/alertmanager", "v0.34.0", "quay.io"),
    "thanos": Image("thanos/thanos", "v0.42.4", "quay.io"),
    "kube-state-metrics": Image(
        "kube-state-metrics/kube-state-metrics", "v2.17.0", "registry.k8s.io"
    ),
    "grafana": Image("grafana/grafana", "13.2.0", "docker.io"),
    "fluent-bit": Image("fluent/fluent-bit", "5.1.1", "cr.fluentbit.io"),
    # Cluster Autoscaler on EKS, one per Kubernetes minor the config allows (1.32 to 1.35).
    "cluster-autoscaler-1.32": Image(
        "autoscaling/cluster-autoscaler", "v1.32.7", "registry.k8s.io"
    ),
    "cluster-autoscaler-1.33": Image(
        "autoscaling/cluster-autoscaler", "v1.33.6", "registry.k8s.io"
    ),
    "cluster-autoscaler-1.34": Image(
        "autoscaling/cluster-autoscaler", "v1.34.5", "registry.k8s.io"
    ),
    "cluster-autoscaler-1.35": Image(
        "autoscaling/cluster-autoscaler", "v1.35.2", "registry.k8s.io"
    ),
}

# Base images of the platform's own images (workloads/Dockerfile.*, `FROM ${MIRROR}/<path>:<tag>`
# at the digest the stack's mirror lock records). Not deployed, but mirrored: builds pull them
# from the mirror, never from Docker Hub.
BUILD_IMAGES: dict[str, Image] = {
    "python": Image("library/python", "3.11-slim-bookworm", "docker.io"),
}
