"""The stream processor on a real broker and Feast: dead letters, crash recovery, clean stop."""

from __future__ import annotations

import gc
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from confluent_kafka import Consumer, Message, Producer, TopicPartition
from conftest import PYTHON, REPO_ROOT, Dataset, Service, Workspace, wait_until
from feast import FeatureStore

from workloads.data import generator, producer
from workloads.data.events import MAX_EVENT_BYTES, parse_transaction
from workloads.features import schema
from workloads.features.repository import offline_table_path, open_store
from workloads.streaming.consumer import StreamProcessor
from workloads.streaming.topics import read_dead_letters, read_to_end
from workloads.streaming.windows import CustomerWindows, PartitionStateStore

pytestmark = pytest.mark.slow
FEATURES = list(schema.ACTIVITY_FEATURES)


def produce(ws: Workspace, events: list[dict], poison: int = 0) -> None:
    topic = ws.settings.topics.transactions
    producer.produce(ws.settings, topic, producer.transaction_messages(events))
    producer.produce(ws.settings, topic, ((None, v) for v in generator.poison_events(1, poison)))


def expected_rows(events: list[dict]) -> pd.DataFrame:
    """What the stream must have pushed: the windows computed over every event once, in order."""
    windows = CustomerWindows()
    rows = [windows.update(parse_transaction(event)) for event in events]
    frame = pd.DataFrame(rows)
    frame[schema.TIMESTAMP_FIELD] = pd.to_datetime(frame[schema.TIMESTAMP_FIELD], utc=True)
    return frame


def offline_rows(ws: Workspace) -> pd.DataFrame:
    store = open_store(ws.settings.feature_store_yaml)
    frame = pd.read_parquet(offline_table_path(store, schema.ACTIVITY_VIEW))
    frame[schema.TIMESTAMP_FIELD] = pd.to_datetime(frame[schema.TIMESTAMP_FIELD], utc=True)
    return frame


def same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    keys = [schema.JOIN_KEY, schema.TIMESTAMP_FIELD]
    columns = [*keys, *FEATURES]
    # A replayed batch is pushed again: duplicates are allowed, different values are not.
    actual = actual[columns].drop_duplicates().sort_values(keys).reset_index(drop=True)
    expected = expected[columns].sort_values(keys).reset_index(drop=True)
    assert len(actual) == len(expected), "an event is missing, or a replay changed a value"
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def assert_online_matches(ws: Workspace, expected: pd.DataFrame) -> None:
    latest = expected.sort_values(schema.TIMESTAMP_FIELD).groupby(schema.JOIN_KEY).tail(1)
    store = open_store(ws.settings.feature_store_yaml)
    online = store.get_online_features(
        features=[f"{schema.ACTIVITY_VIEW}:{name}" for name in FEATURES],
        entity_rows=[{schema.JOIN_KEY: c} for c in latest[schema.JOIN_KEY]],
    ).to_df()
    merged = latest.merge(online, on=schema.JOIN_KEY, suffixes=("", "_online"))
    assert len(merged) == len(latest)
    for name in FEATURES:
        assert merged[name].tolist() == pytest.approx(merged[f"{name}_online"].tolist()), name


def snapshot_offsets(state_dir: Path, topic: str) -> dict[int, int]:
    offsets = {}
    for path in state_dir.glob(f"{topic}-*.json"):
        partition = int(path.stem.rsplit("-", 1)[1])
        _, offset = PartitionStateStore(state_dir).load(topic, partition)
        if offset is not None:
            offsets[partition] = offset
    return offsets


def committed_offsets(ws: Workspace, group: str) -> dict[int, int]:
    consumer = Consumer(ws.settings.kafka_config(**{"group.id": group}))
    try:
        topic = ws.settings.topics.transactions
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return {tp.partition: tp.offset for tp in committed if tp.offset >= 0}
    finally:
        consumer.close()


def start_consumer(ws: Workspace, state: Path, *extra: str) -> Service:
    return Service(
        [
            PYTHON,
            "-m",
            "workloads.streaming",
            "run",
            "--state-dir",
            str(state),
            "--batch-size",
            "100",
            *extra,
        ],
        ws.root / "consumer.log",
        ws.env,
    )


def produce_tracked(
    ws: Workspace, messages: list[tuple[str | None, bytes | None]], per_second: float = 0.0
) -> list:
    """Produce in order (at most `per_second`, as a live feed would); return each message's
    (partition, offset)."""
    sink = Producer(ws.settings.kafka_config(**{"enable.idempotence": True, "acks": "all"}))
    where: list = [None] * len(messages)

    def delivered(index: int) -> Callable[[object, Any], None]:
        def callback(error: object, message: Any) -> None:
            assert error is None, error
            where[index] = (message.partition(), message.offset())

        return callback

    began = time.monotonic()
    for index, (key, value) in enumerate(messages):
        sink.produce(
            ws.settings.topics.transactions, key=key, value=value, on_delivery=delivered(index)
        )
        sink.poll(0)
        if per_second:
            time.sleep(max(0.0, began + index / per_second - time.monotonic()))
    assert sink.flush(60) == 0
    return where


