"""Feature freshness: events/s from the broker into Feast's online store, and how long an
event takes to become visible through `get_online_features`, each next to a raw consumer loop
measured in the same run (see stream_worker.py for what each process does).

Order: the raw loop, the processor without pushes and the real processor each drain the same
backlog with their own consumer group (the real one last: its pushes leave the offline history
the training benchmark needs). Then freshness is probed twice at the same background rate:
against the stream processor started by its own entrypoint (`python -m workloads.streaming
run`), resuming where its drain ended (no backlog), and against the raw loop (produce →
consumed, no Feast), which starts at the end of the topic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from benchmarks.fixture import BenchPlatform
from benchmarks.modes import Mode
from benchmarks.report import Figure, figure

FEATURE_GROUP = "bench-card-risk-features"


def _last_json(text: str) -> dict[str, Any]:
    lines = [line for line in text.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError("the process printed no result")
    return dict(json.loads(lines[-1]))


def feature_state(bp: BenchPlatform) -> str:
    return str(bp.state.path("bench-stream") / "features")


def drain(bp: BenchPlatform, mode: str, group: str, state: str) -> dict[str, Any]:
    return bp.step(
        f"stream-{mode}",
        "benchmarks.stream_worker",
        "throughput",
        "--mode",
        mode,
        "--group",
        group,
        "--state-dir",
        state,
        timeout=900,
    )


def run(
    bp: BenchPlatform, mode: Mode, progress: Callable[[str], None]
) -> tuple[dict[str, Any], list[Figure]]:
    scratch = bp.state.path("bench-stream")
    progress("freshness: raw consumer loop drains the backlog")
    raw = drain(bp, "raw", "bench-raw", str(scratch / "raw"))
    progress("freshness: stream processor without Feast pushes drains the backlog")
    nopush = drain(bp, "nopush", "bench-nopush", str(scratch / "nopush"))
    progress("freshness: stream processor drains the backlog into Feast")
    processor = drain(bp, "processor", FEATURE_GROUP, feature_state(bp))

    probe_args = ["--rate", str(mode.probe_rate), "--duration", str(mode.probe_seconds)]
    timeout = str(mode.probe_seconds + 180)
    progress("freshness: probing the stream processor (python -m workloads.streaming run)")
    record = bp.spawn(
        "stream-consumer",
        "workloads.streaming",
        "run",
        "--state-dir",
        feature_state(bp),
        "--group-id",
        FEATURE_GROUP,
    )
    try:
        probe = bp.step(
            "probe", "benchmarks.stream_worker", "probe", "--timeout", "120", *probe_args
        )
    finally:
        bp.end(record)
    progress("freshness: probing the raw consumer loop (baseline)")
    ready = scratch / "raw-latency.ready"
    ready.unlink(missing_ok=True)
    record = bp.spawn(
        "raw-latency",
        "benchmarks.stream_worker",
        "raw-latency",
        "--group",
        "bench-raw-latency",
        "--ready-file",
        str(ready),
        "--timeout",
        timeout,
    )
    try:
        baseline_probe = bp.step(
            "probe-baseline",
            "benchmarks.stream_worker",
            "probe",
            "--no-poll",
            "--ready-file",
            str(ready),
            *probe_args,
        )
    finally:
        bp.end(record)
    delivery = _last_json(bp.state.log("raw-latency").read_text(errors="replace"))

    details = {
        "events": processor["consumed"],
        "batch_size": 500,
        "batch_timeout_s": 1.0,
        "throughput": {"raw": raw, "nopush": nopush, "processor": processor},
        "freshness": {
            "baseline_probe": baseline_probe,
            "baseline_delivery": delivery,
            "probe": probe,
        },
    }
    return details, _figures(raw, nopush, processor, delivery, probe)


def _figures(
    raw: dict[str, Any],
    nopush: dict[str, Any],
    processor: dict[str, Any],
    delivery: dict[str, Any],
    probe: dict[str, Any],
) -> list[Figure]:
    bench = "freshness"
    rate = probe["background_rate_per_s"]
    out = [
        figure(
            bench,
            f"sustained events/s into the online store ({processor['consumed']} events)",
            processor["events_per_s"],
            "events/s",
            {
                "raw consumer loop": raw["events_per_s"],
                "processor without pushes": nopush["events_per_s"],
            },
            (">=", 5000),
        )
    ]
    if "last_quarter_events_per_s" in processor:
        out.append(
            figure(
                bench,
                "events/s into the online store over the last quarter of the drain",
                processor["last_quarter_events_per_s"],
                "events/s",
                {"first quarter of the same drain": processor["first_quarter_events_per_s"]},
                note="a falling rate means a per-batch cost that grows with the history: "
                + ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in processor["breakdown"].items()),
            )
        )
    fresh, base = probe["freshness"], delivery["delivery"]
    for q, target in (("p50", None), ("p99", ("<=", 2000.0))):
        out.append(
            figure(
                bench,
                f"freshness {q}, produced → visible ({rate:.0f} events/s background)",
                fresh[f"{q}_ms"],
                "ms",
                {"raw loop: produced → consumed": base[f"{q}_ms"]},
                target,
                note=f"{probe['probes_visible']} probes, "
                f"{probe['probes_never_visible']} never visible",
            )
        )
    return out
