"""Workloads-side measurements of the stream processor: `python -m benchmarks.stream_worker`.

throughput   drain a topic (default: the transactions topic; --topic, --feature-store-yaml
             for another) from the beginning with a fresh consumer group and report events/s,
             from the first batch that holds messages to the last one, and over the first and
             the last quarter of the drain (`Drain.quarter_rates`):
               processor  the real `StreamProcessor` (decode, windows, Feast writes offline and
                          online, snapshot, commit), with a per-phase time breakdown;
               nopush     the same processor with the Feast writes replaced by a no-op;
               raw        the raw consumer loop: consume, decode, commit, nothing else.
scaleout     --processes stream processors in one consumer group drain a topic together
             (started at the same moment): events/s of the group, CPU of each process and of
             the whole machine.
create-topic a topic (and its dead-letter topic) with its own partition count.
probe        while the consumer under test runs in its own process, produce a steady background
             load plus a probe event (a new customer) every --probe-interval, and poll
             `FeatureStore.get_online_features` until each probe's features are visible:
             freshness = produce call → visible.
raw-latency  the baseline for `probe`: a raw consumer loop (same batch size and timeout, no
             pushes) that reports produce → consumed for the probe events it reads.

Batch size and timeout default to the stream processor's own (`workloads.streaming`), for it
and its baselines alike. Each prints one JSON line. Runs are bounded by --duration / --timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from benchmarks.stats import latency_summary
from workloads.data.generator import iso_utc
from workloads.features.schema import FEATURE_SERVICE
from workloads.settings import Settings, Topics, dead_letter_topic
from workloads.streaming import BATCH_SIZE, BATCH_TIMEOUT, CONSUMER_SETTINGS

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
@dataclass(frozen=True)
class Batch:
    returned: float  # consume() returned (perf_counter)
    done: float  # processed and committed
    events: int
    cpu_returned: float  # this process's CPU seconds at those two moments
    cpu_done: float


class Drain:
    """Per-batch progress of a drain, in wall-clock time and in this process's CPU time.

    On a shared machine the wall-clock rate follows the CPU share the process happens to get;
    events per CPU-second is the process's own cost per event, whatever else runs.
    """

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.batches: list[Batch] = []
        self.first_wall = self.last_wall = 0.0

    def record(self, returned: float, cpu_returned: float, events: int) -> None:
        done = time.perf_counter()
        if not self.batches:
            self.first_wall = time.time() - (done - returned)
        self.batches.append(Batch(returned, done, events, cpu_returned, _cpu_seconds()))
        self.last_wall = time.time()

    def summary(self) -> dict[str, Any]:
        first, last = self.batches[0], self.batches[-1]
        consumed = sum(b.events for b in self.batches)
        seconds, cpu = last.done - first.returned, last.cpu_done - first.cpu_returned
        return {
            "consumed": consumed,
            "batches": len(self.batches),
            "seconds": round(seconds, 3),
            "events_per_s": round(consumed / seconds, 1),
            # CPU of this process (all its threads) from its first batch to its last
            "cpu_seconds": round(cpu, 2),
            "events_per_cpu_s": round(consumed / cpu, 1) if cpu > 0 else None,
            "first_wall": self.first_wall,
            "last_wall": self.last_wall,
            **self.quarter_rates(),
        }

    def quarter_rates(self) -> dict[str, float]:
        """events/s and events per CPU-second over the first and the last quarter of the
        drain: whether the rate holds up as history accumulates (a per-batch cost that grows
        with it shows as a falling rate).

        The drain's tail is left out: the batches after the last full one waited up to the
        batch timeout for events that never came, which says nothing about the processor.
        """
        full = [i for i, b in enumerate(self.batches) if b.events >= self.batch_size]
        batches = self.batches[: full[-1] + 1] if full else []
        if len(batches) < 8:
            return {}
        total, done = sum(b.events for b in batches), 0
        ends = []  # (events done after this batch, the batch)
        for batch in batches:
            done += batch.events
            ends.append((done, batch))
        n1, b1 = next(e for e in ends if e[0] >= total / 4)
        n3, b3 = [e for e in ends if e[0] <= 3 * total / 4][-1]
        first, last = batches[0], batches[-1]
        return {
            "quarter_events": int(total / 4),
            "first_quarter_events_per_s": round(n1 / (b1.done - first.returned), 1),
            "last_quarter_events_per_s": round((total - n3) / (last.done - b3.done), 1),
            "first_quarter_events_per_cpu_s": round(n1 / (b1.cpu_done - first.cpu_returned), 1),
            "last_quarter_events_per_cpu_s": round((total - n3) / (last.cpu_done - b3.cpu_done), 1),
        }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _target(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the topic and Feast repository this measurement uses."""
    topics = Topics(transactions=args.topic) if args.topic else settings.topics
    store = args.feature_store_yaml or settings.feature_store_yaml
    return replace(settings, topics=topics, feature_store_yaml=store)