def interleaved_with_poison(events: list[dict]) -> tuple[list, dict[int, str]]:
    """Every poison kind (and a message without a value) among the events, each keyed like
    the valid event after it (same partition: valid events behind every pill)."""
    poison = [*generator.POISON, ("empty message (no value)", None)]
    step = len(events) // (len(poison) + 1)
    messages: list[tuple[str | None, bytes | None]] = []
    reasons: dict[int, str] = {}
    for index, event in enumerate(events):
        kind = index // step - 1
        if index % step == 0 and 0 <= kind < len(poison):
            reasons[len(messages)] = poison[kind][0]
            messages.append((event["customer_id"], poison[kind][1]))
        messages.append((event["customer_id"], json.dumps(event).encode()))
    return messages, reasons


def test_every_poison_event_is_dead_lettered_with_its_reason_and_the_events_behind_it_flow(
    workspace: Workspace, dataset: Dataset
) -> None:
    events = dataset.events[:600]
    messages, reasons = interleaved_with_poison(events)
    where = produce_tracked(workspace, messages)
    stats = workspace.run(
        "workloads.streaming",
        "run",
        "--state-dir",
        str(workspace.root / "stream"),
        "--until-caught-up",
    )
    assert stats == {
        "consumed": len(messages),
        "valid": len(events),
        "dead_lettered": len(reasons),
        "pushed_rows": len(events),
        "batches": stats["batches"],
    }
    letters = {
        (letter.partition, letter.offset): letter
        for letter in read_dead_letters(workspace.settings, workspace.settings.topics.transactions)
    }
    assert set(letters) == {where[index] for index in reasons}  # exactly the pills, once each
    for index, reason in reasons.items():
        letter = letters[where[index]]
        assert reason in letter.reason, (reason, letter.reason)
        assert letter.error_class == "InvalidTransaction"
        assert letter.topic == workspace.settings.topics.transactions
        original = messages[index][1]
        if original is not None and len(original) > MAX_EVENT_BYTES:
            assert letter.truncated_from == len(original)
            assert letter.value == original[:MAX_EVENT_BYTES]
        else:
            assert letter.value == original  # the original bytes, unchanged
        assert letter.key == messages[index][0].encode()  # type: ignore[union-attr]
    # `tail` and read_to_end show dead letters as reason + source + payload
    shown = read_to_end(workspace.settings, workspace.settings.topics.dead_letter)
    assert {"{not json", "[1, 2, 3]"} <= {letter["payload"] for letter in shown}
    same_rows(offline_rows(workspace), expected_rows(events))
    assert_online_matches(workspace, expected_rows(events))


def test_a_consumer_killed_mid_batch_loses_no_event_on_restart(
    workspace: Workspace, dataset: Dataset
) -> None:
    events = dataset.events
    topic = workspace.settings.topics.transactions
    produce(workspace, events, poison=5)
    state = workspace.root / "stream"
    consumer = start_consumer(workspace, state)
    total = len(events) + 5
    wait_until(
        lambda: sum(snapshot_offsets(state, topic).values()) >= 300,
        90,
        "first batches pushed",
        consumer.process,
        consumer.log,
    )
    consumer.stop(signal.SIGKILL)
    done_before_kill = sum(snapshot_offsets(state, topic).values())
    assert done_before_kill < total, "the consumer finished before it could be killed"

    stats = workspace.run(
        "workloads.streaming", "run", "--state-dir", str(state), "--until-caught-up"
    )
    assert stats["consumed"] >= total - done_before_kill
    expected = expected_rows(events)
    same_rows(offline_rows(workspace), expected)
    assert_online_matches(workspace, expected)
    assert sum(committed_offsets(workspace, "card-risk-features").values()) == total


def test_sigterm_finishes_the_batch_commits_and_exits_cleanly(
    workspace: Workspace, dataset: Dataset
) -> None:
    topic = workspace.settings.topics.transactions
    produce(workspace, dataset.events)
    state = workspace.root / "stream"
    consumer = start_consumer(workspace, state)
    wait_until(
        lambda: sum(snapshot_offsets(state, topic).values()) >= 200,
        90,
        "first batches pushed",
        consumer.process,
        consumer.log,
    )
    consumer.process.send_signal(signal.SIGTERM)
    assert consumer.process.wait(30) == 0
    stopped_at = snapshot_offsets(state, topic)
    # The last batch was finished: what is committed is exactly what was pushed.
    assert committed_offsets(workspace, "card-risk-features") == stopped_at
    assert "finishing the current batch" in consumer.log.read_text()
    pushed = offline_rows(workspace)[[schema.JOIN_KEY, schema.TIMESTAMP_FIELD]].drop_duplicates()
    assert len(pushed) == sum(stopped_at.values())


