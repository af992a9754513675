"""One benchmark run: machine description, the four benchmarks, the table and results.json.

Synthesis needs nothing but the IaC environment. The other three share one local platform
(fixture.py) and one synthetic data set: generated, customer profiles loaded, events published.
Freshness drains those events into Feast (the history training joins against); training
registers a champion (what serving loads). With `--only`, the prerequisites of a selected
benchmark run unmeasured. A benchmark that fails is recorded in `errors` and the others still
run; the platform is always stopped.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import freshness, machine, plan, preview, retraining, serving, synthesis, training
from benchmarks.fixture import BenchPlatform
from benchmarks.modes import Mode
from benchmarks.report import Figure, results_document, table, write_results

PROFILED = "MLP_BENCH_PROFILED"  # set in a run that py-spy samples (`--profile`)
BENCHMARKS = (
    "synthesis",
    "plan",
    "plan-tenants",
    "preview",
    "freshness",
    "training",
    "serving",
    "retraining",
)
IAC_ONLY = {"synthesis", "plan", "plan-tenants", "preview"}  # no workloads environment needed
Progress = Callable[[str], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def prepare_data(bp: BenchPlatform, mode: Mode, progress: Progress) -> dict[str, Any]:
    progress(f"data: {mode.events} synthetic card transactions of {mode.customers} customers")
    generated = bp.step(
        "generate",
        "workloads.data",
        "generate",
        "--out-dir",
        str(bp.data),
        "--customers",
        str(mode.customers),
        "--events",
        str(mode.events),
        "--drift-events",
        "10",
    )
    progress("data: loading customer profiles into Feast")
    profiles = bp.step(
        "profiles",
        "workloads.features",
        "load-profiles",
        "--feature-store-yaml",
        str(bp.feature_store_yaml),
        "--profiles",
        str(bp.data / "customers.parquet"),
    )
    progress("data: publishing the events to the broker")
    produced = bp.step(
        "produce", "workloads.data", "produce", "--events", str(bp.data / "events.jsonl")
    )
    return {"generated": generated, "profiles": profiles, "produced": produced}


def run(
    mode: Mode,
    only: tuple[str, ...],
    out: Path,
    workloads_python: Path,
    progress: Progress,
) -> tuple[dict[str, Any], bool]:
    started, began = _now(), time.monotonic()
    described = machine.describe(workloads_python)
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def attempt(name: str, action: Callable[[], tuple[dict[str, Any], list[Figure]]]) -> None:
        began_at, load = time.monotonic(), machine.load_average()
        busy_before = machine.cpu_seconds()[0]
        try:
            found, figs = action()
        except Exception as error:  # one benchmark's failure must not hide the others
            errors[name] = f"{type(error).__name__}: {error}"
            details[name] = {"traceback": traceback.format_exc()[-4000:]}
            progress(f"{name} FAILED: {errors[name][:300]}")
            return
        seconds = time.monotonic() - began_at
        found["seconds"] = round(seconds, 1)
        found["load_average_before"] = load
        # Average busy cores of the whole machine (ours included) while it ran.
        found["machine_busy_cores"] = round((machine.cpu_seconds()[0] - busy_before) / seconds, 2)
        details[name] = found
        figures.extend(figs)

    if "synthesis" in only:
        attempt(
            "synthesis",
            lambda: synthesis.run(
                mode.synth_sizes, mode.synth_repeats, out / "synth-scratch", progress
            ),
        )
    if "plan" in only:
        attempt("plan", lambda: plan.run(out / "plan-scratch", progress))
    if "plan-tenants" in only:
        attempt(
            "plan-tenants",
            lambda: plan.run_tenants(out / "plan-tenants-scratch", progress, mode.plan_tenants),
        )
    if "preview" in only:
        attempt("preview", lambda: preview.run(2, progress))
    if {"freshness", "training", "serving", "retraining"} & set(only):
        bp = BenchPlatform(out / "platform", workloads_python)
        try:
            progress("platform: broker, MLflow and Feast on 127.0.0.1")
            bp.start(progress)
            details["data"] = prepare_data(bp, mode, progress)
            labelled = bp.data / "labelled_transactions.parquet"
            if "freshness" in only:
                attempt("freshness", lambda: freshness.run(bp, mode, progress))
            if "freshness" not in only or "freshness" in errors:
                progress("prerequisite: streaming the events into Feast (not measured)")
                bp.step(
                    "stream-prerequisite",
                    "workloads.streaming",
                    "run",
                    "--state-dir",
                    freshness.feature_state(bp),
                    "--group-id",
                    freshness.FEATURE_GROUP,
                    "--until-caught-up",
                    timeout=900,
                )
            if "training" in only:
                attempt("training", lambda: training.run(bp, mode, labelled, progress))
            if "serving" in only:
                if bp.platform.champion_version() is None:
                    progress("prerequisite: training a champion to serve (not measured)")
                    bp.step(
                        "train-prerequisite",
                        "workloads.training",
                        "--labelled",
                        str(labelled),
                        "--work-dir",
                        str(bp.state.path("bench-training") / "champion"),
                        "--epochs",
                        "3",
                    )
                attempt(
                    "serving", lambda: serving.run(bp, mode, bp.data / "events.jsonl", progress)
                )
            if "retraining" in only:
                attempt("retraining", lambda: retraining.run(bp, mode, progress))
        except Exception as error:
            errors["platform"] = f"{type(error).__name__}: {error}"
            details["platform"] = {"traceback": traceback.format_exc()[-4000:]}
            progress(f"platform FAILED: {errors['platform'][:300]}")
        finally:
            progress("platform: stopping every process the benchmark started")
            details["stopped"] = bp.stop()
    timing = {
        "started_at": started,
        "finished_at": _now(),
        "wall_seconds": round(time.monotonic() - began, 1),
        "load_average_at_end": machine.load_average(),
        "benchmarks": list(only),
        # sampled by py-spy (`--profile`): figures for where the time goes, not for comparing
        "profiled": os.environ.get(PROFILED) == "1",
    }
    document = results_document(mode.name, described, figures, details, errors, timing)
    write_results(out / "results.json", document)
    return document, not errors


def print_summary(document: dict[str, Any], path: Path) -> None:
    from benchmarks.report import Baseline, Figure, Target

    figures = [
        Figure(
            f["benchmark"],
            f["name"],
            f["value"],
            f["unit"],
            [Baseline(**b) for b in f["baselines"]],
            Target(**f["target"]) if f["target"] else None,
            f["note"],
        )
        for f in document["figures"]
    ]
    m = document["machine"]
    print()
    print(
        f"{document['mode']} run, {document['wall_seconds']:.0f} s on {m['cpu_model']} "
        f"({m['cpus_available']} CPUs, {m['memory_gib']} GiB); load average "
        f"{m['load_average_at_start']} at start, {document['load_average_at_end']} at end"
    )
    if document.get("profiled"):
        print("sampled by py-spy (--profile): where the time goes, not figures to compare")
    print(table(figures))
    notes = [f"  {f.benchmark} / {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        print("\nnotes:")
        print("\n".join(notes))
    for name, error in document["errors"].items():
        print(f"\nERROR in {name}: {error}")
    print(f"\nresults: {path}")
