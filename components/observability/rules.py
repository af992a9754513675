"""The platform's alert and recording rules, as Prometheus rule groups.

One definition serves three consumers: the `PrometheusRule` the monitoring stack installs
(`components.observability.stack`), the local platform's Prometheus (`infra.local`, same
rules on 127.0.0.1) and `promtool test rules` (tests/observability: every alert has a case
where it fires and one where it stays silent).

| alert | severity | fires when |
|---|---|---|
| `ModelDriftDetected` | warning | the drift monitor's last verdict is `drift` |
| `ModelPerformanceDegraded` | critical | the performance monitor's last verdict is `degraded` |
| `PredictorLatencyP99High` | warning | p99 answer time over `p99_latency_seconds`, 10 m |
| `PredictorErrorRateHigh` | critical | share of 5xx answers over `error_ratio`, 5 m |
| `StreamConsumerLagGrowing` | warning | lag over `lag_messages` and still growing, 10 m |
| `StreamDeadLetterRateHigh` | warning | share dead-lettered over `dead_letter_ratio`, 10 m |
| `TrainingJobFailed` | warning | a Job of a TrainJob's JobSet failed |
| `TrainingQueueWaitHigh` | warning | p90 Kueue admission wait over `queue_wait_seconds`, 15 m |
| `GpusIdleWhileJobsQueue` | warning | a GPU under `gpu_idle_percent` while workloads wait, 30 m |
| `CertificateExpiringSoon` | warning | a certificate expires within `certificate_days`, 1 h |
| `KafkaUnderReplicatedPartitions` | critical | partitions short of in-sync replicas, 10 m |

Each alert carries `severity`, `team` (platform or tenant: Alertmanager routes on it) and the
annotations `summary`, `description` and `runbook_url` (`<runbook base>#<anchor>`, the
sections of docs/runbooks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AlertThresholds:
    """Where alerts fire (`observability.alerts` in the stack config; these are the defaults)."""

    p99_latency_seconds: float = 0.25
    error_ratio: float = 0.02
    lag_messages: int = 1000
    dead_letter_ratio: float = 0.01
    queue_wait_seconds: int = 1800
    gpu_idle_percent: int = 5
    certificate_days: int = 14


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    team: str
    summary: str
    description: str

    def anchor(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.name).lower()

    def rule(self, runbook_base: str) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, "team": self.team},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{runbook_base}#{self.anchor()}",
            },
        }


RECORDING_RULES: tuple[dict[str, str], ...] = (
    {
        "record": "namespace:card_risk_request_seconds:p99_5m",
        "expr": "histogram_quantile(0.99, sum by (namespace, le) "
        "(rate(card_risk_request_seconds_bucket[5m])))",
    },
    {
        "record": "namespace:card_risk_requests_5xx:ratio_5m",
        "expr": 'sum by (namespace) (rate(card_risk_requests_total{code=~"5.."}[5m])) '
        "/ sum by (namespace) (rate(card_risk_requests_total[5m]))",
    },
    {
        "record": "namespace_group:card_risk_stream_dead_letters:ratio_10m",
        "expr": "sum by (namespace, group) (rate(card_risk_stream_dead_letters_total[10m])) "
        "/ sum by (namespace, group) (rate(card_risk_stream_events_total[10m]))",
    },
)


def model_alerts() -> tuple[Alert, ...]:
    return (
        Alert(
            "ModelDriftDetected",
            "max by (tenant, model, model_version) (mlplatform_model_drift_detected) == 1",
            "0m",  # the verdict already covers the monitor's window
            "warning",
            "tenant",
            "Drift on {{ $labels.tenant }}/{{ $labels.model }} v{{ $labels.model_version }}",
            "The drift monitor's last verdict is drift: served traffic no longer looks like the "
            "model's reference (PSI/KS over the monitor's threshold). A retraining request was "
            "published.",
        ),
        Alert(
            "ModelPerformanceDegraded",
            "max by (tenant, model, model_version) (mlplatform_model_performance_degraded) == 1",
            "0m",
            "critical",
            "tenant",
            "Performance drop of {{ $labels.tenant }}/{{ $labels.model }} "
            "v{{ $labels.model_version }}",
            "Labelled outcomes show the model's ROC AUC or precision below its held-out "
            "reference by more than the allowed drop. A retraining request was published.",
        ),
    )


def serving_alerts(t: AlertThresholds) -> tuple[Alert, ...]:
    return (
        Alert(
            "PredictorLatencyP99High",
            f"namespace:card_risk_request_seconds:p99_5m > {t.p99_latency_seconds}",
            "10m",
            "warning",
            "tenant",
            "Predictor p99 latency in {{ $labels.namespace }} is {{ $value | humanizeDuration }}",
            f"The predictor's 99th percentile answer time stays above "
            f"{t.p99_latency_seconds * 1000:.0f} ms.",
        ),
        Alert(
            "PredictorErrorRateHigh",
            f"namespace:card_risk_requests_5xx:ratio_5m > {t.error_ratio}",
            "5m",
            "critical",
            "tenant",
            "Predictor 5xx share in {{ $labels.namespace }} is {{ $value | humanizePercentage }}",
            f"More than {t.error_ratio:.0%} of scoring requests end in a server error.",
        ),
    )


def streaming_alerts(t: AlertThresholds) -> tuple[Alert, ...]:
    lag = "sum by (namespace, group, topic) (card_risk_stream_consumer_lag_total)"
    return (
        Alert(
            "StreamConsumerLagGrowing",
            f"{lag} > {t.lag_messages} and delta(({lag})[10m:1m]) > 0",
            "10m",
            "warning",
            "tenant",
            "Consumer lag of {{ $labels.group }} on {{ $labels.topic }} is {{ $value }} "
            "and growing",
            f"The stream processor is more than {t.lag_messages} messages behind and falling "
            "further behind: features in Feast are getting stale.",
        ),
        Alert(
            "StreamDeadLetterRateHigh",
            f"namespace_group:card_risk_stream_dead_letters:ratio_10m > {t.dead_letter_ratio}",
            "10m",
            "warning",
            "tenant",
            "{{ $value | humanizePercentage }} of {{ $labels.group }}'s events are dead-lettered",
            f"More than {t.dead_letter_ratio:.0%} of the events read go to the dead-letter topic "
            "(<topic>.dlq, header dlq.reason says why).",
        ),
    )


def training_alerts(t: AlertThresholds) -> tuple[Alert, ...]:
    return (
        Alert(
            "TrainingJobFailed",
            'max by (namespace, owner_name) (kube_job_failed{condition="true"} '
            "* on (namespace, job_name) group_left (owner_name) "
            'kube_job_owner{owner_kind="JobSet"}) > 0',
            "0m",
            "warning",
            "tenant",
            "Training run {{ $labels.owner_name }} in {{ $labels.namespace }} failed",
            "A Job of the TrainJob's JobSet ended Failed (its pods' logs say why).",
        ),
        Alert(
            "TrainingQueueWaitHigh",
            "histogram_quantile(0.9, sum by (cluster_queue, le) "
            f"(rate(kueue_admission_wait_time_seconds_bucket[30m]))) > {t.queue_wait_seconds}",
            "15m",
            "warning",
            "platform",
            "Workloads wait {{ $value | humanizeDuration }} for admission in "
            "{{ $labels.cluster_queue }}",
            f"The 90th percentile wait for Kueue admission exceeds {t.queue_wait_seconds} s.",
        ),
        Alert(
            "GpusIdleWhileJobsQueue",
            f"count(DCGM_FI_DEV_GPU_UTIL < {t.gpu_idle_percent}) > 0 "
            'and on () sum(kueue_pending_workloads{status="active"}) > 0',
            "30m",
            "warning",
            "platform",
            "{{ $value }} GPUs idle while workloads wait in Kueue",
            f"GPUs stay under {t.gpu_idle_percent} % busy while admissible workloads queue: "
            "quotas, flavors or node taints keep them from the work.",
        ),
    )


def platform_alerts(t: AlertThresholds) -> tuple[Alert, ...]:
    return (
        Alert(
            "CertificateExpiringSoon",
            "certmanager_certificate_expiration_timestamp_seconds - time() "
            f"< {t.certificate_days} * 86400",
            "1h",
            "warning",
            "platform",
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in "
            "{{ $value | humanizeDuration }}",
            f"cert-manager has not renewed a certificate that expires within "
            f"{t.certificate_days} days.",
        ),
        Alert(
            "KafkaUnderReplicatedPartitions",
            "sum by (topic) (kafka_topic_partition_under_replicated_partition) > 0",
            "10m",
            "critical",
            "platform",
            "{{ $value }} under-replicated partitions of {{ $labels.topic }}",
            "Partitions have fewer in-sync replicas than replicas: a broker is down or "
            "falling behind, and writes with acks=all may stall.",
        ),
    )


def alerts(thresholds: AlertThresholds) -> tuple[Alert, ...]:
    return (
        *model_alerts(),
        *serving_alerts(thresholds),
        *streaming_alerts(thresholds),
        *training_alerts(thresholds),
        *platform_alerts(thresholds),
    )


def rule_groups(thresholds: AlertThresholds, runbook_base: str) -> list[dict[str, Any]]:
    """The rule groups, as `PrometheusRule.spec.groups` and a Prometheus rule file hold them."""
    return [
        {"name": "mlplatform.recording", "rules": [dict(r) for r in RECORDING_RULES]},
        {
            "name": "mlplatform.alerts",
            "rules": [a.rule(runbook_base) for a in alerts(thresholds)],
        },
    ]
