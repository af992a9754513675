"""Topic administration and whole-topic reads for the local broker, the monitor and the tests.

In the cluster the platform declares the tenant's topics (Strimzi KafkaTopic, MSK, Event Hubs)
and tenants cannot create topics; locally the same names are created here. `read_to_end` reads
what a topic holds now: from the beginning without a group (inspection: dead letters, drift
events), or from a group's committed offsets (the drift monitor's "everything since last time").
"""

from __future__ import annotations

import json
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from workloads.health import beat
from workloads.settings import Settings
from workloads.streaming.dead_letters import DeadLetter, dead_letter_topic

TRANSACTION_PARTITIONS = 3


def ensure_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create every topic that is missing; return the names created."""
    admin = AdminClient(settings.kafka_config())
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(name, TRANSACTION_PARTITIONS if name == settings.topics.transactions else 1, 1)
        for name in settings.topics.all()
        if name not in existing
    ]
    if not wanted:
        return []
    created = []
    for name, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


class TopicReader:
    """Reads what a topic holds now; with a group, from its committed offsets, committed on demand.

    Use as a context manager; call `commit()` once what was read has been acted upon.
    Messages that are not JSON objects come back as {"undecodable": text}; dead letters as
    their reason, source and payload (`DeadLetter.to_json`).
    """

    def __init__(self, settings: Settings, topic: str, group_id: str | None = None) -> None:
        self.topic = topic
        self.group_id = group_id
        self.consumer = Consumer(
            settings.kafka_config(
                **{
                    "group.id": group_id or f"inspect-{time.monotonic_ns()}",
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "enable.partition.eof": True,
                    "session.timeout.ms": 6000,
                }
            )
        )
        self._at_end: dict[int, bool] = {}
        self._read = 0

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.consumer.close()

    def _assigned(self, _: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._at_end[tp.partition] = False

    def read_to_end(self, max_messages: int = 100_000, timeout: float = 60.0) -> list[dict]:
        return [_decode(message) for message in self.read_messages(max_messages, timeout)]

    def read_messages(self, max_messages: int = 100_000, timeout: float = 60.0) -> list[Message]:
        if self.group_id:
            self.consumer.subscribe([self.topic], on_assign=self._assigned)
        else:
            metadata = self.consumer.list_topics(self.topic, timeout=timeout).topics[self.topic]
            partitions = [TopicPartition(self.topic, p, 0) for p in metadata.partitions]
            self._assigned(self.consumer, partitions)
            self.consumer.assign(partitions)
        records: list[Message] = []
        deadline = time.monotonic() + timeout
        while not (self._at_end and all(self._at_end.values())) and len(records) < max_messages:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {self.topic} did not reach its end in {timeout} s")
            beat()
            for message in self.consumer.consume(500, 0.5):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        self._at_end[message.partition()] = True
                        continue
                    raise KafkaException(error)
                self._at_end[message.partition()] = False
                records.append(message)
        self._read += len(records)
        return records

    def commit(self) -> None:
        """Commit the group's position after what was read (nothing to do if nothing was)."""
        if self.group_id and self._read:
            self.consumer.commit(asynchronous=False)


def read_to_end(settings: Settings, topic: str, timeout: float = 60.0) -> list[dict]:
    """Every message now in `topic`, from the beginning, without a consumer group."""
    with TopicReader(settings, topic) as reader:
        return reader.read_to_end(timeout=timeout)


def read_dead_letters(settings: Settings, topic: str, timeout: float = 60.0) -> list[DeadLetter]:
    """Every dead letter now in the dead-letter topic of `topic` (an input topic)."""
    with TopicReader(settings, dead_letter_topic(topic)) as reader:
        letters = [DeadLetter.from_message(m) for m in reader.read_messages(timeout=timeout)]
    return [letter for letter in letters if letter is not None]


def _decode(message: Message) -> dict:
    letter = DeadLetter.from_message(message)
    if letter is not None:
        return letter.to_json()
    text = (message.value() or b"").decode("utf-8", errors="replace")
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        return {"undecodable": text}
    return decoded if isinstance(decoded, dict) else {"undecodable": text}
