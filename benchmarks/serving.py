"""Serving: the model server on loopback (as `mlplatform local` runs it, prediction log to
Kafka included) under a closed-loop load generator, against two baselines measured in the same
run in their own warmed process (serving_worker.py): the bare `model(x)` forward pass and the
in-process path (the server's own per-request function: decode + validate + Feast online lookup
+ forward + encode, without HTTP). Its figures: latency and the server's overhead over the
in-process path (V1, V2), 8-client throughput against the in-process single-thread rate, and the
prediction log's added p50, measured against a second server without the log in alternating
rounds (ABBA, so that the machine's other load falls on both alike).

The baselines run before the server starts, and the load generator runs in its own process
(loadgen.py), so neither competes with the server for the GIL; both report their CPU cost per
request. The server's peak RSS is the high-water mark (VmHWM) of its processes after all runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import machine
from benchmarks.fixture import BenchPlatform, free_port
from benchmarks.modes import Mode
from benchmarks.report import Figure, figure
from infra.local import processes

PATHS = {"v1": "/v1/models/{model}:predict", "v2": "/v2/models/{model}/infer"}
CLIENTS = (1, 8)
WARMUP = 300
LOG_ROUNDS = 4
ROUNDS = 5  # in-process / server alternations per protocol (medians resist a noisy round)
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


class _InProcess:
    """The in-process baselines worker (serving_worker.py `rounds`), kept up between the
    server's runs so that each server round has an in-process round right before it."""

    def __init__(self, bp: BenchPlatform, bodies: dict[str, Any], iterations: int) -> None:
        argv = bp.platform.workloads.module(
            "benchmarks.serving_worker",
            "rounds",
            "--bodies-v1",
            bodies["v1"],
            "--bodies-v2",
            bodies["v2"],
            "--iterations",
            str(iterations),
        )
        self._log = open(bp.state.log("serving-inprocess"), "ab")  # noqa: SIM115 (closed in close)
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=bp.env,
            cwd=bp.platform.workloads.repo_root,
            text=True,
        )
        self.fixed = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                return dict(json.loads(line))
        raise RuntimeError(f"the in-process baselines worker exited {self.process.wait()}")

    def measure(self, protocol: str, seconds: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{protocol} {seconds}\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        try:
            if self.process.stdin is not None and self.process.poll() is None:
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
            self.process.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(10)
        finally:
            self._log.close()


def _wait_ready(url: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"model server at {url} not ready after {timeout:.0f} s")


def _load(
    bp: BenchPlatform,
    name: str,
    url: str,
    bodies: str,
    clients: int,
    seconds: float,
    pids: list[int],
) -> dict[str, Any]:
    """One load-generator run, with the CPU the server, the broker and the rest used meanwhile."""
    broker = _service_pids(bp, "broker")
    cpu_before, broker_before = _cpu_seconds(pids), _cpu_seconds(broker)
    busy_before, _ = machine.cpu_seconds()
    result = bp.run(
        name,
        [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            "--url",
            url,
            "--bodies",
            bodies,
            "--clients",
            str(clients),
            "--duration",
            str(seconds),
            "--warmup",
            str(WARMUP),
        ],
        timeout=seconds * 3 + 120,
    )
    served = result["requests"] + WARMUP
    server_cpu = _cpu_seconds(pids) - cpu_before
    broker_cpu = _cpu_seconds(broker) - broker_before
    busy = machine.cpu_seconds()[0] - busy_before
    result["server_cpu_us_per_request"] = round(server_cpu / served * 1e6, 1)
    # The prediction log's cost on the broker (tansu) receiving the scored records.
    result["broker_cpu_us_per_request"] = round(broker_cpu / served * 1e6, 1)
    # CPU the rest of the machine used meanwhile, in cores: a noise indicator (it also holds
    # the load generator's start-up and warm-up).
    ours = server_cpu + broker_cpu + result["client_cpu_s"]
    result["other_cores_busy"] = round(max(0.0, busy - ours) / result["seconds"], 2)
    return result


def _log_cost(
    bp: BenchPlatform,
    mode: Mode,
    bodies: dict[str, Any],
    urls: dict[str, str],
    pids: dict[str, list[int]],
) -> dict[str, Any]:
    """V1, one client, alternately against the server with and without the prediction log."""
    rounds: dict[str, list[float]] = {"with_log": [], "without_log": []}
    seconds = max(2.0, mode.serving_seconds / 2)
    for number in range(LOG_ROUNDS):
        # ABBA order: a drift in the machine's load over the rounds falls on both alike.
        order = ("without_log", "with_log") if number % 2 == 0 else ("with_log", "without_log")
        for variant in order:
            result = _load(
                bp, f"loadgen-log-{variant}-{number}", urls[variant], bodies["v1"], 1, seconds,
                pids[variant],
            )  # fmt: skip
            rounds[variant].append(result["latency"]["p50_ms"])
    return {
        "rounds_p50_ms": rounds,
        "with_log_p50_ms": statistics.median(rounds["with_log"]),
        "without_log_p50_ms": statistics.median(rounds["without_log"]),
    }


def _protocol_runs(
    bp: BenchPlatform,
    inproc: _InProcess,
    mode: Mode,
    protocol: str,
    url: str,
    bodies: dict[str, Any],
    pids: list[int],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Alternating in-process and 1-client server rounds, then 8 clients and one more
    in-process round next to them."""
    seconds = mode.serving_seconds / 3
    paired = []
    for number in range(ROUNDS):
        progress(
            f"serving: {protocol.upper()} round {number + 1}/{ROUNDS}, in-process then 1 client"
        )
        inprocess = inproc.measure(protocol, seconds)
        server = _load(
            bp, f"loadgen-{protocol}-1-{number}", url, bodies[protocol], 1, seconds, pids
        )
        paired.append({"inprocess": inprocess, "server": server})
    progress(f"serving: {protocol.upper()}, 8 clients")
    many = _load(bp, f"loadgen-{protocol}-8", url, bodies[protocol], 8, mode.serving_seconds, pids)
    return {"rounds": paired, "8": many, "inprocess_next_to_8": inproc.measure(protocol, seconds)}


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
    progress("serving: in-process baselines (bare forward, the server's handlers without HTTP)")
    inproc = _InProcess(bp, bodies, mode.serving_iterations)
    quiet: processes.ProcessRecord | None = None
    record: processes.ProcessRecord | None = None
    try:
        baselines = inproc.fixed
        progress("serving: starting the model server, and one without the prediction log")
        bp.platform.start_model_server()
        record = bp.platform.record("model-server")
        if record is None:
            raise RuntimeError("the model server left no process record")
        port = free_port()
        argv = ("local", "--port", str(port), "--no-prediction-log")
        quiet = bp.spawn("model-server-nolog", "workloads.serving", *argv)
        model = bp.env["MLP_MODEL_NAME"]
        base_url = f"http://127.0.0.1:{bp.ports.model_server}"
        _wait_ready(f"http://127.0.0.1:{port}")
        loads = {
            protocol: _protocol_runs(
                bp,
                inproc,
                mode,
                protocol,
                base_url + path.format(model=model),
                bodies,
                processes.members(record),
                progress,
            )
            for protocol, path in PATHS.items()
        }
        progress("serving: the prediction log's cost (with and without, alternately)")
        v1_path = PATHS["v1"].format(model=model)
        log_cost = _log_cost(
            bp,
            mode,
            bodies,
            {"with_log": base_url + v1_path, "without_log": f"http://127.0.0.1:{port}{v1_path}"},
            {"with_log": processes.members(record), "without_log": processes.members(quiet)},
        )
        pids = processes.members(record)
        server = {
            "pids": pids,
            "peak_rss_mb": round(sum(_status_kb(p, "VmHWM") for p in pids) / 1024, 1),
            "rss_mb": round(sum(_status_kb(p, "VmRSS") for p in pids) / 1024, 1),
            "prediction_log": True,
        }
    finally:
        inproc.close()
        for started in (quiet, record):
            if started is not None:
                bp.end(started)
    details = {
        "baselines": baselines,
        "server": server,
        "load": loads,
        "prediction_log_cost": log_cost,
        "warmup": WARMUP,
    }
    return details, _figures(baselines, server, loads, log_cost)


def _median(rounds: list[dict[str, Any]], side: str, key: str) -> float:
    return statistics.median(
        r[side]["latency"][key] if side == "server" else r[side][key] for r in rounds
    )


def _protocol_figures(protocol: str, bare: dict[str, Any], loads: dict[str, Any]) -> list[Figure]:
    """Latency, overhead and throughput of one protocol against its in-process rounds."""
    bench, name = "serving", protocol.upper()
    rounds, many = loads["rounds"], loads["8"]
    out = [
        figure(
            bench,
            f"{name} latency {q}, 1 client (end to end, incl. Feast lookup)",
            _median(rounds, "server", f"{q}_ms"),
            "ms",
            {
                "in-process path": _median(rounds, "inprocess", f"{q}_ms"),
                "bare model(x)": bare[f"{q}_ms"],
            },
            target,
            note=f"medians of {ROUNDS} rounds alternating with the in-process path",
        )
        for q, target in (("p50", ("<=", 1.5)), ("p99", ("<=", 4.0)))
    ]
    overheads = [r["server"]["latency"]["p50_ms"] - r["inprocess"]["p50_ms"] for r in rounds]
    last = rounds[-1]["server"]
    out.append(
        figure(
            bench,
            f"{name} server overhead over the in-process path, p50",
            statistics.median(overheads),
            "ms",
            {"in-process path p50": _median(rounds, "inprocess", "p50_ms")},
            ("<=", 0.25),
            note=f"per round {[round(o, 3) for o in overheads]}; server CPU "
            f"{last['server_cpu_us_per_request']:.0f} us/request vs in-process "
            f"{rounds[-1]['inprocess']['cpu_us_per_call']:.0f} (+ broker "
            f"{last['broker_cpu_us_per_request']:.0f} us for the prediction log); other "
            f"processes used {last['other_cores_busy']:.2f} cores meanwhile",
        )
    )
    inproc_rate = 1000.0 / loads["inprocess_next_to_8"]["mean_ms"]
    out.append(
        figure(
            bench,
            f"{name} throughput, 8 concurrent clients",
            many["requests_per_s"],
            "requests/s",
            {"in-process path, 1 thread": inproc_rate},
            note=f"p50 {many['latency']['p50_ms']:.1f} ms, p99 "
            f"{many['latency']['p99_ms']:.1f} ms; load generator "
            f"{many['client_cpu_us_per_request']:.0f} us CPU/request; other processes "
            f"used {many['other_cores_busy']:.2f} cores meanwhile",
        )
    )
    out.append(
        figure(
            bench,
            f"{name} 8-client throughput / in-process single-thread rate",
            many["requests_per_s"] / inproc_rate,
            "x",
            target=(">=", 0.7),
        )
    )
    return out


def _figures(
    baselines: dict[str, Any],
    server: dict[str, Any],
    loads: dict[str, dict[str, Any]],
    log_cost: dict[str, Any],
) -> list[Figure]:
    bench = "serving"
    out: list[Figure] = []
    for protocol in PATHS:
        out += _protocol_figures(protocol, baselines["bare_forward"], loads[protocol])
    out.append(
        figure(
            bench,
            "prediction log's added p50 (V1, 1 client, with - without)",
            log_cost["with_log_p50_ms"] - log_cost["without_log_p50_ms"],
            "ms",
            {"p50 without the log": log_cost["without_log_p50_ms"]},
            ("<=", 0.1),
            note=f"medians of {LOG_ROUNDS} alternating rounds: {log_cost['rounds_p50_ms']}",
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
