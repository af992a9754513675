"""Dashboards as code: the platform's Grafana dashboards, generated as Grafana's JSON model.

| uid | title | shows |
|---|---|---|
| `mlp-platform-overview` | Platform overview | targets down, firing alerts, Kafka, certs, GPUs |
| `mlp-tenant-serving` | Tenant serving | traffic, p99, 5xx, served version, drift, performance |
| `mlp-streaming` | Streaming and freshness | lag, outcomes, dead letters, commit age, freshness |
| `mlp-training-gpus` | Training and GPUs | GPU use, Kueue queues and wait, failed runs |

Every query names only metrics some exporter serves or a recording rule records
(`components.observability.metrics`, `.rules`; tested). The Grafana release provisions them
from files (the chart's `dashboards` value), so no sidecar watches ConfigMaps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
NS = 'namespace="$namespace"'
TENANT = 'tenant="$tenant"'
_LABEL_VALUES = re.compile(r"^label_values\((\w+),\s*\w+\)$")


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[str, ...]
    unit: str = "short"
    kind: str = "timeseries"  # or "stat", "table"
    legend: str = ""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    panels: tuple[Panel, ...]
    variables: tuple[str, ...] = ()  # "namespace", "tenant"

    def queries(self) -> list[str]:
        """Every PromQL expression it runs (a variable's `label_values(m, l)` as `m`)."""
        variables = [_LABEL_VALUES.sub(r"\1", _VARIABLES[v]["query"]) for v in self.variables]
        return [q for p in self.panels for q in p.queries] + variables

    def model(self) -> dict[str, Any]:
        """The dashboard as Grafana's JSON model (schemaVersion 39)."""
        panels = []
        for i, panel in enumerate(self.panels):
            panels.append(
                {
                    "id": i + 1,
                    "type": panel.kind,
                    "title": panel.title,
                    "datasource": DATASOURCE,
                    "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                    "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                    "options": {},
                    "targets": [
                        {
                            "refId": chr(ord("A") + j),
                            "datasource": DATASOURCE,
                            "expr": query,
                            "legendFormat": panel.legend,
                        }
                        for j, query in enumerate(panel.queries)
                    ],
                }
            )
        templating = [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "hide": 0}
        ]
        templating += [_VARIABLES[v] for v in self.variables]
        return {
            "uid": self.uid,
            "title": self.title,
            "tags": ["mlplatform"],
            "schemaVersion": 39,
            "version": 1,
            "editable": False,
            "time": {"from": "now-6h", "to": "now"},
            "refresh": "1m",
            "templating": {"list": templating},
            "panels": panels,
        }

    def json(self) -> str:
        return json.dumps(self.model(), indent=2, sort_keys=True)


def _variable(name: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "query",
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": 2,
        "hide": 0,
    }


_VARIABLES = {
    "namespace": _variable("namespace", "label_values(card_risk_requests_total, namespace)"),
    "tenant": _variable("tenant", "label_values(mlplatform_model_event_timestamp_seconds, tenant)"),
}

PLATFORM_OVERVIEW = Dashboard(
    "mlp-platform-overview",
    "Platform overview",
    (
        Panel("Scrape targets down", ("sum by (job) (1 - up)",), legend="{{job}}"),
        Panel(
            "Firing alerts",
            ('sum by (alertname, severity) (ALERTS{alertstate="firing"})',),
            kind="table",
        ),
        Panel(
            "Scoring requests/s by namespace",
            ("sum by (namespace) (rate(card_risk_requests_total[5m]))",),
            "reqps",
            legend="{{namespace}}",
        ),
        Panel(
            "Kafka under-replicated partitions",
            ("sum(kafka_topic_partition_under_replicated_partition)",),
            kind="stat",
        ),
        Panel(
            "Days until the next certificate expires",
            ("min(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400",),
            "d",
            kind="stat",
        ),
        Panel("GPU utilisation (average)", ("avg(DCGM_FI_DEV_GPU_UTIL)",), "percent"),
        Panel(
            "Workloads waiting in Kueue",
            ('sum by (cluster_queue) (kueue_pending_workloads{status="active"})',),
            legend="{{cluster_queue}}",
        ),
        Panel(
            "MLflow requests/s by status",
            ("sum by (status) (rate(mlflow_http_request_total[5m]))",),
            "reqps",
            legend="{{status}}",
        ),
    ),
)

