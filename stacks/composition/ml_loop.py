"""The sample tenant's ML loop in the cluster: the `components.ml_loop` Args from the config,
the foundation and the tenant's contract, on every target alike.

`kafka_client` turns the tenant's Kafka access into the pods' client settings (Strimzi: the
platform CA and the tenant's credentials Secret; MSK: IAM in the stack's region; Event Hubs:
the Entra workload identity); `loop_args` sizes and schedules every piece from
`sampleWorkloads.loop` (the controller and the stream scaler reach the API server where
`Foundation.api_server` says); `contract` is what the tenant contract exports as `mlLoop`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.ml_loop import MlLoopArgs, batch, monitoring, retraining, rollout, streaming
from components.ml_loop.batch import BatchArgs
from components.ml_loop.kafka_client import KafkaClient
from components.ml_loop.monitoring import MonitoringArgs
from components.ml_loop.object_store import store_access
from components.ml_loop.pods import LoopContext
from components.ml_loop.retraining import SERVICE_ACCOUNT, RetrainingArgs
from components.ml_loop.rollout import RolloutArgs
from components.ml_loop.streaming import StreamingArgs
from components.ml_loop.topics import LoopTopics
from stacks import artifacts, governance
from stacks.composition.results import PlatformServices
from stacks.composition.tenants import TenantDeployment
from stacks.config import StackConfig
from stacks.foundation import Foundation


def kafka_client(
    config: StackConfig,
    foundation: Foundation,
    services: PlatformServices,
    deployment: TenantDeployment,
) -> KafkaClient:
    endpoint = services.core.kafka
    msk = endpoint.sasl_mechanism == "AWS_MSK_IAM"
    return KafkaClient(
        bootstrap=endpoint.bootstrap,
        security_protocol=endpoint.security_protocol,
        sasl_mechanism=endpoint.sasl_mechanism,
        credentials_secret=deployment.kafka.credentials_secret,
        # Strimzi's brokers carry the platform CA's certificate; managed ones a public CA's.
        ca_bundle=services.core.ca_bundle if foundation.kafka is None else None,
        aws_region=config.aws.region if msk and config.aws else None,
    )


def context(
    config: StackConfig,
    foundation: Foundation,
    services: PlatformServices,
    deployment: TenantDeployment,
) -> LoopContext:
    tenant, sample = deployment.config, config.sample_workloads
    return LoopContext(
        tenant=tenant.name,
        namespace=deployment.component.namespace,
        model_name=sample.model_name,
        labels=governance.tenant_labels(config, tenant),
        tracking_uri=services.ml.mlflow_tracking_uri,
        kafka=kafka_client(config, foundation, services, deployment),
        topics=LoopTopics.for_tenant(tenant.name, sample.loop.input_topic),
        service_account=deployment.component.service_account,
        ca_bundle=services.core.ca_bundle,
        pull_secret=config.registry.pull_secret,
        identity_labels=dict(deployment.pod_labels),
    )


def serving_env(config: StackConfig, ctx: LoopContext) -> dict[str, pulumi.Input[str]]:
    """What the predictors add to the sample InferenceService: topics, tenant, alias polling."""
    return {
        **ctx.topics.env(),
        "MLP_TENANT": ctx.tenant,
        "MLP_MODEL_POLL_SECONDS": str(config.sample_workloads.loop.rollout.model_poll_seconds),
    }


def loop_args(
    config: StackConfig,
    foundation: Foundation,
    ctx: LoopContext,
    template: dict[str, Any],
    service_account_annotations: dict[str, pulumi.Input[str]],
) -> MlLoopArgs:
    """Every piece sized and scheduled from `sampleWorkloads.loop` (no defaults below)."""
    sample, loop = config.sample_workloads, config.sample_workloads.loop
    image = {
        name: artifacts.image(config, name).ref(config.image_registry)
        for name in ("streaming", "monitoring", "serving")
    }
    tenant_root = pulumi.Output.concat(foundation.object_store.offline_store_uri, f"/{ctx.tenant}")
    s, m, r, g, b = loop.streaming, loop.monitoring, loop.retraining, loop.rollout, loop.batch
    return MlLoopArgs(
        context=ctx,
        streaming=StreamingArgs(
            image=image["streaming"],
            replicas=s.replicas,
            max_replicas=s.max_replicas,
            partitions=config.kafka.partitions,
            cpu=s.cpu,
            memory=s.memory,
            lag_per_replica=s.lag_per_replica,
            scale_down_window_seconds=s.scale_down_window_seconds,
            state_size=f"{s.state_size_gi}Gi",
            storage_class=foundation.storage_class,
            api_server=foundation.api_server,
            service_account_annotations=service_account_annotations,
        ),
        monitoring=MonitoringArgs(
            image=image["monitoring"],
            schedule=m.schedule,
            psi_threshold=m.psi_threshold,
            min_records=m.min_records,
            window_hours=m.window_hours,
            label_delay_hours=m.label_delay_hours,
            min_labelled=m.min_labelled,
            max_auc_drop=m.max_auc_drop,
            max_precision_drop=m.max_precision_drop,
        ),
        retraining=RetrainingArgs(
            image=image["monitoring"],
            template=template,
            dedup_window_seconds=r.dedup_window_seconds,
            cooldown_seconds=r.cooldown_seconds,
            max_request_age_seconds=r.max_request_age_seconds,
            api_server=foundation.api_server,
            service_account_annotations=service_account_annotations,
        ),
        rollout=RolloutArgs(
            image=image["serving"],
            schedule=g.guard_schedule,
            window_seconds=g.window_seconds,
            max_error_rate=g.max_error_rate,
            max_p99_ms=g.max_p99_ms,
            min_requests=g.min_requests,
        )
        if sample.canary_traffic_percent
        else None,
        batch=BatchArgs(
            image=image["serving"],
            schedule=b.schedule,
            suspended=b.suspended,
            partitions=b.partitions,
            input_uri=pulumi.Output.concat(tenant_root, f"/{b.input_path}/"),
            output_prefix=pulumi.Output.concat(tenant_root, f"/{b.output_path}"),
            store=store_access(foundation.object_store),
        ),
        exporter_image=image["monitoring"],
    )


def contract(config: StackConfig, args: MlLoopArgs) -> dict[str, Any]:
    """The tenant contract's `mlLoop` block (schema `mlLoop`)."""
    ctx, loop = args.context, config.sample_workloads.loop
    topics = ctx.topics
    out: dict[str, Any] = {
        "topics": {
            "input": topics.transactions,
            "deadLetter": topics.dead_letter,
            "scored": topics.scored,
            "labels": topics.labels,
            "modelEvents": topics.model_events,
            "drift": topics.drift,
            "retraining": topics.retraining,
        },
        "streaming": {
            "deployment": streaming.name(ctx),
            "consumerGroup": streaming.group_id(ctx),
            "replicas": args.streaming.replicas,
            "maxReplicas": args.streaming.max_replicas,
            "autoscaling": "consumer-lag",
            "scaler": streaming.scaler_name(ctx),
            "lagPerReplica": args.streaming.lag_per_replica,
            "metricsPort": 9100,
        },
        "monitoring": {
            "cronJob": monitoring.name(ctx),
            "schedule": args.monitoring.schedule,
            "exporter": monitoring.exporter_name(ctx),
        },
        "retraining": {
            "deployment": retraining.name(ctx),
            "serviceAccount": SERVICE_ACCOUNT,
            "templateConfigMap": retraining.template_name(ctx),
            "dedupWindowSeconds": loop.retraining.dedup_window_seconds,
            "cooldownSeconds": loop.retraining.cooldown_seconds,
        },
        "rollout": {
            "modelPollSeconds": loop.rollout.model_poll_seconds,
            "rollback": (
                f"python -m workloads.serving rollback --model {ctx.model_name} --reason '<why>'"
            ),
        },
        "batch": {
            "cronJob": batch.name(ctx),
            "schedule": args.batch.schedule,
            "suspended": args.batch.suspended,
            "partitions": args.batch.partitions,
            "input": args.batch.input_uri,
            "outputPrefix": args.batch.output_prefix,
        },
    }
    if args.rollout is not None:
        out["rollout"]["canaryGuard"] = {
            "cronJob": rollout.name(ctx),
            "schedule": args.rollout.schedule,
            "maxErrorRate": args.rollout.max_error_rate,
            "maxP99Ms": args.rollout.max_p99_ms,
            "minRequests": args.rollout.min_requests,
        }
    return out
