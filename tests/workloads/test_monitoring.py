"""The drift monitor on served traffic: quiet on normal traffic, events out on drifted traffic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import DATA_END, Dataset, Service, Workspace

from workloads.data import generator
from workloads.demo.traffic import send
from workloads.streaming.topics import read_to_end

pytestmark = pytest.mark.slow
Trained = tuple[Workspace, dict[str, Any]]


def check(ws: Workspace) -> dict[str, Any]:
    return ws.run("workloads.monitoring", "check", "--min-records", "150")


def test_drift_is_reported_only_for_drifted_traffic(
    trained: Trained, model_server: tuple[str, Service], dataset: Dataset
) -> None:
    ws, result = trained
    url, _ = model_server
    topics = ws.settings.topics
    model = ws.settings.model_name

    # New transactions, as a card switch sends them: not yet in the stream, so the online
    # features are the customer's state before them, as in training.
    live_rows = generator.generate_transactions(
        dataset.customers, 300, seed=13, end=DATA_END + timedelta(days=1), span=timedelta(days=1)
    )
    normal = send(url, model, [generator.to_event(r) for r in live_rows], ("v1", "v2"), batch=5)
    assert normal["errors"] == 0
    quiet = check(ws)
    assert quiet["status"] == "stable", quiet
    assert quiet["model_version"] == result["version"]
    assert quiet["records_compared"] >= 300
    assert read_to_end(ws.settings, topics.drift) == []

    nothing_new = check(ws)
    assert nothing_new["status"] == "insufficient data"
    assert nothing_new["records_read"] == 0

    drifted_rows = generator.generate_transactions(
        dataset.customers, 400, seed=12, end=DATA_END, drift=generator.DriftProfile()
    )
    drifted = send(url, model, [generator.to_event(r) for r in drifted_rows], ("v1", "v2"), 10)
    assert drifted["errors"] == 0
    alarm = check(ws)
    assert alarm["status"] == "drift", alarm
    assert {"amount_aed", "channel"} <= set(alarm["drifted_features"])
    assert alarm["features"]["amount_aed"]["psi"] >= 0.25
    assert alarm["features"]["amount_aed"]["ks_pvalue"] < 0.001

    (event,) = read_to_end(ws.settings, topics.drift)
    assert event["event_id"] == alarm["drift_event_id"]
    assert event["type"] == "model-drift" and event["model_version"] == result["version"]
    (request,) = read_to_end(ws.settings, topics.retraining)
    assert request["drift_event_id"] == event["event_id"]
    assert "amount_aed" in request["reason"]
