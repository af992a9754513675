"""Workloads-side measurements of the stream processor: `python -m benchmarks.stream_worker`.

throughput  drain the transactions topic from the beginning with a fresh consumer group and
            report events/s, timed from the first batch that holds messages to the last one:
              processor  the real `StreamProcessor` (decode, windows, Feast pushes offline and
                         online, snapshot, commit), with a per-phase time breakdown;
              nopush     the same processor with the Feast push replaced by a no-op;
              raw        the raw consumer loop: consume, decode, commit, nothing else.
probe       while the consumer under test runs in its own process, produce a steady background
            load plus a probe event (a new customer) every --probe-interval, and poll
            `FeatureStore.get_online_features` until each probe's features are visible:
            freshness = produce call → visible.
raw-latency the baseline for `probe`: a raw consumer loop (same batch size and timeout, no
            pushes) that reports produce → consumed for the probe events it reads.

Each prints one JSON line. Runs are bounded by --duration / --timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from benchmarks.stats import latency_summary
from workloads.data.generator import iso_utc
from workloads.features.schema import FEATURE_SERVICE
from workloads.settings import Settings

PROBE_PREFIX = "PROBE"


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def wrap(self, name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed

    def to_json(self) -> dict[str, dict[str, float]]:
        return {
            name: {"seconds": round(self.seconds[name], 3), "calls": self.calls[name]}
            for name in sorted(self.seconds)
        }


# -- throughput ------------------------------------------------------------------------------
def throughput(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    if args.mode == "raw":
        return _raw_throughput(settings, args)
    from feast.data_source import PushMode

    from workloads.features.repository import open_store
    from workloads.streaming.consumer import StreamProcessor

    store = open_store(settings.feature_store_yaml)
    store.get_feature_service(FEATURE_SERVICE)  # load the registry before timing
    processor = StreamProcessor(
        settings,
        store,
        args.state_dir,
        group_id=args.group,
        batch_size=args.batch_size,
        batch_timeout=args.batch_timeout,
    )
    timers = Timers()
    marks: dict[str, float] = {}
    original_batch = processor.process_batch

    progress: list[tuple[float, int]] = []  # (time, events consumed so far) after each batch

    def process_batch(messages: Any) -> None:
        if any(m.error() is None for m in messages):
            marks.setdefault("first", time.perf_counter())
            timed = timers.wrap("process_batch", original_batch)
            timed(messages)
            marks["last"] = time.perf_counter()
            progress.append((marks["last"], processor.stats["consumed"]))
        else:
            original_batch(messages)

    processor.process_batch = process_batch  # type: ignore[method-assign]
    if args.mode == "nopush":

        def no_push(rows: list[dict[str, object]], newest: list[dict[str, object]]) -> None:
            processor.stats["pushed_rows"] += len(rows)

        processor._push = no_push  # type: ignore[method-assign]
    else:
        original_push = store.push

        def push(source: str, frame: Any, *a: Any, to: Any = PushMode.ONLINE, **k: Any) -> Any:
            name = "feast_push_offline" if to == PushMode.OFFLINE else "feast_push_online"
            return timers.wrap(name, original_push)(source, frame, *a, to=to, **k)

        store.push = push  # type: ignore[method-assign]
        processor._push = timers.wrap("push", processor._push)  # type: ignore[method-assign]
    processor.state.save = timers.wrap("snapshot", processor.state.save)  # type: ignore[method-assign]
    processor._await_dead_letters = timers.wrap(  # type: ignore[method-assign]
        "dead_letter_flush", processor._await_dead_letters
    )
    stats = processor.run(until_caught_up=True)
    seconds = marks["last"] - marks["first"]
    return {
        "mode": args.mode,
        "consumed": stats["consumed"],
        "valid": stats["valid"],
        "batches": stats["batches"],
        "seconds": round(seconds, 3),
        "events_per_s": round(stats["consumed"] / seconds, 1),
        **quarter_rates(marks["first"], progress),
        "breakdown": timers.to_json(),
    }


def quarter_rates(first: float, progress: list[tuple[float, int]]) -> dict[str, float]:
    """events/s over the first and the last quarter of the events: whether the rate holds up
    as history accumulates (a per-batch cost that grows with it shows as a falling rate).

    `progress` holds (time, events consumed so far) after each batch; `first` is when the
    first batch started.
    """
    if len(progress) < 4:
        return {}
    end_time, total = progress[-1]
    # the first batch end at or past a quarter, and the last batch end before three quarters
    t1, n1 = next(p for p in progress if p[1] >= total / 4)
    t3, n3 = [p for p in progress if p[1] <= 3 * total / 4][-1]
    return {
        "first_quarter_events_per_s": round(n1 / (t1 - first), 1),
        "last_quarter_events_per_s": round((total - n3) / (end_time - t3), 1),
    }


def _consumer(settings: Settings, group: str, reset: str = "earliest") -> Consumer:
    return Consumer(
        settings.kafka_config(
            **{
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": reset,
                "enable.partition.eof": True,
                "session.timeout.ms": 6000,
            }
        )
    )


def _raw_throughput(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from workloads.data.events import InvalidTransaction
    from workloads.streaming.consumer import decode_event

    consumer = _consumer(settings, args.group)
    at_end: dict[int, bool] = {}

    def assigned(_: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            at_end[tp.partition] = False

    consumer.subscribe([settings.topics.transactions], on_assign=assigned)
    consumed = batches = 0
    first = last = 0.0
    deadline = time.monotonic() + args.timeout
    try:
        while not (at_end and all(at_end.values())):
            if time.monotonic() > deadline:
                raise TimeoutError("raw consumer did not reach the end of the topic")
            messages = consumer.consume(args.batch_size, args.batch_timeout)
            offsets: dict[int, int] = {}
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        at_end[message.partition()] = True
                    continue
                if not first:
                    first = time.perf_counter()
                at_end[message.partition()] = False
                offsets[message.partition()] = message.offset() + 1
                consumed += 1
                with contextlib.suppress(InvalidTransaction):
                    decode_event(message.value())
            if offsets:
                consumer.commit(
                    offsets=[
                        TopicPartition(settings.topics.transactions, p, o)
                        for p, o in offsets.items()
                    ],
                    asynchronous=False,
                )
                batches += 1
                last = time.perf_counter()
    finally:
        consumer.close()
    seconds = last - first
    return {
        "mode": "raw",
        "consumed": consumed,
        "batches": batches,
        "seconds": round(seconds, 3),
        "events_per_s": round(consumed / seconds, 1),
    }


# -- freshness probe -------------------------------------------------------------------------
class Background(threading.Thread):
    """Produces `rate` events/s of known customers, paced every 10 ms, until stopped."""

    def __init__(self, producer: Producer, topic: str, rate: float, customers: int) -> None:
        super().__init__(daemon=True)
        self.producer, self.topic, self.rate, self.customers = producer, topic, rate, customers
        self.sent = 0
        self.halt = threading.Event()
        self.rng = random.Random(11)

    def run(self) -> None:
        began = time.perf_counter()
        while not self.halt.is_set():
            due = int((time.perf_counter() - began) * self.rate)
            while self.sent < due:
                customer = f"CUST-{self.rng.randrange(self.customers):06d}"
                _produce(self.producer, self.topic, customer, f"BG-{self.sent}", 120.0)
                self.sent += 1
            self.producer.poll(0)
            time.sleep(0.01)


def _produce(producer: Producer, topic: str, customer: str, txn: str, amount: float) -> float:
    now = time.time()
    event = {
        "transaction_id": txn,
        "customer_id": customer,
        "amount_aed": amount,
        "currency": "AED",
        "merchant_category": "grocery",
        "channel": "contactless",
        "merchant_country": "AE",
        "timestamp": iso_utc(datetime.fromtimestamp(now, UTC)),
        "produced_at": now,
    }
    while True:
        try:
            producer.produce(topic, key=customer.encode(), value=json.dumps(event).encode())
            return now
        except BufferError:
            producer.poll(0.05)


def _producer(settings: Settings) -> Producer:
    # The card switch's settings (workloads.data.producer): idempotent, acks=all, 10 ms linger.
    return Producer(
        settings.kafka_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 10})
    )


def probe(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    producer = _producer(settings)
    topic = settings.topics.transactions
    run_id = f"{PROBE_PREFIX}-{int(time.time())}"
    store = None
    if args.poll:
        from workloads.features.repository import open_store

        store = open_store(settings.feature_store_yaml)

    def visible(customers: list[str]) -> set[str]:
        assert store is not None
        answer = store.get_online_features(
            features=["customer_activity:txn_count_24h"],
            entity_rows=[{"customer_id": c} for c in customers],
        ).to_dict()
        return {c for c, v in zip(answer["customer_id"], answer["txn_count_24h"], strict=True) if v}

    # Warm-up: the consumer under test has joined its group and pushes when a probe shows up.
    if store is not None:
        warm = f"{run_id}-warmup"
        _produce(producer, topic, warm, warm, 42.0)
        producer.flush(10)
        deadline = time.monotonic() + args.timeout
        while warm not in visible([warm]):
            if time.monotonic() > deadline:
                raise TimeoutError("the consumer under test never made the warm-up probe visible")
            time.sleep(0.1)
    elif args.ready_file is not None:
        deadline = time.monotonic() + args.timeout
        while not args.ready_file.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the baseline consumer never became ready")
            time.sleep(0.1)

    background = Background(producer, topic, args.rate, args.customers)
    background.start()
    outstanding: dict[str, float] = {}
    latencies: list[float] = []
    sent = 0
    began = time.perf_counter()
    next_probe = time.time()
    try:
        while time.perf_counter() - began < args.duration or (store and outstanding):
            now = time.time()
            if time.perf_counter() - began < args.duration and now >= next_probe:
                customer = f"{run_id}-{sent}"
                outstanding[customer] = _produce(producer, topic, customer, customer, 77.0)
                sent += 1
                next_probe = now + args.probe_interval
            if store is not None and outstanding:
                for customer in visible(list(outstanding)):
                    latencies.append(time.time() - outstanding.pop(customer))
                expired = [c for c, t in outstanding.items() if time.time() - t > args.timeout]
                for customer in expired:
                    outstanding.pop(customer)
            if time.perf_counter() - began > args.duration + args.timeout:
                break
            time.sleep(args.poll_interval)
    finally:
        background.halt.set()
        background.join(5)
        producer.flush(10)
    elapsed = time.perf_counter() - began
    result: dict[str, Any] = {
        "probes_sent": sent,
        "background_events": background.sent,
        "background_rate_per_s": round(background.sent / min(elapsed, args.duration), 1),
        "poll_interval_ms": args.poll_interval * 1000,
    }
    if store is not None:
        result["probes_visible"] = len(latencies)
        result["probes_never_visible"] = sent - len(latencies)
        result["freshness"] = latency_summary(latencies) if latencies else None
    return result


def raw_latency(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Consume from the end of the topic; produce → consumed for every probe event."""
    from workloads.streaming.consumer import decode_event

    consumer = _consumer(settings, args.group, reset="latest")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    at_end: dict[int, bool] = {}

    def assigned(_: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            at_end[tp.partition] = False

    consumer.subscribe([settings.topics.transactions], on_assign=assigned)
    latencies: list[float] = []
    consumed = 0
    deadline = time.monotonic() + args.timeout
    try:
        while not stopping.is_set() and time.monotonic() < deadline:
            messages = consumer.consume(args.batch_size, args.batch_timeout)
            received = time.time()
            offsets: dict[int, int] = {}
            for message in messages:
                if message.error() is not None:
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        at_end[message.partition()] = True
                    continue
                consumed += 1
                offsets[message.partition()] = message.offset() + 1
                value = message.value() or b""
                decode_event(value)
                if value.startswith(b'{"transaction_id": "PROBE'):
                    latencies.append(received - json.loads(value)["produced_at"])
            if offsets:
                consumer.commit(
                    offsets=[
                        TopicPartition(settings.topics.transactions, p, o)
                        for p, o in offsets.items()
                    ],
                    asynchronous=False,
                )
            if args.ready_file is not None and at_end and all(at_end.values()):
                args.ready_file.touch()
    finally:
        consumer.close()
    return {
        "consumed": consumed,
        "probes_seen": len(latencies),
        "delivery": latency_summary(latencies) if latencies else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream_worker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    tp = commands.add_parser("throughput")
    tp.add_argument("--mode", choices=("processor", "nopush", "raw"), required=True)
    tp.add_argument("--group", required=True)
    tp.add_argument("--state-dir", type=Path, required=True)
    pr = commands.add_parser("probe")
    pr.add_argument("--rate", type=float, default=500.0, help="background events/s")
    pr.add_argument("--customers", type=int, default=2000)
    pr.add_argument("--duration", type=float, default=20.0)
    pr.add_argument("--probe-interval", type=float, default=0.1)
    pr.add_argument("--poll-interval", type=float, default=0.02)
    pr.add_argument("--no-poll", dest="poll", action="store_false")
    pr.add_argument("--ready-file", type=Path)
    rl = commands.add_parser("raw-latency")
    rl.add_argument("--group", required=True)
    rl.add_argument("--ready-file", type=Path)
    for sub in (tp, pr, rl):
        sub.add_argument("--batch-size", type=int, default=500)
        sub.add_argument("--batch-timeout", type=float, default=1.0)
        sub.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "throughput":
        result = throughput(settings, args)
    elif args.command == "probe":
        result = probe(settings, args)
    else:
        result = raw_latency(settings, args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
