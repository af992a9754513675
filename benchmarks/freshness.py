"""Feature freshness: events/s from the broker into Feast, whether that rate holds as history
grows, how it scales with consumer processes, and how long an event takes to become visible
through `get_online_features`, each next to a baseline measured in the same run (see
stream_worker.py for what each process does).

Order:
1. a backlog of `mode.backlog_events` transactions on a topic of its own with 6 partitions,
   and a Feast repository of its own (the measurements do not touch the history that the
   training benchmark joins against);
2. drains of that backlog, each with its own consumer group: the raw consumer loop, the
   processor without Feast writes, the processor (one process), then two processor processes
   in one group started together (scale-out);
3. the processor drains the main topic into the platform's Feast (what training needs);
4. freshness probed twice at the same background rate: against the stream processor started
   by its own entrypoint (`python -m workloads.streaming run`), resuming where its drain ended
   (no backlog), and against the raw loop (produce → consumed, no Feast), which starts at the
   end of the topic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.fixture import BenchPlatform
from benchmarks.modes import Mode
from benchmarks.report import Figure, figure

BENCH = "freshness"
FEATURE_GROUP = "bench-card-risk-features"
BACKLOG_TOPIC = "bench-backlog"
BACKLOG_PARTITIONS = 6


def _last_json(text: str) -> dict[str, Any]:
    lines = [line for line in text.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError("the process printed no result")
    return dict(json.loads(lines[-1]))


def feature_state(bp: BenchPlatform) -> str:
    return str(bp.state.path("bench-stream") / "features")


def drain(bp: BenchPlatform, mode: str, group: str, state: Path, *target: str) -> dict[str, Any]:
    return bp.step(
        f"stream-{mode}-{group}",
        "benchmarks.stream_worker",
        "throughput",
        "--mode",
        mode,
        "--group",
        group,
        "--state-dir",
        str(state),
        *target,
        timeout=900,
    )


def prepare_backlog(
    bp: BenchPlatform, mode: Mode, scratch: Path, progress: Callable[[str], None]
) -> list[str]:
    """The backlog topic, filled, and a Feast repository of its own; the drains' arguments."""
    progress(f"freshness: a backlog of {mode.backlog_events} events on {BACKLOG_TOPIC}")
    data, feast = scratch / "backlog-data", scratch / "backlog-feast"
    bp.step(
        "backlog-generate",
        "workloads.data",
        "generate",
        "--out-dir",
        str(data),
        "--customers",
        str(mode.customers),
        "--events",
        str(mode.backlog_events),
        "--drift-events",
        "10",
        "--seed",
        "17",
    )
    yaml = feast / "feature_store.yaml"
    bp.step("backlog-feast", "workloads.features", "render-local", "--data-dir", str(feast))
    bp.step("backlog-apply", "workloads.features", "apply", "--feature-store-yaml", str(yaml))
    bp.step(
        "backlog-topic",
        "benchmarks.stream_worker",
        "create-topic",
        "--name",
        BACKLOG_TOPIC,
        "--partitions",
        str(BACKLOG_PARTITIONS),
    )
    bp.step(
        "backlog-produce",
        "workloads.data",
        "produce",
        "--events",
        str(data / "events.jsonl"),
        "--topic",
        BACKLOG_TOPIC,
        timeout=900,
    )
    return ["--topic", BACKLOG_TOPIC, "--feature-store-yaml", str(yaml)]


def scale_out(bp: BenchPlatform, processes: int, state: Path, target: list[str]) -> dict[str, Any]:
    return bp.step(
        f"stream-scaleout-{processes}",
        "benchmarks.stream_worker",
        "scaleout",
        "--processes",
        str(processes),
        "--group",
        f"bench-scaleout-{processes}",
        "--state-dir",
        str(state),
        *target,
        timeout=900,
    )


def run(
    bp: BenchPlatform, mode: Mode, progress: Callable[[str], None]
) -> tuple[dict[str, Any], list[Figure]]:
    scratch = bp.state.path("bench-stream")
    target = prepare_backlog(bp, mode, scratch, progress)
    progress("freshness: raw consumer loop drains the backlog")
    raw = drain(bp, "raw", "bench-raw", scratch / "raw", *target)
    progress("freshness: stream processor without Feast writes drains the backlog")
    nopush = drain(bp, "nopush", "bench-nopush", scratch / "nopush", *target)
    progress("freshness: stream processor drains the backlog into Feast (1 process)")
    one = drain(bp, "processor", "bench-one", scratch / "one", *target)
    progress("freshness: two stream processor processes in one group drain the backlog")
    two = scale_out(bp, 2, scratch / "two", target)
    progress("freshness: stream processor drains the main topic into Feast (for training)")
    main = drain(bp, "processor", FEATURE_GROUP, Path(feature_state(bp)))

    probe_args = ["--rate", str(mode.probe_rate), "--duration", str(mode.probe_seconds)]
    timeout = str(mode.probe_seconds + 180)
    progress(
        f"freshness: probing the stream processor at {mode.probe_rate:.0f} events/s "
        "(python -m workloads.streaming run)"
    )
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
        "backlog_events": one["consumed"],
        "backlog_partitions": BACKLOG_PARTITIONS,
        "batch_size": one["batch_size"],
        "batch_timeout_s": one["batch_timeout_s"],
        "throughput": {"raw": raw, "nopush": nopush, "processor": one, "two_processes": two},
        "main_topic_drain": main,
        "freshness": {
            "baseline_probe": baseline_probe,
            "baseline_delivery": delivery,
            "probe": probe,
        },
    }
    return details, _figures(raw, nopush, one, two, delivery, probe)


