"""Streaming ingestion: the stream processor's Deployment, its disruption budget and its scaler.

`python -m workloads.streaming run` consumes the tenant's input topic in one consumer group
(`<tenant>.<model>-features`), validates each event, keeps per-customer windows and pushes
feature rows to Feast; what it cannot process goes to `<input>.dlq` with the reason.

| object | what |
|---|---|
| Deployment `<model>-stream` | replicas set by the scaler, RollingUpdate one at a time (a moved |
| | partition is first replayed), `/metrics` on 9100, heartbeat liveness |
| PodDisruptionBudget `<model>-stream` | at most one replica drained at a time |
| ServiceAccount, Role, RoleBinding `stream-scaler` | `get`, `patch` on `deployments/scale` |
| | of `<model>-stream` only (resourceNames): nothing else |
| Deployment `<model>-stream-scaler` | `python -m workloads.streaming scale`: 1 replica, |
| | `Recreate` (never two), the API token mounted with its reason, `/metrics` on 9100, heartbeat |
| NetworkPolicy (+ CiliumNetworkPolicy on Cilium) | the scaler's egress to the API server |

Autoscaling follows consumer lag: the scaler reads the group's lag over the input topic every
30 s and sets the processor's replicas to ceil(lag / `lagPerReplica`) between `replicas` and
`maxReplicas` (`workloads/streaming/scaler.py`): up at once (at most +2 a step), down one
replica per `scaleDownWindowSeconds` of low lag (each rebalance pauses the group), never on
missing data. It is the replicas' only owner: no HPA (the two would fight; scaling on lag with
an HPA needs KEDA or the Prometheus adapter, which the platform does not install), and the
processor's Deployment leaves `spec.replicas` out, so a `pulumi up` does not reset what the
scaler set (a new Deployment starts at 1 and the scaler brings it to `replicas` at its first
step). It reads Kafka with the tenant's access, as the processor does (the tenant namespace's
Kafka flow covers every pod; on MSK and Event Hubs its ServiceAccount gets the tenant's
identity: `stacks.config.ml_loop.loop_service_accounts`); the lag is also alerted on
(`card_risk_stream_consumer_lag_total`, the monitoring stack's rules).

Why `maxReplicas <= partitions`: a consumer group gives each partition to one member, so a
replica beyond the partition count idles; the Args are refused when they would allow that.

State: the windows are snapshotted per partition under `--state-dir`. They are a cache of
Kafka (a replica without a snapshot replays the partition first), so each replica gets a
generic ephemeral volume on the stack's encrypted StorageClass: per pod, deleted with it, the
customers' aggregates at rest under the stack's key rather than on the node's disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.api_server import ApiServer
from components.ml_loop import pods
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
SCALER_APP = "stream-scaler"
SCALER_SERVICE_ACCOUNT = "stream-scaler"
SCALER_INTERVAL_SECONDS = 30
SCALER_MAX_STEP_UP = 2  # replicas added per step at most (each join is a rebalance)
SCALER_TOKEN_REASON = (
    "reads and patches the scale of the stream processor's Deployment (Role stream-scaler): "
    "its replicas follow the consumer lag"
)


@dataclass(frozen=True, kw_only=True)
class StreamingArgs:
    image: str
    replicas: int
    max_replicas: int
    partitions: int  # of the input topic
    cpu: str
    memory: str
    lag_per_replica: int  # events of consumer lag one replica is expected to work off
    scale_down_window_seconds: int
    state_size: str  # e.g. "5Gi"
    storage_class: str  # the stack's encrypted StorageClass
    api_server: ApiServer  # where the scaler's pod reaches the API server
    # what the scaler's ServiceAccount carries for the tenant's Kafka identity (Azure client ID)
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)

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
        if self.lag_per_replica < 1:
            raise ValueError(
                f"sampleWorkloads.streaming.lagPerReplica {self.lag_per_replica} must be at "
                "least 1 event"
            )
        if self.scale_down_window_seconds < 0:
            raise ValueError(
                "sampleWorkloads.streaming.scaleDownWindowSeconds "
                f"{self.scale_down_window_seconds} must be 0 or more"
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
        "spec": {  # no `replicas`: the scaler owns them (see the module docstring)
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


def scaler_name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-stream-scaler"


def scaler_rules(ctx: LoopContext) -> list[dict[str, Any]]:
    """The scaler's whole RBAC: the scale of the processor's Deployment, read and patched."""
    return [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": [name(ctx)],
            "verbs": ["get", "patch"],
        }
    ]


def scaler_identity(ctx: LoopContext, args: StreamingArgs) -> list[dict[str, Any]]:
    """The scaler's ServiceAccount, Role and RoleBinding (before its Deployment)."""
    account = SCALER_SERVICE_ACCOUNT
    return [
        pods.service_account(ctx, account, SCALER_APP, args.service_account_annotations),
        pods.role(ctx, account, SCALER_APP, scaler_rules(ctx)),
        pods.role_binding(ctx, account, SCALER_APP),
    ]


def scaler_command(ctx: LoopContext, args: StreamingArgs) -> list[str]:
    return [
        *("python", "-m", "workloads.streaming", "scale"),
        *("--deployment", name(ctx), "--namespace", ctx.namespace),
        *("--group-id", group_id(ctx)),
        *("--lag-per-replica", str(args.lag_per_replica)),
        *("--min-replicas", str(args.replicas), "--max-replicas", str(args.max_replicas)),
        *("--max-step-up", str(SCALER_MAX_STEP_UP)),
        *("--scale-down-window", str(args.scale_down_window_seconds)),
        *("--interval", str(SCALER_INTERVAL_SECONDS)),
        *("--metrics-port", "9100", "--metrics-address", "0.0.0.0"),
    ]


def scaler_deployment(ctx: LoopContext, args: StreamingArgs) -> dict[str, Any]:
    needs = Needs(kafka=True)
    main = container(
        SCALER_APP,
        args.image,
        scaler_command(ctx, args),
        ctx.env(needs, MLP_HEARTBEAT_FILE="/tmp/heartbeat"),
        mounts(ctx, needs),
        "100m",
        "256Mi",
    )
    main["ports"] = [metrics_port()]
    main["livenessProbe"] = heartbeat_probe(120)
    main["readinessProbe"] = metrics_probe()  # `/metrics` is served before the first step
    spec = pod_spec(
        ctx,
        [main],
        volumes(ctx, needs, tmp_size="64Mi"),
        service_account=SCALER_SERVICE_ACCOUNT,
        api_token=True,
    )
    return pods.controller_deployment(ctx, scaler_name(ctx), SCALER_APP, spec, SCALER_TOKEN_REASON)


def scaler_api_server_policies(ctx: LoopContext, args: StreamingArgs) -> list[dict[str, Any]]:
    return pods.api_server_policies(ctx, scaler_name(ctx), SCALER_APP, args.api_server)
