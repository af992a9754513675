"""Per-customer windows: the values, their snapshots, and why a replay reproduces the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workloads.data.events import Transaction
from workloads.features import schema
from workloads.streaming.windows import (
    JOURNAL_COMPACTION,
    CustomerWindows,
    PartitionStateStore,
    TooLate,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def txn(
    minutes: float,
    amount: float,
    customer: str = "C1",
    channel: str = "pos_chip",
    category: str = "grocery",
    country: str = "AE",
) -> Transaction:
    return Transaction(
        f"t{minutes}", customer, amount, category, channel, country, T0 + timedelta(minutes=minutes)
    )


def test_windows_count_the_last_hour_and_day_inclusive_of_the_event() -> None:
    windows = CustomerWindows()
    windows.update(txn(-25 * 60, 999.0))  # outside every window of the later events
    windows.update(txn(-120, 100.0, channel="ecommerce", category="electronics"))
    windows.update(txn(-30, 50.0, country="OM"))
    row = windows.update(txn(0, 10.0))
    assert row["txn_count_1h"] == 2
    assert row["txn_count_24h"] == 3
    assert row["amount_sum_1h"] == 60.0
    assert row["amount_sum_24h"] == 160.0
    assert row["amount_max_24h"] == 100.0
    assert row["distinct_categories_24h"] == 2
    assert row["ecommerce_share_24h"] == 1 / 3
    assert row["foreign_count_24h"] == 1
    assert row["seconds_since_previous"] == 30 * 60
    assert row[schema.TIMESTAMP_FIELD] == T0


def test_first_transaction_has_no_previous_and_customers_are_separate() -> None:
    windows = CustomerWindows()
    windows.update(txn(0, 10.0, customer="C1"))
    row = windows.update(txn(1, 20.0, customer="C2"))
    assert row["txn_count_24h"] == 1
    assert row["seconds_since_previous"] == schema.NO_PREVIOUS_SECONDS


def test_a_late_event_is_not_the_newest_and_does_not_see_later_events() -> None:
    windows = CustomerWindows()
    windows.update(txn(0, 10.0))
    late = windows.update(txn(-10, 5.0))
    assert late["txn_count_1h"] == 1  # only itself: the later event is not in its window
    assert not windows.is_newest("C1", T0 - timedelta(minutes=10))
    assert windows.is_newest("C1", T0)


def test_snapshot_restore_then_replay_gives_identical_rows(tmp_path: Path) -> None:
    events = [txn(m, 10.0 + m, customer=f"C{int(m) % 3}") for m in range(0, 200, 7)]
    store = PartitionStateStore(tmp_path)
    uninterrupted = CustomerWindows()
    expected = [uninterrupted.update(e) for e in events]

    first = CustomerWindows()
    for event in events[:10]:
        first.update(event)
    store.save("tx", 0, first, next_offset=10)
    # A crash after the snapshot: the rest of the events are read again by a new process...
    restored, offset = store.load("tx", 0)
    assert offset == 10
    replayed = [restored.update(e) for e in events[offset:]]
    assert replayed == expected[10:]
    assert (tmp_path / "tx-0.json").stat().st_mode & 0o077 == 0


def test_missing_snapshot_means_start_empty(tmp_path: Path) -> None:
    windows, offset = PartitionStateStore(tmp_path).load("tx", 2)
    assert offset is None
    assert windows.history == {}


def events(count: int) -> list[Transaction]:
    return [txn(m * 3.0, 10.0 + m, customer=f"C{m % 5}") for m in range(count)]


def test_journalled_snapshots_restore_exactly_and_compact(tmp_path: Path) -> None:
    store = PartitionStateStore(tmp_path)
    windows = CustomerWindows()
    stream = events(3 * JOURNAL_COMPACTION)
    for offset, event in enumerate(stream[:JOURNAL_COMPACTION], start=1):
        windows.update(event)
        store.save("tx", 0, windows, offset)
    journal = tmp_path / "tx-0.journal"
    # one base (the first save) and a journal line per later batch, not a rewrite per batch
    assert len(journal.read_bytes().splitlines()) == JOURNAL_COMPACTION - 1
    restored, offset = PartitionStateStore(tmp_path).load("tx", 0)
    assert offset == JOURNAL_COMPACTION
    assert restored.history == windows.history
    for offset in (JOURNAL_COMPACTION + 1, JOURNAL_COMPACTION + 2):
        windows.update(stream[offset])
        store.save("tx", 0, windows, offset)
    assert not journal.exists()  # a full journal: the next save rewrote the base instead
    restored, offset = PartitionStateStore(tmp_path).load("tx", 0)
    assert (restored.history, offset) == (windows.history, JOURNAL_COMPACTION + 2)


def test_a_journal_line_cut_short_by_a_crash_is_dropped(tmp_path: Path) -> None:
    store = PartitionStateStore(tmp_path)
    windows = CustomerWindows()
    for offset, event in enumerate(events(5), start=1):
        windows.update(event)
        store.save("tx", 0, windows, offset)
    journal = tmp_path / "tx-0.journal"
    before_crash = journal.read_bytes()
    journal.write_bytes(before_crash + b'{"next_offset": 6, "added": [["C1", 17')  # kill -9
    reopened = PartitionStateStore(tmp_path)
    restored, offset = reopened.load("tx", 0)
    assert (restored.history, offset) == (windows.history, 5)  # batch 6 is read again
    assert journal.read_bytes() == before_crash
    # the next save appends a whole line after the good ones
    restored.update(txn(100.0, 1.0))
    reopened.save("tx", 0, restored, 6)
    again, offset = PartitionStateStore(tmp_path).load("tx", 0)
    assert (again.history, offset) == (restored.history, 6)


def test_an_unreadable_snapshot_means_rebuild_not_crash(tmp_path: Path) -> None:
    (tmp_path / "tx-0.json").write_text('{"next_offset": 12, "history": {"C1": [[1, 2]]}}')
    (tmp_path / "tx-1.json").write_text("{garbage")
    for partition in (0, 1):
        windows, offset = PartitionStateStore(tmp_path).load("tx", partition)
        assert (windows.history, offset) == ({}, None)


def test_an_event_that_fails_in_the_windows_leaves_them_unchanged() -> None:
    windows = CustomerWindows()
    windows.update(txn(0, 10.0))
    before = {customer: list(entries) for customer, entries in windows.history.items()}
    broken = Transaction("t9", "C1", "ten", "grocery", "pos_chip", "AE", T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        windows.update(broken)
    assert windows.history == before
    assert [entry for _, entry in windows.added] == [before["C1"][0]]


def test_an_event_older_than_the_kept_windows_is_refused_not_miscounted() -> None:
    windows = CustomerWindows()
    windows.update(txn(0, 10.0))
    before = dict(windows.history)
    with pytest.raises(TooLate, match="more than 24 h older than customer C1's newest"):
        windows.update(txn(-24 * 60, 5.0))  # exactly a day late: its window is gone
    assert windows.history == before
    assert windows.update(txn(-24 * 60 + 1, 5.0))["txn_count_24h"] == 1  # within a day: counted


def _oracle(entries: list[tuple[float, float, str, str, bool]], moment: float) -> dict[str, object]:
    """The windows' definition, loop by loop, over the customer's kept entries."""
    day = [e for e in entries if moment - 24 * 3600 < e[0] <= moment]
    hour = [e for e in day if e[0] > moment - 3600]
    earlier = [e[0] for e in day if e[0] < moment]
    return {
        "txn_count_1h": len(hour),
        "txn_count_24h": len(day),
        "amount_sum_1h": round(sum(e[1] for e in hour), 2),
        "amount_sum_24h": round(sum(e[1] for e in day), 2),
        "amount_max_24h": max(e[1] for e in day),
        "distinct_categories_24h": len({e[2] for e in day}),
        "ecommerce_share_24h": sum(e[3] == "ecommerce" for e in day) / len(day),
        "foreign_count_24h": sum(e[4] for e in day),
        "seconds_since_previous": (
            min(moment - max(earlier), schema.NO_PREVIOUS_SECONDS)
            if earlier
            else schema.NO_PREVIOUS_SECONDS
        ),
    }


@pytest.mark.parametrize("seed", range(6))
def test_rows_equal_the_definition_over_random_streams(seed: int) -> None:
    """Mostly in order, some late (minutes to over a day), ties and exact hour/day boundaries:
    every row equals the loop-by-loop definition exactly (floats summed in the same order)."""
    import random

    rng = random.Random(seed)
    windows = CustomerWindows()
    kept: dict[str, list[tuple[float, float, str, str, bool]]] = {}
    clock = 0.0
    late = too_late = 0
    for i in range(3000):
        customer = f"C{rng.randrange(8)}"
        clock += rng.choice([0.0, 1.0, 37.0, 600.0, 3600.0, 7200.0])
        minutes = clock / 60
        roll = rng.random()
        if roll < 0.1:
            minutes -= rng.choice([1.0, 60.0, 24 * 60.0, 24 * 60 + 5.0, 30 * 60.0])
        elif roll < 0.15:
            minutes = (clock - 3600.0) / 60  # exactly an hour before the stream's newest
        event = txn(
            minutes,
            round(rng.uniform(0.01, 5000), rng.choice([0, 2, 5])),
            customer=customer,
            channel=rng.choice(["ecommerce", "pos_chip", "contactless"]),
            category=rng.choice(["grocery", "electronics", "travel", "fuel"]),
            country=rng.choice(["AE", "AE", "OM"]),
        )
        moment = event.timestamp.timestamp()
        entries = kept.get(customer, [])
        if entries and moment <= entries[-1][0] - 24 * 3600:
            with pytest.raises(TooLate):
                windows.update(event)
            too_late += 1
            continue
        late += bool(entries) and moment < entries[-1][0]
        row = windows.update(event)
        entry = (
            moment,
            event.amount_aed,
            event.merchant_category,
            event.channel,
            event.merchant_country != "AE",
        )
        entries = sorted([*entries, entry])
        kept[customer] = [e for e in entries if e[0] > entries[-1][0] - 24 * 3600]
        expected = _oracle(kept[customer], moment)
        assert {k: row[k] for k in expected} == expected, (i, event)
        assert windows.history[customer] == kept[customer]
    assert late > 50 and too_late > 10  # both paths were taken
