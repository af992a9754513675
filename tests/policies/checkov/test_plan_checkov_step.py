"""`mlplatform plan` runs checkov over what it wrote and exits 1 on a gated failure."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pulumi_kubernetes as k8s
import pytest
from typer.testing import CliRunner

from components.security_context import container_security, pod_security
from infra import cli
from infra import plan as planning
from infra.evidence import checkov
from infra.synth.recording import synthesize
from stacks.config.loader import stack_config
from stacks.governance import platform_labels

MIRROR_IMAGE = "harbor.dc1.example.ae/mlplatform/serving:0.1.0"


def _workload_program(privileged: bool):
    config, _ = stack_config("uae-onprem")
    labels = platform_labels(config)

    def program() -> None:
        k8s.core.v1.Namespace("ns", metadata={"name": "scoring", "labels": labels})
        k8s.networking.v1.NetworkPolicy(
            "deny",
            metadata={"name": "default-deny", "namespace": "scoring", "labels": labels},
            spec={"podSelector": {"matchLabels": {"app": "scorer"}}, "policyTypes": ["Ingress"]},
        )
        k8s.core.v1.ServiceAccount(
            "sa",
            metadata={"name": "scorer", "namespace": "scoring", "labels": labels},
            automount_service_account_token=False,
        )
        security = {**container_security(), "privileged": privileged}
        k8s.apps.v1.Deployment(
            "scorer",
            metadata={"name": "scorer", "namespace": "scoring", "labels": labels},
            spec={
                "replicas": 2,
                "selector": {"matchLabels": {"app": "scorer"}},
                "template": {
                    "metadata": {"labels": {**labels, "app": "scorer"}},
                    "spec": {
                        "serviceAccountName": "scorer",
                        "automountServiceAccountToken": False,
                        "securityContext": pod_security(),
                        "containers": [
                            {
                                "name": "scorer",
                                "image": MIRROR_IMAGE,
                                "securityContext": security,
                                "resources": {
                                    "requests": {"cpu": "250m", "memory": "512Mi"},
                                    "limits": {"cpu": "1", "memory": "1Gi"},
                                },
                                "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
                                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                            }
                        ],
                    },
                },
            },
        )

    return config, program


@pytest.fixture
def plan_of(monkeypatch):
    """Make `mlplatform plan --stack uae-onprem` plan a small workload instead of the stack."""

    def use(privileged: bool) -> None:
        config, program = _workload_program(privileged)

        def synthesize_stack(stack, overrides=(), name=None):
            return planning.PlanResult(name or stack, config, synthesize(stack, {}, program))

        monkeypatch.setattr(planning, "synthesize_stack", synthesize_stack)

    return use


def _plan(tmp_path: Path) -> tuple[int, str, dict]:
    result = CliRunner().invoke(cli.app, ["plan", "--stack", "uae-onprem", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "uae-onprem" / "compliance.json").read_text())
    return result.exit_code, result.output, report


def test_privileged_container_fails_the_plan(checkov_bin, plan_of, tmp_path):
    plan_of(privileged=True)
    code, output, report = _plan(tmp_path)
    assert code == cli.EXIT_VIOLATIONS, output
    assert "CKV_K8S_16" in output and "Deployment.scoring.scorer" in output
    assert report["summary"]["gatedCheckovFailures"] >= 1
    assert report["result"] == "fail"
    plan_dir = tmp_path / "uae-onprem"
    sarif = json.loads((plan_dir / "checkov.sarif").read_text())
    assert any(
        r["ruleId"] == "CKV_K8S_16" and r["level"] == "error"
        for run in sarif["runs"]
        for r in run["results"]
    )
    assert ET.parse(plan_dir / "checkov.junit.xml").getroot().get("failures") != "0"


def test_hardened_workload_passes_the_checkov_gate(checkov_bin, plan_of, tmp_path):
    plan_of(privileged=False)
    _, output, report = _plan(tmp_path)
    assert report["summary"]["gatedCheckovFailures"] == 0, output
    assert report["summary"]["checkovRan"] is True
    assert "0 gated" in output


def test_skip_checkov_says_so(plan_of, tmp_path):
    plan_of(privileged=True)
    result = CliRunner().invoke(
        cli.app, ["plan", "--stack", "uae-onprem", "--out", str(tmp_path), "--skip-checkov"]
    )
    assert "checkov skipped" in result.output
    report = json.loads((tmp_path / "uae-onprem" / "compliance.json").read_text())
    assert report["summary"]["checkovRan"] is False
    assert "not run" in (tmp_path / "uae-onprem" / "compliance.md").read_text()
    assert not (tmp_path / "uae-onprem" / "checkov.sarif").exists()


def _written_plan(tmp_path: Path, privileged: bool) -> planning.PlanResult:
    config, program = _workload_program(privileged)
    result = planning.PlanResult("uae-onprem", config, synthesize("uae-onprem", {}, program))
    return planning.write_plan(result, tmp_path)


def test_a_started_scan_reports_what_a_scan_reports_whatever_is_written_beside_it(
    checkov_bin, tmp_path
):
    """checkov under way while the plan's later steps write (the preview's manifests/ and the
    reports' JSON) reads only manifests/ and releases/ as they were when it started."""
    hardened = _written_plan(tmp_path / "started", privileged=False)
    running = planning.start_checkov(hardened)
    assert hardened.out_dir is not None
    preview = hardened.out_dir / "preview" / "manifests"
    preview.mkdir(parents=True)  # a privileged pod where the preview step writes: never read
    privileged = _written_plan(tmp_path / "other", privileged=True)
    assert privileged.out_dir is not None
    for manifest in (privileged.out_dir / "manifests").rglob("*.yaml"):
        (preview / manifest.name).write_text(manifest.read_text())
    started = running.result()
    alone = _written_plan(tmp_path / "alone", privileged=False)
    assert alone.out_dir is not None
    scanned = checkov.scan_plan(alone.out_dir, alone.config)
    assert started.gated_failures == [] and not any(
        "preview" in f for f in started.scanned["kubernetes"]
    )
    assert [r.to_json() for r in started.records] == [r.to_json() for r in scanned.records]
    assert not running.tmp.exists()


def test_a_stopped_scan_leaves_no_process_and_no_scratch(checkov_bin, tmp_path):
    running = planning.start_checkov(_written_plan(tmp_path, privileged=False))
    processes = [run.process for run in running.running]
    running.stop()
    running.stop()  # idempotent: the plan's `finally` may call it after result()
    assert all(p.poll() is not None for p in processes) and not running.tmp.exists()
