"""The first-preview step on the command line: `plan` synthesizes each stack again as a first
`pulumi preview` sees it (computed values unknown) and runs the pack over it
(`infra.plan.preview_step`); this prints its findings and its verdict, naming the policies that
decide only on the update. A mandatory finding during the preview makes `plan` exit 1.
"""

from __future__ import annotations

from rich.console import Console

from infra import plan as planning
from infra.cli.errors import console, errors, escape
from policies.evaluate import Report


def preview(result: planning.PlanResult, report: Report, quiet: bool) -> planning.PreviewStep:
    """The preview step of `plan`, with a spinner; writes preview/ and the preview report."""
    out: Console = errors if quiet else console
    with out.status(f"previewing {escape(result.name)} (computed values unknown)…", spinner="dots"):
        step = planning.preview_plan(result, report)
    verdict(out, result.name, step)
    return step


def verdict(out: Console, name: str, step: planning.PreviewStep) -> None:
    for finding in step.report.findings:
        label = "[red]FAIL[/]" if finding.enforcement == "mandatory" else "[yellow]WARN[/]"
        out.print(
            f"  {label} preview {escape(finding.policy_id)}: {escape(finding.message)}",
            highlight=False,
            soft_wrap=True,
        )
    s = step.report.summary()
    undecided = ", ".join(r.id for r in step.report.undecided) or "none"
    shown = "[green]PASS[/]" if step.passed else "[red]FAIL[/] (would block the first preview)"
    out.print(
        f"{escape(name)}: first preview {shown}: {s['passed']} pass, {s['failed']} fail, "
        f"{s.get('undecided', 0)} undecided until the update ({escape(undecided)}); "
        f"{len(step.only_on_update)} resources registered only on the update",
        highlight=False,
        soft_wrap=True,
    )
