"""Tenants: one `Tenant` component per configured team, plus its Kafka and ML service access
(Kafka user/topics or cloud identity; MLflow credentials and the Feast client config)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.tenant import Tenant, TenantArgs
from stacks import governance
from stacks.config import StackConfig
from stacks.config import Tenant as TenantConfig
from stacks.foundation import Foundation
from stacks.platform import PlatformServices, TenantKafkaAccess


@dataclass
class TenantDeployment:
    config: TenantConfig
    component: Tenant
    kafka: TenantKafkaAccess
    ml: pulumi.Resource | None = None  # MLflow user + Feast client objects in the namespace


def build_tenants(
    config: StackConfig, foundation: Foundation, services: PlatformServices
) -> dict[str, TenantDeployment]:
    deployed: dict[str, TenantDeployment] = {}
    opts = pulumi.ResourceOptions(
        provider=foundation.k8s_provider,
        depends_on=list(services.core.resources.values()),
    )
    for tenant in config.tenants:
        component = Tenant(
            f"tenant-{tenant.name}",
            TenantArgs(
                name=tenant.name,
                idp_group=tenant.idp_group,
                cpu=str(tenant.quota.cpu),
                memory=str(tenant.quota.memory),
                gpus=tenant.quota.gpu,
                labels=governance.tenant_labels(config, tenant),
                peers=services.peers,
                cluster_queue=services.core.cluster_queue,
                image_pull_secret=config.registry.pull_secret,
                # Managed Kafka on Azure authenticates tenants by workload identity: their
                # service account carries the identity's client ID.
                service_account_annotations=foundation.facts.get(
                    "kafka_tenant_service_account_annotations", {}
                ).get(tenant.name, {}),
            ),
            opts=opts,
        )
        kafka = services.grant_kafka(tenant, component)
        ml = services.ml.grant_tenant(tenant, component) if services.ml.grant_tenant else None
        deployed[tenant.name] = TenantDeployment(tenant, component, kafka, ml)
    return deployed