def test_generated_profiles_load_and_materialise_online(
    workspace: Workspace, dataset: Dataset
) -> None:
    result = workspace.run(
        "workloads.features",
        "load-profiles",
        "--feature-store-yaml",
        str(workspace.settings.feature_store_yaml),
        "--profiles",
        str(dataset.profiles_file),
    )
    assert result == {"profiles": len(dataset.customers)}
    customer: generator.Customer = dataset.customers[7]
    store = open_store(workspace.settings.feature_store_yaml)
    online = store.get_online_features(
        features=[f"{schema.PROFILE_VIEW}:{name}" for name in schema.PROFILE_FEATURES],
        entity_rows=[{schema.JOIN_KEY: customer.customer_id}],
    ).to_dict()
    assert online["credit_limit_aed"] == [customer.credit_limit_aed]
    assert online["home_emirate"] == [customer.home_emirate]


# ------------------------------------------------------------------ Feast refusing rows


class RefusingProvider:
    """Feast's provider, refusing every write that holds one customer's rows (or any write):
    a store refusing a value, at the boundary of the library."""

    def __init__(self, provider: Any, customer: str | None) -> None:
        self._provider, self._customer = provider, customer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    def _check(self, customers: list[str]) -> None:
        if self._customer is None or self._customer in customers:
            raise ValueError(f"the store refuses {self._customer or 'everything'}")

    def ingest_df_to_offline_store(self, view: Any, table: Any) -> None:
        self._check(table.column(schema.JOIN_KEY).to_pylist())
        self._provider.ingest_df_to_offline_store(view, table)

    def online_write_batch(self, config: Any, view: Any, data: list, progress: Any) -> None:
        self._check([key.entity_values[0].string_val for key, *_ in data])
        self._provider.online_write_batch(config, view, data, progress)


def refusing_store(ws: Workspace, customer: str | None) -> FeatureStore:
    store = open_store(ws.settings.feature_store_yaml)
    provider = RefusingProvider(store._get_provider(), customer)
    store._get_provider = lambda: provider  # type: ignore[method-assign]
    return store


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if not line.startswith(f"{name}{{"):
            continue
        found = ",".join(sorted(line[len(name) + 1 :].split("}")[0].split(",")))
        if found == wanted:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{wanted}}} not in /metrics")


def test_rows_feast_refuses_are_dead_lettered_and_the_rest_is_pushed(
    workspace: Workspace, dataset: Dataset
) -> None:
    events = dataset.events[:400]
    refused = events[200]["customer_id"]
    produce(workspace, events)
    processor = StreamProcessor(
        workspace.settings, refusing_store(workspace, refused), workspace.root / "stream"
    )
    port = processor.metrics.serve(0)
    frozen: list[int] = []
    batch = processor.process_batch

    def counting(messages: Sequence[Message]) -> None:
        frozen.append(gc.get_freeze_count())
        batch(messages)

    processor.process_batch = counting  # type: ignore[method-assign]
    stats = processor.run(until_caught_up=True)
    # Start-up's objects are out of the collector's full passes while the loop runs, and only then.
    assert min(frozen) > 10_000 and gc.get_freeze_count() == 0
    theirs = [e for e in events if e["customer_id"] == refused]
    assert stats["dead_lettered"] == len(theirs) > 0
    assert stats["valid"] == stats["pushed_rows"] == len(events) - len(theirs)
    letters = read_dead_letters(workspace.settings, workspace.settings.topics.transactions)
    assert sorted(
        json.loads(letter.value or b"")["transaction_id"] for letter in letters
    ) == sorted(e["transaction_id"] for e in theirs)
    assert {letter.error_class for letter in letters} == {"ValueError"}
    assert {letter.reason for letter in letters} == {f"ValueError: the store refuses {refused}"}
    expected = expected_rows(events)
    expected = expected[expected[schema.JOIN_KEY] != refused]
    same_rows(offline_rows(workspace), expected)
    assert_online_matches(workspace, expected)
    # what the autoscaler and the alerts read
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    group, topic = processor.group_id, workspace.settings.topics.transactions
    assert metric(text, "card_risk_stream_consumer_lag_total", group=group, topic=topic) == 0
    assert metric(
        text, "card_risk_stream_dead_letters_total", group=group, error_class="ValueError"
    ) == len(theirs)
    assert metric(text, "card_risk_stream_events_total", group=group, outcome="valid") == len(
        events
    ) - len(theirs)