def _barrier(args: argparse.Namespace) -> None:
    """Several processes of one measurement start consuming together (`scaleout`)."""
    if args.ready_file is None:
        return
    args.ready_file.touch()
    deadline = time.monotonic() + args.timeout
    while not args.go_file.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never told to start")
        time.sleep(0.01)


def throughput(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    settings = _target(settings, args)
    if args.mode == "raw":
        return _raw_throughput(settings, args)
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
    processor.writer.view()
    timers = Timers()
    drain = Drain(args.batch_size)
    original_batch = processor.process_batch

    def process_batch(messages: Any) -> None:
        returned, cpu = time.perf_counter(), _cpu_seconds()
        events = sum(1 for m in messages if m.error() is None)
        (timers.wrap("process_batch", original_batch) if events else original_batch)(messages)
        if events:
            drain.record(returned, cpu, events)

    processor.process_batch = process_batch  # type: ignore[method-assign]
    if args.mode == "nopush":

        def no_push(rows: list[Any], attempts: int) -> None:
            processor.stats["pushed_rows"] += len(rows)

        processor._push_rows = no_push  # type: ignore[method-assign]
    else:
        writer = processor.writer
        writer.write_offline = timers.wrap("feast_offline", writer.write_offline)  # type: ignore[method-assign]
        writer.write_online = timers.wrap("feast_online", writer.write_online)  # type: ignore[method-assign]
    processor._accept = timers.wrap("decode_and_windows", processor._accept)  # type: ignore[method-assign]
    processor.state.save = timers.wrap("snapshot", processor.state.save)  # type: ignore[method-assign]
    _barrier(args)
    stats = processor.run(until_caught_up=True)
    return {
        "mode": args.mode,
        **drain.summary(),
        "valid": stats["valid"],
        "batch_size": args.batch_size,
        "batch_timeout_s": args.batch_timeout,
        "breakdown": timers.to_json(),
    }


def _consumer(settings: Settings, group: str, reset: str = "earliest") -> Consumer:
    """The raw loops' consumer: the stream processor's settings (`workloads.streaming`)."""
    return Consumer(
        settings.kafka_config(
            **{**CONSUMER_SETTINGS, "group.id": group, "auto.offset.reset": reset}
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

    _barrier(args)
    consumer.subscribe([settings.topics.transactions], on_assign=assigned)
    drain = Drain(args.batch_size)
    deadline = time.monotonic() + args.timeout
    try:
        while not (at_end and all(at_end.values())):
            if time.monotonic() > deadline:
                raise TimeoutError("raw consumer did not reach the end of the topic")
            messages = consumer.consume(args.batch_size, args.batch_timeout)
            returned, cpu = time.perf_counter(), _cpu_seconds()
            offsets: dict[int, int] = {}
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        at_end[message.partition()] = True
                    continue
                at_end[message.partition()] = False
                offsets[message.partition()] = message.offset() + 1
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
                events = sum(1 for m in messages if m.error() is None)
                drain.record(returned, cpu, events)
    finally:
        consumer.close()
    return {"mode": "raw", **drain.summary(), "batch_size": args.batch_size}


def scaleout(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """`--processes` stream processors (one consumer group, each its own process and state
    directory) drain the topic together, started at the same moment; events/s of the group."""
    scratch = args.state_dir
    scratch.mkdir(parents=True, exist_ok=True)
    go = scratch / "go"
    go.unlink(missing_ok=True)
    children, logs = [], []
    for n in range(args.processes):
        ready = scratch / f"ready-{n}"
        ready.unlink(missing_ok=True)
        log = scratch / f"process-{n}.log"
        logs.append(log)
        argv = [
            sys.executable, "-m", "benchmarks.stream_worker", "throughput",
            "--mode", "processor", "--group", args.group,
            "--state-dir", str(scratch / f"state-{n}"),
            "--ready-file", str(ready), "--go-file", str(go),
            "--batch-size", str(args.batch_size), "--batch-timeout", str(args.batch_timeout),
            "--timeout", str(args.timeout),
        ]  # fmt: skip
        if args.topic:
            argv += ["--topic", args.topic]
        if args.feature_store_yaml:
            argv += ["--feature-store-yaml", str(args.feature_store_yaml)]
        with open(log, "w") as handle:
            children.append(subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + args.timeout
        while not all((scratch / f"ready-{n}").exists() for n in range(args.processes)):
            if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                raise RuntimeError(f"a process did not get ready; see {logs}")
            time.sleep(0.05)
        busy_before, began = _busy_seconds(), time.monotonic()
        go.touch()
        for child in children:
            child.wait(max(1.0, deadline - time.monotonic()))
        busy, wall = _busy_seconds() - busy_before, time.monotonic() - began
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(10)
    results = [_last_json_line(log) for log in logs]
    seconds = max(r["last_wall"] for r in results) - min(r["first_wall"] for r in results)
    consumed = sum(r["consumed"] for r in results)
    return {
        "processes": args.processes,
        "consumed": consumed,
        "seconds": round(seconds, 3),
        "events_per_s": round(consumed / seconds, 1),
        "per_process": [
            {k: r[k] for k in ("consumed", "events_per_s", "cpu_seconds")} for r in results
        ],
        "cpu_seconds": round(sum(r["cpu_seconds"] for r in results), 2),
        "events_per_cpu_s": round(consumed / max(sum(r["cpu_seconds"] for r in results), 1e-9), 1),
        # the whole machine (other work included) from the start signal until both exited
        "machine_busy_cores": round(busy / wall, 2),
        "wall_seconds": round(wall, 2),
        "cores": os.cpu_count(),
    }


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (not idle or waiting on I/O) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _last_json_line(log: Path) -> dict[str, Any]:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"no result in {log}:\n{log.read_text(errors='replace')[-2000:]}")
    return dict(json.loads(lines[-1]))


def create_topic(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """A topic with its own partition count (scale-out needs more than the default 3)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(settings.kafka_config())
    names = [args.name, dead_letter_topic(args.name)]
    futures = admin.create_topics([NewTopic(n, args.partitions, 1) for n in names])
    for future in futures.values():
        future.result(60)
    return {"created": names, "partitions": args.partitions}


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
    tp.add_argument("--ready-file", type=Path)
    tp.add_argument("--go-file", type=Path)
    so = commands.add_parser("scaleout")
    so.add_argument("--processes", type=int, required=True)
    so.add_argument("--group", required=True)
    so.add_argument("--state-dir", type=Path, required=True)
    for sub in (tp, so):
        sub.add_argument("--topic", help="default: the transactions topic")
        sub.add_argument("--feature-store-yaml", type=Path)
    ct = commands.add_parser("create-topic")
    ct.add_argument("--name", required=True)
    ct.add_argument("--partitions", type=int, required=True)
    rl = commands.add_parser("raw-latency")
    rl.add_argument("--group", required=True)
    rl.add_argument("--ready-file", type=Path)
    for sub in (tp, so, pr, rl):
        # the stream processor's own defaults, for it and its baselines alike
        sub.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        sub.add_argument("--batch-timeout", type=float, default=BATCH_TIMEOUT)
        sub.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    commands_run = {
        "throughput": throughput,
        "scaleout": scaleout,
        "create-topic": create_topic,
        "probe": probe,
        "raw-latency": raw_latency,
    }
    result = commands_run[args.command](settings, args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
