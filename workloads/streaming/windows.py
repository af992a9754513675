"""Per-customer sliding windows over the transaction stream, and their crash-safe snapshots.

Each valid transaction produces one feature row: the customer's activity over the 1-hour and
24-hour windows ending at that transaction (inclusive). The rows are a pure function of the
events of the customer's partition, so replaying events after a crash recomputes exactly the
same rows, which makes Feast's upserts idempotent.

State is kept per Kafka partition (a customer's events share a partition, the producer keys by
customer) and saved after every pushed batch together with the next offset to read. On restart
the consumer restores the snapshot and resumes from its offset, so the windows still contain
the events read before the crash.

A snapshot is a base file (`<topic>-<partition>.json`: every window and the next offset) and a
journal beside it (`.journal`: one JSON line per saved batch, the entries it added and its next
offset), so a save costs as much as the batch, not as much as the state. Every
`JOURNAL_COMPACTION` saves the base is rewritten (atomically) and the journal emptied. Loading
applies the journal's lines after the base's offset in order; a line cut short by a crash (the
last one) is ignored, and its batch, never committed, is read again.

Snapshots are not fsynced: a killed process loses nothing (the page cache survives it), and
what a lost machine may lose is detected, not trusted. A snapshot behind the group's committed
offset, or an unreadable one, makes the stream processor replay the partition into the
windows up to that offset before it goes on (`consumer.resume_plan`), so the windows are
exact either way; an fsync per partition and batch only made every batch slower.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workloads.data.events import Transaction
from workloads.features import schema

HOUR = 3600.0
DAY = 24 * HOUR
JOURNAL_COMPACTION = 64
_AFTER = float("inf")

log = logging.getLogger(__name__)

# (epoch seconds, amount AED, merchant category, channel, foreign)
Entry = tuple[float, float, str, str, bool]


class TooLate(ValueError):
    """An event older than the windows kept for its customer (a day before their newest)."""


@dataclass
class CustomerWindows:
    """The last 24 hours of each customer's transactions in one partition.

    `added` lists the (customer, entry) pairs added since the last snapshot: the journal line
    the next save writes.
    """

    history: dict[str, list[Entry]] = field(default_factory=dict)
    added: list[tuple[str, Entry]] = field(default_factory=list)

    def update(self, txn: Transaction) -> dict[str, object]:
        """Add a transaction; return its feature row (customer id, features, event timestamp)."""
        moment = txn.timestamp.timestamp()
        entry: Entry = (
            moment,
            txn.amount_aed,
            txn.merchant_category,
            txn.channel,
            txn.merchant_country != "AE",
        )
        known = self.history.get(txn.customer_id, [])
        if known and moment <= known[-1][0] - DAY:
            newest = datetime.fromtimestamp(known[-1][0], UTC).isoformat()
            raise TooLate(
                f"event at {txn.timestamp.isoformat()} is more than 24 h older than customer "
                f"{txn.customer_id}'s newest event ({newest}): the events its windows need are "
                "no longer kept"
            )
        # Built aside and swapped in only when the row is computed: an event that fails here
        # leaves the windows as they were.
        entries = _inserted(known, entry)
        row = self._row(txn.customer_id, entries, moment)
        self.history[txn.customer_id] = entries
        self.added.append((txn.customer_id, entry))
        return row

    def restore(self, customer: str, entry: Entry) -> None:
        """Re-add an entry from a snapshot's journal (what `update` did, without the row)."""
        self.history[customer] = _inserted(self.history.get(customer, []), entry)

    def is_newest(self, customer_id: str, moment: datetime) -> bool:
        entries = self.history.get(customer_id)
        return entries is not None and bool(entries) and entries[-1][0] <= moment.timestamp()

    @staticmethod
    def _row(customer_id: str, entries: list[Entry], moment: float) -> dict[str, object]:
        # `entries` is in time order: the windows are slices of it.
        # (t, inf) sorts after every entry at time t, (t,) before: no key function per probe.
        start = bisect.bisect_right(entries, (moment - DAY, _AFTER))
        end = bisect.bisect_right(entries, (moment, _AFTER))
        hour = bisect.bisect_right(entries, (moment - HOUR, _AFTER), start, end)
        previous = bisect.bisect_left(entries, (moment,), start, end) - 1
        # The day's entries as columns (one C-level transpose): every aggregate below is a
        # built-in over a tuple, in the entries' order, so its value is the same as a loop's.
        _, amounts, categories, channels, foreign = zip(*entries[start:end], strict=True)
        count = end - start
        return {
            schema.JOIN_KEY: customer_id,
            "txn_count_1h": end - hour,
            "txn_count_24h": count,
            "amount_sum_1h": round(sum(amounts[hour - start :]), 2),
            "amount_sum_24h": round(sum(amounts), 2),
            "amount_max_24h": max(amounts),
            "distinct_categories_24h": len(set(categories)),
            "ecommerce_share_24h": channels.count("ecommerce") / count,
            "foreign_count_24h": sum(foreign),
            "seconds_since_previous": (
                min(moment - entries[previous][0], schema.NO_PREVIOUS_SECONDS)
                if previous >= start
                else schema.NO_PREVIOUS_SECONDS
            ),
            schema.TIMESTAMP_FIELD: datetime.fromtimestamp(moment, UTC),
        }


