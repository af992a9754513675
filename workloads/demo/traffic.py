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


class Traffic:
    """A scoring client's tally: requests of `batch` transactions, cycling through `protocols`,
    with client-side latency, errors, scores and the model version that answered each request.
    `score` may be called many times (the live replay scores a day in rounds); `summary` covers
    every call."""

    def __init__(self, base_url: str, model: str, protocols: tuple[str, ...] = ("v1", "v2")):
        self.model, self.protocols = model, protocols
        self.client = httpx.Client(base_url=base_url, timeout=30.0)
        self.latencies: dict[str, list[float]] = {p: [] for p in protocols}
        self.errors: list[str] = []
        self.scores: list[float] = []
        self.examples: dict[str, Any] = {}
        self.versions: dict[str, int] = {}  # model version -> requests it answered
        self.transactions = 0
        self.requests = 0

    def __enter__(self) -> Traffic:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def score(self, events: list[dict[str, Any]], batch: int = 1) -> None:
        self.transactions += len(events)
        for start in range(0, len(events), batch):
            self._request(events[start : start + batch])

    def _request(self, chunk: list[dict[str, Any]]) -> None:
        protocol = self.protocols[self.requests % len(self.protocols)]
        self.requests += 1
        began = time.perf_counter()
        if protocol == "v1":
            response = self.client.post(
                f"/v1/models/{self.model}:predict", json={"instances": chunk}
            )
        else:
            response = self.client.post(f"/v2/models/{self.model}/infer", json=v2_body(chunk))
        self.latencies[protocol].append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            self.errors.append(f"{protocol} {response.status_code}: {response.text[:200]}")
            return
        body = response.json()
        self.examples.setdefault(protocol, body)
        version = str(body.get("model_version", ""))
        self.versions[version] = self.versions.get(version, 0) + 1
        if protocol == "v1":
            self.scores += [p["risk_score"] for p in body["predictions"]]
        else:
            self.scores += next(o["data"] for o in body["outputs"] if o["name"] == "risk_score")

    def summary(self) -> dict[str, Any]:
        scores, latencies = self.scores, self.latencies
        return {
            "transactions": self.transactions,
            "requests": {p: len(v) for p, v in latencies.items()},
            "errors": len(self.errors),
            "error_examples": self.errors[:3],
            "latency_ms": {
                p: {"p50": round(statistics.median(v), 2), "p95": round(_p95(v), 2)}
                for p, v in latencies.items()
                if v
            },
            "mean_risk_score": round(statistics.fmean(scores), 4) if scores else None,
            "high_risk": sum(score >= 0.5 for score in scores),
            "model_versions": self.versions,
            "examples": self.examples,
        }


def send(
    base_url: str,
    model: str,
    events: list[dict[str, Any]],
    protocols: tuple[str, ...] = ("v1", "v2"),
    batch: int = 1,
) -> dict[str, Any]:
    """Score `events` in requests of `batch` transactions, cycling through `protocols`."""
    with Traffic(base_url, model, protocols) as traffic:
        traffic.score(events, batch)
        return traffic.summary()


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
    return [events[i] for i in sample_indices(len(events), count, last)]


def sample_indices(total: int, count: int, last: bool = False) -> list[int]:
    """Which of `total` chronological events `load_events` takes (see there)."""
    if last:
        return list(range(max(total - count, 0), total))
    if count >= total:
        return list(range(total))
    return [index * total // count for index in range(count)]
