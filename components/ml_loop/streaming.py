"""Streaming ingestion: the stream processor's Deployment, its disruption budget and autoscaler.

`python -m workloads.streaming run` consumes the tenant's input topic in one consumer group
(`<tenant>.<model>-features`), validates each event, keeps per-customer windows and pushes
feature rows to Feast; what it cannot process goes to `<input>.dlq` with the reason.

| object | what |
|---|---|
| Deployment `<model>-stream` | replicas from config, RollingUpdate one at a time (a moved |
| | partition is first replayed), `/metrics` on 9100, heartbeat liveness |
| PodDisruptionBudget `<model>-stream` | at most one replica drained at a time |
| HorizontalPodAutoscaler `<model>-stream` | on CPU (autoscaling/v2), never above the partitions |

Why CPU and not consumer lag: scaling on lag needs an external-metrics adapter (KEDA or the
Prometheus adapter) the platform does not install. The processor is CPU-bound while it has a
backlog (validation, windows, Feast pushes), so CPU rises with lag; the lag itself is alerted on
(`card_risk_stream_consumer_lag_total`, the monitoring stack's rules).

Why `maxReplicas <= partitions`: a consumer group gives each partition to one member, so a
replica beyond the partition count idles; the Args are refused when they would allow that.

State: the windows are snapshotted per partition under `--state-dir`. They are a cache of
Kafka (a replica without a snapshot replays the partition first), so each replica gets a
generic ephemeral volume on the stack's encrypted StorageClass: per pod, deleted with it, the
customers' aggregates at rest under the stack's key rather than on the node's disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.ml_loop.pods import (
    LoopContext,
    Needs,
    container,
    heartbeat_probe,
    metrics_port,
    metrics_probe,
    mounts,
    pod_spec,
    volumes,
)

APP = "stream-processor"
STATE_DIR = "/var/lib/mlplatform/stream"


@dataclass(frozen=True, kw_only=True)
class StreamingArgs:
    image: str
    replicas: int
    max_replicas: int
    partitions: int  # of the input topic
    cpu: str
    memory: str
    target_cpu_percent: int
    state_size: str  # e.g. "5Gi"
    storage_class: str  # the stack's encrypted StorageClass

    def __post_init__(self) -> None:
        if not 1 <= self.replicas <= self.max_replicas:
            raise ValueError(
                f"sampleWorkloads.streaming.replicas {self.replicas} must be between 1 and "
                f"maxReplicas ({self.max_replicas})"
            )
        if self.max_replicas > self.partitions:
            raise ValueError(
                f"sampleWorkloads.streaming.maxReplicas {self.max_replicas} exceeds the input "
                f"topic's {self.partitions} partitions (kafka.partitions): replicas beyond "
                "them would idle"
            )


def name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-stream"


def group_id(ctx: LoopContext) -> str:
    """The consumer group: `<tenant>.`-prefixed, as the tenant's Kafka access allows."""
    return f"{ctx.tenant}.{ctx.model_name}-features"


def _state_volume(args: StreamingArgs) -> dict[str, Any]:
    return {
        "name": "state",
        "ephemeral": {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": args.storage_class,
                    "resources": {"requests": {"storage": args.state_size}},
                }
            }
        },
    }


def deployment(ctx: LoopContext, args: StreamingArgs) -> dict[str, Any]:
    needs = Needs(kafka=True, feast=True)
    main = container(
        APP,
        args.image,
        ["python", "-m", "workloads.streaming", "run", "--state-dir", STATE_DIR],
        ctx.env(
            needs,
            MLP_STREAM_GROUP_ID=group_id(ctx),
            MLP_METRICS_PORT="9100",
            MLP_METRICS_ADDRESS="0.0.0.0",
            MLP_HEARTBEAT_FILE="/tmp/heartbeat",
        ),
        [*mounts(ctx, needs), {"name": "state", "mountPath": STATE_DIR}],
        args.cpu,
        args.memory,
    )
    main["ports"] = [metrics_port()]
    main["livenessProbe"] = heartbeat_probe(120)
    main["readinessProbe"] = metrics_probe()
    spec = pod_spec(ctx, [main], [*volumes(ctx, needs), _state_volume(args)])
    # SIGTERM: the processor finishes its batch, snapshots and commits before it exits.
    spec["terminationGracePeriodSeconds"] = 60
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ctx.metadata(name(ctx), APP),
        "spec": {
            "replicas": args.replicas,
            "selector": {"matchLabels": ctx.selector(APP)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {"metadata": {"labels": ctx.pod_labels(APP, scrape=True)}, "spec": spec},
        },
    }


def disruption_budget(ctx: LoopContext) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": ctx.metadata(name(ctx), APP),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": ctx.selector(APP)}},
    }


def autoscaler(ctx: LoopContext, args: StreamingArgs) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": ctx.metadata(name(ctx), APP),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name(ctx)},
            "minReplicas": args.replicas,
            "maxReplicas": args.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": args.target_cpu_percent,
                        },
                    },
                }
            ],
            # A rebalance pauses the whole group: scale down slowly, one replica at a time.
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 600,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
                },
                "scaleUp": {
                    "stabilizationWindowSeconds": 60,
                    "policies": [{"type": "Pods", "value": 2, "periodSeconds": 120}],
                },
            },
        },
    }
