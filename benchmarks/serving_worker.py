"""Workloads-side serving baselines and request bodies: `python -m benchmarks.serving_worker`.

bodies     write the V1 and V2 request bodies (one transaction each, known customers) that the
           load generator and the in-process path share.
inprocess  the two same-run baselines of the serving benchmark, in one warmed process:
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


def inprocess(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    import mlflow
    import torch

    from workloads.serving import protocols
    from workloads.serving.predictor import CardRiskModel

    model = CardRiskModel(settings, prediction_log=None)
    loaded_at = time.perf_counter()
    model.load()
    load_seconds = time.perf_counter() - loaded_at
    v1 = [json.dumps(b).encode() for b in json.loads(args.bodies_v1.read_text())]
    v2 = [json.dumps(b).encode() for b in json.loads(args.bodies_v2.read_text())]
    served = model._served
    assert served is not None
    captured: list[Any] = []
    original_predict = served.model.predict

    def capture(inputs: Any, *a: Any, **k: Any) -> Any:
        captured.append(inputs)
        return original_predict(inputs, *a, **k)

    served.model.predict = capture
    protocols.handle_v1(model, v1[0])
    served.model.predict = original_predict
    row = captured[0]
    net = mlflow.pytorch.load_model(f"models:/{settings.model_name}/{model.version}")
    tensor = torch.from_numpy(row)
    customers = [json.loads(b)["instances"][0]["customer_id"] for b in v1]

    def bare(_: int) -> None:
        with torch.inference_mode():
            net(tensor)

    n, w = args.iterations, args.warmup
    results = {
        "bare_forward": measure(bare, n, w),
        "pyfunc_predict": measure(lambda _: original_predict(row), n, w),
        "feast_lookup": measure(
            lambda i: model._customer_features([customers[i % len(customers)]]), n, w
        ),
        # The server's own per-request function, body in and body out, without HTTP.
        "inprocess_v1": measure(lambda i: protocols.handle_v1(model, v1[i % len(v1)]), n, w),
        "inprocess_v2": measure(lambda i: protocols.handle_v2(model, v2[i % len(v2)]), n, w),
    }
    return {
        "model_version": model.version,
        "load_seconds": round(load_seconds, 2),
        "torch_threads": torch.get_num_threads(),
        "features": int(row.shape[1]),
        "iterations": n,
        **results,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


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
    args = parser.parse_args(argv)
    if args.command == "bodies":
        result = write_bodies(args.events, args.out, args.count)
    else:
        result = inprocess(Settings.from_env(), args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
