"""What `mlplatform verify --preflight` prints: one line per site prerequisite, present or
missing (with how to create it), then the verdict; its exit code."""

from __future__ import annotations

from infra.cli.errors import EXIT_OK, EXIT_VIOLATIONS, console, escape
from infra.verify.preflight import Outcome


def preflight_report(stack: str, outcomes: list[Outcome]) -> int:
    """Print the outcomes; 0 when every prerequisite is present, else 1."""
    for outcome in outcomes:
        item = outcome.prerequisite
        if outcome.present:
            console.print(f"  [green]ok[/]   {escape(item.describe())}", highlight=False)
            continue
        console.print(
            f"  [red]MISSING[/] {escape(item.describe())}: {escape(outcome.problem)} "
            f"({escape(item.purpose)})\n       create: {escape(item.how)}",
            highlight=False,
            soft_wrap=True,
        )
    missing = [o for o in outcomes if not o.present]
    verdict = "[red]FAIL[/]" if missing else "[green]PASS[/]"
    console.print(
        f"{escape(stack)}: preflight {verdict}: {len(outcomes) - len(missing)} of "
        f"{len(outcomes)} site prerequisites present",
        highlight=False,
    )
    return EXIT_VIOLATIONS if missing else EXIT_OK
