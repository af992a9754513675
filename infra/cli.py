"""The `mlplatform` command line.

Exit codes (every command): 0 ok, 1 policy violations or failed checks, 2 usage or config error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from infra import plan as planning
from infra.local.cli import app as local_app
from infra.verify.command import command as verify_command
from stacks.config.errors import ConfigError

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="mlplatform",
    help="UAE-resident ML platform: offline plans, policy checks, tenant contract, local platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="Stack name, e.g. uae-onprem.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config key for this run: KEY=VALUE (repeatable)."),
]
OutOpt = Annotated[
    Path, typer.Option("--out", help="Output directory; the plan goes to OUT/NAME/.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _fail_config(error: ConfigError) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
    return typer.Exit(EXIT_USAGE)


def _targets(stack: str | None, overrides: list[str] | None, all_: bool) -> list[planning.Variant]:
    if all_ and (stack or overrides):
        errors.print("error: --all plans every shipped stack and variant; drop --stack/--set")
        raise typer.Exit(EXIT_USAGE)
    if all_:
        return list(planning.VARIANTS)
    if not stack:
        errors.print("error: give --stack NAME (or --all)")
        raise typer.Exit(EXIT_USAGE)
    name = stack
    cloud = [o.split("=", 1)[1] for o in overrides or [] if o.startswith("cloud=")]
    if cloud and cloud[-1] != "aws":
        name = f"{stack}-{cloud[-1]}"
    return [planning.Variant(name, stack, tuple(overrides or ()))]


@app.command()
def plan(
    stack: StackOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("build"),
    all_: Annotated[
        bool, typer.Option("--all", help="Plan every shipped stack and variant.")
    ] = False,
    as_json: JsonOpt = False,
    skip_checkov: Annotated[
        bool,
        typer.Option(
            "--skip-checkov",
            help="Inner loops only, never CI: skip checkov (the compliance report says so).",
        ),
    ] = False,
) -> None:
    """Synthesize a stack offline (no Pulumi CLI, credentials or network) and write the plan."""
    summaries = []
    checked: dict[str, planning.ComplianceStep] = {}
    policy_reports: dict[str, Any] = {}
    failed = False
    for variant in _targets(stack, set_, all_):
        try:
            with console.status(f"synthesizing {variant.name}…", spinner="dots"):
                result = planning.synthesize_stack(variant.stack, variant.overrides, variant.name)
        except ConfigError as error:
            raise _fail_config(error) from None
        planning.write_plan(result, out)
        summaries.append(result)
        if not as_json:
            _print_summary(result)
        # -- the policy pack over resources.json; policy-config.json for `pulumi preview` --------
        policy_report = planning.evaluate_policies(result)
        planning.write_policy_files(result, policy_report)
        policy_reports[result.name] = policy_report
        if not as_json:
            _print_policy_report(result.name, policy_report)
        failed = failed or not policy_report.passed
        # -- checkov over manifests/ and the Dockerfiles, then compliance.json/md ----------------
        step = _check_and_report(result, policy_report, skip_checkov, quiet=as_json)
        checked[result.name] = step
        failed = failed or not step.ok
    if as_json:
        json.dump(
            [
                {
                    "name": r.name,
                    "stack": r.synthesis.stack,
                    "out": str(r.out_dir),
                    "resources": len(r.synthesis.resources),
                    "byType": dict(r.type_counts()),
                    "checkov": _checkov_json(checked[r.name]),
                    "compliance": checked[r.name].report["summary"],
                    "policies": _policy_json(policy_reports[r.name]),
                }
                for r in summaries
            ],
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    if failed:
        raise typer.Exit(EXIT_VIOLATIONS)


def _check_and_report(
    result: planning.PlanResult, policy_report: object, skip_checkov: bool, quiet: bool
) -> planning.ComplianceStep:
    """checkov (gated by policies/checkov/gate.yaml) and the compliance report, with progress."""
    from infra.checkov import CheckovError, CheckovUnavailable

    out = errors if quiet else console
    try:
        with out.status(f"checkov {result.name}…", spinner="dots") as status:
            step = planning.check_and_report(
                result,
                policy_report,
                skip_checkov=skip_checkov,
                progress=lambda message: status.update(f"{result.name}: {message}"),
            )
    except CheckovUnavailable as error:
        errors.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except CheckovError as error:
        errors.print(f"[bold red]checkov failed:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_VIOLATIONS) from None
    ran = step.checkov
    if ran is None:
        out.print(f"[yellow]{result.name}: checkov skipped (--skip-checkov); never in CI[/]")
    else:
        failed = sum(1 for r in ran.records if r.status == "failed")
        out.print(
            f"{result.name}: checkov {ran.version}: {len(ran.records)} results, {failed} failed, "
            f"[{'red' if ran.gated_failures else 'green'}]{len(ran.gated_failures)} gated[/], "
            f"{sum(n for _, n in ran.skip_usage())} skipped with a reason, {ran.seconds:.1f}s",
            highlight=False,
            soft_wrap=True,
        )
        # one line per failure: readable in CI logs at any width, and greppable
        for record in ran.gated_failures:
            out.print(
                f"  [red]FAIL[/] {record.check_id} [{record.policy}] {record.resource} "
                f"({record.file}:{record.lines[0]}): {record.check_name}",
                highlight=False,
                soft_wrap=True,
            )
        for message in ran.errors:
            out.print(f"  [red]ERROR[/] {message}", highlight=False, soft_wrap=True)
    summary = step.report["summary"]
    out.print(
        f"{result.name}: compliance {summary['result'].upper()} "
        f"({summary['controls'].get('fail', 0)} of {summary['controls']['total']} controls "
        f"failing) → {result.out_dir}/compliance.md",
        highlight=False,
        soft_wrap=True,
    )
    return step


# --------------------------------------------------------------------------- policy pack


@app.command()
def check(
    stack: StackOpt = None,
    set_: SetOpt = None,
    resources: Annotated[
        Path | None,
        typer.Option("--resources", help="Evaluate a recorded plan: PATH/resources.json."),
    ] = None,
    policy_config: Annotated[
        Path | None,
        typer.Option(
            "--policy-config",
            help="Pack config: a policy-config.json (default: the stack's, or the one beside "
            "--resources) or a flat PackConfig JSON.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Advisory (medium) violations fail too.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the CrossGuard policy pack offline, writing nothing.

    Over a stack (`--stack NAME [--set K=V]`, synthesized in memory) or over a recorded plan
    (`--resources build/NAME/resources.json`). Exit 1 on a mandatory violation (any with --strict).
    """
    from policies.evaluate import evaluate, load_config, load_resources

    if (stack is None) == (resources is None) or (set_ and resources is not None):
        errors.print("error: give either --stack NAME [--set K=V] or --resources PATH")
        raise typer.Exit(EXIT_USAGE)
    levels: dict[str, str] = {}
    try:
        config_file = policy_config
        if config_file is None and resources is not None:
            beside = resources.parent / planning.POLICY_CONFIG_FILE
            config_file = beside if beside.exists() else None
        config = None
        if config_file is not None:
            config, levels = load_config(config_file)
        if resources is not None:
            name, items = resources.parent.name, load_resources(resources)
        else:
            assert stack is not None
            variant = _targets(stack, set_, False)[0]
            with console.status(f"synthesizing {variant.name}…", spinner="dots"):
                result = planning.synthesize_stack(variant.stack, variant.overrides, variant.name)
            name = variant.name
            items = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
            config = config or planning.policy_config(result.config)
    except ConfigError as error:
        raise _fail_config(error) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        errors.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    report = evaluate(items, config, levels)
    if as_json:
        sys.stdout.write(json.dumps({"name": name, **report.to_dict()}, indent=2) + "\n")
    else:
        _print_policy_report(name, report)
    if report.mandatory or (strict and report.advisory):
        raise typer.Exit(EXIT_VIOLATIONS)


