"""The evidence step of a plan, after the policy pack's: checkov over the written manifests and
the workload Dockerfiles (`infra.evidence.checkov`), then compliance.json/md
(`infra.evidence.compliance`). A gated checkov failure fails the plan like a mandatory policy
violation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.evidence import compliance
from infra.evidence.checkov import CheckovResult, Progress, Record, RunningScan, start_plan
from infra.plan.synthesis import PlanResult
from policies.evaluate import Report


@dataclass
class ComplianceStep:
    checkov: CheckovResult | None  # None with --skip-checkov
    report: dict[str, Any]
    files: list[Path]

    @property
    def gated_failures(self) -> list[Record]:
        return self.checkov.gated_failures if self.checkov is not None else []

    @property
    def ok(self) -> bool:
        return self.checkov is None or self.checkov.ok


def check_and_report(
    result: PlanResult,
    policy_report: Report | None = None,
    *,
    skip_checkov: bool = False,
    progress: Progress | None = None,
    rendering: dict[str, Any] | None = None,
    simulation: dict[str, Any] | None = None,
    tenancy: dict[str, Any] | None = None,
    preview: dict[str, Any] | None = None,
    mirror: dict[str, Any] | None = None,
    checkov: RunningScan | None = None,
) -> ComplianceStep:
    """checkov + compliance.json/md for a written plan (`write_plan` first).

    `policy_report` is the pack's `policies.evaluate.Report` for this plan, when it ran.
    `rendering` is the render step's report (`RenderReport.to_dict()`), when it ran.
    `simulation` is the simulation step's report (`Simulation.to_dict()`), when it ran.
    `tenancy` is the access matrix's report (`AccessMatrix.to_dict()`), when it ran.
    `preview` is the preview step's summary (`preview_step.preview_summary`), when it ran.
    `mirror` is the mirror-lock check's report (`PinReport.to_dict()`), when it ran.
    `checkov` is the scan `start_checkov` began, when the plan went on while it ran.
    Raises `infra.evidence.checkov.CheckovUnavailable` when checkov's environment is missing.
    """
    if result.out_dir is None:
        raise ValueError("write the plan before checking it")
    ran = None
    if checkov is not None and skip_checkov:
        checkov.stop()
    elif not skip_checkov:
        scan = checkov if checkov is not None else start_checkov(result, progress)
        ran = scan.result(progress)
    inputs = compliance.Inputs(
        stack=result.synthesis.stack,
        name=result.name,
        config=result.config,
        resources=[r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)],
        policy_report=policy_report,
        checkov=ran,
        declared_exceptions=list(
            (result.synthesis.outputs.get("stack") or {}).get("exceptions", [])
        ),
        rendering=rendering,
        simulation=simulation,
        tenancy=tenancy,
        preview=preview,
        mirror=mirror,
    )
    report = compliance.build(inputs)
    files = compliance.write(report, result.out_dir)
    if ran is not None:
        files = [*ran.files.values(), *files]
    result.files += files
    return ComplianceStep(ran, report, files)


def start_checkov(result: PlanResult, progress: Progress | None = None) -> RunningScan:
    """checkov over a written plan, started: manifests/, and releases/ with render-report.json
    when the render step has run. The plan's other steps go on meanwhile (they write nothing
    checkov reads); `check_and_report(..., checkov=...)` takes its result or stops it.
    Raises `infra.evidence.checkov.CheckovUnavailable` when checkov's environment is missing."""
    if result.out_dir is None:
        raise ValueError("write the plan before checking it")
    return start_plan(result.out_dir, result.config, progress=progress)
