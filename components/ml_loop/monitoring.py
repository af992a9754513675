"""Model monitoring: the drift/performance CronJob and the tenant's model-events exporter.

| object | what |
|---|---|
| CronJob `<model>-monitor` | `python -m workloads.monitoring job`: PSI/KS of the scored traffic |
| | since the last run against the champion's reference, AUC and precision over the |
| | labelled window; every verdict on `<tenant>.model-events`, alarms also on the drift |
| | topic and a retraining request on the retraining topic |
| Deployment `<model>-model-metrics` | `python -m workloads.model_metrics`: the verdicts of |
| | `<tenant>.model-events` as Prometheus gauges on 9100 (the drift/performance alerts) |

Exit status of the job (workloads/monitoring): 0 checked, 1 could not check (retried),
2 configuration error and 3 an alarm raised (both end the Job as Failed at once: see `jobs`).
Model events stay in the tenant's own topic: tenants never write platform topics (issue 13),
so the exporter that turns them into metrics runs beside them, with the tenant's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.ml_loop.jobs import cron_job, job_spec
from components.ml_loop.pods import (
    LoopContext,
    Needs,
    container,
    metrics_port,
    metrics_probe,
    mounts,
    pod_spec,
    volumes,
)

APP = "model-monitor"
EXPORTER = "model-metrics"


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    image: str  # the catalogue's `monitoring` image
    schedule: str  # cron, Asia/Dubai
    psi_threshold: float
    min_records: int
    window_hours: float
    label_delay_hours: float
    min_labelled: int
    max_auc_drop: float
    max_precision_drop: float
    deadline_seconds: int = 1800
    cpu: str = "1"
    memory: str = "2Gi"


def name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-monitor"


def exporter_name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-model-metrics"


def monitor_args(args: MonitoringArgs) -> list[str]:
    return [
        *("--psi-threshold", str(args.psi_threshold), "--min-records", str(args.min_records)),
        *("--window-hours", str(args.window_hours)),
        *("--label-delay-hours", str(args.label_delay_hours)),
        *("--min-labelled", str(args.min_labelled), "--max-auc-drop", str(args.max_auc_drop)),
        *("--max-precision-drop", str(args.max_precision_drop)),
    ]


def cron(ctx: LoopContext, args: MonitoringArgs) -> dict[str, Any]:
    needs = Needs(kafka=True, mlflow=True)
    main = container(
        "monitor",
        args.image,
        ["python", "-m", "workloads.monitoring", "job", *monitor_args(args)],
        ctx.env(needs, MLP_HEARTBEAT_FILE="/tmp/heartbeat"),
        mounts(ctx, needs),
        args.cpu,
        args.memory,
    )
    pod = pod_spec(ctx, [main], volumes(ctx, needs), restart_policy="Never")
    spec = job_spec(ctx, APP, pod, container="monitor", deadline_seconds=args.deadline_seconds)
    return cron_job(ctx, name(ctx), APP, args.schedule, spec)


def exporter(ctx: LoopContext, image: str) -> dict[str, Any]:
    """One replica: it rebuilds its gauges from the topic on every start."""
    needs = Needs(kafka=True)
    main = container(
        EXPORTER,
        image,
        ["python", "-m", "workloads.model_metrics", "--group-id", f"{ctx.model_name}-metrics"],
        ctx.env(needs, MLP_METRICS_PORT="9100", MLP_METRICS_ADDRESS="0.0.0.0"),
        mounts(ctx, needs),
        "250m",
        "512Mi",
    )
    main["ports"] = [metrics_port()]
    main["readinessProbe"] = metrics_probe()
    main["livenessProbe"] = metrics_probe(30)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ctx.metadata(exporter_name(ctx), EXPORTER),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": ctx.selector(EXPORTER)},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": ctx.pod_labels(EXPORTER, scrape=True)},
                "spec": pod_spec(ctx, [main], volumes(ctx, needs)),
            },
        },
    }
