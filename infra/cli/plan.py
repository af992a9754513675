"""`mlplatform plan` and `mlplatform check`: offline plans and the policy pack over them."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from infra import plan as planning
from infra.cli.charts import ChartsOpt, chart_cache, render, render_report
from infra.cli.errors import EXIT_VIOLATIONS, console, errors, escape, fail, usage
from infra.cli.pins import pins
from infra.cli.preview import preview
from infra.cli.reports import (
    checkov_result,
    compliance_line,
    plan_json,
    plan_summary,
    policy_report,
)
from infra.cli.simulation import report as simulation_report
from infra.cli.simulation import simulate, simulate_recorded
from infra.cli.tenancy import report as tenancy_report
from infra.cli.tenancy import tenancy, tenancy_recorded
from infra.evidence.checkov import CheckovError, CheckovUnavailable, RunningScan
from infra.mirror.pins import PinReport
from infra.plan import tenancy_step
from infra.render import ChartMissing, NoChartCache, warmup
from policies.evaluate import Report, evaluate, load_config, load_resources
from policies.pack_config import PackConfig

StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="Stack name, e.g. uae-onprem.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config key for this run: KEY=VALUE (repeatable)."),
]
OutOpt = Annotated[
    Path,
    typer.Option("--out", file_okay=False, help="Output directory; the plan goes to OUT/NAME/."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Plan every shipped stack and variant.")]
SkipCheckovOpt = Annotated[
    bool,
    typer.Option(
        "--skip-checkov",
        help="Inner loops only, never CI: skip checkov (the compliance report says so).",
    ),
]
ResourcesOpt = Annotated[
    Path | None,
    typer.Option(
        "--resources", dir_okay=False, help="Evaluate a recorded plan: PATH/resources.json."
    ),
]
PolicyConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy-config",
        dir_okay=False,
        help="Pack config: a policy-config.json (default: the stack's, or the one beside "
        "--resources) or a flat PackConfig JSON.",
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Advisory (medium) violations fail too.")]


def targets(stack: str | None, overrides: list[str] | None, all_: bool) -> list[planning.Variant]:
    """The variants a command covers: every shipped one (--all) or one stack with overrides."""
    if all_ and (stack or overrides):
        raise usage("--all plans every shipped stack and variant; drop --stack/--set")
    if all_:
        return list(planning.VARIANTS)
    if not stack:
        raise usage("give --stack NAME (or --all)")
    name = stack
    cloud = [o.split("=", 1)[1] for o in overrides or [] if o.startswith("cloud=")]
    if cloud and cloud[-1] != "aws":
        name = f"{stack}-{cloud[-1]}"
    return [planning.Variant(name, stack, tuple(overrides or ()))]


def synthesize(variant: planning.Variant, quiet: bool = False) -> planning.PlanResult:
    """The variant synthesized under mocks, with a spinner (config errors reach the handler)."""
    out = errors if quiet else console
    with out.status(f"synthesizing {escape(variant.name)}…", spinner="dots"):
        return planning.synthesize_stack(variant.stack, variant.overrides, variant.name)


def plan(
    stack: StackOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("build"),
    all_: AllOpt = False,
    as_json: JsonOpt = False,
    skip_checkov: SkipCheckovOpt = False,
    charts: ChartsOpt = None,
) -> None:
    """Synthesize a stack offline (no Pulumi CLI, credentials or network) and write the plan."""
    planned: list[dict[str, Any]] = []
    failed = False
    variants = targets(stack, set_, all_)
    _check_out(out)
    cache = chart_cache(charts)
    with warmup.running(cache):  # a machine's first plan: the charts' CRDs parsed beside it
        for variant in variants:
            if not skip_checkov:  # checkov's imports beside the synthesis, not after it
                planning.prepare_checkov()
            result = synthesize(variant, quiet=as_json)
            _write(result, out)
            if not as_json:
                plan_summary(result)
            # -- the policy pack over resources.json; policy-config.json for `pulumi preview` ------
            report = planning.evaluate_policies(result)
            planning.write_policy_files(result, report)
            if not as_json:
                policy_report(result.name, report)
            # -- every Helm release rendered with its chart; releases/ and render-report.json ------
            rendered = render(result, cache, quiet=as_json)
            # -- checkov reads manifests/ and releases/ while the steps below run ------------------
            checkov = None if skip_checkov else _start_checkov(result)
            try:
                # -- the same stack as a first `pulumi preview` sees it, and the pack over that ----
                previewed = preview(result, report, quiet=as_json)
                # -- every image pinned by the digest the stack's mirror lock records --------------
                pinned = pins(result, rendered, quiet=as_json)
                # -- admission, scheduling, references and flows on the target cluster -------------
                simulated = simulate(result, rendered, quiet=as_json)
                # -- the cross-tenant access matrix (UAE-TEN-001): every channel, every tenant pair
                isolated = tenancy(result, rendered, quiet=as_json)
                # -- checkov's result (gated), then compliance.json/md -----------------------------
                step = _check_and_report(
                    result,
                    report,
                    skip_checkov,
                    as_json,
                    Steps(rendered, simulated, previewed, isolated, pinned),
                    checkov,
                )
            finally:
                if checkov is not None:
                    checkov.stop()
            failed = failed or not report.passed or not step.ok or not rendered.ok
            failed = failed or not simulated.ok or not previewed.passed or not isolated.ok
            failed = failed or not pinned.passed
            planned.append(
                {
                    **plan_json(result, step, report),
                    "rendering": rendered.report.to_dict(),
                    "simulation": simulated.report(),
                    "tenancy": isolated.report(),
                    "preview": planning.preview_summary(previewed),
                    "mirror": pinned.to_dict(),
                }
            )
    if as_json:
        sys.stdout.write(json.dumps(planned, indent=2) + "\n")
    if failed:
        raise typer.Exit(EXIT_VIOLATIONS)


def _check_out(out: Path) -> None:
    """--out must be a directory, or creatable: its nearest existing ancestor a writable one."""
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise usage(f"--out {out}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise usage(f"--out {out}: {existing} is not writable")


def _write(result: planning.PlanResult, out: Path) -> None:
    try:
        planning.write_plan(result, out)
    except OSError as error:
        reason = error.strerror or error
        raise usage(f"--out {out}: cannot write the plan there: {reason}") from None


@dataclass(frozen=True)
class Steps:
    """What a plan's steps found, for its compliance report."""

    rendered: planning.RenderStep
    simulated: planning.SimulationStep
    previewed: planning.PreviewStep
    isolated: tenancy_step.TenancyStep
    pinned: PinReport


