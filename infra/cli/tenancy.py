"""The cross-tenant access matrix on the command line: the step `plan` and `check` run after the
simulation, and what they print (each path with its channel, the two tenants and what opens it,
the remediation per channel, then the verdict per channel). A path makes the command exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from infra import plan as planning
from infra.cli.errors import console, errors, escape
from infra.plan import tenancy_step


def tenancy(
    result: planning.PlanResult, rendered: planning.RenderStep, quiet: bool
) -> tenancy_step.TenancyStep:
    """The tenancy step of `plan`, with a spinner; writes tenancy.json."""
    out: Console = errors if quiet else console
    with out.status(f"cross-tenant access matrix of {escape(result.name)}…", spinner="dots"):
        step = tenancy_step.tenancy_plan(result, rendered.objects)
    report(out, result.name, step.report())
    return step


def tenancy_recorded(
    resources: list[dict[str, Any]], rendered: planning.RenderStep, beside: Path | None
) -> tenancy_step.TenancyStep:
    """The tenancy step of `check --resources` (the contract beside it, when present)."""
    outputs = beside.parent / planning.simulation_step.OUTPUTS_FILE if beside else None
    return tenancy_step.tenancy_recorded(resources, rendered.objects, outputs)


def report(out: Console, name: str, matrix: dict[str, Any]) -> None:
    policy = matrix["policy"]
    fixes: dict[str, str] = {}
    for finding in matrix["findings"]:
        out.print(
            f"  [red]FAIL[/] {escape(policy['id'])} ({escape(finding['channel'])}) "
            f"{escape(finding['source'])} → {escape(finding['target'])}: "
            f"{escape(finding['what'])} (via {escape(finding['via'])})",
            highlight=False,
            soft_wrap=True,
        )
        fixes[finding["channel"]] = finding["remediation"]
    for channel, fix in sorted(fixes.items()):
        out.print(f"       fix ({escape(channel)}): {escape(fix)}", highlight=False, soft_wrap=True)
    verdicts = ", ".join(f"{c['channel']} {c['status']}" for c in matrix["channels"])
    verdict = "[green]PASS[/]" if matrix["passed"] else "[red]FAIL[/]"
    out.print(
        f"{escape(name)}: {escape(policy['id'])} cross-tenant access {verdict} "
        f"({len(matrix['tenants'])} tenants): {escape(verdicts)}",
        highlight=False,
        soft_wrap=True,
    )
