"""The stream processor: card transactions from Kafka into Feast, at least once, input-proof.

Per batch (up to `batch_size` events or what arrived within `batch_timeout` seconds):
1. decode and validate every event and update its customer's windows; an event that fails,
   whatever the exception, goes to its topic's dead-letter topic (`dead_letters.py`: the
   original bytes, the reason, the exception class, topic/partition/offset) and the batch
   goes on;
2. push the rows to Feast: the newest per customer to the online store (what serving reads),
   then all of them to the offline store (the history training joins against). If Feast
   refuses the batch, it is split until the refused rows are found; they are dead-lettered
   and the rest is pushed (`_isolate`);
3. wait until the dead letters are acknowledged, snapshot the windows with the next offsets,
   and only then commit those offsets to Kafka.

A crash anywhere before step 3 replays the batch from the last snapshot; the replay computes
the same rows and Feast upserts them again, so nothing is lost and nothing changes. Failures
of Feast or Kafka themselves (not of the input) are retried, then end the process with a
non-zero status so that its supervisor restarts it. SIGTERM (and SIGINT) let the current batch
finish and close the consumer cleanly (leaving the group at once).

Several processes may share the consumer group (scale-out across partitions). A partition
assigned without a snapshot that covers the group's committed offset (another process owned
it, with its snapshots on another volume) is first replayed into the windows only, from the
snapshot or the partition's start up to that offset, so its features stay exact.
"""

from __future__ import annotations

import gc
import logging
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from feast import FeatureStore

from workloads.data.events import (
    MAX_EVENT_BYTES,
    EventLimits,
    InvalidTransaction,
    decode_event,
)
from workloads.features import schema
from workloads.health import beat
from workloads.settings import Settings
from workloads.streaming import BATCH_SIZE, BATCH_TIMEOUT, CONSUMER_SETTINGS
from workloads.streaming.dead_letters import dead_letter
from workloads.streaming.feast_writer import ActivityWriter
from workloads.streaming.metrics import StreamMetrics
from workloads.streaming.windows import CustomerWindows, PartitionStateStore

__all__ = ["BATCH_SIZE", "BATCH_TIMEOUT", "MAX_EVENT_BYTES", "StreamProcessor", "decode_event"]

log = logging.getLogger(__name__)

PUSH_ATTEMPTS = 3
# Without a recent successful push to compare with, this many failed pushes in a row while
# looking for refused rows mean that Feast itself is failing, not the rows.
ISOLATION_PROBES = 8


@dataclass(frozen=True)
class Pending:
    """A valid event's feature row, waiting to be pushed."""

    message: Message
    row: dict[str, object]
    online: bool  # the customer's newest row so far: it may replace the online value


