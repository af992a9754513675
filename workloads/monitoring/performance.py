"""Model performance once the labels arrive: served scores joined with delayed ground truth.

A card transaction's outcome (fraud or not) is known days after it was scored (chargebacks,
customer disputes). The bank publishes it on the labels topic (`ground-truth` v1, keyed by
transaction id). One check, over a sliding window (no consumer group: re-running it is
harmless):
1. the labels that arrived in the last `window_hours` (the latest label of a transaction wins:
   a corrected outcome replaces the first one);
2. the scored records of the prediction log from `label_delay_hours` before that window on
   (a prediction precedes its label by at most that), joined by transaction id, keeping the
   monitored version's (the latest score of a transaction, if it was scored twice);
3. ROC AUC, average precision, and precision / recall at the decision threshold, against the
   same metrics of the version's own held-out reference (the labelled `reference.parquet` its
   training run logged; for an older reference without labels, the run's `holdout_roc_auc`);
4. the verdict (`model-performance` v1, `ok` or `degraded`) on the model-event topics, and when
   degraded a retraining request (`reason: performance`).

Too few labelled predictions, or a window without both outcomes, is "insufficient data" and
publishes nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np
from mlflow.tracking import MlflowClient
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

from workloads.monitoring.events import (
    GroundTruth,
    LoopTopics,
    MessageError,
    PerformanceEvent,
    derived_id,
    group_id,
    now_iso,
    parse,
    publish_event,
)
from workloads.monitoring.monitor import Champion, load_champion, retraining_request
from workloads.monitoring.window import read_window
from workloads.settings import Settings

log = logging.getLogger(__name__)
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class PerformanceThresholds:
    decision_threshold: float = 0.5  # a score at or above it is flagged as fraud
    max_auc_drop: float = 0.05  # below the reference's ROC AUC by more than this: degraded
    max_precision_drop: float = 0.15  # the same for precision at the decision threshold
    min_auc: float = 0.0  # an absolute floor besides the relative one


@dataclass(frozen=True)
class PerformanceWindow:
    hours: float = 24.0
    label_delay_hours: float = 72.0
    min_labelled: int = 200
    min_positives: int = 5


def metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    flagged = scores >= threshold
    return {
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4),
        "average_precision": round(float(average_precision_score(labels, scores)), 4),
        "precision": round(float(precision_score(labels, flagged, zero_division=0)), 4),
        "recall": round(float(recall_score(labels, flagged, zero_division=0)), 4),
    }


def reference_metrics(
    settings: Settings, champion: Champion, threshold: float
) -> dict[str, float | None]:
    reference = champion.reference
    if "is_fraud" in reference and reference["is_fraud"].nunique() == 2:
        return dict(
            metrics(
                reference["is_fraud"].to_numpy(dtype=int),
                reference["risk_score"].to_numpy(dtype=float),
                threshold,
            )
        )
    run = MlflowClient(settings.mlflow_tracking_uri).get_run(champion.run_id)
    return {"roc_auc": run.data.metrics.get("holdout_roc_auc"), "precision": None}


def latest_labels(
    settings: Settings, topic: str, since_ms: int, group_prefix: str = ""
) -> tuple[dict[str, bool], int]:
    """transaction id -> is_fraud, and how many messages were not valid labels."""
    labels: dict[str, tuple[int, bool]] = {}
    invalid = 0
    for message in read_window(settings, topic, since_ms, group_prefix=group_prefix):
        try:
            label: GroundTruth = parse(message.value, GroundTruth)
        except MessageError as error:
            invalid += 1
            log.warning("skipped a label message: %s", error)
            continue
        previous = labels.get(label.transaction_id)
        if previous is None or message.timestamp_ms >= previous[0]:
            labels[label.transaction_id] = (message.timestamp_ms, label.is_fraud)
    return {txn: value for txn, (_, value) in labels.items()}, invalid


def join(
    labels: dict[str, bool], predictions: list[dict], version: str
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    latest: dict[str, dict] = {}
    for record in predictions:
        txn = record.get("transaction_id")
        if txn in labels:
            latest[txn] = record  # read in log order: a later score replaces an earlier one
    mine = {t: r for t, r in latest.items() if r.get("model_version") == version}
    counts = {
        "labels": len(labels),
        "matched": len(latest),
        "other_versions": len(latest) - len(mine),
        "unmatched": len(labels) - len(latest),
    }
    y = np.array([int(labels[t]) for t in mine], dtype=int)
    s = np.array([float(r["risk_score"]) for r in mine.values()], dtype=float)
    return y, s, counts


def check_performance(
    settings: Settings,
    window: PerformanceWindow = PerformanceWindow(),
    thresholds: PerformanceThresholds = PerformanceThresholds(),
    topics: LoopTopics | None = None,
    champion: Champion | None = None,
    now_ms: int | None = None,
) -> dict[str, object]:
    topics = topics or LoopTopics.from_env()
    champion = champion or load_champion(settings)
    now_ms = now_ms or int(time.time() * 1000)
    since = now_ms - int(window.hours * HOUR_MS)
    prefix = group_id(topics, "")
    labels, invalid = latest_labels(settings, topics.labels, since, prefix)
    predictions = read_window(
        settings,
        settings.topics.scored,
        since - int(window.label_delay_hours * HOUR_MS),
        group_prefix=prefix,
    )
    y, scores, counts = join(labels, [p.value for p in predictions], champion.version)
    report: dict[str, object] = {
        "check": "performance",
        "model": settings.model_name,
        "model_version": champion.version,
        "window_hours": window.hours,
        "labelled": len(y),
        "positives": int(y.sum()),
        "invalid_labels": invalid,
        **counts,
        "checked_at": now_iso(),
    }
    negatives = len(y) - int(y.sum())
    if len(y) < window.min_labelled or int(y.sum()) < window.min_positives or negatives == 0:
        report["status"] = "insufficient data"
        log.info("performance check: %s", report)
        return report
    live = metrics(y, scores, thresholds.decision_threshold)
    reference = reference_metrics(settings, champion, thresholds.decision_threshold)
    breaches = _breaches(live, reference, thresholds)
    event = PerformanceEvent(
        event_id=derived_id(settings.model_name, champion.version, "performance", since, now_ms),
        tenant=topics.tenant,
        model=settings.model_name,
        model_version=champion.version,
        alias=settings.model_alias,
        status="degraded" if breaches else "ok",
        occurred_at=datetime.now(UTC),
        window={"from_ms": since, "to_ms": now_ms},
        thresholds=asdict(thresholds),
        labelled=len(y),
        positives=int(y.sum()),
        metrics=live,
        reference=reference,
        breaches=breaches,
    )
    publish_event(settings, topics, event)
    report.update(
        status=event.status,
        metrics=live,
        reference=reference,
        breaches=breaches,
        thresholds=event.thresholds,
        performance_event_id=event.event_id,
    )
    if breaches:
        request = retraining_request(settings, topics, event, "performance", "; ".join(breaches))
        report["retraining_request_id"] = request.request_id
        log.warning("performance degraded: %s; retraining requested", breaches)
    return report


def _breaches(
    live: dict[str, float], reference: dict[str, float | None], t: PerformanceThresholds
) -> list[str]:
    found = []
    ref_auc, ref_precision = reference.get("roc_auc"), reference.get("precision")
    if ref_auc is not None and live["roc_auc"] < ref_auc - t.max_auc_drop:
        found.append(
            f"roc_auc {live['roc_auc']:.4f} is more than {t.max_auc_drop} below the "
            f"reference's {ref_auc:.4f}"
        )
    if ref_precision is not None and live["precision"] < ref_precision - t.max_precision_drop:
        found.append(
            f"precision {live['precision']:.4f} at threshold {t.decision_threshold} is more "
            f"than {t.max_precision_drop} below the reference's {ref_precision:.4f}"
        )
    if live["roc_auc"] < t.min_auc:
        found.append(f"roc_auc {live['roc_auc']:.4f} is below the floor {t.min_auc}")
    return found
