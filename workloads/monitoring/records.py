"""The scored record: what the model server publishes per prediction and the drift monitor reads.

The training run logs its held-out set in the same shape (`reference.parquet`, plus the labels),
so the monitors compare like with like: served traffic against the data the champion was judged
on (drift), live AUC and precision against its held-out ones (performance).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

MONITORED_NUMERIC = [
    "amount_aed",
    "txn_count_24h",
    "amount_sum_24h",
    "risk_score",
]
MONITORED_CATEGORICAL = ["channel", "merchant_category", "is_foreign"]
REFERENCE_ARTIFACT = "reference/reference.parquet"


def scored_record(
    transaction: Mapping[str, object],
    customer: Mapping[str, object],
    score: float,
    model_version: str,
) -> dict[str, object]:
    timestamp = transaction["timestamp"]
    return {
        "transaction_id": transaction.get("transaction_id"),
        "customer_id": transaction["customer_id"],
        "timestamp": timestamp.isoformat() if hasattr(timestamp, "isoformat") else timestamp,
        "model_version": model_version,
        "risk_score": float(score),
        "amount_aed": float(transaction["amount_aed"]),  # type: ignore[arg-type]
        "channel": transaction["channel"],
        "merchant_category": transaction["merchant_category"],
        "is_foreign": "foreign" if transaction["merchant_country"] != "AE" else "domestic",
        "txn_count_24h": float(customer["txn_count_24h"]),  # type: ignore[arg-type]
        "amount_sum_24h": float(customer["amount_sum_24h"]),  # type: ignore[arg-type]
        "seconds_since_previous": float(customer["seconds_since_previous"]),  # type: ignore[arg-type]
    }


def reference_frame(holdout: pd.DataFrame, scores: list[float], model_version: str) -> pd.DataFrame:
    """The held-out set as scored records, with its labels (`is_fraud`) when it has them: the
    performance monitor's baseline."""
    rows = [
        scored_record(row, row, score, model_version)
        for row, score in zip(holdout.to_dict("records"), scores, strict=True)
    ]
    frame = pd.DataFrame(rows)
    if "is_fraud" in holdout:
        frame["is_fraud"] = holdout["is_fraud"].to_numpy(dtype=int)
    return frame
