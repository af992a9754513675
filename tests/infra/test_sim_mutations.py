"""Breaking the cluster on purpose: each mutation makes `mlplatform check --resources … --charts …`
and `mlplatform plan` exit 1 naming the simulation check, with a finding the shipped plan has not.

Each case starts from a synthesized shipped stack and changes one thing the way a careless
component change would (a recorded resource's inputs). `check --resources` reads the mutated
resources.json with the stack's policy-config.json and contract (outputs.json) beside it;
`plan` gets the mutated synthesis in place of the real one. Rendering needs the reference
charts (../shared/reference/charts): the tests skip, saying so, only when they are absent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra import plan as planning
from infra.cli import app
from infra.render.cache import REFERENCE_CHARTS
from infra.synth.recording import Resource
from policies.config_file import policy_config_file
from tests.support.charts import requires_reference_charts

pytestmark = requires_reference_charts
Resources = list[dict[str, Any]]
VARIANTS = {
    "aws": ("uae-cloud",),
    "azure": ("uae-cloud-azure",),
    "onprem": ("uae-onprem",),
}
runner = CliRunner()


def k8s(rs: Resources, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
    for r in rs:
        meta = (r.get("inputs") or {}).get("metadata") or {}
        in_namespace = namespace is None or meta.get("namespace") == namespace
        if r["type"].endswith(f":{kind}") and meta.get("name") == name and in_namespace:
            return r["inputs"]
    raise AssertionError(f"the stack no longer declares {kind} {namespace}/{name}")


def pod_spec(rs: Resources, namespace: str, name: str) -> dict[str, Any]:
    return k8s(rs, "Deployment", namespace, name)["spec"]["template"]["spec"]


# --------------------------------------------------------------------------- mutations


def run_as_root_allowed(rs: Resources) -> None:
    spec = pod_spec(rs, "mlflow", "mlflow")
    spec["securityContext"].pop("runAsNonRoot")
    for container in spec["containers"]:
        container["securityContext"].pop("runAsNonRoot")


def secret_nobody_provides(rs: Resources) -> None:
    spec = pod_spec(rs, "mlflow", "mlflow")
    spec["volumes"].append({"name": "extra", "secret": {"secretName": "not-created-anywhere"}})


def predictor_certificate_elsewhere(rs: Resources) -> None:
    """The tenant's predictor Certificate writes another Secret than the runtime mounts."""
    certificate = k8s(rs, "Certificate", "tenant-risk", "mlplatform-predictor-tls")
    certificate["spec"]["secretName"] = "some-other-tls"


def tenant_admits_another_tenant(rs: Resources) -> None:
    policy = k8s(rs, "NetworkPolicy", "tenant-risk", "allow-same-namespace")
    other = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tenant-marketing"}}
    }
    policy["spec"]["ingress"][0]["from"].append(other)


def toleration_removed(rs: Resources) -> None:
    """AKS: MLflow runs on the system pool (CriticalAddonsOnly); without the toleration, nowhere."""
    spec = pod_spec(rs, "mlflow", "mlflow")
    assert spec.pop("tolerations"), "MLflow no longer tolerates the system pool's taint"


def mlflow_cut_from_postgres(rs: Resources) -> None:
    policy = k8s(rs, "NetworkPolicy", "mlflow", "allow-service")
    egress = policy["spec"]["egress"]
    kept = [r for r in egress if all(p.get("port") != 5432 for p in r.get("ports", []))]
    assert len(kept) < len(egress), "MLflow's policy no longer has a Postgres rule"
    policy["spec"]["egress"] = kept


@dataclass(frozen=True)
class Case:
    name: str
    variant: str
    mutate: Callable[[Resources], None]
    check: str
    expect: str  # part of the new finding's subject or message


CASES = (
    Case("runAsNonRoot removed", "aws", run_as_root_allowed, "SIM-ADM-001", "Running as Non-root"),
    Case("unprovided Secret", "aws", secret_nobody_provides, "SIM-REF-001", "not-created-anywhere"),
    Case(
        "predictor without its TLS Secret",
        "onprem",
        predictor_certificate_elsewhere,
        "SIM-REF-001",
        "mlplatform-predictor-tls",
    ),
    Case(
        "tenant admits tenant",
        "onprem",
        tenant_admits_another_tenant,
        "SIM-FLW-002",
        "tenant-marketing",
    ),
    Case("toleration removed", "azure", toleration_removed, "SIM-SCH-001", "CriticalAddonsOnly"),
    Case(
        "MLflow cut from Postgres",
        "onprem",
        mlflow_cut_from_postgres,
        "SIM-FLW-001",
        "mlflow→postgres",
    ),
)


