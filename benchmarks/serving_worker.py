"""Workloads-side serving baselines and request bodies: `python -m benchmarks.serving_worker`.

bodies     write the V1 and V2 request bodies (one transaction each, known customers) that the
           load generator and the in-process path share.
inprocess  the same-run baselines of the serving benchmark, in one warmed process:
             bare_forward   the champion's torch module, `model(x)` under torch.inference_mode,
                            on one encoded row;
             pyfunc_predict the MLflow pyfunc wrapper the predictor calls (schema check + forward);
             feast_lookup   one customer's online features through the Feast SDK;
             inprocess_v1   the server's own per-request function without HTTP
                            (`protocols.handle_v1`): decode the JSON body, validate, Feast online
                            lookup, encode the input vector, forward, encode the JSON answer;
             inprocess_v2   the same for an Open Inference Protocol body (`handle_v2`).
           The prediction log (Kafka) is off here: the in-process path is decode + lookup +
           forward + encode, and whatever the server adds on top is its overhead.
rounds     the same, then stays up: each `v1 SECONDS` / `v2 SECONDS` line on stdin measures the
           in-process path for that long and prints one JSON line, so that the benchmark can
           alternate in-process and server rounds (the machine's other load then falls on both).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.stats import latency_summary
from workloads.settings import Settings

V2_FIELDS = ("customer_id", "merchant_category", "channel", "merchant_country", "timestamp")


def v1_body(event: dict[str, Any]) -> dict[str, Any]:
    return {"instances": [event]}


def v2_body(event: dict[str, Any]) -> dict[str, Any]:
    inputs = [
        {"name": name, "shape": [1], "datatype": "BYTES", "data": [event[name]]}
        for name in V2_FIELDS
    ]
    inputs.append(
        {"name": "amount_aed", "shape": [1], "datatype": "FP64", "data": [event["amount_aed"]]}
    )
    return {"inputs": inputs}


def write_bodies(events: Path, out: Path, count: int) -> dict[str, Any]:
    lines = [line for line in events.read_text().splitlines() if line.strip()]
    chosen = [json.loads(line) for line in lines[-count:]]
    for event in chosen:
        event.pop("currency", None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "v1.json").write_text(json.dumps([v1_body(e) for e in chosen]))
    (out / "v2.json").write_text(json.dumps([v2_body(e) for e in chosen]))
    return {"bodies": len(chosen), "v1": str(out / "v1.json"), "v2": str(out / "v2.json")}


def measure(call: Callable[[int], Any], iterations: int, warmup: int) -> dict[str, float]:
    for i in range(warmup):
        call(i)
    latencies = []
    for i in range(iterations):
        start = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - start)
    return latency_summary(latencies)


def measure_for(call: Callable[[int], Any], seconds: float, warmup: int) -> dict[str, float]:
    """Like `measure`, for a duration: the rounds the benchmark interleaves with the server's."""
    for i in range(warmup):
        call(i)
    latencies, cpu0 = [], time.process_time()
    deadline = time.perf_counter() + seconds
    i = 0
    while (start := time.perf_counter()) < deadline:
        call(i)
        latencies.append(time.perf_counter() - start)
        i += 1
    summary = latency_summary(latencies)
    summary["cpu_us_per_call"] = round((time.process_time() - cpu0) / len(latencies) * 1e6, 1)
    return summary


class Baselines:
    """A warmed CardRiskModel (no prediction log) and the request bodies the server gets."""

    def __init__(self, settings: Settings, bodies_v1: Path, bodies_v2: Path) -> None:
        from workloads.serving import protocols
        from workloads.serving.predictor import CardRiskModel

        self.settings = settings
        self.model = CardRiskModel(settings, prediction_log=None)
        loaded_at = time.perf_counter()
        self.model.load()
        self.load_seconds = time.perf_counter() - loaded_at
        self.v1 = [json.dumps(b).encode() for b in json.loads(bodies_v1.read_text())]
        self.v2 = [json.dumps(b).encode() for b in json.loads(bodies_v2.read_text())]
        self.calls: dict[str, Callable[[int], Any]] = {
            # The server's own per-request function, body in and body out, without HTTP.
            "v1": lambda i: protocols.handle_v1(self.model, self.v1[i % len(self.v1)]),
            "v2": lambda i: protocols.handle_v2(self.model, self.v2[i % len(self.v2)]),
        }

    def fixed(self, iterations: int, warmup: int) -> dict[str, Any]:
        """The parts of a request: bare forward, the pyfunc wrapper, the Feast lookup."""
        import mlflow
        import torch

        from workloads.serving import protocols

        served = self.model._served
        assert served is not None
        captured: list[Any] = []
        original_predict = served.model.predict

        def capture(inputs: Any, *a: Any, **k: Any) -> Any:
            captured.append(inputs)
            return original_predict(inputs, *a, **k)

        served.model.predict = capture
        protocols.handle_v1(self.model, self.v1[0])
        served.model.predict = original_predict
        row = captured[0]
        net = mlflow.pytorch.load_model(f"models:/{self.settings.model_name}/{served.version}")
        tensor = torch.from_numpy(row)
        customers = [json.loads(b)["instances"][0]["customer_id"] for b in self.v1]

        def bare(_: int) -> None:
            with torch.inference_mode():
                net(tensor)

        return {
            "model_version": served.version,
            "load_seconds": round(self.load_seconds, 2),
            "torch_threads": torch.get_num_threads(),
            "features": int(row.shape[1]),
            "iterations": iterations,
            "bare_forward": measure(bare, iterations, warmup),
            "pyfunc_predict": measure(lambda _: original_predict(row), iterations, warmup),
            "feast_lookup": measure(
                lambda i: self.model._customer_features([customers[i % len(customers)]]),
                iterations,
                warmup,
            ),
            "inprocess_v1": measure(self.calls["v1"], iterations, warmup),
            "inprocess_v2": measure(self.calls["v2"], iterations, warmup),
        }


def inprocess(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    baselines = Baselines(settings, args.bodies_v1, args.bodies_v2)
    result = baselines.fixed(args.iterations, args.warmup)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def rounds(settings: Settings, args: argparse.Namespace) -> int:
    """The fixed baselines once, then `<v1|v2> <seconds>` rounds read from stdin, one JSON line
    each, until `quit`: the benchmark alternates them with the server's runs."""
    baselines = Baselines(settings, args.bodies_v1, args.bodies_v2)
    result = baselines.fixed(args.iterations, args.warmup)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        protocol, seconds = command[0], float(command[1])
        print(json.dumps(measure_for(baselines.calls[protocol], seconds, 100)), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving_worker", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bodies = commands.add_parser("bodies")
    bodies.add_argument("--events", type=Path, required=True)
    bodies.add_argument("--out", type=Path, required=True)
    bodies.add_argument("--count", type=int, default=256)
    run = commands.add_parser("inprocess")
    run.add_argument("--bodies-v1", type=Path, required=True)
    run.add_argument("--bodies-v2", type=Path, required=True)
    run.add_argument("--iterations", type=int, default=2000)
    run.add_argument("--warmup", type=int, default=200)
    interleaved = commands.add_parser("rounds")
    interleaved.add_argument("--bodies-v1", type=Path, required=True)
    interleaved.add_argument("--bodies-v2", type=Path, required=True)
    interleaved.add_argument("--iterations", type=int, default=2000)
    interleaved.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    if args.command == "rounds":
        return rounds(Settings.from_env(), args)
    if args.command == "bodies":
        result = write_bodies(args.events, args.out, args.count)
    else:
        result = inprocess(Settings.from_env(), args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
