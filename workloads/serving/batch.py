"""Batch scoring: a file of transactions scored by the served alias with point-in-time features.

Unlike the online path, a batch job scores transactions after the fact, so each one is joined
with the customer's features as they were just before it (Feast historical retrieval, the same
join the training set uses), not with today's online values. Invalid rows are not scored: they
go to `<output>.rejected.jsonl` with the reason, and the job still succeeds.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from workloads.data.events import InvalidTransaction, parse_transaction
from workloads.features import vectors
from workloads.features.repository import open_store
from workloads.settings import Settings
from workloads.training.dataset import encode_frame, historical_features

log = logging.getLogger(__name__)


def read_transactions(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        if "timestamp" in frame and pd.api.types.is_datetime64_any_dtype(frame["timestamp"]):
            frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
        return frame.to_dict("records")
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def score_file(settings: Settings, source: Path, output: Path) -> dict[str, object]:
    records = read_transactions(source)
    valid, rejected = [], []
    for number, record in enumerate(records):
        try:
            txn = parse_transaction(record, require_id=True)
            valid.append(
                {
                    **txn.as_features(),
                    "transaction_id": txn.transaction_id,
                    "customer_id": txn.customer_id,
                }
            )
        except InvalidTransaction as reason:
            rejected.append({"line": number + 1, "reason": str(reason), "record": record})
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    served = MlflowClient().get_model_version_by_alias(settings.model_name, settings.model_alias)
    version = str(served.version)
    model = mlflow.pyfunc.load_model(f"models:/{settings.model_name}/{version}")
    if (model.metadata.metadata or {}).get("feature_names") != vectors.FEATURE_NAMES:
        raise RuntimeError(f"{settings.model_name} v{version} expects another feature vector")
    scored = pd.DataFrame(columns=["transaction_id", "customer_id", "risk_score"])
    if valid:
        frame = historical_features(open_store(settings.feature_store_yaml), pd.DataFrame(valid))
        scores = np.asarray(model.predict(encode_frame(frame))).reshape(-1)
        scored = frame[["transaction_id", "customer_id"]].assign(risk_score=scores)
    scored = scored.assign(model_version=version)
    output.parent.mkdir(parents=True, exist_ok=True)
    scored.to_parquet(output, index=False)
    rejects = output.with_suffix(".rejected.jsonl")
    with open(os.open(rejects, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        for row in rejected:
            handle.write(json.dumps(row, default=str) + "\n")
    log.info(
        "scored %d transactions with %s v%s, rejected %d",
        len(scored),
        settings.model_name,
        version,
        len(rejected),
    )
    return {
        "scored": len(scored),
        "rejected": len(rejected),
        "model_version": version,
        "output": str(output),
        "rejects": str(rejects),
    }
