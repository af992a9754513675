"""`mlplatform mirror`: fill the stack's in-country mirror and record its digests in the lock.

    mlplatform mirror --stack NAME [--set K=V] [--from-registry HOST | --from-oci-layout DIR]
                      [--lock FILE] [--charts DIR] [--gpu-driver-os OS] [--plain-http] [--json]
    mlplatform mirror export --stack NAME --to DIR [--from-registry HOST] [--gpu-driver-os OS]
    mlplatform mirror list --stack NAME [--charts DIR] [--json]
    mlplatform mirror builds --stack NAME            (scripts/build-images.sh)
    mlplatform mirror record --stack NAME --image PATH:TAG --digest SHA256

`mirror` synthesizes the stack, copies every chart its releases pin into the mirror (and into a
chart cache: `--charts DIR`, else a temporary one), renders the plan from those charts to list
every image it pulls (operator-injected ones included), copies each image, and records every
digest the mirror serves in the lock (`locks/mirror/<stack>.lock.json`, or `--lock FILE`).
`export` writes the same charts and images into a directory to carry across an air gap (an OCI
layout for the images, the chart archives, inventory.json); `mirror --from-oci-layout DIR` reads
it on the other side. `list` prints what a plan needs, copying nothing. `builds` and `record`
serve the workload image builds (infra.mirror.builds): what to build from which locked base, and
the pushed digest into the lock once the mirror serves it.

Exit codes: 0 everything in place; 1 an artifact failed (each named, with why) or an image cannot
be mirrored (not on the stack's mirror, not in the catalogue); 2 usage, config or lock errors.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from infra import plan as planning
from infra.cli.charts import chart_cache
from infra.cli.errors import EXIT_VIOLATIONS, console, errors, escape, fail, usage
from infra.cli.plan import JsonOpt, SetOpt, StackOpt
from infra.mirror import (
    EXPORT_CHARTS,
    ChartNeed,
    ChartRegistry,
    Inventory,
    LockFile,
    Outcome,
    Skopeo,
    Source,
    copy_charts,
    copy_images,
    export,
    fetch_charts,
    inventory,
    needed_charts,
)
from infra.mirror.builds import builds, built_images
from infra.mirror.ping import RegistryUnreachable, ping
from infra.mirror.skopeo import SkopeoError
from infra.render import ChartCache, ChartMissing, NoChartCache, render_plan
from stacks.config.loader import ROOT
from stacks.pins import lock_file
from version_catalogue.lock import LockError, image_key

RegistryOpt = Annotated[
    str | None,
    typer.Option(
        "--from-registry",
        help="Copy from this registry (HOST or HOST/PATH, laid out like the mirror), not upstream.",
    ),
]
LayoutOpt = Annotated[
    Path | None,
    typer.Option(
        "--from-oci-layout",
        file_okay=False,
        exists=True,
        help="Copy from a directory `mlplatform mirror export` wrote (across an air gap).",
    ),
]
LockOpt = Annotated[
    Path | None,
    typer.Option(
        "--lock", dir_okay=False, help="The lock (default: locks/mirror/<stack>.lock.json)."
    ),
]
ChartsDirOpt = Annotated[
    Path | None,
    typer.Option("--charts", file_okay=False, help="Keep the fetched charts here (a chart cache)."),
]
DriverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--gpu-driver-os",
        help="OS of the GPU nodes where the GPU operator installs the driver (it pulls "
        "driver:<version>-<os>), e.g. ubuntu22.04 (repeatable).",
    ),
]
PlainHttpOpt = Annotated[
    bool, typer.Option("--plain-http", help="Talk HTTP to the registries (a local test registry).")
]
app = typer.Typer(
    help="Fill the stack's in-country mirror with every chart and image its plan needs.",
    invoke_without_command=True,
)


def _source(registry: str | None, layout: Path | None) -> Source:
    if registry and layout:
        raise usage("give --from-registry or --from-oci-layout, not both")
    return Source.of(registry, layout)


def _synthesize(stack: str | None, overrides: list[str] | None) -> planning.PlanResult:
    if not stack:
        raise usage("give --stack NAME")
    # What the platform needs, whatever phase the stack file is in: the mirror is filled right
    # after the bootstrap's `pulumi up`, while `mlplatform:phase` still says bootstrap.
    platform = (*(overrides or ()), "phase=platform")
    with errors.status(f"synthesizing {escape(stack)}…", spinner="dots"):
        return planning.synthesize_stack(stack, platform)


@contextmanager
def _chart_dir(charts: Path | None) -> Iterator[Path]:
    if charts is not None:
        charts.mkdir(parents=True, exist_ok=True)
        yield charts
        return
    with tempfile.TemporaryDirectory(prefix="mlp-charts-") as tmp:
        yield Path(tmp)


def _inventory(
    result: planning.PlanResult,
    cache: ChartCache,
    driver_os: list[str] | None,
    lock: LockFile | None = None,
) -> Inventory:
    """What the plan needs, rendered from `cache` (a missing chart is exit 2); `lock` names
    the images the program pinned by a digest alone."""
    try:
        objects = render_plan(result.synthesis.resources, cache)
    except (ChartMissing, NoChartCache) as error:
        raise usage(error) from None
    resources = [r.to_json() for r in result.synthesis.resources]
    locked = {k: e.digest for k, e in lock.lock.images.items()} if lock is not None else None
    mirror = result.config.image_registry
    return inventory(resources, objects, mirror, tuple(driver_os or ()), locked)


def _charts(result: planning.PlanResult) -> list[ChartNeed]:
    return needed_charts([r.to_json() for r in result.synthesis.resources])


def _show(outcome: Outcome) -> None:
    style = {"failed": "red", "skipped": "yellow"}.get(outcome.status, "green")
    out = errors if outcome.status == "failed" else console
    out.print(f"[{style}]{escape(outcome.line())}[/]", highlight=False, soft_wrap=True)


def _problems(inv: Inventory) -> None:
    """Images the plan pulls that cannot be mirrored: shown now, failing the run at the end."""
    for problem in inv.problems:
        errors.print(f"[red]cannot mirror[/] {escape(problem)}", highlight=False, soft_wrap=True)
    for need in inv.offered:
        errors.print(
            f"[yellow]not mirrored[/] {escape(need.key)}: offered by an operator setting "
            f"({escape(need.uses[0])}), not pulled by this plan; add it to the catalogue if it is",
            highlight=False,
            soft_wrap=True,
        )


def _finish(
    outcomes: list[Outcome], where: str, as_json: bool, problems: list[str] | None = None
) -> None:
    """The summary (and --json); exit 1 when an artifact failed or an image cannot be mirrored."""
    failed = [o for o in outcomes if o.status == "failed"]
    ok = not failed and not problems
    if as_json:
        body = {"target": where, "artifacts": [vars(o) for o in outcomes], "problems": problems}
        sys.stdout.write(json.dumps({**body, "ok": ok}, indent=2) + "\n")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("copied", "present", "skipped")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    bad = f"{len(failed)} failed, {len(problems or [])} cannot be mirrored"
    verdict = "[green]ok[/]" if ok else f"[red]{bad}[/]"
    errors.print(f"{escape(where)}: {summary}; {verdict}", highlight=False, soft_wrap=True)
    if not ok:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.callback(invoke_without_command=True)
def mirror(
    ctx: typer.Context,
    stack: StackOpt = None,
    overrides: SetOpt = None,
    from_registry: RegistryOpt = None,
    from_oci_layout: LayoutOpt = None,
    lock: LockOpt = None,
    charts: ChartsDirOpt = None,
    gpu_driver_os: DriverOpt = None,
    plain_http: PlainHttpOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy every chart and image the stack's plan needs into its mirror; lock the digests."""
    if ctx.invoked_subcommand is not None:
        return
    source = _source(from_registry, from_oci_layout)
    result = _synthesize(stack, overrides)
    target = result.config.image_registry
    try:
        locked = LockFile.open(lock or lock_file(result.name), result.name, target)
    except LockError as error:
        raise usage(error) from None
    try:
        ping(target, plain_http)
    except RegistryUnreachable as error:
        raise usage(f"the stack's mirror {target} does not answer: {error}") from None
    errors.print(f"mirroring into {escape(target)} from {escape(source.describe())}")
    registry, skopeo = ChartRegistry(plain_http), Skopeo(plain_http)
    with _chart_dir(charts) as cache:
        outcomes = copy_charts(_charts(result), source, target, locked, cache, registry, _show)
        if any(o.status == "failed" for o in outcomes):
            _finish(outcomes, target, as_json)
        inv = _inventory(result, ChartCache(cache), gpu_driver_os, locked)
    _problems(inv)
    outcomes += copy_images(inv.images, source, target, locked, skopeo, _show)
    errors.print(f"lock: {escape(str(locked.path))}", highlight=False)
    _finish(outcomes, target, as_json, inv.problems)