def _figures(
    raw: dict[str, Any],
    nopush: dict[str, Any],
    one: dict[str, Any],
    two: dict[str, Any],
    delivery: dict[str, Any],
    probe: dict[str, Any],
) -> list[Figure]:
    return [
        *_throughput_figures(raw, nopush, one),
        *_decay_figures(raw, one),
        _scale_out_figure(one, two),
        *_freshness_figures(delivery, probe),
    ]


def _throughput_figures(
    raw: dict[str, Any], nopush: dict[str, Any], one: dict[str, Any]
) -> list[Figure]:
    breakdown = ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in one["breakdown"].items())
    shared = (
        "on a shared machine the wall-clock rate follows the CPU share each process gets; "
        "events per CPU-second is its own cost per event"
    )
    return [
        figure(
            BENCH,
            name,
            one[key],
            unit,
            {
                "raw consumer loop": raw[key],
                "processor without Feast writes": nopush[key],
            },
            (">=", round(0.6 * raw[key], 1)),
            note=f"target: 0.6x the raw loop; {note}",
        )
        for name, key, unit, note in (
            (
                f"sustained events/s into Feast, online + offline ({one['consumed']} events)",
                "events_per_s",
                "events/s",
                f"where the time goes: {breakdown}",
            ),
            (
                "events into Feast per CPU-second of the processor",
                "events_per_cpu_s",
                "events/CPU-s",
                shared,
            ),
        )
    ]


def _decay_figures(raw: dict[str, Any], one: dict[str, Any]) -> list[Figure]:
    if "last_quarter_events_per_s" not in one:
        return []
    out = []
    for unit, key in (("events/s", "events_per_s"), ("events/CPU-s", "events_per_cpu_s")):
        first = one[f"first_quarter_{key}"]
        out.append(
            figure(
                BENCH,
                f"{unit} into Feast over the last quarter of the drain "
                f"({one['quarter_events']} events each)",
                one[f"last_quarter_{key}"],
                unit,
                {
                    "first quarter of the same drain": first,
                    "raw loop, last quarter": raw.get(f"last_quarter_{key}", 0.0),
                },
                (">=", round(0.9 * first, 1)),
                note="target: 0.9x the first quarter (a per-batch cost that grows with the "
                "history shows as a falling rate)",
            )
        )
    return out


def _scale_out_figure(one: dict[str, Any], two: dict[str, Any]) -> Figure:
    per_process = ", ".join(f"{p['cpu_seconds']:.1f}" for p in two["per_process"])
    return figure(
        BENCH,
        f"events/s into Feast, {two['processes']} processes in one group "
        f"({BACKLOG_PARTITIONS} partitions)",
        two["events_per_s"],
        "events/s",
        {"1 process": one["events_per_s"]},
        note=f"CPU seconds per process while draining {per_process} over "
        f"{two['seconds']:.1f} s, {two['events_per_cpu_s']:.0f} events/CPU-s (1 process: "
        f"{one['cpu_seconds']:.1f} over {one['seconds']:.1f} s, "
        f"{one['events_per_cpu_s']:.0f} events/CPU-s); the machine was busy "
        f"{two['machine_busy_cores']} of {two['cores']} cores from start to exit (group joins "
        "and other work included)",
    )


def _freshness_figures(delivery: dict[str, Any], probe: dict[str, Any]) -> list[Figure]:
    rate = probe["background_rate_per_s"]
    fresh, base = probe["freshness"], delivery["delivery"]
    return [
        figure(
            BENCH,
            f"freshness {q}, produced → visible ({rate:.0f} events/s background)",
            fresh[f"{q}_ms"],
            "ms",
            {"raw loop: produced → consumed": base[f"{q}_ms"]},
            goal,
            note=f"{probe['probes_visible']} probes, {probe['probes_never_visible']} never visible",
        )
        for q, goal in (("p50", None), ("p99", ("<=", 1000.0)))
    ]
