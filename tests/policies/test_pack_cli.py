"""`mlplatform check` output and exit codes, and the plan's policy files."""

from __future__ import annotations

import json
from pathlib import Path

from policy_fixtures import k8s, provider
from typer.testing import CliRunner

from components.namespace import PSS_EXEMPTIONS
from infra import plan as planning
from infra.cli import app
from policies.config_file import crossguard_names
from policies.pack_config import PackConfig
from policies.registry import ALL_POLICIES
from tests.support.charts import requires_charts

runner = CliRunner()


def write(tmp_path: Path, *resources: dict) -> Path:
    path = tmp_path / "plan" / "resources.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([provider("kubernetes"), *resources]))
    return path


def check(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", *args], env={"COLUMNS": "240"})
    return result.exit_code, result.output


def service_account(automount: bool | None) -> dict:
    return k8s(
        "kubernetes:core/v1:ServiceAccount",
        "workloads",
        "tenant-risk",
        {"automountServiceAccountToken": automount},
    )


def test_mandatory_violation_prints_policy_resource_problem_and_fix(tmp_path: Path) -> None:
    sa = service_account(None)
    code, output = check("--resources", str(write(tmp_path, sa)))
    assert code == 1
    assert "UAE-IAM-002" in output and sa["urn"] in output
    assert "auto-mounts API tokens" in output and "Workload Identity" in output  # problem and fix
    assert "policies FAIL" in output


def test_compliant_plan_exits_zero(tmp_path: Path) -> None:
    code, output = check("--resources", str(write(tmp_path, service_account(False))))
    assert code == 0, output
    assert "policies PASS" in output


def test_advisory_findings_fail_only_with_strict(tmp_path: Path) -> None:
    alpha = k8s("kubernetes:example.io/v1alpha1:Widget", "w", "default", {"spec": {}})
    path = write(tmp_path, alpha)  # a pre-release API: UAE-SUP-001, medium
    code, output = check("--resources", str(path))
    assert code == 0 and "UAE-SUP-001" in output
    assert check("--resources", str(path), "--strict")[0] == 1


def test_json_output_is_the_report(tmp_path: Path) -> None:
    path = write(tmp_path, service_account(True))
    result = runner.invoke(app, ["check", "--resources", str(path), "--json"])
    report = json.loads(result.stdout)
    assert report["name"] == "plan" and report["passed"] is False
    failed = [p["id"] for p in report["policies"] if p["status"] == "fail"]
    assert failed == ["UAE-IAM-002"]


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    assert check()[0] == 2
    assert check("--stack", "uae-onprem", "--resources", "x.json")[0] == 2
    assert check("--resources", str(tmp_path / "missing.json"))[0] == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert check("--resources", str(bad))[0] == 2


@requires_charts  # `check --resources` renders with the default chart cache
def test_plan_writes_policy_config_and_report(stack_plan, tmp_path: Path) -> None:
    result = planning.write_plan(stack_plan("uae-onprem"), tmp_path)
    report = planning.evaluate_policies(result)
    config_path, report_path = planning.write_policy_files(result, report)
    document = json.loads(config_path.read_text())
    assert set(document) == {n for p in ALL_POLICIES for n in crossguard_names(p)}
    assert document["UAE-RES-005"]["allowed_registries"] == ["harbor.dc1.example.ae/mlplatform"]
    # The pack's own minimum, not the stack's retention (400): a stack never lowers it.
    assert document["UAE-LOG-003"]["log_retention_days"] == PackConfig().log_retention_days
    assert "https://s3.dc1.example.ae" in document["UAE-RES-004"]["data_stores"]
    # exactly the namespaces the components exempt (GPU operator, Fluent Bit's node logs), each
    # with the reason the component records
    exemptions = {(e["match"], e["reason"]) for e in document["UAE-K8S-001"]["exemptions"]}
    assert exemptions == {(e.namespace, e.reason) for e in PSS_EXEMPTIONS}
    assert {m for m, _ in exemptions} == {"gpu-operator", "mlplatform-logging"}
    assert json.loads(report_path.read_text())["summary"] == report.summary()
    # the recorded plan evaluates the same through `check --resources` (config read beside it)
    result_json = runner.invoke(
        app, ["check", "--resources", str(result.out_dir / "resources.json"), "--json"]
    )
    assert json.loads(result_json.stdout)["summary"] == report.summary()
