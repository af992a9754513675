"""The verdict → gauge mapping (`VerdictMetrics`) and the Kafka loop that feeds it (`run`)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException
from prometheus_client import CollectorRegistry, Counter, Gauge

from workloads.monitoring.events import (
    DriftEvent,
    MessageError,
    ModelEvent,
    PerformanceEvent,
    parse,
)
from workloads.settings import Settings

log = logging.getLogger("workloads.model_metrics")
NO_TENANT = "-"


@dataclass
class _Latest:
    occurred_at: datetime
    version: str
    series: list[tuple[Gauge, tuple[str, ...]]] = field(default_factory=list)


class VerdictMetrics:
    """Gauges holding the newest drift and performance verdict of every model."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        model = ["tenant", "model", "model_version"]
        r = self.registry
        self.drift = Gauge(
            "mlplatform_model_drift_detected", "Last drift verdict", model, registry=r
        )
        self.psi = Gauge(
            "mlplatform_model_drift_psi", "PSI per feature", [*model, "feature"], registry=r
        )
        self.psi_threshold = Gauge(
            "mlplatform_model_drift_psi_threshold", "PSI threshold", model, registry=r
        )
        self.degraded = Gauge(
            "mlplatform_model_performance_degraded", "Last performance verdict", model, registry=r
        )
        self.metric = Gauge(
            "mlplatform_model_performance_metric", "Live metric", [*model, "metric"], registry=r
        )
        self.reference = Gauge(
            "mlplatform_model_performance_reference",
            "Held-out reference metric",
            [*model, "metric"],
            registry=r,
        )
        self.timestamp = Gauge(
            "mlplatform_model_event_timestamp_seconds",
            "When the last verdict was made",
            ["tenant", "model", "type"],
            registry=r,
        )
        self.events = Counter(
            "mlplatform_model_events", "Verdicts read", ["type", "status"], registry=r
        )
        self.invalid = Counter(
            "mlplatform_model_events_invalid", "Messages that are not a known verdict", registry=r
        )
        self._latest: dict[tuple[str, str, str], _Latest] = {}
        self._lock = threading.Lock()

    def observe(self, value: bytes | str) -> ModelEvent | None:
        """Apply one message of the model-events topic; None when it is not a verdict."""
        try:
            event = verdict(value)
        except MessageError as error:
            self.invalid.inc()
            log.warning("skipped a message that is not a model verdict: %s", error)
            return None
        with self._lock:
            self.events.labels(event.type, event.status).inc()
            self._apply(event)
        return event

    def _apply(self, event: ModelEvent) -> None:
        tenant = event.tenant or NO_TENANT
        key = (tenant, event.model, event.type)
        previous = self._latest.get(key)
        if previous is not None and previous.occurred_at > event.occurred_at:
            return  # an older verdict read late changes nothing
        if previous is not None:
            for gauge, labels in previous.series:
                gauge.remove(*labels)
        latest = _Latest(event.occurred_at, event.model_version)
        base = (tenant, event.model, event.model_version)

        def put(gauge: Gauge, labels: tuple[str, ...], number: float | None) -> None:
            if number is None:
                return
            gauge.labels(*labels).set(float(number))
            latest.series.append((gauge, labels))

        if isinstance(event, DriftEvent):
            put(self.drift, base, 1.0 if event.status == "drift" else 0.0)
            put(self.psi_threshold, base, _number(event.thresholds.get("psi")))
            for feature, values in sorted(event.features.items()):
                put(self.psi, (*base, feature), _number(values.get("psi")))
        else:
            put(self.degraded, base, 1.0 if event.status == "degraded" else 0.0)
            for name, number in sorted(event.metrics.items()):
                put(self.metric, (*base, name), _number(number))
            for name, ref in sorted(event.reference.items()):
                put(self.reference, (*base, name), _number(ref))
        self.timestamp.labels(tenant, event.model, event.type).set(event.occurred_at.timestamp())
        self._latest[key] = latest


VERDICTS: dict[str, type[DriftEvent] | type[PerformanceEvent]] = {
    "model-drift": DriftEvent,
    "model-performance": PerformanceEvent,
}


def verdict(value: bytes | str) -> ModelEvent:
    """One message of the model-events topic as a drift or performance verdict."""
    try:
        data = json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MessageError(f"not JSON: {error}") from None
    kind = data.get("type") if isinstance(data, dict) else None
    model = VERDICTS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise MessageError(f"type: expected one of {list(VERDICTS)}, got {kind!r}")
    event: ModelEvent = parse(data, model)
    return event


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def run(
    settings: Settings,
    topic: str,
    metrics: VerdictMetrics,
    group_id: str,
    stop: threading.Event,
) -> None:
    """Read `topic` from its beginning until `stop` is set; nothing is committed."""
    consumer = Consumer(
        settings.kafka_config(
            **{
                "group.id": group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "topic.metadata.refresh.interval.ms": 10000,
            }
        )
    )

    def from_beginning(c: Consumer, partitions: list) -> None:
        for partition in partitions:
            partition.offset = OFFSET_BEGINNING
        c.assign(partitions)

    consumer.subscribe([topic], on_assign=from_beginning)
    try:
        while not stop.is_set():
            message = consumer.poll(1.0)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka: %s", error)
                continue
            metrics.observe(message.value())
    finally:
        consumer.close()
