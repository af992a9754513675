"""The stream processor on a real broker and Feast: dead letters, crash recovery, clean stop."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pandas as pd
import pytest
from confluent_kafka import Consumer, TopicPartition
from conftest import PYTHON, Dataset, Service, Workspace, wait_until

from workloads.data import generator, producer
from workloads.data.events import parse_transaction
from workloads.features import schema
from workloads.features.repository import offline_table_path, open_store
from workloads.streaming.topics import read_to_end
from workloads.streaming.windows import CustomerWindows

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
        offsets[int(path.stem.rsplit("-", 1)[1])] = json.loads(path.read_text())["next_offset"]
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


def test_poison_events_go_to_the_dead_letter_topic_with_their_reason(
    workspace: Workspace, dataset: Dataset
) -> None:
    events = dataset.events[:300]
    produce(workspace, events, poison=12)
    stats = workspace.run(
        "workloads.streaming",
        "run",
        "--state-dir",
        str(workspace.root / "stream"),
        "--until-caught-up",
    )
    assert stats == {
        "consumed": 312,
        "valid": 300,
        "dead_lettered": 12,
        "pushed_rows": 300,
        "batches": stats["batches"],
    }
    letters = read_to_end(workspace.settings, workspace.settings.topics.dead_letter)
    assert len(letters) == 12
    reasons = " | ".join(letter["reason"] for letter in letters)
    for expected in (
        "not JSON",
        "not UTF-8",
        "JSON object",
        "amount_aed",
        "currency",
        "merchant_category",
        "timestamp",
        "missing field 'customer_id'",
    ):
        assert expected in reasons
    assert all(
        letter["source"]["topic"] == workspace.settings.topics.transactions for letter in letters
    )
    assert {letter["payload"] for letter in letters} >= {"{not json", "[1, 2, 3]"}
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
