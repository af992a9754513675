"""Retraining: the controller that turns retraining requests into Kueue-queued TrainJobs.

`python -m workloads.retraining cluster` consumes `<tenant>.model-retraining-requests` and, per
request that survives de-duplication and the cool-down, creates `<template>-<run id>` from the
tenant's TrainJob template; the training gate then decides promotion as for any run.

| object | what |
|---|---|
| ServiceAccount `retraining-controller` | its own identity (token automount off on the SA) |
| Role + RoleBinding `retraining-controller` | `create`, `get`, `list` on |
| | `trainjobs.trainer.kubeflow.org` in the tenant namespace: nothing else |
| ConfigMap `<model>-trainjob-template` | the tenant's sample TrainJob (queue label included) |
| Deployment `<model>-retraining` | 1 replica, `Recreate` (never two controllers), the API |
| | token mounted with its reason, `/metrics` on 9100 (readiness), heartbeat liveness |
| NetworkPolicy (+ CiliumNetworkPolicy on Cilium) | the controller's egress to the API server |

Kafka: the controller reads with the tenant's Kafka access. On Strimzi that is the tenant's
credentials Secret; on MSK and Event Hubs it is the cloud identity of its ServiceAccount, so the
target must bind that identity to `retraining-controller` too (Pod Identity association,
federated credential); `service_account_annotations` carries what the SA needs (Azure's
client ID).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml

from components import conventions as c
from components.api_server import ApiServer
from components.ml_loop import pods
from components.ml_loop.pods import (
    LoopContext,
    Needs,
    container,
    has_outputs,
    heartbeat_probe,
    metrics_port,
    metrics_probe,
    mounts,
    pod_spec,
    volumes,
)

APP = "retraining-controller"
SERVICE_ACCOUNT = "retraining-controller"
TEMPLATE_MOUNT = "/etc/mlplatform/training"
STATE_DIR = "/var/lib/mlplatform/retraining"
TOKEN_REASON = (
    "creates, gets and lists TrainJobs in its own namespace (Role retraining-controller): "
    "retraining runs for the tenant's model"
)
RULES: list[dict[str, Any]] = [
    {
        "apiGroups": ["trainer.kubeflow.org"],
        "resources": ["trainjobs"],
        "verbs": ["create", "get", "list"],
    }
]


@dataclass(frozen=True, kw_only=True)
class RetrainingArgs:
    image: str  # the catalogue's `monitoring` image (carries the kubernetes client)
    template: dict[str, Any]  # the tenant's TrainJob (`components.sample_workloads.train_job`)
    dedup_window_seconds: int
    cooldown_seconds: int
    max_request_age_seconds: int
    api_server: ApiServer  # where the controller's pods reach the API server
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = (self.template.get("metadata") or {}).get("labels") or {}
        if not labels.get(c.KUEUE_QUEUE_LABEL):
            raise ValueError(
                f"the retraining TrainJob template needs the label {c.KUEUE_QUEUE_LABEL}: "
                "without a queue a run would bypass the tenant's quota"
            )


def name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-retraining"


def template_name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-trainjob-template"


def template_yaml(template: dict[str, Any]) -> str:
    return yaml.safe_dump(template, sort_keys=False)


def template_config_map(ctx: LoopContext, args: RetrainingArgs) -> dict[str, Any]:
    """The template as YAML; Output values inside it (a bucket URI) resolve at deploy time."""
    data: pulumi.Input[str] = (
        pulumi.Output.from_input(args.template).apply(template_yaml)
        if has_outputs(args.template)
        else template_yaml(args.template)
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ctx.metadata(template_name(ctx), APP),
        "data": {"trainjob.yaml": data},
    }


def service_account(ctx: LoopContext, args: RetrainingArgs) -> dict[str, Any]:
    return pods.service_account(ctx, SERVICE_ACCOUNT, APP, args.service_account_annotations)


def role(ctx: LoopContext) -> dict[str, Any]:
    return pods.role(ctx, SERVICE_ACCOUNT, APP, RULES)


def role_binding(ctx: LoopContext) -> dict[str, Any]:
    return pods.role_binding(ctx, SERVICE_ACCOUNT, APP)


def controller_command(ctx: LoopContext, args: RetrainingArgs) -> list[str]:
    return [
        *("python", "-m", "workloads.retraining", "cluster"),
        *("--template", f"{TEMPLATE_MOUNT}/trainjob.yaml"),
        *("--group-id", f"{ctx.tenant}.{ctx.model_name}-retraining"),
        *("--dedup-window", str(args.dedup_window_seconds)),
        *("--cooldown", str(args.cooldown_seconds)),
        *("--max-request-age", str(args.max_request_age_seconds)),
        *("--state-file", f"{STATE_DIR}/state.json"),
        *("--metrics-port", "9100", "--metrics-address", "0.0.0.0"),
    ]


def deployment(ctx: LoopContext, args: RetrainingArgs) -> dict[str, Any]:
    needs = Needs(kafka=True)
    main = container(
        APP,
        args.image,
        controller_command(ctx, args),
        ctx.env(needs, MLP_HEARTBEAT_FILE="/tmp/heartbeat"),
        [
            *mounts(ctx, needs),
            {"name": "template", "mountPath": TEMPLATE_MOUNT, "readOnly": True},
            {"name": "state", "mountPath": STATE_DIR},
        ],
        "250m",
        "512Mi",
    )
    main["ports"] = [metrics_port()]
    main["livenessProbe"] = heartbeat_probe(120)
    main["readinessProbe"] = metrics_probe()  # `/metrics` is served before it consumes
    pod_volumes = [
        *volumes(ctx, needs),
        {"name": "template", "configMap": {"name": template_name(ctx)}},
        {"name": "state", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    spec = pod_spec(ctx, [main], pod_volumes, service_account=SERVICE_ACCOUNT, api_token=True)
    return pods.controller_deployment(ctx, name(ctx), APP, spec, TOKEN_REASON)


def api_server_policies(ctx: LoopContext, args: RetrainingArgs) -> list[dict[str, Any]]:
    """Egress from the controller's pods to the API server, on every CNI (`api_server`)."""
    return pods.api_server_policies(ctx, name(ctx), APP, args.api_server)
