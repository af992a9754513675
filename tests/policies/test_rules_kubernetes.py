"""UAE-K8S-001 Pod Security, 002 container hygiene, 003 immutable references, 004 secrets."""

from __future__ import annotations

import pytest
from policy_fixtures import (
    LABELS,
    REGISTRY,
    assert_fails,
    assert_passes,
    aws,
    check,
    container,
    deployment,
    k8s,
    pod_spec,
    release,
    resource,
)

from policies.pack_config import DEFAULT_EXEMPTIONS, PackConfig

NAMESPACE = "kubernetes:core/v1:Namespace"
PSS = "pod-security.kubernetes.io/enforce"


def namespace(name: str, level: str | None) -> dict:
    ns = k8s(NAMESPACE, name, None)
    if level:
        ns["inputs"]["metadata"]["labels"] = {**LABELS, PSS: level}
    return ns


# --------------------------------------------------------------------------- UAE-K8S-001


def test_restricted_namespaces_and_hardened_pods_pass() -> None:
    isvc = k8s(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "fraud",
        "tenant-risk",
        {
            "spec": {
                "predictor": {
                    "serviceAccountName": "workloads",
                    "model": container("kserve-container"),
                }
            }
        },
    )
    assert_passes(check("UAE-K8S-001", namespace("tenant-risk", "restricted"), deployment(), isvc))


def test_privileged_pod_and_non_restricted_namespace_fail() -> None:
    privileged = container(securityContext={"privileged": True, "runAsUser": 0})
    pod = deployment(
        "debug", "tenant-risk", pod_spec(privileged, hostNetwork=True, securityContext={})
    )
    result = check(
        "UAE-K8S-001", namespace("tenant-risk", "baseline"), namespace("scratch", None), pod
    )
    assert_fails(result, "Namespace tenant-risk", "'baseline'")
    assert_fails(result, "Namespace scratch", "'none'")
    assert_fails(result, "Deployment tenant-risk/debug", "hostNetwork")
    assert_fails(
        result,
        "container 'app'",
        "privileged: true",
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "UID 0",
        "drop ALL",
        "seccompProfile",
    )


def test_gpu_operator_namespace_is_an_explicit_reported_exemption() -> None:
    ns = namespace("gpu-operator", "privileged")
    result = check("UAE-K8S-001", ns)
    assert result.status == "pass" and not result.findings
    [applied] = result.exemptions
    assert applied.urn == ns["urn"] and "kernel modules" in applied.reason
    assert "'privileged'" in applied.message
    # without the exemption the same namespace fails
    bare = check("UAE-K8S-001", ns, config=PackConfig(exemptions=()))
    assert_fails(bare, "Namespace gpu-operator", "'privileged'")
    assert DEFAULT_EXEMPTIONS[0].policy == "UAE-K8S-001"


# --------------------------------------------------------------------------- UAE-K8S-002


def test_bounded_read_only_probed_containers_pass() -> None:
    gpu = container(
        resources={
            "requests": {"cpu": "4", "memory": "32Gi", "nvidia.com/gpu": 1},
            "limits": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": 1},
        }
    )
    job = k8s(
        "kubernetes:batch/v1:Job",
        "train",
        "tenant-risk",
        {"spec": {"template": {"spec": pod_spec(gpu, restartPolicy="Never")}}},
    )
    job["inputs"]["spec"]["template"]["spec"]["containers"][0].pop("livenessProbe")
    assert_passes(check("UAE-K8S-002", deployment(), job))


def test_writable_unbounded_unprobed_containers_fail() -> None:
    sloppy = container(
        resources={"requests": {"nvidia.com/gpu": 1}},
        securityContext={"readOnlyRootFilesystem": False},
    )
    sloppy.pop("livenessProbe")
    result = check("UAE-K8S-002", deployment("api", "tenant-risk", pod_spec(sloppy)))
    assert_fails(
        result,
        "Deployment tenant-risk/api",
        "writable",
        "requests.cpu",
        "without a nvidia.com/gpu limit",
        "livenessProbe",
    )
    assert all(f.enforcement == "advisory" for f in result.findings)


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


# --------------------------------------------------------------------------- UAE-K8S-004