def _describe(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:
        text = ""
    if isinstance(error, InvalidTransaction):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def resume_plan(snapshot: int | None, committed: int | None) -> tuple[int | None, int | None]:
    """Where to start reading a newly assigned partition, and up to which offset to replay
    into the windows only (None: no replay), given the snapshot's next offset and the group's
    committed one. Start None: the consumer's `auto.offset.reset` (no history at all)."""
    if committed is None:
        return snapshot, None
    if snapshot is None:
        return OFFSET_BEGINNING, committed
    if snapshot >= committed:  # killed between snapshot and commit: the snapshot is newer
        return snapshot, None
    return snapshot, committed


class StreamProcessor:
    def __init__(
        self,
        settings: Settings,
        store: FeatureStore,
        state_dir: Path,
        group_id: str = "card-risk-features",
        batch_size: int = BATCH_SIZE,
        batch_timeout: float = BATCH_TIMEOUT,
        limits: EventLimits | None = None,
    ) -> None:
        self.settings = settings
        self.topic = settings.topics.transactions
        self.group_id = group_id
        self.store = store
        self.writer = ActivityWriter(store)
        self.state = PartitionStateStore(state_dir)
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.limits = limits if limits is not None else EventLimits.from_env()
        self.metrics = StreamMetrics(group_id)
        self.windows: dict[int, CustomerWindows] = {}
        self.stats: Counter[str] = Counter()
        self._at_end: dict[int, bool] = {}
        self._position: dict[int, int] = {}
        self._rebuild_until: dict[int, int] = {}
        self._stopping = False
        self._dead_letter_errors: list[str] = []
        self._canary: Pending | None = None
        self.consumer = Consumer(
            settings.kafka_config(**{**CONSUMER_SETTINGS, "group.id": group_id})
        )
        self.producer = Producer(
            settings.kafka_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 5})
        )

    # -- partition assignment: restore the windows and resume at the snapshot's offset --------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        committed = {
            tp.partition: tp.offset
            for tp in consumer.committed(
                [TopicPartition(tp.topic, tp.partition) for tp in partitions], timeout=30
            )
            if tp.offset >= 0
        }
        for tp in partitions:
            windows, snapshot = self.state.load(tp.topic, tp.partition)
            start, rebuild_until = resume_plan(snapshot, committed.get(tp.partition))
            self.windows[tp.partition] = windows if snapshot is not None else CustomerWindows()
            self._at_end[tp.partition] = False
            if start is not None:
                tp.offset = start
            if rebuild_until is not None:
                self._rebuild_until[tp.partition] = rebuild_until
                log.warning(
                    "%s[%d]: no snapshot here covers the committed offset %d; replaying it into "
                    "the windows from %s first",
                    tp.topic,
                    tp.partition,
                    rebuild_until,
                    "the start" if snapshot is None else f"the snapshot's offset {snapshot}",
                )
            self._position[tp.partition] = committed.get(tp.partition, snapshot or 0)
            log.info("assigned %s[%d] from offset %s", tp.topic, tp.partition, start)
        consumer.assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.windows.pop(tp.partition, None)
            self._at_end.pop(tp.partition, None)
            self._position.pop(tp.partition, None)
            self._rebuild_until.pop(tp.partition, None)
        self.metrics.forget(self.topic, [tp.partition for tp in partitions])

    # -- one batch ---------------------------------------------------------------------------
    def process_batch(self, messages: Sequence[Message]) -> None:
        began = time.perf_counter()
        pending: list[Pending] = []
        next_offsets: dict[int, int] = {}
        for message in messages:
            if not self._readable(message):
                continue
            partition, offset = message.partition(), message.offset()
            next_offsets[partition] = offset + 1
            if offset < self._rebuild_until.get(partition, -1):
                self._replay_into_windows(message, partition)
                continue
            self.stats["consumed"] += 1
            try:
                pending.append(self._accept(message, partition))
            except Exception as error:  # whatever it is, this event must not stop the stream
                self._dead_letter(message, error)
        if not next_offsets:
            return
        refused = self._push(pending)
        self._await_dead_letters()
        # Replayed offsets are snapshotted, never committed: the group's offset never goes back.
        done = {p: o for p, o in next_offsets.items() if o >= self._rebuild_until.get(p, -1)}
        for partition, offset in next_offsets.items():
            self.state.save(self.topic, partition, self.windows[partition], offset)
        for partition in done:
            self._rebuild_until.pop(partition, None)
        if done:
            self.consumer.commit(
                offsets=[TopicPartition(self.topic, p, o) for p, o in done.items()],
                asynchronous=False,
            )
        self._position.update(done)
        self.stats["batches"] += 1
        self.metrics.event("valid", len(pending) - refused)
        self.metrics.committed(self.topic, self._lags(), time.perf_counter() - began)

    def _readable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            self._at_end[message.partition()] = False
            return True
        if error.code() == KafkaError._PARTITION_EOF:
            self._at_end[message.partition()] = True
            return False
        if error.fatal():
            raise KafkaException(error)
        log.warning("consumer error (retried by the client): %s", error)
        return False

    def _accept(self, message: Message, partition: int) -> Pending:
        transaction = decode_event(message.value(), self.limits)
        windows = self.windows.setdefault(partition, CustomerWindows())
        row = windows.update(transaction)
        self.stats["valid"] += 1
        # A late event must not overwrite a newer online value of the same customer.
        return Pending(
            message, row, windows.is_newest(transaction.customer_id, transaction.timestamp)
        )

    def _replay_into_windows(self, message: Message, partition: int) -> None:
        """An event the group has already processed: rebuild the windows, push nothing."""
        self.stats["rebuilt"] += 1
        self.metrics.event("rebuilt")
        try:
            transaction = decode_event(message.value(), self.limits)
        except Exception:
            return  # dead-lettered when it was first processed
        self.windows.setdefault(partition, CustomerWindows()).update(transaction)

    def _lags(self) -> dict[int, int]:
        lags = {}
        for partition, position in self._position.items():
            _, high = self.consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), cached=True
            )
            if high >= 0:
                lags[partition] = max(high - position, 0)
        return lags

    # -- Feast ---------------------------------------------------------------------------------
    def _push(self, pending: list[Pending]) -> int:
        """Push the rows; dead-letter those Feast refuses and return how many it refused."""
        if not pending:
            return 0
        try:
            self._push_rows(pending, PUSH_ATTEMPTS)
        except Exception as error:
            refused = self._isolate(pending, error)
            for entry, reason in refused:
                self._dead_letter(entry.message, reason)
            return len(refused)
        return 0

    def _push_rows(self, entries: list[Pending], attempts: int) -> None:
        latest: dict[object, Pending] = {}
        for entry in entries:
            if entry.online:
                latest[entry.row[schema.JOIN_KEY]] = entry
        for attempt in range(1, attempts + 1):
            try:
                # Online first: what serving reads is visible before the history's fsync.
                if latest:
                    self.writer.write_online([entry.row for entry in latest.values()])
                self.writer.write_offline([entry.row for entry in entries])
                break
            except Exception:
                if attempt == attempts:
                    raise
                log.exception("push to Feast failed (attempt %d), retrying", attempt)
                time.sleep(0.5 * 2**attempt)
        if latest:
            self._canary = list(latest.values())[-1]
        self.stats["pushed_rows"] += len(entries)

    def _isolate(
        self, pending: list[Pending], error: Exception
    ) -> list[tuple[Pending, BaseException]]:
        """Find the rows Feast refuses by pushing ever smaller parts of the batch (the rest is
        pushed on the way). Re-raise `error` when Feast itself is failing: the last pushed row
        (the canary, an idempotent re-push) fails too, or without one, nothing goes through."""
        if self._canary is not None:
            try:
                self._push_rows([self._canary], 1)
                self.stats["pushed_rows"] -= 1  # a re-push, not a new row
            except Exception:
                raise error from None
        trusted, failures = self._canary is not None, 0
        refused: list[tuple[Pending, BaseException]] = []
        parts = [pending]
        while parts:
            part = parts.pop()
            try:
                self._push_rows(part, 1)
                trusted = True
            except Exception as part_error:
                failures += 1
                if len(part) == 1:
                    refused.append((part[0], part_error))
                elif not trusted and failures >= ISOLATION_PROBES:
                    raise error from None
                else:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]  # first half pushed first
        if not trusted:
            raise error
        log.error("Feast refused %d of %d rows; dead-lettering them", len(refused), len(pending))
        self.stats["valid"] -= len(refused)
        return refused

    # -- dead letters --------------------------------------------------------------------------
    def _dead_letter(self, message: Message, error: BaseException) -> None:
        reason, error_class = _describe(error), type(error).__name__
        if not isinstance(error, InvalidTransaction):
            log.error("event %s[%d]@%d failed", *_where(message), exc_info=error)

        def delivered(failure: KafkaError | None, _: Message) -> None:
            if failure is not None:
                self._dead_letter_errors.append(str(failure))

        letter = dead_letter(message, reason, error_class)
        while True:
            try:
                self.producer.produce(**letter, on_delivery=delivered)
                break
            except BufferError:
                self.producer.poll(0.5)  # local queue full: let deliveries drain
        self.stats["dead_lettered"] += 1
        self.metrics.event("dead_lettered")
        self.metrics.dead_letter(error_class)
        log.warning("dead-lettered %s[%d]@%d: %s", *_where(message), reason[:300])

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
        # What start-up loaded (Feast, pyarrow, protobuf, the registry: some 420,000 objects)
        # lives as long as the loop. Frozen, it is left out of the collector's full passes,
        # which otherwise walk all of it again and again as the windows grow: a pause of about
        # 0.2 s that made later batches slower than the first (issue 17).
        gc.freeze()
        try:
            while not self._stopping:
                beat()
                messages = self.consumer.consume(self.batch_size, self.batch_timeout)
                self.process_batch(messages)
                if until_caught_up and self.caught_up():
                    log.info("caught up with the end of every assigned partition")
                    break
        finally:
            gc.unfreeze()
            self.consumer.close()
            self.producer.flush(10)
        return self.stats


def _where(message: Message) -> tuple[str, int, int]:
    return str(message.topic()), int(message.partition() or 0), int(message.offset() or 0)
