"""What `plan` and `check` print: resource counts, policy violations, checkov's gate, compliance.

A table on a terminal; one greppable line per finding in logs and pipes, where a table would
fold URNs across lines. Every value shown is escaped: names, URNs and messages are data.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from infra import plan as planning
from infra.cli.errors import console, escape
from infra.evidence.checkov import CheckovResult
from policies.evaluate import Report


def plan_summary(result: planning.PlanResult) -> None:
    table = Table(title=escape(f"{result.name}: {len(result.synthesis.resources)} resources"))
    table.add_column("type")
    table.add_column("count", justify="right")
    for typ, count in result.type_counts():
        table.add_row(escape(typ), str(count))
    console.print(table)
    console.print(f"plan written to {result.out_dir}", markup=False, highlight=False)


def policy_report(name: str, report: Report) -> None:
    """Each violation: policy, severity, resource URN, what is wrong, the fix; then the verdict."""
    findings = sorted(report.findings, key=lambda f: (f.enforcement != "mandatory", f.policy_id))
    if findings and console.is_terminal:
        _violations_table(name, findings)
    else:
        for f in findings:
            label = "[red]FAIL[/]" if f.enforcement == "mandatory" else "[yellow]WARN[/]"
            console.print(
                f"  {label} {escape(f.policy_id)} \\[{escape(f.severity)}] "
                f"{escape(f.urn or '(stack)')}: {escape(f.message)}\n"
                f"       fix: {escape(f.remediation)}",
                highlight=False,
                soft_wrap=True,
            )
    for result in report.results:
        for e in result.exemptions:
            console.print(
                f"  [cyan]EXEMPT[/] {escape(e.policy_id)} {escape(e.urn)}: {escape(e.reason)}",
                highlight=False,
                soft_wrap=True,
            )
    summary = report.summary()
    verdict = "[green]PASS[/]" if report.passed else "[red]FAIL[/]"
    console.print(
        f"{escape(name)}: policies {verdict}: {summary['passed']} passed, "
        f"{summary['failed']} failed, {summary['notApplicable']} not applicable; "
        f"{summary['mandatoryViolations']} mandatory and {summary['advisoryViolations']} "
        f"advisory violations, {summary['exemptionsApplied']} exemptions applied",
        highlight=False,
        soft_wrap=True,
    )


def _violations_table(name: str, findings: list[Any]) -> None:
    table = Table(title=escape(f"{name}: policy violations"), show_lines=True)
    for column in ("policy", "severity", "resource", "what is wrong", "fix"):
        table.add_column(column, overflow="fold")
    for f in findings:
        style = "red" if f.enforcement == "mandatory" else "yellow"
        table.add_row(
            escape(f.policy_id),
            f"[{style}]{escape(f.severity)} ({escape(f.enforcement)})[/]",
            escape(f.urn or "(stack)"),
            escape(f.message),
            escape(f.remediation),
        )
    console.print(table)


def checkov_result(out: Console, name: str, ran: CheckovResult | None) -> None:
    """checkov's totals, then one line per gated failure and per error (readable in CI logs)."""
    if ran is None:
        out.print(f"[yellow]{escape(name)}: checkov skipped (--skip-checkov); never in CI[/]")
        return
    failed = sum(1 for r in ran.records if r.status == "failed")
    out.print(
        f"{escape(name)}: checkov {escape(ran.version)}: {len(ran.records)} results, "
        f"{failed} failed, [{'red' if ran.gated_failures else 'green'}]"
        f"{len(ran.gated_failures)} gated[/], "
        f"{sum(n for _, n in ran.skip_usage())} skipped with a reason, {ran.seconds:.1f}s",
        highlight=False,
        soft_wrap=True,
    )
    for record in ran.gated_failures:
        out.print(
            f"  [red]FAIL[/] {escape(record.check_id)} \\[{escape(record.policy or '-')}] "
            f"{escape(record.resource)} ({escape(record.file)}:{record.lines[0]}): "
            f"{escape(record.check_name)}",
            highlight=False,
            soft_wrap=True,
        )
    for text in ran.errors:
        out.print(f"  [red]ERROR[/] {escape(text)}", highlight=False, soft_wrap=True)


def compliance_line(out: Console, result: planning.PlanResult, report: dict[str, Any]) -> None:
    summary = report["summary"]
    out.print(
        f"{result.name}: compliance {summary['result'].upper()} "
        f"({summary['controls'].get('fail', 0)} of {summary['controls']['total']} controls "
        f"failing) → {result.out_dir}/compliance.md",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def policy_json(report: Report) -> dict[str, Any]:
    return {
        "passed": report.passed,
        **report.summary(),
        "violations": [
            {
                "policy": f.policy_id,
                "severity": f.severity,
                "enforcement": f.enforcement,
                "urn": f.urn,
                "message": f.message,
                "remediation": f.remediation,
            }
            for f in report.findings
        ],
    }


def plan_json(
    result: planning.PlanResult, step: planning.ComplianceStep, report: Report
) -> dict[str, Any]:
    """One planned variant as `plan --json` prints it."""
    return {
        "name": result.name,
        "stack": result.synthesis.stack,
        "out": str(result.out_dir),
        "resources": len(result.synthesis.resources),
        "byType": dict(result.type_counts()),
        "checkov": step.checkov.to_json() if step.checkov else None,
        "compliance": step.report["summary"],
        "policies": policy_json(report),
    }
