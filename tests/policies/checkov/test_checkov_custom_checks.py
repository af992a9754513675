"""The project's custom checkov checks, each with passing and failing manifests.

CKV_UAE_K8S_1 (UAE-RES-005): images only from the stack's in-country registry.
CKV2_UAE_K8S_2 (UAE-GOV-001): governance labels on namespaces and workloads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.evidence import checkov
from stacks.config import residency

FIXTURES = Path(__file__).parent / "fixtures"
MIRROR = "harbor.dc1.example.ae/mlplatform"

K8S = FIXTURES / "k8s"
REGISTRY, LABELS = "CKV_UAE_K8S_1", "CKV2_UAE_K8S_2"


def statuses(result: checkov.CheckovResult, check_id: str) -> dict[str, str]:
    return {r.resource: r.status for r in result.records if r.check_id == check_id}


@pytest.fixture(scope="module")
def k8s_result(run_checkov) -> checkov.CheckovResult:
    return run_checkov(K8S)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("Deployment.tenant-risk.registry-pass", "passed"),
        ("InferenceService.tenant-risk.registry-pass-isvc", "passed"),
        ("TrainJob.tenant-risk.registry-pass-trainjob", "passed"),
        ("Job.tenant-marketing.labels-pass-job", "passed"),
        # busybox from Docker Hub in an init container
        ("Deployment.tenant-risk.registry-fail", "failed"),
        # same host, path outside the mirror (prefix match must respect '/')
        ("CronJob.tenant-risk.registry-lookalike", "failed"),
        ("InferenceService.tenant-risk.registry-fail-isvc", "failed"),
        ("ServingRuntime.tenant-risk.registry-fail-runtime", "failed"),
        ("TrainJob.tenant-risk.registry-fail-trainjob", "failed"),
        ("ClusterTrainingRuntime.default.registry-fail-runtime", "failed"),
    ],
)
def test_registry_check(k8s_result, resource, expected):
    assert statuses(k8s_result, REGISTRY).get(resource) == expected


def test_registry_check_points_at_the_offending_image(k8s_result):
    record = next(
        r
        for r in k8s_result.records
        if r.check_id == REGISTRY and r.resource == "Deployment.tenant-risk.registry-fail"
    )
    assert "spec/template/spec/initContainers/[0]/image" in record.evaluated_keys
    assert record.gated_failure and record.policy == "UAE-RES-005"


def test_registry_default_allows_only_ecr_in_the_uae(run_checkov, tmp_path):
    """Without a configured mirror only ECR in me-central-1 passes; public entries are ignored."""
    template = (K8S / "registry-pass-trainjob.yaml").read_text()
    harbor = "harbor.dc1.example.ae/mlplatform/training:0.1.0"
    images = {
        "ecr": "111122223333.dkr.ecr.me-central-1.amazonaws.com/mlplatform/training:0.1.0",
        "ecr-eu": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlplatform/training:0.1.0",
        "harbor": harbor,
        "hub": "docker.io/library/python:3.11",
    }
    for name, image in images.items():
        (tmp_path / f"{name}.yaml").write_text(
            template.replace(harbor, image).replace("registry-pass-trainjob", name)
        )
    unset = statuses(run_checkov(tmp_path, registries=()), REGISTRY)
    assert unset == {
        "TrainJob.tenant-risk.ecr": "passed",
        "TrainJob.tenant-risk.ecr-eu": "failed",
        "TrainJob.tenant-risk.harbor": "failed",
        "TrainJob.tenant-risk.hub": "failed",
    }
    # a public registry in the allow-list is dropped, it cannot re-open Docker Hub
    configured = statuses(run_checkov(tmp_path, registries=("docker.io", MIRROR)), REGISTRY)
    assert configured == {
        "TrainJob.tenant-risk.ecr": "failed",
        "TrainJob.tenant-risk.ecr-eu": "failed",
        "TrainJob.tenant-risk.harbor": "passed",
        "TrainJob.tenant-risk.hub": "failed",
    }


def test_registry_check_knows_the_same_public_registries_as_the_config():
    source = (checkov.CUSTOM_CHECKS / "InCountryRegistry.py").read_text()
    block = source.split("PUBLIC_REGISTRIES: tuple[str, ...] = (", 1)[1].split(")", 1)[0]
    listed = {line.strip().strip('",') for line in block.splitlines() if line.strip()}
    assert listed == set(residency.PUBLIC_REGISTRIES)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("Namespace.default.labels-pass", "passed"),
        ("Job.tenant-marketing.labels-pass-job", "passed"),
        ("Namespace.default.labels-fail-no-dpia", "failed"),
        ("StatefulSet.tenant-risk.labels-fail-residency", "failed"),
        ("InferenceService.tenant-risk.labels-fail-missing", "failed"),
        ("DaemonSet.tenant-risk.labels-fail-class", "failed"),
    ],
)
def test_labels_check(k8s_result, resource, expected):
    assert statuses(k8s_result, LABELS).get(resource) == expected


def test_labels_check_covers_pod_templates(k8s_result):
    """checkov turns a pod template into a Pod; the gate reports it as `<owner>.template`."""
    labels = statuses(k8s_result, LABELS)
    # the Job's template is labelled; the DaemonSet's template carries only app=y
    assert labels["DaemonSet.tenant-risk.labels-fail-class.template"] == "failed"
    assert labels["Job.tenant-marketing.labels-pass-job.template"] == "passed"
    assert labels["Deployment.tenant-risk.registry-fail.template"] == "failed"
    assert not any(resource.startswith("Pod.") for resource in labels)


def test_a_custom_check_that_does_not_load_fails_the_scan(run_checkov, tmp_path, monkeypatch):
    """checkov logs a broken external check and carries on; the plan must not (un-gated)."""
    broken = tmp_path / "checks"
    shutil.copytree(checkov.CUSTOM_CHECKS, broken, ignore=shutil.ignore_patterns("__pycache__"))
    (broken / "Broken.py").write_text("import checkov.no_such_module\n")
    # the runner reads the folder it passes to checkov (and hashes for its cache) from its own
    # module: patching the package's re-export would not reach it
    monkeypatch.setattr(checkov.runner, "CUSTOM_CHECKS", broken)
    with pytest.raises(checkov.CheckovError, match="custom check"):
        run_checkov(K8S)
