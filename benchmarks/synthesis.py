"""Synthesis scaling: the offline plan of both stacks with 1..100 tenants against plain
registration of as many resources under the same mocks, each point in a fresh process.

Per stack and size: the real plan (`synth_worker stack`) reports how many resources it
registered; the two baselines then register exactly that many (`synth_worker plain`, typed
ConfigMaps and bare CustomResources), right after it, so all three see the same machine load.
Over `synth_repeats` processes per point, times are the minimum (noise on a shared machine only
ever adds time) and peak RSS the median. Growth is fitted with a least-squares line over the
tenant counts (slope, R²).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, figure
from benchmarks.stats import linear_fit, median

STACKS = ("uae-onprem", "uae-cloud")
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300.0


def _worker(*args: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "benchmarks.synth_worker", *args]
    done = subprocess.run(
        argv, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = "\n".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(args)} failed (exit {done.returncode}): {last}")
    return dict(json.loads(lines[-1]))


def _median_of(runs: list[dict[str, Any]], key: str) -> float:
    return median([float(r[key]) for r in runs])


def _fastest(runs: list[dict[str, Any]], key: str) -> float:
    return min(float(r[key]) for r in runs)


def run(
    sizes: tuple[int, ...], repeats: int, scratch: Path, progress: Callable[[str], None]
) -> tuple[dict[str, Any], list[Figure]]:
    details: dict[str, Any] = {"sizes": list(sizes), "repeats": repeats, "stacks": {}}
    figures: list[Figure] = []
    for stack in STACKS:
        points = []
        for tenants in sizes:
            progress(f"synthesis: {stack} with {tenants} tenant(s)")
            real, typed, bare = [], [], []
            for _ in range(repeats):
                real.append(
                    _worker(
                        "stack",
                        "--stack",
                        stack,
                        "--tenants",
                        str(tenants),
                        "--write-dir",
                        str(scratch / f"{stack}-{tenants}"),
                        *(["--replay"] if tenants == sizes[-1] else []),
                    )
                )
                count = str(real[-1]["resources"])
                typed.append(_worker("plain", "--stack", stack, "--resources", count))
                bare.append(
                    _worker("plain", "--stack", stack, "--resources", count, "--kind", "bare")
                )
            points.append(
                {
                    "tenants": tenants,
                    "resources": real[-1]["resources"],
                    "synth_seconds": _fastest(real, "synth_seconds"),
                    "plan_seconds": _fastest(real, "plan_seconds"),
                    "write_seconds": _fastest(real, "write_seconds"),
                    "policies_seconds": _fastest(real, "policies_seconds"),
                    "peak_rss_mb": _median_of(real, "peak_rss_mb"),
                    "baseline_typed_seconds": _fastest(typed, "synth_seconds"),
                    "baseline_typed_peak_rss_mb": _median_of(typed, "peak_rss_mb"),
                    "baseline_bare_seconds": _fastest(bare, "synth_seconds"),
                    "baseline_bare_peak_rss_mb": _median_of(bare, "peak_rss_mb"),
                    "replay_seconds": (
                        _fastest(real, "replay_seconds") if tenants == sizes[-1] else None
                    ),
                    "runs": {"stack": real, "typed": typed, "bare": bare},
                }
            )
        xs = [float(p["tenants"]) for p in points]
        fits = {
            key: linear_fit(xs, [float(p[key]) for p in points]).to_json()
            for key in (
                "synth_seconds",
                "plan_seconds",
                "peak_rss_mb",
                "resources",
                "baseline_typed_seconds",
            )
        }
        details["stacks"][stack] = {"points": points, "fits": fits}
        figures += _figures(stack, points, fits)
    return details, figures


def _figures(stack: str, points: list[dict[str, Any]], fits: dict[str, Any]) -> list[Figure]:
    bench = f"synthesis {stack}"
    out = []
    for p in points:
        out.append(
            figure(
                bench,
                f"synthesize, {p['tenants']} tenant(s) ({p['resources']} resources)",
                p["synth_seconds"],
                "s",
                {
                    "typed plain resources": p["baseline_typed_seconds"],
                    "bare CustomResources": p["baseline_bare_seconds"],
                },
            )
        )
    largest = points[-1]
    worst = max(points, key=lambda p: p["synth_seconds"] / p["baseline_typed_seconds"])
    for label, p in (("largest size", largest), ("worst size", worst)):
        out.append(
            figure(
                bench,
                f"synthesis / typed plain registration, {p['tenants']} tenant(s) ({label})",
                p["synth_seconds"] / p["baseline_typed_seconds"],
                "x",
                target=("<=", 1.5),
                note=f"vs bare CustomResources: "
                f"{p['synth_seconds'] / p['baseline_bare_seconds']:.2f}x",
            )
        )
    out.append(
        figure(
            bench,
            f"synthesis / the same resources replayed plainly, {largest['tenants']} tenants",
            largest["synth_seconds"] / largest["replay_seconds"],
            "x",
            note="replay: the recorded types, names and inputs as plain CustomResources "
            "(no Outputs, no components' code): what is left is the program's own cost",
        )
    )
    out.append(
        figure(
            bench,
            f"plan in-process (synth + write + policies), {largest['tenants']} tenants",
            largest["plan_seconds"],
            "s",
            {"typed plain resources": largest["baseline_typed_seconds"]},
            ("<=", 20.0) if largest["tenants"] == 100 else None,
        )
    )
    out.append(
        figure(
            bench,
            f"peak RSS, {largest['tenants']} tenants",
            largest["peak_rss_mb"],
            "MB",
            {
                "typed plain resources": largest["baseline_typed_peak_rss_mb"],
                "bare CustomResources": largest["baseline_bare_peak_rss_mb"],
            },
        )
    )
    synth, rss = fits["synth_seconds"], fits["peak_rss_mb"]
    out.append(
        figure(
            bench,
            "synthesis growth: slope per tenant",
            synth["slope"],
            "s/tenant",
            note=f"R² {synth['r2']:.4f}; resources/tenant {fits['resources']['slope']:.1f}",
        )
    )
    out.append(
        figure(
            bench,
            "synthesis growth: R² of the linear fit",
            synth["r2"],
            "",
            target=(">=", 0.98),
            note="linear growth criterion (ours): R² >= 0.98",
        )
    )
    out.append(
        figure(
            bench,
            "peak RSS growth: slope per tenant",
            rss["slope"],
            "MB/tenant",
            note=f"R² {rss['r2']:.4f}",
        )
    )
    return out
