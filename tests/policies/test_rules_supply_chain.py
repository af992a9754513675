"""UAE-RES-005 registries, UAE-K8S-003 immutable references, UAE-SUP-001 approved providers."""

from __future__ import annotations

from policy_fixtures import (
    REGISTRY,
    assert_fails,
    assert_passes,
    aws,
    check,
    container,
    deployment,
    k8s,
    pod_spec,
    resource,
)

from policies.pack_config import PackConfig

RELEASE = "kubernetes:helm.sh/v3:Release"


def release(name: str, chart: str, values: dict, version: str = "1.2.0") -> dict:
    return resource(
        RELEASE, name, {"chart": chart, "version": version, "namespace": name, "values": values}
    )


# --------------------------------------------------------------------------- UAE-RES-005


def test_images_and_charts_from_the_mirror_pass() -> None:
    app = deployment()
    chart = release(
        "kueue",
        f"oci://{REGISTRY}/charts/kueue",
        {
            "controllerManager": {
                "manager": {"image": {"repository": f"{REGISTRY}/kueue/kueue", "tag": "v0.19.2"}}
            }
        },
    )
    harbor = PackConfig(allowed_registries=("harbor.dc1.example.ae/mlplatform",))
    onprem = deployment(
        "mlflow",
        "mlflow",
        pod_spec(container(image="harbor.dc1.example.ae/mlplatform/mlflow:3.17.2")),
    )
    assert_passes(check("UAE-RES-005", app, chart))
    assert_passes(check("UAE-RES-005", onprem, config=harbor))


def test_public_registry_images_and_charts_fail() -> None:
    app = deployment(
        "api", "tenant-risk", pod_spec(container(image="docker.io/library/python:3.11"))
    )
    bare = deployment("job", "tenant-risk", pod_spec(container(image="busybox:1.36")))
    chart = release(
        "gpu-operator",
        "gpu-operator",
        {
            "operator": {
                "repository": "nvcr.io/nvidia",
                "image": "gpu-operator",
                "version": "v25.10.1",
            }
        },
    )
    chart["inputs"]["repositoryOpts"] = {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    result = check("UAE-RES-005", app, bare, chart)
    assert_fails(result, "Deployment tenant-risk/api", "docker.io/library/python")
    assert_fails(result, "Deployment tenant-risk/job", "busybox:1.36", "docker.io")
    assert_fails(
        result, "Release 'gpu-operator'", "nvcr.io/nvidia/gpu-operator", "helm.ngc.nvidia.com"
    )


# --------------------------------------------------------------------------- UAE-K8S-003


def test_digest_pinned_images_exact_charts_and_immutable_ecr_pass() -> None:
    repo = aws(
        "aws:ecr/repository:Repository",
        "serving",
        {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
    )
    tagged = deployment(
        "api", "tenant-risk", pod_spec(container(image=f"{REGISTRY}/serving:0.1.0"))
    )
    assert_passes(check("UAE-K8S-003", deployment(), repo))
    # a tag alone is enough only where the mirror enforces immutable tags
    assert_passes(check("UAE-K8S-003", tagged, config=PackConfig(immutable_tags=True)))


def test_latest_untagged_mutable_and_floating_fail() -> None:
    latest = deployment(
        "api", "tenant-risk", pod_spec(container(image=f"{REGISTRY}/serving:latest"))
    )
    tagged = deployment(
        "job", "tenant-risk", pod_spec(container(image=f"{REGISTRY}/serving:0.1.0"))
    )
    repo = aws("aws:ecr/repository:Repository", "serving", {"imageTagMutability": "MUTABLE"})
    chart = release("kserve", f"oci://{REGISTRY}/charts/kserve", {}, version="^0.20")
    result = check("UAE-K8S-003", latest, tagged, repo, chart)
    assert_fails(result, "Deployment tenant-risk/api", "'latest'")
    assert_fails(result, "Deployment tenant-risk/job", "pin it by digest")
    assert_fails(result, "Repository 'serving'", "imageTagMutability=MUTABLE")
    assert_fails(result, "Release 'kserve'", "does not pin its chart version")


# --------------------------------------------------------------------------- UAE-SUP-001


def test_approved_providers_and_api_versions_pass() -> None:
    isvc = k8s(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "fraud",
        "tenant-risk",
        {"spec": {}},
    )
    assert_passes(check("UAE-SUP-001", isvc, aws("aws:s3/bucket:Bucket", "b")))


def test_unapproved_provider_and_pre_release_api_fail() -> None:
    command = resource("command:local:Command", "curl-install", {"create": "curl | sh"})
    alpha = k8s("kubernetes:example.io/v1alpha1:Widget", "w", "default", {"spec": {}})
    preview = resource("azure-native:containerservice/v20240902preview:ManagedCluster", "aks", {})
    result = check("UAE-SUP-001", command, alpha, preview)
    assert_fails(result, "Command 'curl-install'", "'command'")
    assert_fails(result, "Widget default/w", "example.io/v1alpha1")
    assert_fails(result, "ManagedCluster 'aks'", "preview")
