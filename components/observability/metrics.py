"""Which metrics exist: every exporter the monitoring stack scrapes and the families it serves.

Dashboards and alert rules may only use metrics listed here (or recorded by a rule of
`components.observability.rules`): `tests/components/test_observability_metrics.py` extracts
every metric name from every query and fails on one no exporter produces. The platform's own
exporters (predictor, stream processor and scaler, model-events exporter, retraining controller) are
checked against the workloads' source (the `prometheus_client` constructors), so a renamed
metric breaks the test instead of a dashboard.

Names are the exposed ones: a `prometheus_client` Counter `x` is served as `x_total`, a
Histogram `h` as `h_bucket`, `h_sum`, `h_count`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exporter:
    """One source of metrics and the families it serves (names as exposed)."""

    name: str
    source: str  # where the names come from (a workload module, an upstream release)
    metrics: frozenset[str]
    own: bool = False  # produced by this repository's workloads (checked against their source)


def _histogram(name: str) -> tuple[str, ...]:
    return (f"{name}_bucket", f"{name}_sum", f"{name}_count")


PREDICTOR = Exporter(
    "predictor",
    "workloads/serving (app.py, predictor.py, prediction_log.py)",
    frozenset(
        {
            "card_risk_requests_total",
            *_histogram("card_risk_request_seconds"),
            "card_risk_invalid_requests_total",
            "card_risk_predictions_total",
            "card_risk_unknown_customers_total",
            *_histogram("card_risk_score"),
            "card_risk_model_served",
            "card_risk_model_swaps_total",
            "card_risk_model_load_failures_total",
            "card_risk_model_poll_errors_total",
            "card_risk_prediction_log_records_total",
            "card_risk_prediction_log_queue_depth",
            "card_risk_prediction_log_disabled",
        }
    ),
    own=True,
)

STREAM_PROCESSOR = Exporter(
    "stream-processor",
    "workloads/streaming/metrics.py",
    frozenset(
        {
            "card_risk_stream_consumer_lag",
            "card_risk_stream_consumer_lag_total",
            "card_risk_stream_events_total",
            "card_risk_stream_dead_letters_total",
            *_histogram("card_risk_stream_batch_seconds"),
            "card_risk_stream_last_commit_timestamp_seconds",
        }
    ),
    own=True,
)

MODEL_EVENTS = Exporter(
    "model-events",
    "workloads/model_metrics (the drift and performance verdicts on the model-events topic)",
    frozenset(
        {
            "mlplatform_model_drift_detected",
            "mlplatform_model_drift_psi",
            "mlplatform_model_drift_psi_threshold",
            "mlplatform_model_performance_degraded",
            "mlplatform_model_performance_metric",
            "mlplatform_model_performance_reference",
            "mlplatform_model_event_timestamp_seconds",
            "mlplatform_model_events_total",
            "mlplatform_model_events_invalid_total",
        }
    ),
    own=True,
)

STREAM_SCALER = Exporter(
    "stream-scaler",
    "workloads/streaming/scaler.py",
    frozenset(
        {
            "card_risk_stream_scaler_consumer_lag",
            "card_risk_stream_scaler_wanted_replicas",
            "card_risk_stream_scaler_replicas",
            "card_risk_stream_scaler_decisions_total",
            "card_risk_stream_scaler_errors_total",
        }
    ),
    own=True,
)

RETRAINING = Exporter(
    "retraining-controller",
    "workloads/retraining/controller.py",
    frozenset(
        {
            "retraining_requests_total",
            "retraining_runs_finished_total",
            "retraining_run_in_progress",
            *_histogram("retraining_request_to_action_seconds"),
        }
    ),
    own=True,
)

# MLflow 3.17 `mlflow server --expose-prometheus DIR` (prometheus_flask_exporter, prefix mlflow).
MLFLOW = Exporter(
    "mlflow",
    "mlflow 3.17.2 server/prometheus_exporter.py (prometheus_flask_exporter defaults)",
    frozenset(
        {
            "mlflow_http_request_total",
            *_histogram("mlflow_http_request_duration_seconds"),
            "mlflow_http_request_exceptions_total",
        }
    ),
)

# Feast 0.67 `feast serve --metrics` (feast/metrics.py).
FEAST = Exporter(
    "feast",
    "feast 0.67.0 feast/metrics.py",
    frozenset(
        {
            "feast_feature_server_request_total",
            *_histogram("feast_feature_server_request_latency_seconds"),
            "feast_online_features_request_total",
            "feast_online_features_status_total",
            "feast_push_request_total",
            "feast_feature_freshness_seconds",
            *_histogram("feast_feature_server_online_store_read_duration_seconds"),
        }
    ),
)

# Strimzi's Kafka exporter (kafka_exporter, enabled by `spec.kafkaExporter` in the Kafka CR).
KAFKA_EXPORTER = Exporter(
    "kafka-exporter",
    "Strimzi 1.2.0 Kafka Exporter (danielqsj/kafka_exporter)",
    frozenset(
        {
            "kafka_brokers",
            "kafka_consumergroup_lag",
            "kafka_consumergroup_lag_sum",
            "kafka_consumergroup_current_offset",
            "kafka_topic_partitions",
            "kafka_topic_partition_current_offset",
            "kafka_topic_partition_under_replicated_partition",
            "kafka_topic_partition_in_sync_replica",
        }
    ),
)

# Kueue v0.19 controller metrics (/metrics on the controller manager, port 8443).
KUEUE = Exporter(
    "kueue",
    "Kueue v0.19.2 pkg/metrics",
    frozenset(
        {
            "kueue_pending_workloads",
            "kueue_admitted_active_workloads",
            "kueue_admitted_workloads_total",
            "kueue_evicted_workloads_total",
            *_histogram("kueue_admission_wait_time_seconds"),
            "kueue_cluster_queue_resource_usage",
            "kueue_cluster_queue_nominal_quota",
        }
    ),
)

# NVIDIA DCGM exporter 4.4 default counters (the GPU operator's dcgm-exporter).
DCGM = Exporter(
    "dcgm-exporter",
    "NVIDIA dcgm-exporter 4.4.2 default-counters.csv",
    frozenset(
        {
            "DCGM_FI_DEV_GPU_UTIL",
            "DCGM_FI_DEV_FB_USED",
            "DCGM_FI_DEV_FB_FREE",
            "DCGM_FI_DEV_POWER_USAGE",
            "DCGM_FI_DEV_GPU_TEMP",
            "DCGM_FI_DEV_XID_ERRORS",
        }
    ),
)

CERT_MANAGER = Exporter(
    "cert-manager",
    "cert-manager v1.21.1 controller metrics",
    frozenset(
        {
            "certmanager_certificate_expiration_timestamp_seconds",
            "certmanager_certificate_renewal_timestamp_seconds",
            "certmanager_certificate_ready_status",
        }
    ),
)

# kube-prometheus-stack 88.5.3: kube-state-metrics 2.x, the kubelet's cAdvisor, Prometheus itself.
KUBE_STATE_METRICS = Exporter(
    "kube-state-metrics",
    "kube-state-metrics (chart 8.4.0)",
    frozenset(
        {
            "kube_job_failed",
            "kube_job_status_failed",
            "kube_job_owner",
            "kube_pod_status_phase",
            "kube_pod_container_status_restarts_total",
            "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas_available",
            "kube_namespace_labels",
        }
    ),
)

KUBELET = Exporter(
    "kubelet",
    "kubelet /metrics/cadvisor",
    frozenset({"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"}),
)

PROMETHEUS = Exporter(
    "prometheus",
    "Prometheus itself (every scrape, every alert)",
    frozenset({"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds"}),
)

EXPORTERS: tuple[Exporter, ...] = (
    PREDICTOR,
    STREAM_PROCESSOR,
    STREAM_SCALER,
    MODEL_EVENTS,
    RETRAINING,
    MLFLOW,
    FEAST,
    KAFKA_EXPORTER,
    KUEUE,
    DCGM,
    CERT_MANAGER,
    KUBE_STATE_METRICS,
    KUBELET,
    PROMETHEUS,
)


def exported_metrics() -> frozenset[str]:
    """Every metric name some exporter serves."""
    return frozenset(name for exporter in EXPORTERS for name in exporter.metrics)