@app.command("export")
def export_command(
    stack: StackOpt = None,
    to: Annotated[
        Path | None, typer.Option("--to", file_okay=False, help="Directory to write.")
    ] = None,
    overrides: SetOpt = None,
    from_registry: RegistryOpt = None,
    gpu_driver_os: DriverOpt = None,
    plain_http: PlainHttpOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write every chart and image the plan needs into a directory to carry across an air gap."""
    if to is None:
        raise usage("give --to DIR")
    source = _source(from_registry, None)
    result = _synthesize(stack, overrides)
    charts = to / EXPORT_CHARTS
    charts.mkdir(parents=True, exist_ok=True)
    registry = ChartRegistry(plain_http)
    outcomes = fetch_charts(_charts(result), source, charts, registry, _show)
    if any(o.status == "failed" for o in outcomes):
        _finish(outcomes, str(to), as_json)
    inv = _inventory(result, ChartCache(charts), gpu_driver_os)
    _problems(inv)
    outcomes += export(inv, source, to, Skopeo(plain_http), _show)
    _finish(outcomes, str(to), as_json, inv.problems)


@app.command("list")
def list_command(
    stack: StackOpt = None,
    overrides: SetOpt = None,
    charts: Annotated[
        Path | None,
        typer.Option("--charts", file_okay=False, help="Chart cache to render from."),
    ] = None,
    gpu_driver_os: DriverOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every chart and image the stack's plan needs in its mirror, and where each is used."""
    result = _synthesize(stack, overrides)
    inv = _inventory(result, chart_cache(charts), gpu_driver_os)
    if as_json:
        sys.stdout.write(json.dumps(inv.as_json(), indent=2) + "\n")
    else:
        console.print(f"mirror: {escape(inv.mirror)}", highlight=False)
        for chart in inv.charts:
            console.print(f"chart {escape(chart.key)} ← {escape(chart.chart.upstream)}")
        for image in inv.images:
            console.print(f"image {escape(image.key)} ← {escape(image.image.upstream)}")
        _problems(inv)
    if inv.problems:
        raise typer.Exit(EXIT_VIOLATIONS)


def _lock_of(stack: str | None, overrides: list[str] | None, lock: Path | None) -> LockFile:
    """The stack's config (no synthesis) and its lock, which must record the stack's mirror."""
    from stacks.config.loader import stack_config

    if not stack:
        raise usage("give --stack NAME")
    config, _ = stack_config(stack, tuple(overrides or ()))
    try:
        return LockFile.open(lock or lock_file(stack), stack, config.image_registry)
    except LockError as error:
        raise usage(error) from None


@app.command("builds")
def builds_command(stack: StackOpt = None, overrides: SetOpt = None, lock: LockOpt = None) -> None:
    """The platform's own images to build: `key Dockerfile ref MIRROR BASE_DIGEST` per line
    (what scripts/build-images.sh reads); exit 2 while the base image is not in the lock."""
    locked = _lock_of(stack, overrides, lock)
    try:
        found = builds(locked.lock.mirror, locked.lock, ROOT)
    except LockError as error:
        raise usage(error) from None
    for build in found:
        sys.stdout.write(build.line() + "\n")


@app.command("record")
def record_command(
    image: Annotated[str, typer.Option("--image", help="The built image, <path>:<tag>.")],
    digest: Annotated[str, typer.Option("--digest", help="The digest the push reported.")],
    stack: StackOpt = None,
    overrides: SetOpt = None,
    lock: LockOpt = None,
    plain_http: PlainHttpOpt = False,
) -> None:
    """Record a platform image the build pushed: the mirror must serve `--digest` for it."""
    locked = _lock_of(stack, overrides, lock)
    if image not in {image_key(i) for i in built_images()}:
        built = ", ".join(image_key(i) for i in built_images())
        raise usage(f"--image {image} is not built by this repository; allowed: {built}")
    ref = f"docker://{locked.lock.mirror}/{image}"
    try:
        served = Skopeo(plain_http).digest(ref, mirror=True)
    except SkopeoError as error:
        raise fail(error, EXIT_VIOLATIONS) from None
    if served != digest:
        raise fail(f"{ref} serves {served}, not {digest}: nothing recorded", EXIT_VIOLATIONS)
    dockerfile = f"workloads/Dockerfile.{image.rpartition(':')[0]}"
    locked.record("image", image, digest, f"built by this repository ({dockerfile})")
    errors.print(f"recorded {escape(image)} {escape(digest)} in {escape(str(locked.path))}")