def test_secrets_by_reference_pass() -> None:
    env = [
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "mlflow-db", "key": "password"}},
        },
        {"name": "DB_PASSWORD_FILE", "value": "/etc/db/password"},
    ]
    app = deployment("mlflow", "mlflow", pod_spec(container(env=env)))
    secret = k8s(
        "kubernetes:core/v1:Secret", "mlflow-db", "mlflow", {"stringData": {"password": "[secret]"}}
    )
    release = resource(
        "kubernetes:helm.sh/v3:Release",
        "redis",
        {"values": {"auth": {"existingSecret": "redis-auth", "password": "[secret]"}}},
    )
    assert_passes(check("UAE-K8S-004", app, secret, release))


def test_literal_secrets_fail() -> None:
    env = [{"name": "MLFLOW_TRACKING_PASSWORD", "value": "hunter2"}]
    app = deployment("mlflow", "mlflow", pod_spec(container(env=env)))
    secret = k8s(
        "kubernetes:core/v1:Secret", "mlflow-db", "mlflow", {"stringData": {"password": "hunter2"}}
    )
    config_map = k8s(
        "kubernetes:core/v1:ConfigMap",
        "feast",
        "feast",
        {
            "data": {
                "feature_store.yaml": "online_store:\n  type: redis\n  password: hunter2hunter2\n"
            }
        },
    )
    release = resource(
        "kubernetes:helm.sh/v3:Release", "redis", {"values": {"auth": {"password": "hunter2"}}}
    )
    db = resource("aws:rds/instance:Instance", "mlflow-db", {"password": "hunter2"})
    result = check("UAE-K8S-004", app, secret, config_map, release, db)
    assert_fails(result, "Deployment mlflow/mlflow", "MLFLOW_TRACKING_PASSWORD")
    assert_fails(result, "Secret mlflow/mlflow-db", "not a Pulumi secret")
    assert_fails(result, "ConfigMap feast/feast", "password")
    assert_fails(result, "Release 'redis'", "values.auth.password")
    assert_fails(result, "Instance 'mlflow-db'", "plain value")


def test_a_release_stating_why_its_pods_mount_their_token_passes() -> None:
    """The annotation's value is the reviewed reason (UAE-IAM-002), not a token; a real token
    under another annotation key still fails."""
    reason = {"mlplatform.io/service-account-token": "the kubernetes filter reads pod metadata"}
    stated = resource(
        "kubernetes:helm.sh/v3:Release", "fluent-bit", {"values": {"podAnnotations": reason}}
    )
    assert_passes(check("UAE-K8S-004", stated))
    leaked = resource(
        "kubernetes:helm.sh/v3:Release",
        "fluent-bit",
        {"values": {"podAnnotations": {**reason, "example.com/api-token": "s3cr3t-t0ken"}}},
    )
    result = check("UAE-K8S-004", leaked)
    assert_fails(result, "Release 'fluent-bit'", "values.podAnnotations.example.com/api-token")
    assert len(result.findings) == 1


TEMPLATE_WITH_SECRET_VOLUME = """\
spec:
  template:
    spec:
      volumes:
      - name: object-store-credentials
        secret:
          secretName: object-store-credentials
          defaultMode: 288
"""


def test_a_manifest_in_a_config_map_that_mounts_a_secret_passes() -> None:
    """A volume's `secret:` opens a block; the `secretName:` below it is not its value."""
    template = k8s(
        "kubernetes:core/v1:ConfigMap",
        "fraud-risk-trainjob-template",
        "tenant-risk",
        {"data": {"trainjob.yaml": TEMPLATE_WITH_SECRET_VOLUME}},
    )
    assert_passes(check("UAE-K8S-004", template))


@pytest.mark.parametrize(
    "literal",
    ["          token: s3cr3t-t0ken\n", "          password = hunter2hunter2\n"],
)
def test_a_literal_secret_inside_a_manifest_in_a_config_map_fails(literal: str) -> None:
    template = k8s(
        "kubernetes:core/v1:ConfigMap",
        "fraud-risk-trainjob-template",
        "tenant-risk",
        {"data": {"trainjob.yaml": TEMPLATE_WITH_SECRET_VOLUME + literal}},
    )
    result = check("UAE-K8S-004", template)
    assert_fails(result, "ConfigMap tenant-risk/fraud-risk-trainjob-template", "'trainjob.yaml'")
    assert len(result.findings) == 1
