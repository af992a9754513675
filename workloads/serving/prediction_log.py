"""Publishing scored transactions for the drift monitor, off the request path.

A request appends its scored transactions to a bounded in-memory queue (a deque: one append, no
lock, no system call, so it never waits) and returns; a background thread wakes every
`interval` seconds (0.5), turns what queued up into records (`scored_record`) and hands them to
librdkafka, which sends them in batches. Waking rarely and yielding the interpreter every
`YIELD_EVERY` requests' worth keeps it out of the requests' way: at 20 wake-ups a second it
added about 0.1 ms to a 1-client p50 on 2 busy cores, at 2 about 0.02 ms (benchmarks/serving.py).

Nothing blocks a request: when `capacity` requests are waiting (the broker unreachable for long),
a request's records are dropped and counted; so are records librdkafka's own buffer refuses or
cannot deliver. In normal operation nothing is lost: `close()` (server shutdown) sends what is
queued, flushes librdkafka and returns how many records could not be sent.

Metrics: `card_risk_prediction_log_records_total{outcome}` (`delivered`, `dropped_queue_full`,
`dropped_producer_full`, `failed_delivery`, `undelivered_at_close`) and
`card_risk_prediction_log_queue_depth` (requests waiting).

Kafka settings come from `Settings.kafka_config` (TLS, credentials, like every client), the
topic from `MLP_TOPIC_SCORED`. Settings the workloads cannot use do not stop the predictor:
`open_prediction_log` logs the problem as an error, sets `card_risk_prediction_log_disabled` to
1 and the model is served without the log (the monitor works on samples; scoring must not
depend on its feed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

import orjson
from confluent_kafka import KafkaError, Message, Producer
from prometheus_client import Counter, Gauge

from workloads.data.events import Transaction
from workloads.monitoring.records import scored_record
from workloads.serving.requests import Scored
from workloads.settings import KafkaConfigError, Settings

log = logging.getLogger(__name__)

RECORDS = Counter(
    "card_risk_prediction_log_records", "Scored records by what became of them", ["outcome"]
)
QUEUE_DEPTH = Gauge(
    "card_risk_prediction_log_queue_depth", "Scored requests waiting to be handed to Kafka"
)
DISABLED = Gauge(
    "card_risk_prediction_log_disabled", "1 when the Kafka settings are unusable: nothing published"
)
# Requests' worth of records handed to Kafka between yields of the interpreter (about 0.15 ms).
YIELD_EVERY = 32
Batch = tuple[Sequence[Transaction], Sequence[dict[str, object]], Scored]


class PredictionLog:
    def __init__(self, settings: Settings, capacity: int = 10_000, interval: float = 0.5) -> None:
        self.topic = settings.topics.scored
        self.capacity = capacity
        self.interval = interval
        self._producer = Producer(
            settings.kafka_config(
                **{
                    "acks": "all",
                    # Fewer, larger batches: less CPU in librdkafka and the broker per
                    # record; the drift monitor reads minutes of records at a time.
                    "linger.ms": 100,
                    "message.timeout.ms": 30000,
                    "queue.buffering.max.messages": 100000,
                }
            )
        )
        self._pending: deque[Batch] = deque()
        pending = self._pending  # not `self`: the global gauge must not keep the producer alive
        QUEUE_DEPTH.set_function(lambda: len(pending))
        self._outcomes = {
            name: RECORDS.labels(name)
            for name in (
                "delivered",
                "dropped_queue_full",
                "dropped_producer_full",
                "failed_delivery",
                "undelivered_at_close",
            )
        }
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def publish(
        self,
        transactions: Sequence[Transaction],
        customers: Sequence[dict[str, object]],
        scored: Scored,
    ) -> None:
        """Queue one request's scored transactions; never blocks."""
        if len(self._pending) >= self.capacity:
            self._outcomes["dropped_queue_full"].inc(len(scored.scores))
            return
        self._pending.append((transactions, customers, scored))

    def _delivered(self, error: KafkaError | None, _: Message) -> None:
        if error is None:
            self._outcomes["delivered"].inc()
        else:
            self._outcomes["failed_delivery"].inc()
            log.warning("scored record not delivered: %s", error)

    def _send(self, batch: Batch) -> None:
        transactions, customers, scored = batch
        for txn, customer, score in zip(transactions, customers, scored.scores, strict=True):
            record = scored_record(
                {
                    **txn.as_features(),
                    "transaction_id": txn.transaction_id,
                    "customer_id": txn.customer_id,
                },
                customer,
                score,
                scored.version,
            )
            try:
                self._producer.produce(
                    self.topic,
                    key=txn.customer_id.encode(),
                    value=orjson.dumps(record),
                    on_delivery=self._delivered,
                )
            except BufferError:
                self._outcomes["dropped_producer_full"].inc()

    def _drain(self) -> None:
        sent = 0
        while self._pending:
            batch = self._pending.popleft()
            try:
                self._send(batch)
            except Exception:  # a bad record must not end the thread
                log.exception("scored records could not be queued for Kafka")
            sent += 1
            if sent % YIELD_EVERY == 0:
                time.sleep(0)  # let a waiting request have the interpreter
        self._producer.poll(0)  # delivery callbacks

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self._drain()

    def close(self, timeout: float = 10.0) -> int:
        """Send what is queued, flush; return how many records could not be sent."""
        self._stopping.set()
        self._thread.join(timeout)
        self._drain()
        left = self._producer.flush(timeout)
        if left:
            self._outcomes["undelivered_at_close"].inc(left)
        return int(left)


def open_prediction_log(settings: Settings, capacity: int = 10_000) -> PredictionLog | None:
    """The prediction log, or None (logged, and flagged by a metric) when the Kafka settings
    cannot be used: scoring must not depend on the drift monitor's feed."""
    try:
        prediction_log = PredictionLog(settings, capacity)
    except KafkaConfigError as error:
        log.error("prediction log disabled, scored records will not be published: %s", error)
        DISABLED.set(1)
        return None
    DISABLED.set(0)
    return prediction_log
