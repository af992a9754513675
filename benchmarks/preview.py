"""The first-preview step of a plan: synthesis + the pack in preview mode against the same in
update mode (the baseline), every shipped variant, in one fresh process (`preview_worker`), in
ABBA order so a changing machine load weighs on both. Times are the minimum over the rounds
(noise on a shared machine only ever adds time); the figure is preview over update, summed over
the variants: what the preview step adds to `mlplatform plan --all` beside the synthesis it
repeats.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, figure

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 900.0


def run(rounds: int, progress: Callable[[str], None]) -> tuple[dict[str, Any], list[Figure]]:
    progress(f"preview-mode vs update-mode synthesis + pack, every variant, {rounds} ABBA rounds")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.preview_worker", str(rounds)],
        cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"preview_worker failed (exit {done.returncode}): {last}")
    rows = json.loads(lines[-1])["variants"]
    update = sum(row["update_s"] for row in rows)
    preview = sum(row["preview_s"] for row in rows)
    details = {"variants": rows, "update_s": round(update, 3), "preview_s": round(preview, 3)}
    return details, [
        figure(
            "preview",
            "preview-mode synthesis + pack, all variants",
            preview,
            "s",
            baselines={"update-mode synthesis + pack": update},
            note="the preview step's extra cost per `plan --all`",
        )
    ]
