"""The chart cache on the command line: `--charts`, the render step's output, `charts pull`.

`--charts DIR` (plan, check) names the chart cache; without it `MLP_CHARTS`, then the reference
charts beside the repository. A missing cache or chart is a usage error (exit 2) naming the
chart and version. `mlplatform charts pull --stack NAME [--charts DIR]` fills the cache from the
stack's mirror (`oci://<mirror>/charts/<name>` at the catalogue's versions) with Helm's registry
client; credentials are Helm's own (`helm registry login <mirror>`, its registry config file) or
`MLP_REGISTRY_USERNAME` / `MLP_REGISTRY_PASSWORD`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infra import plan as planning
from infra.cli.errors import console, errors, escape, usage
from infra.render import ChartCache, ChartMissing, NoChartCache
from infra.render.checks import RenderReport

ChartsOpt = Annotated[
    Path | None,
    typer.Option(
        "--charts",
        file_okay=False,
        help="Chart cache: chart trees or <name>-<version>.tgz (default: $MLP_CHARTS, else "
        "../shared/reference/charts). Fill it with `mlplatform charts pull`.",
    ),
]
USERNAME_ENV, PASSWORD_ENV = "MLP_REGISTRY_USERNAME", "MLP_REGISTRY_PASSWORD"

app = typer.Typer(help="The chart cache plans render Helm releases from.", no_args_is_help=True)


def chart_cache(charts: Path | None) -> ChartCache:
    """The cache for --charts (or the default); a usage error when --charts is no directory."""
    try:
        return ChartCache.resolve(charts)
    except NoChartCache as error:
        raise usage(error) from None


def render(result: planning.PlanResult, cache: ChartCache, quiet: bool) -> planning.RenderStep:
    """The render step with a spinner; a chart missing from the cache is exit 2."""
    out: Console = errors if quiet else console
    try:
        with out.status(f"rendering {escape(result.name)}'s Helm releases…", spinner="dots"):
            step = planning.render_and_check(result, cache)
    except (ChartMissing, NoChartCache) as error:
        raise usage(error) from None
    render_report(out, result.name, step.report)
    return step


def render_report(out: Console, name: str, report: RenderReport) -> None:
    """One line per finding (check id, release, what is wrong), then the verdict."""
    for f in report.findings:
        label = "[red]FAIL[/]" if f.mandatory else "[yellow]WARN[/]"
        out.print(
            f"  {label} {escape(f.check)} {escape(f.message)}\n       fix: {escape(f.remediation)}",
            highlight=False,
            soft_wrap=True,
        )
    verdict = "[green]PASS[/]" if report.passed else "[red]FAIL[/]"
    out.print(
        f"{escape(name)}: rendered releases {verdict}: {len(report.releases)} releases, "
        f"{len(report.mandatory)} mandatory and {len(report.findings) - len(report.mandatory)} "
        f"advisory findings, {len(report.waivers)} declared gaps/accepted",
        highlight=False,
        soft_wrap=True,
    )


@app.command("pull")
def pull(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack whose mirror to pull from.")],
    charts: ChartsOpt = None,
    plain_http: Annotated[
        bool, typer.Option("--plain-http", help="Talk HTTP to the mirror (a local registry).")
    ] = False,
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Pull from this registry path instead of the stack's."),
    ] = None,
) -> None:
    """Fill the chart cache with every chart the catalogue pins, from the stack's mirror."""
    from stacks.config.loader import stack_config
    from version_catalogue import CHARTS

    config, _ = stack_config(stack, ())
    source = mirror or config.image_registry
    target = charts or Path(os.environ.get("MLP_CHARTS") or "charts")
    target.mkdir(parents=True, exist_ok=True)
    for chart in sorted(CHARTS.values(), key=lambda c: c.name):
        ref = chart.oci(source)
        path = pull_chart(ref, chart.version, target, plain_http)
        console.print(f"pulled {ref} {chart.version} → {path}", markup=False, highlight=False)


def pull_chart(ref: str, version: str, target: Path, plain_http: bool = False) -> str:
    """One chart from an OCI registry into `target` as <name>-<version>.tgz (exit 2 on error)."""
    import helm_python

    client = helm_python.RegistryClient(plain_http=plain_http)
    try:
        user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
        if user and password:
            host = ref.removeprefix("oci://").split("/", 1)[0]
            client.login(host, user, password, plain_http=plain_http)
        result = client.pull(ref, version=version, destination=target, plain_http=plain_http)
    except helm_python.HelmError as error:
        raise usage(f"charts pull {ref} {version}: {' '.join(str(error).split())}") from None
    finally:
        client.close()
    return str(result.get("output") or target)
