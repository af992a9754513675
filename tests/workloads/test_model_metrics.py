"""The model-events exporter: verdicts on the topic become the gauges the alert rules read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from confluent_kafka import Producer
from conftest import REPO_ROOT, free_port, wait_until
from prometheus_client import generate_latest

from workloads.model_metrics.exporter import VerdictMetrics
from workloads.monitoring.events import DriftEvent, PerformanceEvent

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def drift(version: str, status: str, at: datetime, psi: float = 0.4) -> DriftEvent:
    return DriftEvent(
        event_id=str(uuid.uuid4()),
        tenant="risk",
        model="card-risk",
        model_version=version,
        alias="champion",
        occurred_at=at,
        status=status,
        window={"records": 400},
        thresholds={"psi": 0.25, "ks_statistic": 0.2, "ks_pvalue": 0.001},
        features={"amount_aed": {"psi": psi, "drifted": status == "drift"}},
        drifted_features=["amount_aed"] if status == "drift" else [],
    )


def performance(status: str, at: datetime) -> PerformanceEvent:
    return PerformanceEvent(
        event_id=str(uuid.uuid4()),
        tenant="risk",
        model="card-risk",
        model_version="3",
        alias="champion",
        occurred_at=at,
        status=status,
        window={"hours": 24},
        thresholds={"max_auc_drop": 0.05},
        labelled=500,
        positives=20,
        metrics={"roc_auc": 0.71, "precision": 0.4},
        reference={"roc_auc": 0.9, "precision": None},
        breaches=["roc_auc"] if status == "degraded" else [],
    )


def scrape(metrics: VerdictMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_a_drift_verdict_sets_the_gauges_the_alert_reads() -> None:
    metrics = VerdictMetrics()
    metrics.observe(drift("3", "drift", T0).to_json())
    text = scrape(metrics)
    labels = 'model="card-risk",model_version="3",tenant="risk"'
    assert f"mlplatform_model_drift_detected{{{labels}}} 1.0" in text
    assert f'mlplatform_model_drift_psi{{feature="amount_aed",{labels}}} 0.4' in text
    assert f"mlplatform_model_drift_psi_threshold{{{labels}}} 0.25" in text


def test_the_newest_verdict_wins_and_a_new_version_replaces_the_old_series() -> None:
    metrics = VerdictMetrics()
    metrics.observe(drift("3", "drift", T0).to_json())
    metrics.observe(drift("3", "stable", T0 - timedelta(hours=1)).to_json())  # older: ignored
    assert 'model_version="3",tenant="risk"} 1.0' in scrape(metrics)
    metrics.observe(drift("4", "stable", T0 + timedelta(hours=1), psi=0.02).to_json())
    text = scrape(metrics)
    assert (
        'model_version="3"'
        not in text.split("mlplatform_model_drift_detected", 1)[1].split("# HELP", 1)[0]
    )
    assert (
        'mlplatform_model_drift_detected{model="card-risk",model_version="4",tenant="risk"} 0.0'
        in text
    )


def test_performance_verdicts_carry_live_and_reference_metrics() -> None:
    metrics = VerdictMetrics()
    metrics.observe(performance("degraded", T0).to_json())
    text = scrape(metrics)
    labels = 'model="card-risk",model_version="3",tenant="risk"'
    assert f"mlplatform_model_performance_degraded{{{labels}}} 1.0" in text
    assert 'metric="roc_auc",model="card-risk",model_version="3",tenant="risk"} 0.71' in text
    # a reference the version lacks (precision: None) is left out, not exported as 0
    assert 'mlplatform_model_performance_reference{metric="precision"' not in text


def test_messages_that_are_not_verdicts_are_counted_and_skipped() -> None:
    metrics = VerdictMetrics()
    assert metrics.observe(b"not json") is None
    assert metrics.observe(b'{"type": "retraining-request", "schema_version": 1}') is None
    assert metrics.observe(b'{"type": "model-drift", "schema_version": 1}') is None  # fields
    assert "mlplatform_model_events_invalid_total 3.0" in scrape(metrics)


def test_the_exporter_serves_verdicts_read_from_kafka(broker: str, tmp_path) -> None:
    topic = f"model-events-{uuid.uuid4().hex[:8]}"
    producer = Producer({"bootstrap.servers": broker})
    producer.produce(topic, drift("3", "stable", T0, psi=0.01).to_json(), key=b"card-risk")
    producer.produce(topic, b"garbage", key=b"card-risk")
    producer.produce(topic, drift("3", "drift", T0 + timedelta(minutes=5)).to_json())
    assert producer.flush(30) == 0
    port = free_port()
    env = {
        **os.environ,
        "MLP_KAFKA_BOOTSTRAP": broker,
        "MLP_TOPIC_MODEL_EVENTS": topic,
        "PYTHONPATH": str(REPO_ROOT),
    }
    log = tmp_path / "exporter.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workloads.model_metrics", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/metrics"

    def drift_served() -> bool:
        try:
            return 'model_version="3",tenant="risk"} 1.0' in httpx.get(url, timeout=2).text
        except httpx.HTTPError:
            return False

    try:
        wait_until(drift_served, 60, "drift verdict on /metrics", process, log)
        assert "mlplatform_model_events_invalid_total 1.0" in httpx.get(url, timeout=2).text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()[-2000:]
