"""The version catalogue's pins, grouped the way the components' Args take them.

Components never read the catalogue (`version_catalogue`): each takes its charts and images
through its Args. The targets and the service composition build those Args from here, so
which catalogue entry feeds which chart value is written once.
"""

from __future__ import annotations

from components.datastores import PostgresBackup, PostgresSpec, RedisSpec
from components.gpu import GpuOperatorImages
from components.pki import PkiImages
from components.serving import KserveImages
from version_catalogue import CHARTS, IMAGES


def pki_images() -> PkiImages:
    return PkiImages(
        controller=IMAGES["cert-manager-controller"],
        webhook=IMAGES["cert-manager-webhook"],
        cainjector=IMAGES["cert-manager-cainjector"],
        acmesolver=IMAGES["cert-manager-acmesolver"],
        startupapicheck=IMAGES["cert-manager-startupapicheck"],
        trust_manager=IMAGES["trust-manager"],
    )


def gpu_operator_images() -> GpuOperatorImages:
    return GpuOperatorImages(
        operator=IMAGES["gpu-operator"],
        driver=IMAGES["gpu-driver"],
        container_toolkit=IMAGES["gpu-container-toolkit"],
        device_plugin=IMAGES["gpu-device-plugin"],
        dcgm_exporter=IMAGES["gpu-dcgm-exporter"],
        mig_manager=IMAGES["gpu-mig-manager"],
        cuda_base=IMAGES["gpu-cuda-base"],
        node_feature_discovery=IMAGES["node-feature-discovery"],
    )


def kserve_images() -> KserveImages:
    return KserveImages(
        controller=IMAGES["kserve-controller"],
        rbac_proxy=IMAGES["kube-rbac-proxy"],
        storage_initializer=IMAGES["kserve-storage-initializer"],
        agent=IMAGES["kserve-agent"],
        router=IMAGES["kserve-router"],
    )


def postgres_spec(instances: int, storage_gi: int, backup: PostgresBackup | None) -> PostgresSpec:
    """CloudNativePG and its PostgreSQL image, sized as configured."""
    return PostgresSpec(
        operator_chart=CHARTS["cloudnative-pg"],
        operator_image=IMAGES["cloudnative-pg"],
        image=IMAGES["postgresql"],
        instances=instances,
        storage_gi=storage_gi,
        backup=backup,
    )


def redis_spec(replicas: int, storage_gi: int) -> RedisSpec:
    """redis-operator and its Redis/Sentinel images, sized as configured."""
    return RedisSpec(
        operator_chart=CHARTS["redis-operator"],
        operator_image=IMAGES["redis-operator"],
        image=IMAGES["redis"],
        sentinel_image=IMAGES["redis-sentinel"],
        replicas=replicas,
        storage_gi=storage_gi,
    )
