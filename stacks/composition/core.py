"""Core platform services, the same on every target: GPUs, queueing, training, Kafka.

`build_core(config, foundation, pki)` declares, on the foundation's Kubernetes provider and
after what the foundation says to wait for:

| service | component | notes |
|---|---|---|
| (the PKI) | `components.pki.PlatformPki` | declared before the foundation (`composition.pki`); |
| | | its egress here, once the foundation says where the API server is |
| NVIDIA GPU operator | `components.gpu.GpuOperator` | driver/toolkit only where nodes lack them |
| Kueue, flavors, `platform-gpu` | `components.kueue.GpuQueueing` | GPU quota = pool capacity |
| Kubeflow Trainer + `torch-distributed` | `components.trainer.TrainingOperator` | |
| Kafka | `composition.kafka` | Strimzi, unless the foundation provides a managed Kafka |
"""

from __future__ import annotations

from decimal import Decimal

import pulumi

from components.gpu import GpuOperator, GpuOperatorArgs
from components.kueue import GpuFlavor, GpuQueueing, GpuQueueingArgs
from components.pki import PlatformPki
from components.trainer import TrainingOperator, TrainingOperatorArgs
from stacks import artifacts, governance
from stacks.composition.kafka import build_kafka
from stacks.composition.pki import close_pki_egress
from stacks.composition.placement import platform_placement
from stacks.composition.results import CoreServices
from stacks.config import StackConfig
from stacks.config.quantity import parse_quantity
from stacks.foundation import Foundation
from version_catalogue import CHARTS


def _quantity(total: Decimal, unit: str = "") -> str:
    if unit == "Gi":
        return f"{int(total / (Decimal(2) ** 30))}Gi"
    return str(int(total)) if total == total.to_integral_value() else f"{int(total * 1000)}m"


def committed_capacity(config: StackConfig) -> tuple[str, str]:
    """CPU and memory promised to tenants (sum of their quotas), as Kubernetes quantities."""
    cpu = sum((parse_quantity(t.quota.cpu) for t in config.tenants), Decimal(0))
    memory = sum((parse_quantity(t.quota.memory) for t in config.tenants), Decimal(0))
    return _quantity(cpu or Decimal(1)), _quantity(memory or Decimal(2) ** 30, "Gi")


def build_core(config: StackConfig, foundation: Foundation, pki: PlatformPki) -> CoreServices:
    opts = pulumi.ResourceOptions(
        provider=foundation.k8s_provider, depends_on=list(foundation.ready)
    )
    gpu = _gpu_operator(config, foundation, opts)
    queueing = _queueing(config, foundation, opts)
    # Kueue's webhook must see TrainJobs from the start: install Trainer after it.
    trainer = _trainer(
        config,
        foundation,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[queueing])),
    )
    kafka = build_kafka(config, foundation, pki, opts)
    close_pki_egress(config, foundation, pki)
    resources: dict[str, pulumi.Resource] = {
        "pki": pki,
        "gpu-operator": gpu,
        "kueue": queueing,
        "trainer": trainer,
    }
    if kafka.component is not None:
        resources["kafka"] = kafka.component
    return CoreServices(
        kafka=kafka.endpoint,
        kafka_grant=kafka.grant,
        cluster_queue=queueing.cluster_queue,
        ca_bundle=pki.ca_bundle,
        ca_bundle_key=pki.ca_bundle_key,
        cluster_issuer=pki.cluster_issuer,
        training_runtime=trainer.runtime,
        peers=kafka.peers,
        resources=resources,
        pki_ready=list(pki.ready),
    )


def _gpu_operator(
    config: StackConfig, foundation: Foundation, opts: pulumi.ResourceOptions
) -> GpuOperator:
    return GpuOperator(
        "gpu-operator",
        GpuOperatorArgs(
            mirror=config.image_registry,
            labels=governance.platform_labels(config),
            chart=CHARTS["gpu-operator"],
            images=artifacts.gpu_operator_images(artifacts.pin_for(config)),
            install_driver=not foundation.gpu_driver_preinstalled,
            pull_secret=config.registry.pull_secret,
            api_server=foundation.api_server,
            placement=platform_placement(config),
        ),
        opts=opts,
    )


def _queueing(
    config: StackConfig, foundation: Foundation, opts: pulumi.ResourceOptions
) -> GpuQueueing:
    cpu, memory = committed_capacity(config)
    return GpuQueueing(
        "kueue",
        GpuQueueingArgs(
            mirror=config.image_registry,
            labels=governance.platform_labels(config),
            chart=CHARTS["kueue"],
            image=artifacts.image(config, "kueue"),
            flavors=tuple(
                GpuFlavor(name=p.name, node_labels=dict(p.labels), gpus=p.capacity)
                for p in foundation.gpu_pools
            ),
            cpu=cpu,
            memory=memory,
            pull_secret=config.registry.pull_secret,
            api_server=foundation.api_server,
            placement=platform_placement(config),
        ),
        opts=opts,
    )


def _trainer(
    config: StackConfig, foundation: Foundation, opts: pulumi.ResourceOptions
) -> TrainingOperator:
    return TrainingOperator(
        "trainer",
        TrainingOperatorArgs(
            mirror=config.image_registry,
            labels=governance.platform_labels(config),
            chart=CHARTS["kubeflow-trainer"],
            controller_image=artifacts.image(config, "trainer-controller"),
            jobset_image=artifacts.image(config, "jobset"),
            training_image=artifacts.image(config, "training"),
            pull_secret=config.registry.pull_secret,
            api_server=foundation.api_server,
            placement=platform_placement(config),
        ),
        opts=opts,
    )
