"""The drift monitor: served traffic against the champion's reference; events when it drifts.

One check (run on a schedule: a CronJob in the cluster, a demo step locally):
1. find the champion version and download the reference its training run logged
   (`reference/reference.parquet`: the held-out transactions, features and scores);
2. read the scored records published since the previous check (consumer group offsets on the
   scored topic), keeping those the champion produced;
3. compute PSI and KS per monitored feature and for the risk score;
4. when any crosses its threshold: publish a drift event to the drift topic and a retraining
   request to the retraining topic; then commit the offsets read.

Fewer than `min_records` new records is reported as "insufficient data" and decides nothing.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from workloads.data.producer import produce
from workloads.monitoring import drift
from workloads.monitoring.records import (
    MONITORED_CATEGORICAL,
    MONITORED_NUMERIC,
    REFERENCE_ARTIFACT,
)
from workloads.settings import Settings
from workloads.streaming.topics import TopicReader

log = logging.getLogger(__name__)


def load_reference(settings: Settings) -> tuple[str, pd.DataFrame]:
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    champion = MlflowClient().get_model_version_by_alias(settings.model_name, settings.model_alias)
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(
            run_id=champion.run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=directory
        )
        return str(champion.version), pd.read_parquet(Path(path))


def check(
    settings: Settings,
    group_id: str = "card-risk-drift-monitor",
    min_records: int = 200,
    thresholds: drift.Thresholds | None = None,
) -> dict[str, object]:
    thresholds = thresholds or drift.Thresholds()
    version, reference = load_reference(settings)
    with TopicReader(settings, settings.topics.scored, group_id=group_id) as reader:
        records = reader.read_to_end()
        report = evaluate_and_publish(
            settings, version, reference, records, min_records, thresholds
        )
        # Committed only after any events are published: a crash re-checks the window.
        reader.commit()
    return report


def evaluate_and_publish(
    settings: Settings,
    version: str,
    reference: pd.DataFrame,
    records: list[dict],
    min_records: int,
    thresholds: drift.Thresholds,
) -> dict[str, object]:
    current = pd.DataFrame([r for r in records if r.get("model_version") == version])
    report: dict[str, object] = {
        "model": settings.model_name,
        "model_version": version,
        "records_read": len(records),
        "records_compared": len(current),
        "reference_records": len(reference),
        "checked_at": datetime.now(UTC).isoformat(),
    }
    if len(current) < min_records:
        report["status"] = "insufficient data"
        log.info(
            "drift check: %d records of version %s, need %d", len(current), version, min_records
        )
        return report
    features = drift.compare(
        reference, current, MONITORED_NUMERIC, MONITORED_CATEGORICAL, thresholds
    )
    drifted = sorted(name for name, result in features.items() if result["drifted"])
    report.update(
        status="drift" if drifted else "stable",
        features=features,
        drifted_features=drifted,
        thresholds=thresholds.__dict__,
        window={"from": current["timestamp"].min(), "to": current["timestamp"].max()},
    )
    if drifted:
        event_id = str(uuid.uuid4())
        event = {"event_id": event_id, "type": "model-drift", **report}
        request = {
            "request_id": str(uuid.uuid4()),
            "type": "retraining-request",
            "model": settings.model_name,
            "model_version": version,
            "reason": f"drift in {', '.join(drifted)}",
            "drift_event_id": event_id,
            "requested_at": datetime.now(UTC).isoformat(),
        }
        key = settings.model_name
        produce(settings, settings.topics.drift, [(key, json.dumps(event).encode())])
        produce(settings, settings.topics.retraining, [(key, json.dumps(request).encode())])
        report["drift_event_id"] = event_id
        log.warning("drift in %s: event %s published, retraining requested", drifted, event_id)
    return report