# --------------------------------------------------------------------------- the runs

_SHIPPED: dict[str, planning.PlanResult] = {}
_BASELINES: dict[str, set[tuple[str, str, str]]] = {}


def shipped(stack_plan: Callable[..., planning.PlanResult], variant: str) -> planning.PlanResult:
    if variant not in _SHIPPED:
        _SHIPPED[variant] = stack_plan(*VARIANTS[variant])
    return _SHIPPED[variant]


def recorded(result: planning.PlanResult) -> Resources:
    resources = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
    return json.loads(json.dumps(resources, default=str))


def run_check(
    directory: Path, result: planning.PlanResult, resources: Resources
) -> tuple[int, dict]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "resources.json").write_text(json.dumps(resources))
    config = policy_config_file(planning.policy_config(result.config))
    (directory / planning.POLICY_CONFIG_FILE).write_text(json.dumps(config))
    (directory / "outputs.json").write_text(json.dumps(result.synthesis.outputs, default=str))
    args = [
        "check",
        "--resources",
        str(directory / "resources.json"),
        "--charts",
        str(REFERENCE_CHARTS),
        "--json",
    ]
    done = runner.invoke(app, args)
    assert done.exit_code in (0, 1), done.output
    return done.exit_code, json.loads(done.stdout)


def simulation_findings(report: dict) -> set[tuple[str, str, str]]:
    return {
        (c["id"], f["subject"], f["message"])
        for c in report["simulation"]["checks"]
        for f in c["findings"]
    }


def baseline(
    variant: str, result: planning.PlanResult, tmp_path: Path
) -> set[tuple[str, str, str]]:
    if variant not in _BASELINES:
        _, report = run_check(tmp_path / "baseline", result, recorded(result))
        _BASELINES[variant] = simulation_findings(report)
    return _BASELINES[variant]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_resources_fails_naming_the_check(case: Case, stack_plan, tmp_path: Path) -> None:
    result = shipped(stack_plan, case.variant)
    before = baseline(case.variant, result, tmp_path)
    resources = recorded(result)
    case.mutate(resources)
    code, report = run_check(tmp_path / "mutated", result, resources)
    new = simulation_findings(report) - before
    ours = [f for f in new if f[0] == case.check and case.expect in f"{f[1]} {f[2]}"]
    assert ours, f"{case.check} did not report {case.expect!r}; new findings: {new}"
    assert code == 1


def mutated_synthesis(
    result: planning.PlanResult, mutate: Callable[[Resources], None]
) -> planning.PlanResult:
    """The same synthesis with `mutate` applied to its resources' inputs."""
    resources = [copy.deepcopy(r) for r in result.synthesis.resources]
    as_json = [{"type": r.type, "inputs": r.inputs} for r in resources]
    mutate(as_json)
    synthesis = copy.copy(result.synthesis)
    synthesis.resources = [
        Resource(
            r.urn,
            r.type,
            r.name,
            r.parent,
            r.provider,
            r.custom,
            changed["inputs"],
            r.outputs,
            r.options,
            r.id,
        )
        for r, changed in zip(resources, as_json, strict=True)
    ]
    return planning.PlanResult(result.name, result.config, synthesis)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_fails_naming_the_check(case: Case, stack_plan, tmp_path: Path, monkeypatch) -> None:
    result = shipped(stack_plan, case.variant)
    broken = mutated_synthesis(result, case.mutate)
    monkeypatch.setattr(planning, "synthesize_stack", lambda *args, **kwargs: broken)
    args = [
        "plan",
        "--stack",
        VARIANTS[case.variant][0],
        "--out",
        str(tmp_path),
        "--skip-checkov",
        "--charts",
        str(REFERENCE_CHARTS),
    ]
    done = runner.invoke(app, args)
    assert done.exit_code == 1, done.output
    written = json.loads((tmp_path / result.name / "simulation.json").read_text())
    found = [
        f
        for c in written["checks"]
        if c["id"] == case.check
        for f in c["findings"]
        if case.expect in f"{f['subject']} {f['message']}"
    ]
    assert found, f"{case.check} did not report {case.expect!r}"
    assert case.check in done.output
