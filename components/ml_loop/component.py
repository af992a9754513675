"""`MlLoop`: a tenant's ML loop in the cluster, declared from its manifests.

`manifests(args)` is every object of the loop as the API server receives it (tests validate
them with kubernetes-validate and the reference CRDs); `MlLoop` declares each as a typed
Kubernetes resource (a CustomResource for the CiliumNetworkPolicy), the controller's RBAC and
template before its Deployment, the canary's Service before its guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.api_server import ApiServer
from components.flows import API_SERVER, Flow, Pods
from components.ml_loop import batch, monitoring, retraining, rollout, streaming
from components.ml_loop.batch import BatchArgs
from components.ml_loop.monitoring import MonitoringArgs
from components.ml_loop.pods import LoopContext, selector
from components.ml_loop.retraining import RetrainingArgs
from components.ml_loop.rollout import RolloutArgs
from components.ml_loop.streaming import StreamingArgs
from components.objects import upstream


@dataclass(frozen=True, kw_only=True)
class MlLoopArgs:
    context: LoopContext
    streaming: StreamingArgs
    monitoring: MonitoringArgs
    retraining: RetrainingArgs
    rollout: RolloutArgs | None  # None: no canary, so nothing to guard
    batch: BatchArgs
    exporter_image: str  # the catalogue's `monitoring` image (workloads.model_metrics)


def manifests(args: MlLoopArgs) -> list[dict[str, Any]]:
    """Every object of the loop, dependencies first (RBAC and template before the controllers)."""
    ctx = args.context
    objects = [
        streaming.deployment(ctx, args.streaming),
        streaming.disruption_budget(ctx),
        *streaming.scaler_identity(ctx, args.streaming),
        *streaming.scaler_api_server_policies(ctx, args.streaming),
        streaming.scaler_deployment(ctx, args.streaming),
        monitoring.cron(ctx, args.monitoring),
        monitoring.exporter(ctx, args.exporter_image),
        retraining.service_account(ctx, args.retraining),
        retraining.role(ctx),
        retraining.role_binding(ctx),
        retraining.template_config_map(ctx, args.retraining),
        *retraining.api_server_policies(ctx, args.retraining),
        retraining.deployment(ctx, args.retraining),
        batch.cron(ctx, args.batch),
    ]
    if args.rollout is not None:
        objects += [rollout.canary_service(ctx), rollout.guard_cron(ctx, args.rollout)]
    return objects


def flows(args: MlLoopArgs) -> tuple[Flow, ...]:
    """Flows the loop adds to the tenant namespace's (`controller_flows`)."""
    return controller_flows(args.context.model_name, args.retraining.api_server)


def controller_flows(model_name: str, api: ApiServer) -> tuple[Flow, ...]:
    """The loop's controllers' calls to the API server, which the tenant namespace declares
    (`components.tenant.TenantArgs.flows`: the namespace exists before the loop). Kafka is the
    tenant's flow from any of its pods (`components.tenant.tenant_flows`), the scaler's and the
    controller's included."""
    return (
        Flow(
            f"{model_name}-retraining→api-server",
            Pods(selector(retraining.APP, model_name)),
            API_SERVER,
            api.ports,
            why="creates retraining TrainJobs",
        ),
        Flow(
            f"{model_name}-stream-scaler→api-server",
            Pods(selector(streaming.SCALER_APP, model_name)),
            API_SERVER,
            api.ports,
            why="reads and patches the stream processor's scale (consumer lag)",
        ),
    )


_TYPED: dict[tuple[str, str], Any] = {
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJob,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}
_FIELDS = {
    "roleRef": "role_ref",
    "automountServiceAccountToken": "automount_service_account_token",
    "imagePullSecrets": "image_pull_secrets",
}


def declare(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """The object as a Pulumi resource: its typed class, or a CustomResource."""
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    cls = _TYPED.get((obj["apiVersion"], obj["kind"]))
    if cls is None:
        return k8s.apiextensions.CustomResource(
            name, api_version=obj["apiVersion"], kind=obj["kind"], **body, opts=opts
        )
    return cls(name, **{_FIELDS.get(k, k): v for k, v in body.items()}, opts=opts)


class MlLoop(pulumi.ComponentResource):
    deployments: list[str]
    cron_jobs: list[str]

    def __init__(self, name: str, args: MlLoopArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:workloads:MlLoop", name, None, opts)
        before: list[Any] = upstream(opts)
        self.deployments, self.cron_jobs = [], []
        for obj in manifests(args):
            meta = obj["metadata"]
            resource = declare(
                f"{name}-{obj['kind'].lower()}-{meta['name']}",
                obj,
                pulumi.ResourceOptions(parent=self, depends_on=list(before)),
            )
            if obj["kind"] in ("ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service"):
                before.append(resource)  # what later pods reference exists first
            if obj["kind"] == "Deployment":
                self.deployments.append(meta["name"])
            if obj["kind"] == "CronJob":
                self.cron_jobs.append(meta["name"])
        self.register_outputs({"deployments": self.deployments, "cronJobs": self.cron_jobs})
