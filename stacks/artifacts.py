"""The version catalogue's pins, grouped the way the components' Args take them.

Components never read the catalogue (`version_catalogue`): each takes its charts and images
through its Args. The targets and the service composition build those Args from here, so
which catalogue entry feeds which chart value is written once.

Every image goes through the stack's `Pin` (`pin_for(config)`): the catalogue image with the
digest the stack's mirror lock records (`stacks.pins`), so the components pass
`<mirror>/<path>:<tag>@sha256:...` to every chart and manifest. `image(config, key)` is the
same for one catalogue entry. Without a pin (unit tests of components) images keep their tags.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from components.datastores import PostgresBackup, PostgresSpec, RedisSpec
from components.gpu import GpuOperatorImages
from components.observability.values import MonitoringImages
from components.pki import PkiImages
from components.serving import KserveImages
from stacks.config import StackConfig
from stacks.pins import pinned
from version_catalogue import CHARTS, IMAGES, Image

Pin = Callable[[Image], Image]


def unpinned(image: Image) -> Image:
    return image


def pin_for(config: StackConfig) -> Pin:
    """Pins catalogue images with the digests the running stack's mirror lock records."""
    stack = pulumi.get_stack()
    return lambda image: pinned(config, stack, image)


def image(config: StackConfig, key: str) -> Image:
    """The catalogue image `key`, pinned by the stack's mirror lock."""
    return pin_for(config)(IMAGES[key])


def pki_images(pin: Pin = unpinned) -> PkiImages:
    return PkiImages(
        controller=pin(IMAGES["cert-manager-controller"]),
        webhook=pin(IMAGES["cert-manager-webhook"]),
        cainjector=pin(IMAGES["cert-manager-cainjector"]),
        acmesolver=pin(IMAGES["cert-manager-acmesolver"]),
        startupapicheck=pin(IMAGES["cert-manager-startupapicheck"]),
        trust_manager=pin(IMAGES["trust-manager"]),
    )


def gpu_operator_images(pin: Pin = unpinned) -> GpuOperatorImages:
    return GpuOperatorImages(
        operator=pin(IMAGES["gpu-operator"]),
        driver=pin(IMAGES["gpu-driver"]),
        container_toolkit=pin(IMAGES["gpu-container-toolkit"]),
        device_plugin=pin(IMAGES["gpu-device-plugin"]),
        dcgm_exporter=pin(IMAGES["gpu-dcgm-exporter"]),
        mig_manager=pin(IMAGES["gpu-mig-manager"]),
        cuda_base=pin(IMAGES["gpu-cuda-base"]),
        node_feature_discovery=pin(IMAGES["node-feature-discovery"]),
        driver_manager=pin(IMAGES["gpu-driver-manager"]),
    )


def monitoring_images(pin: Pin = unpinned) -> MonitoringImages:
    return MonitoringImages(
        operator=pin(IMAGES["prometheus-operator"]),
        prometheus=pin(IMAGES["prometheus"]),
        alertmanager=pin(IMAGES["alertmanager"]),
        config_reloader=pin(IMAGES["prometheus-config-reloader"]),
        thanos=pin(IMAGES["thanos"]),
        kube_state_metrics=pin(IMAGES["kube-state-metrics"]),
        grafana=pin(IMAGES["grafana"]),
    )


def kserve_images(pin: Pin = unpinned) -> KserveImages:
    return KserveImages(
        controller=pin(IMAGES["kserve-controller"]),
        rbac_proxy=pin(IMAGES["kube-rbac-proxy"]),
        storage_initializer=pin(IMAGES["kserve-storage-initializer"]),
        agent=pin(IMAGES["kserve-agent"]),
        router=pin(IMAGES["kserve-router"]),
        art_explainer=pin(IMAGES["kserve-art-explainer"]),
    )


def postgres_spec(
    instances: int, storage_gi: int, backup: PostgresBackup | None, pin: Pin = unpinned
) -> PostgresSpec:
    """CloudNativePG and its PostgreSQL image, sized as configured."""
    return PostgresSpec(
        operator_chart=CHARTS["cloudnative-pg"],
        operator_image=pin(IMAGES["cloudnative-pg"]),
        image=pin(IMAGES["postgresql"]),
        instances=instances,
        storage_gi=storage_gi,
        backup=backup,
    )


def redis_spec(replicas: int, storage_gi: int, pin: Pin = unpinned) -> RedisSpec:
    """redis-operator and its Redis/Sentinel images, sized as configured."""
    return RedisSpec(
        operator_chart=CHARTS["redis-operator"],
        operator_image=pin(IMAGES["redis-operator"]),
        image=pin(IMAGES["redis"]),
        sentinel_image=pin(IMAGES["redis-sentinel"]),
        replicas=replicas,
        storage_gi=storage_gi,
    )
