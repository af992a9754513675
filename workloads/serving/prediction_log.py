"""Publishing scored transactions for the drift monitor, never slowing or failing a request.

Records are queued in librdkafka and sent in the background; a full queue or an unreachable
broker drops records (counted, logged) instead of blocking the scoring path. The drift monitor
works on samples, so a dropped record costs a little statistical power, not a wrong answer.

For the same reason Kafka settings the workloads cannot use (e.g. MSK IAM, see
`workloads.settings`) do not stop the predictor: `open_prediction_log` logs the problem as an
error, sets `card_risk_prediction_log_disabled` to 1 and the model is served without the log.
"""

from __future__ import annotations

import json
import logging

from confluent_kafka import KafkaError, Message, Producer
from prometheus_client import Counter, Gauge

from workloads.settings import KafkaConfigError, Settings

log = logging.getLogger(__name__)

DROPPED = Counter("card_risk_prediction_log_dropped", "Scored records not published")
DISABLED = Gauge(
    "card_risk_prediction_log_disabled", "1 when the Kafka settings are unusable: nothing published"
)


class PredictionLog:
    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topics.scored
        self._producer = Producer(
            settings.kafka_config(
                **{
                    "acks": "all",
                    "linger.ms": 20,
                    "message.timeout.ms": 30000,
                    "queue.buffering.max.messages": 100000,
                }
            )
        )

    def _delivered(self, error: KafkaError | None, _: Message) -> None:
        if error is not None:
            DROPPED.inc()
            log.warning("scored record not delivered: %s", error)

    def publish(self, records: list[dict]) -> None:
        for record in records:
            try:
                self._producer.produce(
                    self.topic,
                    key=str(record["customer_id"]).encode(),
                    value=json.dumps(record).encode(),
                    on_delivery=self._delivered,
                )
            except BufferError:
                DROPPED.inc()
        self._producer.poll(0)

    def close(self, timeout: float = 10.0) -> int:
        """Flush what is queued; return how many records could not be sent."""
        return self._producer.flush(timeout)


def open_prediction_log(settings: Settings) -> PredictionLog | None:
    """The prediction log, or None (logged, and flagged by a metric) when the Kafka settings
    cannot be used: scoring must not depend on the drift monitor's feed."""
    try:
        prediction_log = PredictionLog(settings)
    except KafkaConfigError as error:
        log.error("prediction log disabled, scored records will not be published: %s", error)
        DISABLED.set(1)
        return None
    DISABLED.set(0)
    return prediction_log
