"""The card switch of the local demo: a day's transactions scored and streamed, without skew.

Training joins each labelled transaction with its customer's feature row as of just before it
(the row the stream wrote for the customer's previous transaction). Online scoring reads the
customer's newest row. The two agree only if, when a transaction is scored, every earlier
transaction of its customer has been streamed into Feast and the transaction itself has not.
So the day is replayed in time order, as the bank's switch would send it:

- every transaction is published to the transactions topic (keyed by customer, as the producer
  does), the scored sample (`traffic.sample_indices`) only after it has been scored;
- before a transaction is scored, if an earlier transaction of its customer was published since
  the last sync, the replay waits until the stream processor's consumer group has committed
  past everything published so far; the processor commits only after pushing to Feast, so a
  committed offset means the feature rows are online (and offline) by then.

A round is what lies between two syncs: its scored transactions are sent (in requests of
`batch`), then its transactions are published. The result is the traffic summary (`Traffic`)
plus the replay's own figures: transactions published, rounds, seconds spent waiting for the
stream.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from workloads.demo.traffic import Traffic
from workloads.settings import Settings


class StreamLagging(RuntimeError):
    """The stream processor did not ingest what was published within the timeout."""


@dataclass
class Round:
    scored: list[dict[str, Any]] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)  # published in this round

    def add(self, event: dict[str, Any], scored: bool) -> None:
        if scored:
            self.scored.append(event)
        self.published.append(event)
        self.customers.add(str(event["customer_id"]))


class Publisher:
    """Publishes transactions and waits until the stream's consumer group has committed them."""

    def __init__(self, settings: Settings, group_id: str, timeout: float) -> None:
        self.topic, self.group_id, self.timeout = settings.topics.transactions, group_id, timeout
        config = settings.kafka_config()
        self.producer = Producer(
            {**config, "enable.idempotence": True, "acks": "all", "linger.ms": 5}
        )
        self.watcher = Consumer(
            {**config, "group.id": group_id, "enable.auto.commit": False}
        )  # never subscribes: it only reads the group's committed offsets
        self.ends: dict[int, int] = {}  # partition -> offset after the last one published
        self.errors: list[str] = []

    def close(self) -> None:
        self.watcher.close()

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.errors.append(str(error))
            return
        partition, offset = message.partition(), message.offset()
        self.ends[partition] = max(self.ends.get(partition, 0), offset + 1)

    def publish(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.producer.produce(
                self.topic,
                key=str(event["customer_id"]),
                value=json.dumps(event).encode(),
                on_delivery=self._delivered,
            )
        if self.producer.flush(60) or self.errors:
            raise KafkaException(f"transactions unacknowledged: {self.errors[:3]}")

    def wait_ingested(self) -> float:
        """Seconds until the group's committed offsets reach what was published."""
        began = time.monotonic()
        wanted = [TopicPartition(self.topic, p) for p in sorted(self.ends)]
        while True:
            committed = {tp.partition: tp.offset for tp in self.watcher.committed(wanted, 10)}
            if all(committed.get(p, -1) >= end for p, end in self.ends.items()):
                return time.monotonic() - began
            if time.monotonic() - began > self.timeout:
                raise StreamLagging(
                    f"the stream processor (group {self.group_id}) has not committed "
                    f"{self.ends} after {self.timeout:.0f} s (committed: {committed})"
                )
            time.sleep(0.05)


def replay(
    traffic: Traffic,
    publisher: Publisher,
    events: list[dict[str, Any]],
    scored: set[int],
    batch: int = 1,
) -> dict[str, Any]:
    """Score the `scored` indexes of a chronological day, streaming the day as it goes."""
    rounds, waited = 0, 0.0
    current = Round()
    for index, event in enumerate(events):
        if index in scored and str(event["customer_id"]) in current.customers:
            waited += _finish(traffic, publisher, current, batch)
            rounds, current = rounds + 1, Round()
        current.add(event, index in scored)
    waited += _finish(traffic, publisher, current, batch)
    return {
        **traffic.summary(),
        "published": len(events),
        "rounds": rounds + 1,
        "stream_wait_seconds": round(waited, 2),
    }


def _finish(traffic: Traffic, publisher: Publisher, current: Round, batch: int) -> float:
    """Score the round's sample, then publish the round and wait for the stream to ingest it."""
    traffic.score(current.scored, batch)
    publisher.publish(current.published)
    return publisher.wait_ingested()
