"""The cluster simulation on the command line: the step `plan` and `check` run after rendering,
and what they print (one line per finding with its check id and remediation, then the verdict
per check). A mandatory finding makes the command exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from infra import plan as planning
from infra.cli.errors import console, errors, escape


def simulate(
    result: planning.PlanResult, rendered: planning.RenderStep, quiet: bool
) -> planning.SimulationStep:
    """The simulation step of `plan`, with a spinner; writes simulation.json."""
    out: Console = errors if quiet else console
    with out.status(f"simulating {escape(result.name)} on its cluster…", spinner="dots"):
        step = planning.simulate_plan(result, rendered.objects)
    report(out, result.name, step.report())
    return step


def simulate_recorded(
    resources: list[dict[str, Any]], rendered: planning.RenderStep, beside: Path | None
) -> planning.SimulationStep:
    """The simulation step of `check --resources` (the contract beside it, when present)."""
    outputs = beside.parent / planning.simulation_step.OUTPUTS_FILE if beside else None
    return planning.simulate_recorded(resources, rendered.objects, outputs)


def report(out: Console, name: str, simulation: dict[str, Any]) -> None:
    for check in simulation["checks"]:
        mandatory = check["enforcement"] == "mandatory"
        for finding in check["findings"]:
            label = "[red]FAIL[/]" if mandatory else "[yellow]WARN[/]"
            out.print(
                f"  {label} {escape(check['id'])} {escape(finding['subject'])}: "
                f"{escape(finding['message'])}",
                highlight=False,
                soft_wrap=True,
            )
        if check["findings"]:
            out.print(
                f"       fix: {escape(check['remediation'])}", highlight=False, soft_wrap=True
            )
    verdicts = ", ".join(f"{c['id']} {c['status']}" for c in simulation["checks"])
    verdict = "[green]PASS[/]" if simulation["passed"] else "[red]FAIL[/]"
    prerequisites = len(simulation["prerequisites"])
    out.print(
        f"{escape(name)}: cluster simulation {verdict}: {escape(verdicts)}; "
        f"{len(simulation['flows'])} declared flows, {prerequisites} site prerequisites",
        highlight=False,
        soft_wrap=True,
    )
