"""`mlplatform plan --all` with and without rendering, the cluster simulation and the access
matrix, and how that plan grows with tenants (issue 11; issue 17 goal 4: within 1.3x; 500
tenants in at most 45 s, linear growth with R² >= 0.98 on both targets).

Two fresh processes run every shipped variant's plan both ways, interleaved (`plan_worker`),
each step in the CLI's order (checkov reads the written files while the later steps run): the
first with an empty chart-YAML cache (`cold`: what a new machine pays once), the second reusing
it (`warm`: every later plan). The figure is the plan with rendering over the plan without it,
summed over the variants, per process; the steps' own seconds are beside it. A third process
runs the warm pair without the preview step in either arm (`warm, no preview`: the arms as they
were measured before the preview step joined `plan`), reported beside the goal's figures.

Then, per target (`uae-onprem`, `uae-cloud`), one fresh process per tenant count plans the
stack with that many generated tenants through rendering, simulation and the access matrix
(checkov left out: it is measured per variant above). Its same-process baseline is the plan
without those steps (synthesis, files, policy pack). Growth is a least-squares line over the
counts; the stack configuration admits at most 200 tenants (stacks/config/model.py, issue
14.4), so the 500-tenant figure is the line's value at 500, reported as such.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, figure
from benchmarks.stats import linear_fit

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 1800.0
STACKS = ("uae-onprem", "uae-cloud")
STEPS = ("render", "pins", "simulate", "tenancy")  # what plan B adds to plan A
TARGET_TENANTS = 500


def _worker(out: Path, cache: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "MLP_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.plan_worker", str(out), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"plan_worker failed (exit {done.returncode}): {last}")
    return dict(json.loads(lines[-1]))


def _sum(rows: list[dict[str, Any]], which: str, key: str) -> float:
    return sum(row[which].get(key, 0.0) for row in rows)


def run(scratch: Path, progress: Callable[[str], None]) -> tuple[dict[str, Any], list[Figure]]:
    """`plan`: plan --all with and without rendering, simulation and the access matrix."""
    details: dict[str, Any] = {}
    figures: list[Figure] = []
    cache = scratch / "yaml-cache"
    shutil.rmtree(cache, ignore_errors=True)  # cold means cold: an earlier run's cache is gone
    for label, args in (("cold", ()), ("warm", ()), ("warm, no preview", ("--no-preview",))):
        progress(f"plan --all with and without rendering ({label} chart-YAML cache)")
        rows = _worker(scratch / label.replace(", ", "-").replace(" ", "-"), cache, *args)
        details[label], figs = _all_variants(label, rows["variants"], goal=not args)
        figures += figs
    return details, figures


def run_tenants(
    scratch: Path, progress: Callable[[str], None], sizes: tuple[int, ...]
) -> tuple[dict[str, Any], list[Figure]]:
    """`plan-tenants`: each target's plan with rendering at each tenant count, fitted."""
    details: dict[str, Any] = {}
    figures: list[Figure] = []
    cache = scratch / "yaml-cache"
    if not cache.is_dir():  # the charts' YAML parsed once, unrecorded (the cold figure is plan's)
        progress("plan with rendering: filling the chart-YAML cache (not measured)")
        _worker(scratch / "warm-up", cache, "--stack", STACKS[0], "--tenants", "1")
    for stack in STACKS:
        points = []
        for tenants in sizes:
            progress(f"plan with rendering: {stack} with {tenants} tenant(s)")
            out = scratch / f"{stack}-{tenants}"
            args = ("--stack", stack, "--tenants", str(tenants))
            points.append(_worker(out, cache, *args))
        details[stack], figs = _tenants(stack, points)
        figures += figs
    return details, figures


def _all_variants(
    label: str, rows: list[dict[str, Any]], goal: bool = True
) -> tuple[dict[str, Any], list[Figure]]:
    without, with_render = _sum(rows, "A", "total"), _sum(rows, "B", "total")
    steps = {step: round(_sum(rows, "B", step), 2) for step in STEPS}
    checkov = {w: round(_sum(rows, w, "checkov_and_report"), 2) for w in ("A", "B")}
    preview = {w: round(_sum(rows, w, "preview"), 2) for w in ("A", "B")}
    details = {
        "variants": rows,
        "without_rendering_s": round(without, 2),
        "with_rendering_s": round(with_render, 2),
        "render_step_s": steps["render"],
        "simulate_step_s": steps["simulate"],
        "tenancy_step_s": steps["tenancy"],
        "pins_step_s": steps["pins"],
        "checkov_and_report_s": checkov,
        "preview_s": preview,
    }
    note = (
        f"render {steps['render']:.1f} s, mirror pins {steps['pins']:.1f} s, simulation "
        f"{steps['simulate']:.1f} s, access matrix {steps['tenancy']:.1f} s; preview "
        f"{preview['B']:.1f} s vs {preview['A']:.1f} s; checkov's remaining wait + report "
        f"{checkov['B']:.1f} s vs {checkov['A']:.1f} s; ABBA per variant in one process"
    )
    figures = [
        figure(
            "plan",
            f"plan --all with rendering, simulation, access matrix ({label} cache)",
            with_render,
            "s",
            {"plan --all without them, same process": without},
            ("<=", 1.3 * without) if goal else None,
            note=note,
        ),
        figure(
            "plan",
            f"plan --all with / without rendering, simulation, access matrix ({label} cache)",
            with_render / without,
            "x",
            target=("<=", 1.3) if goal else None,
            note="issue 17 goal 4" if goal else "for comparison with the arms measured before",
        ),
    ]
    return details, figures


def _tenants(stack: str, points: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Figure]]:
    xs = [float(p["tenants"]) for p in points]
    totals = [float(p["total"]) for p in points]
    fit = linear_fit(xs, totals)
    bench = f"plan tenants {stack}"
    figures = [
        figure(
            bench,
            f"plan with rendering, simulation, access matrix: {p['tenants']} tenant(s)",
            p["total"],
            "s",
            {"synthesis, files, policy pack (same process)": p["synthesis"] + p["policies"]},
            note=", ".join(f"{step} {p.get(step, 0.0):.2f} s" for step in STEPS),
        )
        for p in points
    ]
    at_target = fit.slope * TARGET_TENANTS + fit.intercept
    figures += [
        figure(
            bench,
            f"growth with tenants ({int(xs[0])}..{int(xs[-1])}): R² of a line",
            fit.r2,
            "",
            target=(">=", 0.98),
            note=f"{fit.slope:.3f} s per tenant + {fit.intercept:.1f} s",
        ),
        figure(
            bench,
            f"{TARGET_TENANTS} tenants, from the line (the configuration admits at most 200)",
            at_target,
            "s",
            target=("<=", 45.0),
            note="extrapolated, not measured: stacks/config/model.py bounds tenants at 200",
        ),
    ]
    return {"points": points, "fit": fit.to_json(), "at_500_s": round(at_target, 2)}, figures
