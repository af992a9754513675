"""Tenants: one `Tenant` component per configured team, plus its Kafka and ML service access
(Kafka user/topics or cloud identity; MLflow credentials and the Feast client config).

Network: tenant namespaces are default-deny. Besides the platform services (`services.peers`),
a tenant may reach what the foundation says a managed Kafka's clients need
(`ManagedKafka.client_egress`: MSK brokers on 9098 in the VPC, the Event Hubs private endpoint
on 9093) and, as tenants then authenticate with their service account's cloud identity, where
that identity's credentials come from (`Foundation.workload_identity_egress`: the EKS Pod
Identity agent, Entra ID), with the pod labels it needs (`workload_identity_pod_labels`), which
the contract exports and the sample workloads set. With Strimzi none of that applies.

Admission: before any tenant namespace, a ValidatingAdmissionPolicy refuses pods in tenant
namespaces whose images are not on the stack's mirror, or that are privileged
(`components.tenant_admission`), whoever creates them (a tenant, KServe, the Trainer).

Flows: the sample tenant's namespace also declares its ML loop's controllers' calls to the API
server (`components.ml_loop.controller_flows`), which the plan's simulation proves (SIM-FLW-001).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.endpoints import EgressRule
from components.flows import Flow
from components.ml_access import TenantMlAccess
from components.ml_loop import controller_flows
from components.tenant import Tenant, TenantArgs
from components.tenant_admission import TenantAdmission, TenantAdmissionArgs
from stacks import governance
from stacks.composition.results import PlatformServices, TenantKafkaAccess
from stacks.config import StackConfig
from stacks.config import Tenant as TenantConfig
from stacks.foundation import Foundation


@dataclass
class TenantDeployment:
    config: TenantConfig
    component: Tenant
    kafka: TenantKafkaAccess
    ml: TenantMlAccess  # MLflow user + Feast client objects in the namespace
    pod_labels: dict[str, str] = field(default_factory=dict)  # what the tenant's pods must carry


def tenant_network(foundation: Foundation) -> tuple[tuple[EgressRule, ...], dict[str, str]]:
    """Egress outside the cluster and pod labels every tenant needs on this foundation: the
    object store (its data prefix; TrainJobs read their labelled data there), where the cloud
    identity's credentials come from, and a managed Kafka's brokers."""
    kafka = foundation.kafka
    rules = [*foundation.object_store_egress, *foundation.workload_identity_egress]
    if kafka is not None:
        rules += kafka.client_egress
    unique = tuple({rule.name: rule for rule in rules}.values())
    return unique, dict(foundation.workload_identity_pod_labels)


def _service_account_annotations(
    foundation: Foundation, tenant: TenantConfig
) -> dict[str, pulumi.Input[str]]:
    """The tenant's cloud identity on a managed Kafka (Azure Workload Identity's client ID)."""
    if foundation.kafka is None or tenant.name not in foundation.kafka.tenants:
        return {}
    return dict(foundation.kafka.tenants[tenant.name].service_account_annotations)


def _loop_flows(
    config: StackConfig, foundation: Foundation, tenant: TenantConfig
) -> tuple[Flow, ...]:
    """The flows of the tenant's ML loop (the sample tenant's), declared on its namespace."""
    if config.tenant_loop(tenant) is None:
        return ()
    return controller_flows(config.sample_workloads.model_name, foundation.api_server)


def build_tenants(
    config: StackConfig, foundation: Foundation, services: PlatformServices
) -> dict[str, TenantDeployment]:
    deployed: dict[str, TenantDeployment] = {}
    # Before any tenant namespace exists: images only from the mirror, nothing privileged.
    admission = TenantAdmission(
        "tenant-admission",
        TenantAdmissionArgs(
            mirror=config.image_registry, labels=governance.platform_labels(config)
        ),
        opts=pulumi.ResourceOptions(provider=foundation.k8s_provider),
    )
    opts = pulumi.ResourceOptions(
        provider=foundation.k8s_provider,
        depends_on=[*services.core.resources.values(), admission],
    )
    egress, pod_labels = tenant_network(foundation)
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
                # the shared services, and what only this tenant may reach (its Feast server)
                peers=(*services.peers, *services.ml.tenant_peers.get(tenant.name, [])),
                egress=egress,
                cluster_queue=services.core.cluster_queue,
                image_pull_secret=config.registry.pull_secret,
                # Managed Kafka on Azure authenticates tenants by workload identity: their
                # service account carries the identity's client ID.
                service_account_annotations=_service_account_annotations(foundation, tenant),
                flows=_loop_flows(config, foundation, tenant),
            ),
            opts=opts,
        )
        kafka = services.core.kafka_grant.grant(tenant, component)
        ml = services.ml.access.grant(tenant, component)
        deployed[tenant.name] = TenantDeployment(tenant, component, kafka, ml, dict(pod_labels))
    return deployed
