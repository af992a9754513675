"""The sample tenant workloads: the golden path's training job and inference service.

`build_sample_workloads` runs after the tenants exist (with their MLflow credentials and Feast
client config, see `stacks.composition.tenants`). When `sampleWorkloads.enabled` it declares the
golden path for `sampleWorkloads.tenant`: a TrainJob on the platform's torch runtime (GPUs per
`sampleWorkloads.gpus`, admitted by Kueue through the tenant's LocalQueue) and an
InferenceService serving `models:/<model>@champion`, with a `@challenger` canary when
`sampleWorkloads.canaryTrafficPercent` is set; and its ML loop (`components.ml_loop`, Args from
`stacks.composition.ml_loop`): the stream processor, the monitor, the retraining controller
(whose template is this TrainJob), the canary guard and batch scoring.

Returns, per tenant with samples, the summary `stacks.contract` exports as `sampleWorkloads`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.ml_loop import MlLoop, MlLoopArgs
from components.ml_loop.object_store import store_access
from components.ml_loop.pods import LoopContext
from components.sample_workloads import SampleWorkloads, SampleWorkloadsArgs
from stacks import artifacts, governance
from stacks.composition import ml_loop
from stacks.composition.results import PlatformServices
from stacks.composition.tenants import TenantDeployment
from stacks.config import StackConfig
from stacks.foundation import Foundation


def build_sample_workloads(
    config: StackConfig,
    foundation: Foundation,
    services: PlatformServices,
    tenancy: dict[str, TenantDeployment],
) -> dict[str, dict[str, Any]]:
    sample = config.sample_workloads
    if not sample.enabled or sample.tenant not in tenancy:
        return {}
    deployment = tenancy[sample.tenant]
    tenant = deployment.config
    namespace = deployment.component.namespace
    ctx = ml_loop.context(config, foundation, services, deployment)
    labelled = pulumi.Output.concat(
        foundation.object_store.offline_store_uri, f"/{tenant.name}/labelled/transactions.parquet"
    )
    workloads = SampleWorkloads(
        f"sample-{tenant.name}",
        SampleWorkloadsArgs(
            tenant=tenant.name,
            namespace=namespace,
            model_name=sample.model_name,
            labels=governance.tenant_labels(config, tenant),
            training_image=artifacts.image(config, "training").ref(config.image_registry),
            tracking_uri=services.ml.mlflow_tracking_uri,
            service_account=deployment.component.service_account,
            queue=deployment.component.queue,
            ca_bundle=services.core.ca_bundle,
            training_runtime=services.core.training_runtime,
            gpus=sample.gpus,
            training_args=("--labelled", labelled, "--work-dir", "/tmp/work"),
            kafka=ctx.kafka,  # the prediction log, with the contract's TLS and credentials
            serving_env=ml_loop.serving_env(config, ctx),
            serving_runtime=services.ml.serving_runtime,
            deployment_mode=services.ml.kserve_deployment_mode,
            min_replicas=sample.min_replicas,
            max_replicas=sample.max_replicas,
            canary_traffic_percent=sample.canary_traffic_percent,
            pod_labels=deployment.pod_labels,  # the tenant's cloud identity, where it has one
            store=store_access(foundation.object_store),  # its labelled data, its own identity
        ),
        opts=pulumi.ResourceOptions(
            provider=foundation.k8s_provider,
            depends_on=[
                deployment.component,
                deployment.ml,
                *services.ml.resources.values(),
                *services.core.resources.values(),
            ],
        ),
    )
    loop = _ml_loop(config, foundation, ctx, workloads, deployment)
    summary: dict[str, Any] = {
        "trainJob": workloads.train_job,
        "inferenceService": workloads.inference_service,
        "host": workloads.host,
        "modelUri": f"models:/{sample.model_name}@champion",
        "queue": deployment.component.queue,
        "gpus": sample.gpus,
        "minReplicas": sample.min_replicas,
        "maxReplicas": sample.max_replicas,
    }
    summary["mlLoop"] = ml_loop.contract(config, loop)
    if sample.canary_traffic_percent:
        summary["canary"] = {
            "modelUri": f"models:/{sample.model_name}@challenger",
            "trafficPercent": sample.canary_traffic_percent,
        }
    return {tenant.name: summary}


def _ml_loop(
    config: StackConfig,
    foundation: Foundation,
    ctx: LoopContext,
    workloads: SampleWorkloads,
    deployment: TenantDeployment,
) -> MlLoopArgs:
    """The tenant's ML loop beside its sample workloads (the TrainJob is the retraining
    controller's template)."""
    tenant = deployment.config.name
    args = ml_loop.loop_args(
        config,
        foundation,
        ctx,
        workloads.train_job_object,
        _identity_annotations(foundation, tenant),
    )
    MlLoop(
        f"loop-{tenant}",
        args,
        opts=pulumi.ResourceOptions(
            provider=foundation.k8s_provider, depends_on=[workloads, deployment.component]
        ),
    )
    return args


def _identity_annotations(foundation: Foundation, tenant: str) -> dict[str, pulumi.Input[str]]:
    """What the tenant's ServiceAccounts carry for their cloud identity on a managed Kafka
    (Azure Workload Identity's client ID): the retraining controller's needs it too."""
    if foundation.kafka is None or tenant not in foundation.kafka.tenants:
        return {}
    return dict(foundation.kafka.tenants[tenant].service_account_annotations)
