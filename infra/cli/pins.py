"""The plan's and check's supply-chain lines: every image pinned by the stack's mirror lock.

`pins` runs `infra.plan.pin_plan` (MIRROR-001/002) and prints each finding (a pending lock: one
line with its reason instead), then the verdict; a broken lock file is exit 2 naming the file
and the field.
"""

from __future__ import annotations

from infra import plan as planning
from infra.cli.errors import console, errors, escape, usage
from infra.mirror.pins import PinReport
from version_catalogue.lock import LockError


def pins(result: planning.PlanResult, rendered: planning.RenderStep, quiet: bool) -> PinReport:
    """The plan's MIRROR checks (every image pinned by the lock's digest), printed; a broken
    lock is exit 2 naming the file and field."""
    try:
        report = planning.pin_plan(result, rendered.objects)
    except LockError as error:
        raise usage(error) from None
    out = errors if quiet else console
    for f in report.findings if report.pending is None else []:  # pending: compliance.md lists
        label = "[red]FAIL[/]" if f.mandatory else "[yellow]WARN[/]"
        line = f"  {label} {escape(f.check)} {escape(f.message)}"
        out.print(line, highlight=False, soft_wrap=True)
    for w in report.waivers:
        line = f"  [yellow]EXCEPTION[/] {escape(w.check)} {len(report.findings)} images not pinned"
        out.print(f"{line}: {escape(w.reason)}", highlight=False, soft_wrap=True)
    verdict = "[green]PASS[/]" if report.passed else "[red]FAIL[/]"
    verdict = "[yellow]PENDING[/] (an exception)" if report.pending is not None else verdict
    out.print(
        f"{escape(result.name)}: images pinned by the mirror lock {verdict}: {report.pinned} of "
        f"{report.images} ({escape(report.lock)})",
        highlight=False,
        soft_wrap=True,
    )
    return report