def test_when_feast_itself_fails_nothing_is_committed_and_a_restart_loses_nothing(
    workspace: Workspace, dataset: Dataset
) -> None:
    events = dataset.events[:300]
    produce(workspace, events)
    state = workspace.root / "stream"
    failing = StreamProcessor(workspace.settings, refusing_store(workspace, None), state)
    with pytest.raises(ValueError, match="refuses everything"):
        failing.run(until_caught_up=True)
    assert committed_offsets(workspace, "card-risk-features") == {}
    assert read_dead_letters(workspace.settings, workspace.settings.topics.transactions) == []
    healthy = StreamProcessor(
        workspace.settings, open_store(workspace.settings.feature_store_yaml), state
    )
    assert healthy.run(until_caught_up=True)["pushed_rows"] == len(events)
    same_rows(offline_rows(workspace), expected_rows(events))


# ------------------------------------------------------------------ scale-out and kill -9


def test_a_partition_taken_over_without_its_snapshot_is_rebuilt_before_it_is_pushed(
    workspace: Workspace, dataset: Dataset
) -> None:
    """Another process of the group, its snapshots on another volume, takes the partitions
    over: it replays what the group had committed into the windows (pushing nothing), so the
    rows it pushes next are the ones an uninterrupted processor would have written."""
    events = dataset.events
    first, second = events[:1500], events[1500:]
    produce(workspace, first)
    run = ("workloads.streaming", "run", "--until-caught-up", "--state-dir")
    assert workspace.run(*run, str(workspace.root / "a"))["pushed_rows"] == len(first)
    produce(workspace, second)
    stats = workspace.run(*run, str(workspace.root / "b"))
    assert (stats["rebuilt"], stats["pushed_rows"]) == (len(first), len(second))
    expected = expected_rows(events)
    same_rows(offline_rows(workspace), expected)
    assert_online_matches(workspace, expected)
    assert sum(committed_offsets(workspace, "card-risk-features").values()) == len(events)


def end_offsets(ws: Workspace) -> dict[int, int]:
    consumer = Consumer(ws.settings.kafka_config(**{"group.id": "inspect-ends"}))
    try:
        topic = ws.settings.topics.transactions
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
    finally:
        consumer.close()


def test_repeated_kill_9_while_producing_loses_nothing_and_leaves_nothing_stuck(
    workspace: Workspace, dataset: Dataset
) -> None:
    events = dataset.events[:1500]
    messages, reasons = interleaved_with_poison(events)
    where: list = []
    producing = threading.Thread(  # a live feed for 45 s, the processor killed again and again
        target=lambda: where.extend(produce_tracked(workspace, messages, len(messages) / 45))
    )
    producing.start()
    state, rng, kills = workspace.root / "stream", random.Random(9), 0
    topic = workspace.settings.topics.transactions

    def progress() -> int:
        return sum(snapshot_offsets(state, topic).values())

    at_kill: list[int] = []
    try:
        while producing.is_alive() or kills < 3:
            consumer = start_consumer(workspace, state)
            wait_until(
                partial(lambda before: progress() > before or not producing.is_alive(), progress()),
                120,
                "the restarted processor made progress",
                consumer.process,
                consumer.log,
            )
            time.sleep(rng.uniform(0.0, 1.5))  # somewhere inside a batch, or between two
            consumer.stop(signal.SIGKILL)
            kills += 1
            at_kill.append(progress())
    finally:
        producing.join(120)
    assert len(where) == len(messages) and kills >= 3
    # kills hit processors in the middle of the stream, not only ones starting up
    assert len(set(at_kill)) >= 2 and min(at_kill) < len(messages), at_kill
    workspace.run("workloads.streaming", "run", "--state-dir", str(state), "--until-caught-up")
    expected = expected_rows(events)
    same_rows(offline_rows(workspace), expected)  # every valid event, once by key
    assert_online_matches(workspace, expected)
    letters = read_dead_letters(workspace.settings, workspace.settings.topics.transactions)
    # exactly the poison events (a kill between flush and commit may write one twice)
    assert {(letter.partition, letter.offset) for letter in letters} == {where[i] for i in reasons}
    assert committed_offsets(workspace, "card-risk-features") == end_offsets(workspace)  # lag 0


def test_a_configuration_error_stops_it_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "workloads.streaming", "run", "--state-dir", str(tmp_path)],
        env={**os.environ, "MLP_EVENTS_MAX_AMOUNT_AED": "lots", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "MLP_EVENTS_MAX_AMOUNT_AED" in done.stderr and "Traceback" not in done.stderr
