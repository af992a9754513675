"""Ground truth for the performance monitor: settled outcomes published on the labels topic.

In production the bank's case-management or chargeback system publishes one `ground-truth` v1
message per settled transaction (keyed by transaction id). This module is that publisher for
the local platform, the demo and the tests: it reads a parquet (or JSON lines) file of settled
transactions with `transaction_id` and `is_fraud`, and publishes those named (all by default).
Rows without a transaction id or with an outcome that is not 0/1 are refused, naming the row.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from workloads import storage
from workloads.data.producer import produce
from workloads.monitoring.events import GroundTruth, LoopTopics, now_iso
from workloads.settings import Settings


def label_messages(rows: Iterable[dict], labelled_at: str | None = None) -> list[GroundTruth]:
    stamp = labelled_at or now_iso()
    messages = []
    for number, row in enumerate(rows, start=1):
        txn, outcome = row.get("transaction_id"), row.get("is_fraud")
        if not txn or not isinstance(txn, str):
            raise ValueError(f"row {number}: transaction_id is missing or not a string")
        if outcome not in (0, 1, True, False):
            raise ValueError(f"row {number} ({txn}): is_fraud must be 0 or 1, got {outcome!r}")
        messages.append(
            GroundTruth(transaction_id=txn, is_fraud=bool(outcome), labelled_at=stamp)  # type: ignore[arg-type]
        )
    return messages


def read_settled(uri: str) -> list[dict]:
    if uri.endswith(".jsonl") or uri.endswith(".json"):
        return pd.read_json(uri, lines=True).to_dict("records")
    return storage.read_parquet(uri).to_dict("records")


def publish_labels(
    settings: Settings, topics: LoopTopics, rows: Iterable[dict], only: set[str] | None = None
) -> int:
    chosen = [r for r in rows if only is None or r.get("transaction_id") in only]
    messages = label_messages(chosen)
    return produce(settings, topics.labels, [(m.transaction_id, m.to_json()) for m in messages])
