"""The monitors on served traffic, with the real broker, MLflow and model server: drift verdicts,
performance once labels arrive, the events and retraining requests they publish, exit codes."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import timedelta
from typing import Any

import pytest
from conftest import (
    DATA_END,
    PYTHON,
    REPO_ROOT,
    Dataset,
    Service,
    Workspace,
    free_port,
    wait_until,
)

from workloads.data import generator
from workloads.data.producer import produce
from workloads.demo.traffic import send
from workloads.monitoring.events import GroundTruth, LoopTopics, now_iso
from workloads.monitoring.labels import publish_labels
from workloads.streaming.topics import read_to_end

pytestmark = pytest.mark.slow
Trained = tuple[Workspace, dict[str, Any]]


def monitor(env: dict[str, str], *args: str, expect: int = 0) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "workloads.monitoring", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == expect, done.stderr[-4000:]
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


def loop_env(ws: Workspace) -> tuple[dict[str, str], LoopTopics]:
    """The workspace's environment with model-event and label topics of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    topics = LoopTopics(f"model-events-{suffix}", f"labels-{suffix}", "tenant-a")
    env = {
        **ws.env,
        "MLP_TOPIC_MODEL_EVENTS": topics.model_events,
        "MLP_TOPIC_LABELS": topics.labels,
        "MLP_TENANT": "tenant-a",
    }
    return env, topics


def score(url: str, ws: Workspace, rows: list[dict], batch: int) -> None:
    """Send `rows` through the model server; wait until the prediction log has them all."""
    result = send(
        url, ws.settings.model_name, [generator.to_event(r) for r in rows], ("v1", "v2"), batch
    )
    assert result["errors"] == 0
    wanted = {r["transaction_id"] for r in rows}

    def logged() -> bool:
        records = read_to_end(ws.settings, ws.settings.topics.scored)
        return wanted <= {r.get("transaction_id") for r in records}

    wait_until(logged, 60, "the scored records in the prediction log")


def test_drift_is_reported_only_for_drifted_traffic(
    trained: Trained, model_server: tuple[str, Service], dataset: Dataset
) -> None:
    ws, result = trained
    url, _ = model_server
    env, topics = loop_env(ws)

    # New transactions, as a card switch sends them: not yet in the stream, so the online
    # features are the customer's state before them, as in training.
    live_rows = generator.generate_transactions(
        dataset.customers, 300, seed=13, end=DATA_END + timedelta(days=1), span=timedelta(days=1)
    )
    alarms_before = read_to_end(ws.settings, ws.settings.topics.drift)  # other tests' alarms
    requests_before = read_to_end(ws.settings, ws.settings.topics.retraining)
    score(url, ws, live_rows, 5)
    quiet = monitor(env, "check", "--min-records", "150")
    assert quiet["status"] == "stable", quiet
    assert quiet["model_version"] == result["version"]
    assert quiet["records_compared"] >= 300
    # The verdict goes to the platform's topic; the tenant's drift topic gets alarms only.
    (stable,) = read_to_end(ws.settings, topics.model_events)
    assert stable["type"] == "model-drift" and stable["status"] == "stable"
    assert stable["event_id"] == quiet["drift_event_id"]
    assert read_to_end(ws.settings, ws.settings.topics.drift) == alarms_before
    assert read_to_end(ws.settings, ws.settings.topics.retraining) == requests_before

    nothing_new = monitor(env, "check", "--min-records", "150")
    assert nothing_new["status"] == "insufficient data"
    assert nothing_new["records_read"] == 0

    drifted_rows = generator.generate_transactions(
        dataset.customers, 400, seed=12, end=DATA_END, drift=generator.DriftProfile()
    )
    score(url, ws, drifted_rows, 10)
    # The CronJob's command: an alert is exit status 3.
    job = monitor(env, "job", "--no-performance", "--min-records", "150", expect=3)
    alarm = job["drift"]
    assert job["alert"] is True and "performance" not in job
    assert alarm["status"] == "drift", alarm
    assert {"amount_aed", "channel"} <= set(alarm["drifted_features"])
    assert alarm["features"]["amount_aed"]["psi"] >= 0.25
    assert alarm["features"]["amount_aed"]["ks_pvalue"] < 0.001

    (event,) = read_to_end(ws.settings, ws.settings.topics.drift)[len(alarms_before) :]
    assert event["event_id"] == alarm["drift_event_id"] and event["status"] == "drift"
    assert event["schema_version"] == 1 and event["tenant"] == "tenant-a"
    assert event["model_version"] == result["version"]
    assert "amount_aed" in event["drifted_features"]
    assert event["features"]["amount_aed"] == alarm["features"]["amount_aed"]
    assert read_to_end(ws.settings, topics.model_events) == [stable, event]
    (request,) = read_to_end(ws.settings, ws.settings.topics.retraining)[len(requests_before) :]
    assert request["type"] == "retraining-request" and request["reason"] == "drift"
    assert request["source_event_id"] == event["event_id"]
    assert request["request_id"] == alarm["retraining_request_id"]
    assert "amount_aed" in request["detail"]


