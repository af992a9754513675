"""The prediction log with the real broker: nothing lost normally, never blocking, drops counted."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer
from conftest import Dataset, Workspace, free_port
from prometheus_client import REGISTRY

from workloads.data.events import parse_transaction
from workloads.features import schema
from workloads.serving.prediction_log import PredictionLog
from workloads.serving.requests import Scored
from workloads.settings import Settings

pytestmark = pytest.mark.slow


def outcome(name: str) -> float:
    value = REGISTRY.get_sample_value("card_risk_prediction_log_records_total", {"outcome": name})
    return value or 0.0


def batches(dataset: Dataset, count: int, size: int = 2) -> list[tuple[list, list, Scored]]:
    events = dataset.events[-count * size :]
    customer, _ = schema.fill_defaults({})
    out = []
    for start in range(0, len(events), size):
        transactions = [parse_transaction(e) for e in events[start : start + size]]
        scores = [0.1 * (i % 10) for i in range(len(transactions))]
        out.append(
            (
                transactions,
                [customer] * len(transactions),
                Scored("7", scores, [True] * len(scores)),
            )
        )
    return out


def read_topic(
    settings: Settings, topic: str, expected: int, timeout: float = 60
) -> list[dict[str, Any]]:
    group = f"read-{uuid.uuid4().hex[:6]}"
    consumer = Consumer(
        settings.kafka_config(**{"group.id": group, "auto.offset.reset": "earliest"})
    )
    consumer.subscribe([topic])
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                records.append(json.loads(message.value()))
        # anything beyond what was expected would be a duplicate: give it a moment to show
        end = time.monotonic() + 2
        while time.monotonic() < end:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                records.append(json.loads(message.value()))
    finally:
        consumer.close()
    return records


def test_every_scored_record_reaches_the_topic_in_normal_operation(
    workspace: Workspace, dataset: Dataset
) -> None:
    log = PredictionLog(workspace.settings)
    sent = batches(dataset, 300)
    for transactions, customers, scored in sent:
        log.publish(transactions, customers, scored)
    assert log.close() == 0
    records = read_topic(workspace.settings, workspace.settings.topics.scored, 600)
    assert len(records) == 600
    expected = {t.transaction_id for transactions, _, _ in sent for t in transactions}
    assert {r["transaction_id"] for r in records} == expected
    assert {r["model_version"] for r in records} == {"7"}
    assert all(0 <= r["risk_score"] <= 1 for r in records)


def test_a_full_queue_drops_and_counts_instead_of_blocking(
    workspace: Workspace, dataset: Dataset
) -> None:
    # The sender thread is asleep for the whole test: the queue can only fill up.
    log = PredictionLog(workspace.settings, capacity=3, interval=3600)
    dropped_before = outcome("dropped_queue_full")
    slowest = 0.0
    for transactions, customers, scored in batches(dataset, 10):
        began = time.perf_counter()
        log.publish(transactions, customers, scored)
        slowest = max(slowest, time.perf_counter() - began)
    assert outcome("dropped_queue_full") - dropped_before == 7 * 2
    assert slowest < 0.005  # a request never waits for the log
    assert log.close() == 0  # the three queued requests are still sent at shutdown
    assert len(read_topic(workspace.settings, workspace.settings.topics.scored, 6)) == 6


def test_an_unreachable_broker_costs_requests_nothing_and_is_counted(
    dataset: Dataset, tmp_path: Path
) -> None:
    quiet = tmp_path / "librdkafka.json"  # its connection errors would flood the test output
    quiet.write_text(json.dumps({"log_level": 0}))
    settings = Settings(  # nothing listens on that port
        kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_client_config=quiet
    )
    log = PredictionLog(settings, capacity=100_000)
    undelivered_before = outcome("undelivered_at_close")
    began = time.perf_counter()
    for transactions, customers, scored in batches(dataset, 500):
        log.publish(transactions, customers, scored)
    assert time.perf_counter() - began < 0.5  # 500 requests' worth, none waiting on Kafka
    left = log.close(timeout=1.0)
    assert left == 1000
    assert outcome("undelivered_at_close") - undelivered_before == 1000