def _checkov_json(step: planning.ComplianceStep) -> Any:
    """checkov's result as JSON, or None where it did not run (--skip-checkov)."""
    checkov = step.checkov
    return checkov.to_json() if checkov else None


def _policy_json(report: Any) -> dict[str, Any]:
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


def _print_policy_report(name: str, report: Any) -> None:
    """Each violation: policy, severity, resource URN, what is wrong, the fix.

    A table on a terminal; one greppable line per violation (plus its fix) in logs and pipes,
    where a table would fold URNs across lines.
    """
    summary = report.summary()
    findings = sorted(report.findings, key=lambda f: (f.enforcement != "mandatory", f.policy_id))
    if findings and console.is_terminal:
        table = Table(title=f"{name}: policy violations", show_lines=True)
        for column in ("policy", "severity", "resource", "what is wrong", "fix"):
            table.add_column(column, overflow="fold")
        for f in findings:
            style = "red" if f.enforcement == "mandatory" else "yellow"
            severity = f"[{style}]{f.severity} ({f.enforcement})[/]"
            table.add_row(
                f.policy_id, severity, esc(f.urn or "(stack)"), esc(f.message), esc(f.remediation)
            )
        console.print(table)
    else:
        for f in findings:
            label = "[red]FAIL[/]" if f.enforcement == "mandatory" else "[yellow]WARN[/]"
            console.print(
                f"  {label} {f.policy_id} \\[{f.severity}] {esc(f.urn or '(stack)')}: "
                f"{esc(f.message)}\n       fix: {esc(f.remediation)}",
                highlight=False,
                soft_wrap=True,
                markup=True,
            )
    for result in report.results:
        for e in result.exemptions:
            console.print(
                f"  [cyan]EXEMPT[/] {e.policy_id} {esc(e.urn)}: {esc(e.reason)}",
                highlight=False,
                soft_wrap=True,
            )
    verdict = "[green]PASS[/]" if report.passed else "[red]FAIL[/]"
    console.print(
        f"{name}: policies {verdict}: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['notApplicable']} not applicable; {summary['mandatoryViolations']} mandatory "
        f"and {summary['advisoryViolations']} advisory violations, "
        f"{summary['exemptionsApplied']} exemptions applied",
        highlight=False,
        soft_wrap=True,
    )


