"""The demo's live replay: each scored transaction sees exactly its customer's earlier
transactions in Feast (the training join's view), never itself; the stream sync is real Kafka."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from workloads.demo.live import Publisher, StreamLagging, replay
from workloads.demo.traffic import sample_indices
from workloads.settings import Settings, Topics


class FakeStream:
    """Stands for the stream processor: what is published becomes 'online' on the next sync."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.online: list[dict[str, Any]] = []
        self.syncs = 0

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.published += events

    def wait_ingested(self) -> float:
        self.syncs += 1
        self.online = list(self.published)
        return 0.01


class FakeTraffic:
    def __init__(self, stream: FakeStream) -> None:
        self.stream = stream
        self.seen: list[tuple[dict[str, Any], list[str], set[str]]] = []

    def score(self, events: list[dict[str, Any]], batch: int = 1) -> None:
        for event in events:
            online = [
                e["id"] for e in self.stream.online if e["customer_id"] == event["customer_id"]
            ]
            published = {e["id"] for e in self.stream.published}
            self.seen.append((event, online, published))

    def summary(self) -> dict[str, Any]:
        return {"transactions": len(self.seen), "errors": 0}


def day(customers: int, events: int) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "customer_id": f"c{(i * 7) % customers}"} for i in range(events)]


@pytest.mark.parametrize("batch", [1, 10])
def test_each_scored_transaction_sees_its_customers_earlier_ones_and_not_itself(batch: int):
    events = day(customers=40, events=600)
    scored = set(sample_indices(len(events), 150))
    stream = FakeStream()
    traffic = FakeTraffic(stream)
    result = replay(traffic, stream, events, scored, batch)  # type: ignore[arg-type]
    assert [e["id"] for e, _, _ in traffic.seen] == [events[i]["id"] for i in sorted(scored)]
    position = {e["id"]: i for i, e in enumerate(events)}
    for event, online, published in traffic.seen:
        earlier = [
            e["id"]
            for e in events[: position[event["id"]]]
            if e["customer_id"] == event["customer_id"]
        ]
        assert online == earlier  # what the point-in-time join gives training
        assert event["id"] not in published
    assert stream.published == events and stream.online == events  # the whole day, in order
    assert result["published"] == 600 and result["rounds"] == stream.syncs
    assert 1 < result["rounds"] < 150  # syncs only where a customer repeats


def test_publisher_waits_for_the_stream_groups_commits(broker: str):
    topic = f"live-{time.monotonic_ns()}"
    admin = AdminClient({"bootstrap.servers": broker})
    admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(30)
    settings = Settings(kafka_bootstrap=broker, topics=Topics(transactions=topic))
    events = [{"customer_id": f"c{i % 5}", "n": i} for i in range(30)]
    publisher = Publisher(settings, "live-test-stream", timeout=1.0)
    try:
        publisher.publish(events)
        with pytest.raises(StreamLagging, match=r"\(group live-test-stream\) has not committed"):
            publisher.wait_ingested()  # nobody consumes yet
        stop = threading.Event()
        consumer = threading.Thread(target=_consume_and_commit, args=(broker, topic, stop))
        consumer.start()
        publisher.timeout = 60.0
        try:
            assert publisher.wait_ingested() < 60
        finally:
            stop.set()
            consumer.join(30)
        assert sum(publisher.ends.values()) == 30
    finally:
        publisher.close()


def _consume_and_commit(broker: str, topic: str, stop: threading.Event) -> None:
    """What the stream processor does: consume in its group, commit after each batch."""
    consumer = Consumer(
        {
            "bootstrap.servers": broker,
            "group.id": "live-test-stream",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            messages = consumer.consume(100, 0.2)
            if messages:
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()