def _start_checkov(result: planning.PlanResult) -> RunningScan:
    try:
        return planning.start_checkov(result)
    except CheckovUnavailable as error:
        raise usage(error) from None


def _check_and_report(
    result: planning.PlanResult,
    report: Report,
    skip_checkov: bool,
    quiet: bool,
    steps: Steps,
    checkov: RunningScan | None,
) -> planning.ComplianceStep:
    """checkov (gated by policies/checkov/gate.yaml) and the compliance report, with progress."""
    out: Console = errors if quiet else console
    try:
        with out.status(f"checkov {escape(result.name)}…", spinner="dots") as status:
            step = planning.check_and_report(
                result,
                report,
                skip_checkov=skip_checkov,
                progress=lambda text: status.update(escape(f"{result.name}: {text}")),
                rendering=steps.rendered.report.to_dict(),
                simulation=steps.simulated.report(),
                tenancy=steps.isolated.report(),
                preview=planning.preview_summary(steps.previewed),
                mirror=steps.pinned.to_dict(),
                checkov=checkov,
            )
    except CheckovError as error:
        raise fail(error, EXIT_VIOLATIONS, label="checkov failed") from None
    checkov_result(out, result.name, step.checkov)
    compliance_line(out, result, step.report)
    return step


def check(
    stack: StackOpt = None,
    set_: SetOpt = None,
    resources: ResourcesOpt = None,
    policy_config: PolicyConfigOpt = None,
    strict: StrictOpt = False,
    as_json: JsonOpt = False,
    charts: ChartsOpt = None,
) -> None:
    """Evaluate the CrossGuard policy pack offline, writing nothing.

    Over a stack (`--stack NAME [--set K=V]`, synthesized in memory) or over a recorded plan
    (`--resources build/NAME/resources.json`). Its Helm releases are rendered from the chart
    cache (`--charts`) and checked too, and the cluster simulated (with the contract beside
    --resources, when there is one). Exit 1 on a mandatory violation (any with --strict).
    """
    if (stack is None) == (resources is None) or (set_ and resources is not None):
        raise usage("give either --stack NAME [--set K=V] or --resources PATH")
    config_file = policy_config
    if config_file is None and resources is not None:
        beside = resources.parent / planning.POLICY_CONFIG_FILE
        config_file = beside if beside.exists() else None
    config, levels = _pack_config(config_file)
    cache = chart_cache(charts)
    version = planning.render_step.DEFAULT_KUBERNETES
    if resources is not None:
        name, items = resources.parent.name, _recorded(resources)
    else:
        result = synthesize(targets(stack, set_, False)[0], quiet=as_json)
        name, version = result.name, result.config.kubernetes.version
        items = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
        config = config or planning.policy_config(result.config)
    report = evaluate(items, config, levels)
    try:
        rendered = planning.render_recorded(items, cache, config or PackConfig(), version)
    except (ChartMissing, NoChartCache) as error:
        raise usage(error) from None
    pinned: PinReport | None = None  # a recorded plan does not say which lock it was made with
    if resources is not None:
        simulated = simulate_recorded(items, rendered, resources)
        isolated = tenancy_recorded(items, rendered, resources)
    else:
        simulated = planning.simulate_plan(result, rendered.objects)
        isolated = tenancy_step.tenancy_plan(result, rendered.objects)
        pinned = pins(result, rendered, quiet=as_json)
    if as_json:
        body = {"name": name, **report.to_dict(), "rendering": rendered.report.to_dict()}
        body["simulation"] = simulated.report()
        body["tenancy"] = isolated.report()
        body["mirror"] = pinned.to_dict() if pinned is not None else None
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        policy_report(name, report)
        render_report(console, name, rendered.report)
        simulation_report(console, name, simulated.report())
        tenancy_report(console, name, isolated.report())
    failed = report.mandatory or not rendered.ok or not simulated.ok or not isolated.ok
    failed = failed or (pinned is not None and not pinned.passed)
    if failed or (strict and report.advisory):
        raise typer.Exit(EXIT_VIOLATIONS)


def _pack_config(path: Path | None) -> tuple[PackConfig | None, dict[str, str]]:
    if path is None:
        return None, {}
    try:
        return load_config(path)
    except OSError as error:
        raise usage(f"--policy-config {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise usage(f"--policy-config {path}: not a pack config: {_reason(error, path)}") from None


def _recorded(path: Path) -> list[dict[str, Any]]:
    try:
        return load_resources(path)
    except OSError as error:
        raise usage(f"--resources {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError) as error:
        reason = _reason(error, path)
        raise usage(f"--resources {path}: not a plan's resources.json: {reason}") from None


def _reason(error: Exception, path: Path) -> str:
    """The error's text without the file name the message already gives."""
    return str(error).removeprefix(f"{path}: ")