def test_performance_is_judged_when_the_labels_arrive(
    trained: Trained, model_server: tuple[str, Service], dataset: Dataset
) -> None:
    ws, result = trained
    url, _ = model_server
    env, topics = loop_env(ws)
    args = ("performance", "--min-labelled", "300", "--min-positives", "10")

    rows = generator.generate_transactions(
        dataset.customers,
        600,
        seed=21,
        end=DATA_END + timedelta(days=2),
        span=timedelta(days=1),
        fraud_rate=0.08,
    )
    score(url, ws, rows, 5)
    before = monitor(env, *args)
    assert before["status"] == "insufficient data" and before["labels"] == 0

    settled = ws.root / f"settled-{uuid.uuid4().hex[:6]}.jsonl"
    settled.write_text(
        "".join(
            json.dumps({"transaction_id": r["transaction_id"], "is_fraud": r["is_fraud"]}) + "\n"
            for r in rows
        )
    )
    published = monitor(env, "labels", "--settled", str(settled))
    assert published == {"published": len(rows), "topic": topics.labels}
    ok = monitor(env, *args)
    assert ok["status"] == "ok", ok
    assert ok["model_version"] == result["version"]
    assert ok["labelled"] == ok["matched"] == len(rows) and ok["unmatched"] == 0
    assert ok["metrics"]["roc_auc"] > 0.8
    assert ok["reference"]["roc_auc"] == pytest.approx(result["holdout_roc_auc"], abs=1e-3)
    (event,) = read_to_end(ws.settings, topics.model_events)
    assert event["type"] == "model-performance" and event["status"] == "ok"
    assert event["metrics"] == ok["metrics"] and event["labelled"] == len(rows)
    alarms_before = read_to_end(ws.settings, ws.settings.topics.drift)

    # The outcomes corrected (here: inverted): the latest label of a transaction counts.
    flipped = [{"transaction_id": r["transaction_id"], "is_fraud": 1 - r["is_fraud"]} for r in rows]
    publish_labels(ws.settings, topics, flipped)
    degraded = monitor(env, *args, "--alert-exit-code", "3", expect=3)
    assert degraded["status"] == "degraded"
    assert degraded["metrics"]["roc_auc"] < 0.2
    assert any("roc_auc" in breach for breach in degraded["breaches"])
    requests = [
        r
        for r in read_to_end(ws.settings, ws.settings.topics.retraining)
        if r["reason"] == "performance"
    ]
    assert [r["source_event_id"] for r in requests] == [degraded["performance_event_id"]]
    alarms = read_to_end(ws.settings, ws.settings.topics.drift)[len(alarms_before) :]
    assert [(a["type"], a["status"]) for a in alarms] == [("model-performance", "degraded")]


def test_invalid_labels_are_counted_and_skipped(trained: Trained) -> None:
    ws, _ = trained
    env, topics = loop_env(ws)
    valid = GroundTruth(transaction_id="t-1", is_fraud=True, labelled_at=now_iso())  # type: ignore[arg-type]
    produce(
        ws.settings,
        topics.labels,
        [
            ("t-1", valid.to_json()),
            ("t-2", b'{"type": "ground-truth", "schema_version": 1, "transaction_id": "t-2"}'),
            ("t-3", b'{"type": "ground-truth", "schema_version": 2, "transaction_id": "t-3"}'),
        ],
    )
    report = monitor(env, "performance")
    assert report["invalid_labels"] == 2 and report["labels"] == 1
    assert report["status"] == "insufficient data"


def test_exit_status_tells_a_configuration_error_from_an_outage(trained: Trained) -> None:
    ws, _ = trained
    env, _ = loop_env(ws)
    misconfigured = monitor(
        {**env, "MLP_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "job", expect=2
    )
    assert "SASL_PLAINTEXT" in misconfigured["error"]
    outage = monitor(
        {
            **env,
            # nothing listens there once free_port's probe socket is closed
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
        },
        "job",
        expect=1,
    )
    assert outage["status"] == "error"
