"""Publishing transaction events to Kafka the way the card switch does: keyed by customer, in order.

Keying by customer keeps each customer's events in one partition, in order, which the stream
processor's per-partition windows rely on. The producer is idempotent with `acks=all`, so a
retry after a timeout cannot duplicate or reorder events.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from workloads.settings import Settings


def produce(settings: Settings, topic: str, events: Iterable[tuple[str | None, bytes]]) -> int:
    """Send (key, value) pairs and wait until the broker has acknowledged every one."""
    producer = Producer(
        settings.kafka_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 10})
    )
    errors: list[str] = []

    def delivered(error: KafkaError | None, _: Message) -> None:
        if error is not None:
            errors.append(str(error))

    count = 0
    for key, value in events:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.5)  # local queue full: let deliveries drain
        producer.poll(0)
        count += 1
    remaining = producer.flush(60)
    if remaining or errors:
        raise KafkaException(f"{remaining} events unacknowledged; delivery errors: {errors[:5]}")
    return count


def transaction_messages(events: Iterable[dict]) -> Iterable[tuple[str | None, bytes]]:
    for event in events:
        yield event["customer_id"], json.dumps(event).encode()
