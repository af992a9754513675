"""Per-customer sliding windows over the transaction stream, and their crash-safe snapshots.

Each valid transaction produces one feature row: the customer's activity over the 1-hour and
24-hour windows ending at that transaction (inclusive). The rows are a pure function of the
events of the customer's partition, so replaying events after a crash recomputes exactly the
same rows, which makes Feast's upserts idempotent.

State is kept per Kafka partition (a customer's events share a partition, the producer keys by
customer) and saved after every pushed batch together with the next offset to read. On restart
the consumer restores the snapshot and resumes from its offset, so the windows still contain
the events read before the crash.
"""

from __future__ import annotations

import bisect
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workloads.data.events import Transaction
from workloads.features import schema

HOUR = 3600.0
DAY = 24 * HOUR

# (epoch seconds, amount AED, merchant category, channel, foreign)
Entry = tuple[float, float, str, str, bool]


@dataclass
class CustomerWindows:
    """The last 24 hours of each customer's transactions in one partition."""

    history: dict[str, list[Entry]] = field(default_factory=dict)

    def update(self, txn: Transaction) -> dict[str, object]:
        """Add a transaction; return its feature row (customer id, features, event timestamp)."""
        moment = txn.timestamp.timestamp()
        entries = self.history.setdefault(txn.customer_id, [])
        entry: Entry = (
            moment,
            txn.amount_aed,
            txn.merchant_category,
            txn.channel,
            txn.merchant_country != "AE",
        )
        bisect.insort(entries, entry)
        # Forget what no future window can reach (relative to the newest event seen).
        horizon = entries[-1][0] - DAY
        while entries and entries[0][0] <= horizon:
            entries.pop(0)
        return self._row(txn.customer_id, entries, moment)

    def is_newest(self, customer_id: str, moment: datetime) -> bool:
        entries = self.history.get(customer_id)
        return bool(entries) and entries[-1][0] <= moment.timestamp()

    @staticmethod
    def _row(customer_id: str, entries: list[Entry], moment: float) -> dict[str, object]:
        last_day = [e for e in entries if moment - DAY < e[0] <= moment]
        last_hour = [e for e in last_day if e[0] > moment - HOUR]
        earlier = [e[0] for e in last_day if e[0] < moment]
        amounts = [e[1] for e in last_day]
        return {
            schema.JOIN_KEY: customer_id,
            "txn_count_1h": len(last_hour),
            "txn_count_24h": len(last_day),
            "amount_sum_1h": round(sum(e[1] for e in last_hour), 2),
            "amount_sum_24h": round(sum(amounts), 2),
            "amount_max_24h": max(amounts),
            "distinct_categories_24h": len({e[2] for e in last_day}),
            "ecommerce_share_24h": sum(e[3] == "ecommerce" for e in last_day) / len(last_day),
            "foreign_count_24h": sum(e[4] for e in last_day),
            "seconds_since_previous": (
                min(moment - max(earlier), schema.NO_PREVIOUS_SECONDS)
                if earlier
                else schema.NO_PREVIOUS_SECONDS
            ),
            schema.TIMESTAMP_FIELD: datetime.fromtimestamp(moment, UTC),
        }


class PartitionStateStore:
    """Snapshots of `CustomerWindows` with the next offset to read, one file per partition."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, topic: str, partition: int) -> Path:
        return self.directory / f"{topic}-{partition}.json"

    def load(self, topic: str, partition: int) -> tuple[CustomerWindows, int | None]:
        path = self._path(topic, partition)
        if not path.exists():
            return CustomerWindows(), None
        data = json.loads(path.read_text())
        history = {
            customer: [tuple(entry) for entry in entries]  # type: ignore[misc]
            for customer, entries in data["history"].items()
        }
        return CustomerWindows(history=history), int(data["next_offset"])  # type: ignore[arg-type]

    def save(self, topic: str, partition: int, windows: CustomerWindows, next_offset: int) -> None:
        path = self._path(topic, partition)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"next_offset": next_offset, "history": windows.history}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
