"""Golden-path traffic: transactions sent to the model server over HTTP, in both KServe protocols.

What a card switch would do: one scoring call per transaction (or a small batch), alternating
V1 and Open Inference Protocol V2 requests, measuring client-side latency. Used by
`mlplatform local demo` to show serving working end to end, and to push normal or drifted
traffic through the server before a drift check.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

FIELDS = (
    "customer_id",
    "amount_aed",
    "merchant_category",
    "channel",
    "merchant_country",
    "timestamp",
    "transaction_id",
)


def v2_body(events: list[dict[str, Any]]) -> dict[str, Any]:
    inputs = []
    for name in FIELDS:
        numeric = name == "amount_aed"
        inputs.append(
            {
                "name": name,
                "shape": [len(events)],
                "datatype": "FP64" if numeric else "BYTES",
                "data": [event[name] for event in events],
            }
        )
    return {"inputs": inputs}


def send(
    base_url: str,
    model: str,
    events: list[dict[str, Any]],
    protocols: tuple[str, ...] = ("v1", "v2"),
    batch: int = 1,
) -> dict[str, Any]:
    """Score `events` in requests of `batch` transactions, cycling through `protocols`."""
    latencies: dict[str, list[float]] = {p: [] for p in protocols}
    errors: list[str] = []
    scores: list[float] = []
    examples: dict[str, Any] = {}
    versions: dict[str, int] = {}  # model version -> requests it answered
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for number, start in enumerate(range(0, len(events), batch)):
            chunk = events[start : start + batch]
            protocol = protocols[number % len(protocols)]
            began = time.perf_counter()
            if protocol == "v1":
                response = client.post(f"/v1/models/{model}:predict", json={"instances": chunk})
            else:
                response = client.post(f"/v2/models/{model}/infer", json=v2_body(chunk))
            latencies[protocol].append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                errors.append(f"{protocol} {response.status_code}: {response.text[:200]}")
                continue
            body = response.json()
            examples.setdefault(protocol, body)
            version = str(body.get("model_version", ""))
            versions[version] = versions.get(version, 0) + 1
            if protocol == "v1":
                scores += [p["risk_score"] for p in body["predictions"]]
            else:
                scores += next(o["data"] for o in body["outputs"] if o["name"] == "risk_score")
    return {
        "transactions": len(events),
        "requests": {p: len(v) for p, v in latencies.items()},
        "errors": len(errors),
        "error_examples": errors[:3],
        "latency_ms": {
            p: {"p50": round(statistics.median(v), 2), "p95": round(_p95(v), 2)}
            for p, v in latencies.items()
            if v
        },
        "mean_risk_score": round(statistics.fmean(scores), 4) if scores else None,
        "high_risk": sum(score >= 0.5 for score in scores),
        "model_versions": versions,
        "examples": examples,
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def load_events(path: Path, count: int, last: bool = False) -> list[dict[str, Any]]:
    """`count` events of a chronological file: evenly spaced over all of it, or its last ones.

    A day's transactions change with the hour (night spend is riskier), so the first `count`
    would be the small hours only, a sample the drift monitor rightly finds unlike the training
    reference. Evenly spaced, the traffic covers the file's whole period.
    """
    with open(path) as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    if last:
        return events[-count:]
    if count >= len(events):
        return events
    return [events[index * len(events) // count] for index in range(count)]
