"""The stream processor: card transactions from Kafka into Feast, at least once, input-proof.

Per batch (up to `batch_size` events or `batch_timeout` seconds):
1. decode and validate every event; an invalid one goes to the dead-letter topic with the
   reason and its source coordinates, and is otherwise skipped;
2. update the customer's windows and collect one feature row per valid event;
3. push the rows to Feast: all of them to the offline store (the history training joins
   against), the newest per customer to the online store (what serving reads);
4. wait until the dead letters are acknowledged, snapshot the windows with the next offsets,
   and only then commit those offsets to Kafka.

A crash anywhere before step 4 replays the batch from the last snapshot; the replay computes
the same rows and Feast upserts them again, so nothing is lost and nothing changes. Failures
of Feast or Kafka themselves (not of the input) are retried, then end the process with a
non-zero status so that its supervisor restarts it. SIGTERM (and SIGINT) let the current batch
finish and close the consumer cleanly (leaving the group at once).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import pandas as pd
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from feast import FeatureStore
from feast.data_source import PushMode

from workloads.data.events import InvalidTransaction, Transaction, parse_transaction
from workloads.features import schema
from workloads.health import beat
from workloads.settings import Settings
from workloads.streaming.windows import CustomerWindows, PartitionStateStore

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 64 * 1024
PUSH_ATTEMPTS = 3
FEATURE_COLUMNS = [schema.JOIN_KEY, *schema.ACTIVITY_FEATURES, schema.TIMESTAMP_FIELD]


def decode_event(value: bytes | None) -> Transaction:
    """Bytes from Kafka to a valid Transaction, or InvalidTransaction with the reason."""
    if value is None:
        raise InvalidTransaction("empty message (no value)")
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidTransaction(f"event of {len(value)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidTransaction(f"event is not UTF-8: {error}") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidTransaction(f"event is not JSON: {error}") from None
    return parse_transaction(record)


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=FEATURE_COLUMNS)
    frame[schema.TIMESTAMP_FIELD] = pd.to_datetime(frame[schema.TIMESTAMP_FIELD], utc=True)
    return frame


class StreamProcessor:
    def __init__(
        self,
        settings: Settings,
        store: FeatureStore,
        state_dir: Path,
        group_id: str = "card-risk-features",
        batch_size: int = 500,
        batch_timeout: float = 1.0,
    ) -> None:
        self.settings = settings
        self.topic = settings.topics.transactions
        self.store = store
        self.state = PartitionStateStore(state_dir)
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.windows: dict[int, CustomerWindows] = {}
        self.stats: Counter[str] = Counter()
        self._at_end: dict[int, bool] = {}
        self._stopping = False
        self._dead_letter_errors: list[str] = []
        self.consumer = Consumer(
            settings.kafka_config(
                **{
                    "group.id": group_id,
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "enable.partition.eof": True,
                    # Group joins take about half the session timeout; 6 s keeps restarts quick.
                    "session.timeout.ms": 6000,
                }
            )
        )
        self.producer = Producer(
            settings.kafka_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 5})
        )

    # -- partition assignment: restore the windows and resume at the snapshot's offset --------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            windows, next_offset = self.state.load(tp.topic, tp.partition)
            self.windows[tp.partition] = windows
            self._at_end[tp.partition] = False
            if next_offset is not None:
                tp.offset = next_offset
            log.info("assigned %s[%d] from offset %s", tp.topic, tp.partition, next_offset)
        consumer.assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.windows.pop(tp.partition, None)
            self._at_end.pop(tp.partition, None)

    # -- one batch ---------------------------------------------------------------------------
    def process_batch(self, messages: Sequence[Message]) -> None:
        rows: list[dict[str, object]] = []
        newest: dict[str, dict[str, object]] = {}
        next_offsets: dict[int, int] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._at_end[message.partition()] = True
                    continue
                if error.fatal():
                    raise KafkaException(error)
                log.warning("consumer error (retried by the client): %s", error)
                continue
            partition = message.partition()
            self._at_end[partition] = False
            next_offsets[partition] = message.offset() + 1
            self.stats["consumed"] += 1
            try:
                transaction = decode_event(message.value())
            except InvalidTransaction as reason:
                self._dead_letter(message, str(reason))
                continue
            windows = self.windows.setdefault(partition, CustomerWindows())
            row = windows.update(transaction)
            rows.append(row)
            # A late event must not overwrite a newer online value of the same customer.
            if windows.is_newest(transaction.customer_id, transaction.timestamp):
                newest[transaction.customer_id] = row
            self.stats["valid"] += 1
        if not next_offsets:
            return
        if rows:
            self._push(rows, list(newest.values()))
        self._await_dead_letters()
        for partition, offset in next_offsets.items():
            self.state.save(self.topic, partition, self.windows[partition], offset)
        self.consumer.commit(
            offsets=[TopicPartition(self.topic, p, o) for p, o in next_offsets.items()],
            asynchronous=False,
        )
        self.stats["batches"] += 1

    def _push(self, rows: list[dict[str, object]], newest: list[dict[str, object]]) -> None:
        history, latest = _frame(rows), _frame(newest)
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                self.store.push(schema.ACTIVITY_PUSH_SOURCE, history, to=PushMode.OFFLINE)
                if len(latest):
                    self.store.push(schema.ACTIVITY_PUSH_SOURCE, latest, to=PushMode.ONLINE)
                break
            except Exception:
                if attempt == PUSH_ATTEMPTS:
                    raise
                log.exception("push to Feast failed (attempt %d), retrying", attempt)
                time.sleep(0.5 * 2**attempt)
        self.stats["pushed_rows"] += len(history)

    def _dead_letter(self, message: Message, reason: str) -> None:
        value = message.value() or b""
        payload = value.decode("utf-8", errors="replace")[:MAX_EVENT_BYTES]
        record = {
            "reason": reason,
            "source": {
                "topic": message.topic(),
                "partition": message.partition(),
                "offset": message.offset(),
            },
            "payload": payload,
        }

        def delivered(error: KafkaError | None, _: Message) -> None:
            if error is not None:
                self._dead_letter_errors.append(str(error))

        self.producer.produce(
            self.settings.topics.dead_letter,
            key=message.key(),
            value=json.dumps(record).encode(),
            headers=[("dead-letter-reason", reason.encode()[:1000])],
            on_delivery=delivered,
        )
        self.stats["dead_lettered"] += 1
        log.warning(
            "dead-lettered %s[%d]@%d: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            reason,
        )

    def _await_dead_letters(self) -> None:
        remaining = self.producer.flush(30)
        if remaining or self._dead_letter_errors:
            errors, self._dead_letter_errors = self._dead_letter_errors, []
            raise KafkaException(
                f"dead-letter topic did not acknowledge {remaining} events; errors: {errors}"
            )

    # -- the loop --------------------------------------------------------------------------
    def stop(self, signum: int = signal.SIGTERM, _: FrameType | None = None) -> None:
        log.info("signal %d: finishing the current batch, then stopping", signum)
        self._stopping = True

    def caught_up(self) -> bool:
        return bool(self._at_end) and all(self._at_end.values())

    def run(self, until_caught_up: bool = False) -> Counter[str]:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        try:
            while not self._stopping:
                beat()
                messages = self.consumer.consume(self.batch_size, self.batch_timeout)
                self.process_batch(messages)
                if until_caught_up and self.caught_up():
                    log.info("caught up with the end of every assigned partition")
                    break
        finally:
            self.consumer.close()
            self.producer.flush(10)
        return self.stats
