"""Reading a topic over a time window: the messages whose Kafka timestamp is at or after `since`.

The performance check works on sliding windows (labels of the last day, the predictions made
up to a few days before them), so it needs no consumer group and re-running it is harmless.
Each partition is positioned with `offsets_for_times` and read until the broker reports its end
(partition EOF, from the fetch responses: the local tansu broker answers ListOffsets for the
latest offset wrongly, so the watermarks are not used). A broker that answers offsets-for-times
with the start of the log (tansu again) costs a longer read, not a wrong answer: every message
is still filtered by its own timestamp.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

from workloads.health import beat
from workloads.settings import Settings


@dataclass(frozen=True)
class Timestamped:
    timestamp_ms: int
    value: dict


def read_window(
    settings: Settings, topic: str, since_ms: int, timeout: float = 60.0, group_prefix: str = ""
) -> list[Timestamped]:
    """Every JSON-object message in `topic` with a timestamp >= `since_ms`, oldest first per
    partition. Messages that are not JSON objects are skipped (the caller validates the rest)."""
    consumer = Consumer(
        settings.kafka_config(
            **{
                "group.id": f"{group_prefix}window-{time.monotonic_ns()}",  # never committed
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
            }
        )
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if metadata is None or metadata.error is not None:
            if metadata is not None and metadata.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise KafkaException(metadata.error)
            return []  # the topic does not exist yet: nothing was ever published to it
        wanted = [TopicPartition(topic, p, since_ms) for p in sorted(metadata.partitions)]
        starts = consumer.offsets_for_times(wanted, timeout=timeout)
        # -1: no message at or after since_ms in that partition; start at its end.
        assignment = [
            TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
            for tp in starts
        ]
        return _read(consumer, assignment, since_ms, timeout)
    finally:
        consumer.close()


def _read(
    consumer: Consumer, assignment: list[TopicPartition], since_ms: int, timeout: float
) -> list[Timestamped]:
    found: list[Timestamped] = []
    if not assignment:
        return found
    consumer.assign(assignment)
    pending = {tp.partition for tp in assignment}
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"reading {assignment[0].topic} did not finish in {timeout} s")
        beat()
        for message in consumer.consume(500, 0.5):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.discard(message.partition())
                    continue
                raise KafkaException(error)
            if message.timestamp()[1] < since_ms:
                continue
            try:
                value = json.loads(message.value() or b"")
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(value, dict):
                found.append(Timestamped(message.timestamp()[1], value))
    return found