def _print_summary(result: planning.PlanResult) -> None:
    table = Table(title=f"{result.name}: {len(result.synthesis.resources)} resources")
    table.add_column("type")
    table.add_column("count", justify="right")
    for typ, count in result.type_counts():
        table.add_row(typ, str(count))
    console.print(table)
    console.print(f"plan written to {result.out_dir}")


@app.command()
def outputs(
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the tenant contract's JSON Schema.")
    ] = False,
    stack: StackOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the tenant contract: its JSON Schema, or a stack's synthesized exports."""
    from stacks import contract

    if schema:
        sys.stdout.write(json.dumps(contract.schema(), indent=2) + "\n")
        return
    if not stack:
        errors.print("error: give --schema or --stack NAME")
        raise typer.Exit(EXIT_USAGE)
    try:
        result = planning.synthesize_stack(stack, tuple(set_ or ()))
    except ConfigError as error:
        raise _fail_config(error) from None
    from infra.synth.recording import redact

    sys.stdout.write(json.dumps(redact(result.synthesis.outputs), indent=2) + "\n")


@app.command()
def catalogue(as_json: JsonOpt = False) -> None:
    """List every pinned chart and image (what an air-gapped site must mirror)."""
    from version_catalogue import CHARTS, IMAGES

    if as_json:
        data = {
            "charts": {k: vars(v) for k, v in CHARTS.items()},
            "images": {k: vars(v) for k, v in IMAGES.items()},
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(title="charts")
    for column in ("key", "chart", "version", "upstream"):
        table.add_column(column)
    for key, chart in CHARTS.items():
        table.add_row(key, chart.name, chart.version, chart.upstream)
    console.print(table)
    table = Table(title="images")
    for column in ("key", "path", "tag", "digest", "upstream"):
        table.add_column(column)
    for key, image in IMAGES.items():
        table.add_row(key, image.path, image.tag, image.digest or "-", image.upstream)
    console.print(table)


# Post-deploy verification: the pytest-testinfra suite in tests/verify/ (see infra/verify/).
app.command("verify")(verify_command)

# The embedded local platform for tenants (infra/local/).
app.add_typer(local_app, name="local")


def main() -> None:  # pragma: no cover - console script shim
    app()
