"""The drift monitor: served traffic against the champion's reference; events when it drifts.

One check (a CronJob in the cluster, a demo step locally):
1. find the monitored version (`MLP_MODEL_ALIAS`, champion by default) and download the
   reference its training run logged (`reference/reference.parquet`: the held-out
   transactions, features, scores and labels);
2. read the scored records published since the previous check (consumer group offsets on the
   scored topic: the window is "since the last check"), keeping those that version produced;
3. compute PSI and KS per monitored feature and for the risk score;
4. publish the verdict (`model-drift` v1, see events.py: `stable` or `drift`) on the platform's
   model-event topic and the tenant's drift topic, and on drift a retraining request
   (`reason: drift`) on the retraining topic; then commit the offsets read.

Fewer than `min_records` new records is reported as "insufficient data": nothing is published
and nothing committed, so the window grows until the next check has enough. A crash after
publishing and before committing re-checks the same window and publishes the same ids.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from workloads.monitoring import drift
from workloads.monitoring.events import (
    DriftEvent,
    LoopTopics,
    ModelEvent,
    RetrainingRequest,
    derived_id,
    now_iso,
    publish_event,
    publish_request,
)
from workloads.monitoring.events import (
    group_id as prefixed_group,
)
from workloads.monitoring.records import (
    MONITORED_CATEGORICAL,
    MONITORED_NUMERIC,
    REFERENCE_ARTIFACT,
)
from workloads.settings import Settings
from workloads.streaming.topics import TopicReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    """The monitored model version, its training run and the reference that run logged."""

    version: str
    run_id: str
    reference: pd.DataFrame


def load_champion(settings: Settings) -> Champion:
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    served = MlflowClient().get_model_version_by_alias(settings.model_name, settings.model_alias)
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(
            run_id=served.run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=directory
        )
        return Champion(str(served.version), str(served.run_id), pd.read_parquet(Path(path)))


def load_reference(settings: Settings) -> tuple[str, pd.DataFrame]:
    champion = load_champion(settings)
    return champion.version, champion.reference


def check(
    settings: Settings,
    group_id: str = "card-risk-drift-monitor",
    min_records: int = 200,
    thresholds: drift.Thresholds | None = None,
    topics: LoopTopics | None = None,
    champion: Champion | None = None,
) -> dict[str, object]:
    thresholds = thresholds or drift.Thresholds()
    topics = topics or LoopTopics.from_env()
    champion = champion or load_champion(settings)
    group = prefixed_group(topics, group_id)
    with TopicReader(settings, settings.topics.scored, group_id=group) as reader:
        records = reader.read_to_end()
        report = evaluate_and_publish(
            settings,
            champion.version,
            champion.reference,
            records,
            min_records,
            thresholds,
            topics,
        )
        # Committed only after the events are published: a crash re-checks the window.
        if report["status"] != "insufficient data":
            reader.commit()
    return report


def evaluate_and_publish(
    settings: Settings,
    version: str,
    reference: pd.DataFrame,
    records: list[dict],
    min_records: int,
    thresholds: drift.Thresholds,
    topics: LoopTopics,
) -> dict[str, object]:
    current = pd.DataFrame([r for r in records if r.get("model_version") == version])
    checked_at = datetime.now(UTC)
    report: dict[str, object] = {
        "check": "drift",
        "model": settings.model_name,
        "model_version": version,
        "records_read": len(records),
        "records_compared": len(current),
        "reference_records": len(reference),
        "checked_at": checked_at.isoformat(),
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
    window = {
        "from": str(current["timestamp"].min()),
        "to": str(current["timestamp"].max()),
        "records": len(current),
    }
    report.update(
        status="drift" if drifted else "stable",
        features=features,
        drifted_features=drifted,
        thresholds=asdict(thresholds),
        window=window,
    )
    event = DriftEvent(
        event_id=derived_id(settings.model_name, version, "drift", *window.values()),
        tenant=topics.tenant,
        model=settings.model_name,
        model_version=version,
        alias=settings.model_alias,
        status="drift" if drifted else "stable",
        occurred_at=checked_at,
        window=window,
        thresholds=asdict(thresholds),
        features=features,
        drifted_features=drifted,
    )
    publish_event(settings, topics, event)
    report["drift_event_id"] = event.event_id
    if drifted:
        request = retraining_request(
            settings, topics, event, "drift", f"drift in {', '.join(drifted)}"
        )
        report["retraining_request_id"] = request.request_id
        log.warning("drift in %s: event %s, retraining requested", drifted, event.event_id)
    return report


def retraining_request(
    settings: Settings, topics: LoopTopics, event: ModelEvent, reason: str, detail: str
) -> RetrainingRequest:
    """Publish the retraining request an alarming event calls for (its id derives from the
    event's, so a re-run of the same check requests nothing new)."""
    request = RetrainingRequest(
        request_id=derived_id(event.event_id, "retraining"),
        model=settings.model_name,
        reason=reason,  # type: ignore[arg-type]
        detail=detail,
        model_version=event.model_version,
        source_event_id=event.event_id,
        tenant=topics.tenant,
        requested_at=now_iso(),  # type: ignore[arg-type]
        requested_by="drift-monitor" if reason == "drift" else "performance-monitor",
    )
    publish_request(settings, request)
    return request
