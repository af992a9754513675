"""`mlplatform plan --all` with and without rendering and the cluster simulation (issue 11; issue
17 goal 4: within 1.3x).

Two fresh processes run every shipped variant's plan both ways, interleaved (`plan_worker`):
the first with an empty chart-YAML cache (`cold`: what a new machine pays once), the second
reusing it (`warm`: every later plan). The figure is the plan with rendering over the plan
without it, summed over the variants, per process; the render step's own seconds are beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, figure

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 1800.0


def _worker(out: Path, cache: Path) -> dict[str, Any]:
    env = {**os.environ, "MLP_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.plan_worker", str(out)],
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
    details: dict[str, Any] = {}
    figures: list[Figure] = []
    cache = scratch / "yaml-cache"
    for label in ("cold", "warm"):
        progress(f"plan --all with and without rendering ({label} chart-YAML cache)")
        rows = _worker(scratch / label, cache)["variants"]
        without, with_render = _sum(rows, "A", "total"), _sum(rows, "B", "total")
        details[label] = {
            "variants": rows,
            "without_rendering_s": round(without, 2),
            "with_rendering_s": round(with_render, 2),
            "render_step_s": round(_sum(rows, "B", "render"), 2),
            "simulate_step_s": round(_sum(rows, "B", "simulate"), 2),
        }
        figures.append(
            figure(
                "plan",
                f"plan --all with rendering ({label} cache)",
                with_render,
                "s",
                {"plan --all without rendering, same process": without},
                ("<=", 1.3 * without),
                note=f"render step {_sum(rows, 'B', 'render'):.1f} s and simulation "
                f"{_sum(rows, 'B', 'simulate'):.2f} s of it; "
                f"target 1.3x the same run's plan without rendering",
            )
        )
    return details, figures
