"""The point-in-time-correct training set: settled transactions + Feast historical features.

Each labelled transaction becomes an entity row (customer, transaction time minus 1 ms), and
Feast joins the latest feature row of each view at or before that instant: the customer's
activity up to, but not including, the transaction itself, exactly what the online store held
when the transaction was scored. Rows Feast cannot match (a customer's first transaction, or no
activity within the view's TTL) get the same defaults serving uses.

The split is by time: the last `holdout_share` of transactions is the held-out set on which
every model version, challenger and champion alike, is judged.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from feast import FeatureStore

from workloads.features import schema, vectors

log = logging.getLogger(__name__)

TRANSACTION_COLUMNS = [
    "transaction_id",
    "customer_id",
    "amount_aed",
    "merchant_category",
    "channel",
    "merchant_country",
    "timestamp",
]
JUST_BEFORE = timedelta(milliseconds=1)


@dataclass(frozen=True)
class TrainingSet:
    x_train: np.ndarray
    y_train: np.ndarray
    x_holdout: np.ndarray
    y_holdout: np.ndarray
    holdout: pd.DataFrame  # transactions + customer features of the held-out rows (drift reference)
    fingerprint: str
    defaulted_rows: int

    def save(self, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            np.savez(
                f,
                x_train=self.x_train,
                y_train=self.y_train,
                x_holdout=self.x_holdout,
                y_holdout=self.y_holdout,
                fingerprint=self.fingerprint,
                defaulted_rows=self.defaulted_rows,
            )
        os.replace(temporary, path)
        self.holdout.to_parquet(path.with_suffix(".holdout.parquet"), index=False)

    @classmethod
    def load(cls, path: Path) -> TrainingSet:
        with np.load(path) as data:
            return cls(
                x_train=data["x_train"],
                y_train=data["y_train"],
                x_holdout=data["x_holdout"],
                y_holdout=data["y_holdout"],
                fingerprint=str(data["fingerprint"]),
                defaulted_rows=int(data["defaulted_rows"]),
                holdout=pd.read_parquet(path.with_suffix(".holdout.parquet")),
            )


def historical_features(store: FeatureStore, transactions: pd.DataFrame) -> pd.DataFrame:
    """Transactions with their customer features as of just before each one, defaults filled."""
    entities = pd.DataFrame(
        {
            "transaction_id": transactions["transaction_id"],
            schema.JOIN_KEY: transactions["customer_id"],
            schema.TIMESTAMP_FIELD: pd.to_datetime(transactions["timestamp"], utc=True)
            - JUST_BEFORE,
        }
    )
    joined = store.get_historical_features(
        entity_df=entities, features=store.get_feature_service(schema.FEATURE_SERVICE)
    ).to_df()
    features = joined[["transaction_id", *schema.ALL_FEATURES]].drop_duplicates("transaction_id")
    frame = transactions.merge(features, on="transaction_id", how="left")
    for name, default in schema.DEFAULTS.items():
        frame[name] = frame[name].fillna(default)  # type: ignore[arg-type]
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def encode_frame(frame: pd.DataFrame) -> np.ndarray:
    records = frame.to_dict("records")
    return vectors.encode_many(
        [{**r, "timestamp": r["timestamp"].to_pydatetime()} for r in records], records
    )


def build(store: FeatureStore, labelled: pd.DataFrame, holdout_share: float = 0.2) -> TrainingSet:
    labelled = labelled.sort_values("timestamp").reset_index(drop=True)
    frame = historical_features(store, labelled[[*TRANSACTION_COLUMNS, "is_fraud"]])
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    # Rows with no activity history at all (every activity feature defaulted), for the log.
    defaulted = int((frame["seconds_since_previous"] == schema.NO_PREVIOUS_SECONDS).sum())
    features = encode_frame(frame)
    labels = frame["is_fraud"].to_numpy(dtype=np.float32)
    cut = int(len(frame) * (1 - holdout_share))
    digest = hashlib.sha256(features.tobytes() + labels.tobytes()).hexdigest()[:16]
    log.info(
        "training set: %d rows (%d held out), %d positives, %d without history, id %s",
        len(frame),
        len(frame) - cut,
        int(labels.sum()),
        defaulted,
        digest,
    )
    return TrainingSet(
        x_train=features[:cut],
        y_train=labels[:cut],
        x_holdout=features[cut:],
        y_holdout=labels[cut:],
        holdout=frame.iloc[cut:].reset_index(drop=True),
        fingerprint=digest,
        defaulted_rows=defaulted,
    )