TENANT_SERVING = Dashboard(
    "mlp-tenant-serving",
    "Tenant serving",
    (
        Panel(
            "Requests/s by status",
            (f"sum by (code) (rate(card_risk_requests_total{{{NS}}}[5m]))",),
            "reqps",
            legend="{{code}}",
        ),
        Panel(
            "p99 latency",
            (f"namespace:card_risk_request_seconds:p99_5m{{{NS}}}",),
            "s",
        ),
        Panel(
            "5xx share",
            (f"namespace:card_risk_requests_5xx:ratio_5m{{{NS}}}",),
            "percentunit",
        ),
        Panel(
            "Served model version",
            (f"card_risk_model_served{{{NS}}} == 1",),
            kind="table",
        ),
        Panel(
            "Drift (PSI per feature)",
            (
                f"mlplatform_model_drift_psi{{{TENANT}}}",
                f"mlplatform_model_drift_psi_threshold{{{TENANT}}}",
            ),
            legend="{{feature}}",
        ),
        Panel(
            "Model performance vs reference",
            (
                f"mlplatform_model_performance_metric{{{TENANT}}}",
                f"mlplatform_model_performance_reference{{{TENANT}}}",
            ),
            legend="{{metric}}",
        ),
        Panel(
            "Prediction log records by outcome",
            (f"sum by (outcome) (rate(card_risk_prediction_log_records_total{{{NS}}}[5m]))",),
            "ops",
            legend="{{outcome}}",
        ),
        Panel(
            "Feast online read p99",
            (
                "histogram_quantile(0.99, sum by (le) "
                "(rate(feast_feature_server_online_store_read_duration_seconds_bucket[5m])))",
            ),
            "s",
        ),
    ),
    ("namespace", "tenant"),
)

STREAMING = Dashboard(
    "mlp-streaming",
    "Streaming and freshness",
    (
        Panel(
            "Consumer lag by group",
            (f"sum by (group, topic) (card_risk_stream_consumer_lag_total{{{NS}}})",),
            legend="{{group}} {{topic}}",
        ),
        Panel(
            "Events/s by outcome",
            (f"sum by (outcome) (rate(card_risk_stream_events_total{{{NS}}}[5m]))",),
            "ops",
            legend="{{outcome}}",
        ),
        Panel(
            "Dead letters/s by class",
            (f"sum by (error_class) (rate(card_risk_stream_dead_letters_total{{{NS}}}[5m]))",),
            "ops",
            legend="{{error_class}}",
        ),
        Panel(
            "Batch time p95",
            (
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(card_risk_stream_batch_seconds_bucket{{{NS}}}[5m])))",
            ),
            "s",
        ),
        Panel(
            "Seconds since the last commit",
            (f"time() - max by (group) (card_risk_stream_last_commit_timestamp_seconds{{{NS}}})",),
            "s",
            legend="{{group}}",
        ),
        Panel(
            "Feature freshness (Feast)",
            ("max by (feature_view) (feast_feature_freshness_seconds)",),
            "s",
            legend="{{feature_view}}",
        ),
        Panel(
            "Kafka consumer group lag (broker view)",
            ("sum by (consumergroup, topic) (kafka_consumergroup_lag)",),
            legend="{{consumergroup}} {{topic}}",
        ),
        Panel(
            "Feast push requests/s",
            ("sum(rate(feast_push_request_total[5m]))",),
            "reqps",
        ),
    ),
    ("namespace",),
)

TRAINING_GPUS = Dashboard(
    "mlp-training-gpus",
    "Training and GPUs",
    (
        Panel(
            "GPU utilisation by node",
            ("avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)",),
            "percent",
            legend="{{Hostname}}",
        ),
        Panel(
            "GPU memory used by node",
            ("sum by (Hostname) (DCGM_FI_DEV_FB_USED)",),
            "decmbytes",
            legend="{{Hostname}}",
        ),
        Panel(
            "Pending workloads by queue",
            ("sum by (cluster_queue, status) (kueue_pending_workloads)",),
            legend="{{cluster_queue}} {{status}}",
        ),
        Panel(
            "Admission wait p90",
            (
                "histogram_quantile(0.9, sum by (cluster_queue, le) "
                "(rate(kueue_admission_wait_time_seconds_bucket[30m])))",
            ),
            "s",
            legend="{{cluster_queue}}",
        ),
        Panel(
            "Failed training Jobs",
            (
                'sum by (namespace) (kube_job_failed{condition="true"} '
                '* on (namespace, job_name) group_left kube_job_owner{owner_kind="JobSet"})',
            ),
            legend="{{namespace}}",
        ),
        Panel(
            "Retraining requests by decision",
            ("sum by (decision) (increase(retraining_requests_total[1h]))",),
            legend="{{decision}}",
        ),
        Panel(
            "Training runs finished by outcome",
            ("sum by (outcome) (increase(retraining_runs_finished_total[1d]))",),
            legend="{{outcome}}",
        ),
        Panel(
            "GPU quota in use",
            (
                "sum by (cluster_queue, flavor) "
                '(kueue_cluster_queue_resource_usage{resource="nvidia.com/gpu"})',
            ),
            legend="{{cluster_queue}} {{flavor}}",
        ),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (PLATFORM_OVERVIEW, TENANT_SERVING, STREAMING, TRAINING_GPUS)
