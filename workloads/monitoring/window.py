"""Reading a topic over a time window: the messages whose Kafka timestamp is at or after `since`.

The performance check works on sliding windows (labels of the last day, the predictions made
up to a few days before them), so it needs no consumer group and re-running it is harmless.
Each partition is positioned with `offsets_for_times` and read up to the high watermark taken
at the start (messages produced meanwhile belong to the next window). A broker that answers
offsets-for-times with the start of the log (the local tansu broker) costs a longer read, not
a wrong answer: every message is still filtered by its own timestamp.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

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
        ends = {
            tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout)[1] for tp in wanted
        }
        assignment = []
        for tp in starts:
            start = tp.offset if tp.offset >= 0 else ends[tp.partition]
            if start < ends[tp.partition]:
                assignment.append(TopicPartition(topic, tp.partition, start))
        return _read(consumer, assignment, ends, since_ms, timeout)
    finally:
        consumer.close()


def _read(
    consumer: Consumer,
    assignment: list[TopicPartition],
    ends: dict[int, int],
    since_ms: int,
    timeout: float,
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
            if message.error() is not None:
                raise KafkaException(message.error())
            partition, offset = message.partition(), message.offset()
            if offset >= ends[partition] - 1:
                pending.discard(partition)
            if offset >= ends[partition]:
                continue
            stamp = message.timestamp()[1]
            if stamp < since_ms:
                continue
            try:
                value = json.loads(message.value() or b"")
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(value, dict):
                found.append(Timestamped(stamp, value))
    return found