def _inserted(entries: list[Entry], entry: Entry) -> list[Entry]:
    """A new list: `entries` with `entry` in time order, without what no future window of the
    customer can reach (older than a day before the newest entry)."""
    if not entries or entries[-1] <= entry:  # the usual case: the customer's newest event
        kept = bisect.bisect_right(entries, (entry[0] - DAY, _AFTER))
        return [*entries[kept:], entry]
    updated = list(entries)
    bisect.insort(updated, entry)
    horizon = updated[-1][0] - DAY
    return updated[bisect.bisect_right(updated, (horizon, _AFTER)) :]


def _entry(values: list) -> Entry:
    time_, amount, category, channel, foreign = values
    return (float(time_), float(amount), str(category), str(channel), bool(foreign))


class PartitionStateStore:
    """Snapshots of `CustomerWindows` with the next offset to read, one file per partition."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._journal_lines: dict[Path, int] = {}

    def _path(self, topic: str, partition: int) -> Path:
        return self.directory / f"{topic}-{partition}.json"

    def load(self, topic: str, partition: int) -> tuple[CustomerWindows, int | None]:
        """The partition's windows and next offset; (empty, None) when there is no usable
        snapshot (none yet, or unreadable: the processor then rebuilds from Kafka)."""
        path = self._path(topic, partition)
        if not path.exists():
            return CustomerWindows(), None
        try:
            data = json.loads(path.read_text())
            windows = CustomerWindows(
                history={
                    str(customer): [_entry(e) for e in entries]
                    for customer, entries in data["history"].items()
                }
            )
            next_offset, lines = self._replay(path, windows, int(data["next_offset"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            log.error(
                "snapshot %s is unusable (%s); rebuilding the partition from Kafka", path, error
            )
            return CustomerWindows(), None
        self._journal_lines[path] = lines
        return windows, next_offset

    def _replay(self, path: Path, windows: CustomerWindows, next_offset: int) -> tuple[int, int]:
        journal = path.with_suffix(".journal")
        if not journal.exists():
            return next_offset, 0
        lines = journal.read_bytes().split(b"\n")
        complete, last = lines[:-1], lines[-1]  # `last` is empty unless a write was cut short
        if last:  # cut it off, or the next line appended would be glued to it
            log.warning("%s: dropping a journal line cut short by a crash", journal)
            with open(journal, "r+b") as handle:
                handle.truncate(sum(len(line) + 1 for line in complete))
        for line in complete:
            record = json.loads(line)
            if int(record["next_offset"]) <= next_offset:
                continue  # already in the base (killed between rewriting it and the journal)
            for customer, *entry in record["added"]:
                windows.restore(str(customer), _entry(entry))
            next_offset = int(record["next_offset"])
        return next_offset, len(complete)

    def save(self, topic: str, partition: int, windows: CustomerWindows, next_offset: int) -> None:
        """Durably record the windows with the next offset: a journal line, or a new base."""
        path = self._path(topic, partition)
        lines = self._journal_lines.get(path, 0)
        if not path.exists() or lines >= JOURNAL_COMPACTION:
            self._write_base(path, windows, next_offset)
            self._journal_lines[path] = 0
        else:
            record = {
                "next_offset": next_offset,
                "added": [[customer, *entry] for customer, entry in windows.added],
            }
            fd = os.open(
                path.with_suffix(".journal"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            self._journal_lines[path] = lines + 1
        windows.added.clear()

    def _write_base(self, path: Path, windows: CustomerWindows, next_offset: int) -> None:
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"next_offset": next_offset, "history": windows.history}, handle)
        os.replace(temporary, path)
        # The base holds everything now: a journal left by a crash here is skipped on load.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path.with_suffix(".journal"))
