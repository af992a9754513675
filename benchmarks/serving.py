"""Serving: the KServe predictor on loopback (as `mlplatform local` runs it, prediction log to
Kafka included) under a closed-loop load generator, against two baselines measured in the same
run in their own warmed process (serving_worker.py): the bare `model(x)` forward pass and the
in-process path (decode + Feast online lookup + forward + encode).

The baselines run before the server starts, and the load generator runs in its own process
(loadgen.py), so neither competes with the server for the GIL; both report their CPU cost per
request. The server's peak RSS is the high-water mark (VmHWM) of its processes after all runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import machine
from benchmarks.fixture import BenchPlatform
from benchmarks.modes import Mode
from benchmarks.report import Figure, figure
from infra.local import processes

PATHS = {"v1": "/v1/models/{model}:predict", "v2": "/v2/models/{model}/infer"}
CLIENTS = (1, 8)
WARMUP = 300
TICKS = os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def _service_pids(bp: BenchPlatform, name: str) -> list[int]:
    record = bp.platform.record(name)
    return processes.members(record) if record is not None else []


def run(
    bp: BenchPlatform, mode: Mode, events: Path, progress: Callable[[str], None]
) -> tuple[dict[str, Any], list[Figure]]:
    body_dir = bp.state.path("bench-serving")
    bodies = bp.step(
        "serving-bodies",
        "benchmarks.serving_worker",
        "bodies",
        "--events",
        str(events),
        "--out",
        str(body_dir),
    )
    progress("serving: in-process baselines (bare forward, decode + lookup + forward + encode)")
    baselines = bp.step(
        "serving-inprocess",
        "benchmarks.serving_worker",
        "inprocess",
        "--bodies-v1",
        bodies["v1"],
        "--bodies-v2",
        bodies["v2"],
        "--iterations",
        str(mode.serving_iterations),
    )
    progress("serving: starting the model server")
    bp.platform.start_model_server()
    record = bp.platform.record("model-server")
    if record is None:
        raise RuntimeError("the model server left no process record")
    loads: dict[str, dict[str, Any]] = {}
    try:
        base_url = f"http://127.0.0.1:{bp.ports.model_server}"
        for protocol, path in PATHS.items():
            for clients in CLIENTS:
                progress(f"serving: {protocol.upper()}, {clients} client(s)")
                pids = processes.members(record)
                broker = _service_pids(bp, "broker")
                cpu_before, broker_before = _cpu_seconds(pids), _cpu_seconds(broker)
                busy_before, _ = machine.cpu_seconds()
                result = bp.run(
                    f"loadgen-{protocol}-{clients}",
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.loadgen",
                        "--url",
                        base_url + path.format(model=bp.env["MLP_MODEL_NAME"]),
                        "--bodies",
                        bodies[protocol],
                        "--clients",
                        str(clients),
                        "--duration",
                        str(mode.serving_seconds),
                        "--warmup",
                        str(WARMUP),
                    ],
                    timeout=mode.serving_seconds * 3 + 120,
                )
                served = result["requests"] + WARMUP
                server_cpu = _cpu_seconds(pids) - cpu_before
                broker_cpu = _cpu_seconds(broker) - broker_before
                busy = machine.cpu_seconds()[0] - busy_before
                result["server_cpu_us_per_request"] = round(server_cpu / served * 1e6, 1)
                # The prediction log's cost on the broker (tansu) receiving the scored records.
                result["broker_cpu_us_per_request"] = round(broker_cpu / served * 1e6, 1)
                # CPU the rest of the machine used meanwhile, in cores: a noise indicator (it
                # also holds the load generator's start-up and warm-up).
                ours = server_cpu + broker_cpu + result["client_cpu_s"]
                result["other_cores_busy"] = round(max(0.0, busy - ours) / result["seconds"], 2)
                loads.setdefault(protocol, {})[str(clients)] = result
        pids = processes.members(record)
        server = {
            "pids": pids,
            "peak_rss_mb": round(sum(_status_kb(p, "VmHWM") for p in pids) / 1024, 1),
            "rss_mb": round(sum(_status_kb(p, "VmRSS") for p in pids) / 1024, 1),
            "prediction_log": True,
        }
    finally:
        bp.end(record)
    details = {"baselines": baselines, "server": server, "load": loads, "warmup": WARMUP}
    return details, _figures(baselines, server, loads)


def _figures(
    baselines: dict[str, Any], server: dict[str, Any], loads: dict[str, dict[str, Any]]
) -> list[Figure]:
    bench = "serving"
    bare = baselines["bare_forward"]
    out: list[Figure] = []
    for protocol in PATHS:
        inproc = baselines[f"inprocess_{protocol}"]
        single, many = loads[protocol]["1"], loads[protocol]["8"]
        name = protocol.upper()
        v1 = protocol == "v1"
        for q, target in (("p50", ("<=", 1.5)), ("p99", ("<=", 4.0))):
            out.append(
                figure(
                    bench,
                    f"{name} latency {q}, 1 client (end to end, incl. Feast lookup)",
                    single["latency"][f"{q}_ms"],
                    "ms",
                    {"in-process path": inproc[f"{q}_ms"], "bare model(x)": bare[f"{q}_ms"]},
                    target if v1 else None,
                )
            )
        out.append(
            figure(
                bench,
                f"{name} predictor overhead over the in-process path, p50",
                single["latency"]["p50_ms"] - inproc["p50_ms"],
                "ms",
                target=("<=", 1.0) if v1 else None,
                note=f"server CPU {single['server_cpu_us_per_request']:.0f} us/request "
                f"(+ broker {single['broker_cpu_us_per_request']:.0f} us for the prediction "
                f"log); other processes used {single['other_cores_busy']:.2f} cores meanwhile",
            )
        )
        out.append(
            figure(
                bench,
                f"{name} throughput, 8 concurrent clients",
                many["requests_per_s"],
                "requests/s",
                {"in-process path, 1 thread": 1000.0 / inproc["mean_ms"]},
                (">=", 800.0) if v1 else None,
                note=f"p50 {many['latency']['p50_ms']:.1f} ms, p99 "
                f"{many['latency']['p99_ms']:.1f} ms; load generator "
                f"{many['client_cpu_us_per_request']:.0f} us CPU/request",
            )
        )
    out.append(
        figure(
            bench,
            "model server peak RSS",
            server["peak_rss_mb"],
            "MB",
            {"in-process baseline process": baselines["peak_rss_mb"]},
            ("<=", 600.0),
        )
    )
    return out
