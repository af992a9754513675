"""Event Hubs Premium as the platform's Kafka when `kafka.mode: managed` on Azure.

`EventHubsKafka` declares the platform hubs (`components.kafka.PLATFORM_TOPICS`, the same names
as on Strimzi) and each tenant's `<tenant>.<topic>` hubs with a per-tenant managed identity
federated with the tenant's `workloads` service account. The returned `ManagedKafka` carries,
per tenant, its hubs, its identity's principal ID and the client-ID annotation its service
account needs (`ManagedKafka.tenants`); tenant pods carry the workload-identity label. With
`kafka.mode: strimzi` nothing is declared here and the platform runs Strimzi on AKS.
"""

from __future__ import annotations

from components import conventions as c
from components.azure.eventhubs import KAFKA_PORT, EventHubsKafka, EventHubsKafkaArgs, TenantTopics
from components.azure.identity import CLIENT_ID_ANNOTATION
from components.azure.network import subnet_prefixes
from components.endpoints import EgressRule
from components.kafka import PLATFORM_TOPICS
from stacks.config.ml_loop import loop_service_accounts
from stacks.foundation import ManagedKafka, ManagedTenantKafka
from stacks.targets.azure.cluster import WORKLOAD_IDENTITY_POD_LABEL, AzureCluster

TENANT_SERVICE_ACCOUNT = "workloads"  # created by components.tenant.Tenant in tenant-<name>


def build_event_hubs(cluster: AzureCluster) -> ManagedKafka | None:
    site, sec = cluster.site, cluster.security
    config = site.config
    if config.kafka.mode != "managed":
        return None
    event_hubs = EventHubsKafka(
        "evh",
        EventHubsKafkaArgs(
            namespace_name=site.names["eventhubs"],
            key_vault_uri=sec.vault.vault_uri,
            key_name=sec.vault.keys["data"].name,
            identity_id=sec.cmk.id,
            endpoint_subnet_id=sec.network.subnets["endpoints"].id,
            dns_zone_id=sec.network.dns_zone_ids["privatelink.servicebus.windows.net"],
            subscription_id=site.azure.subscription_id,
            oidc_issuer=cluster.aks.oidc_issuer,
            tenants=tuple(
                TenantTopics(
                    t.name,
                    c.tenant_namespace(t.name),
                    TENANT_SERVICE_ACCOUNT,
                    tuple(config.tenant_topics(t)),  # with its ML loop's
                    loop_service_accounts(config.tenant_loop(t)),
                )
                for t in config.tenants
            ),
            platform_topics=tuple(PLATFORM_TOPICS.values()),
            partitions=config.kafka.partitions,
            retention_hours=config.kafka.retention_hours,
            workspace_id=sec.logs.id,
            protect=site.protect,
            **site.common(),
        ),
        opts=site.opts(sec.cmk),
    )
    # The namespace's private endpoint lives in the endpoints subnet.
    endpoint = EgressRule(
        name="event-hubs",
        cidr=subnet_prefixes(site.azure.vnet_cidr)["endpoints"],
        ports=(KAFKA_PORT,),
        why="Event Hubs Kafka endpoint (private endpoint in the endpoints subnet)",
    )
    return ManagedKafka(
        kind="event-hubs",
        name=event_hubs.namespace.name,
        bootstrap=event_hubs.bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="OAUTHBEARER",
        authentication="entra",
        resource_id=event_hubs.namespace.id,
        client_egress=(endpoint,),  # OAUTHBEARER with the tenant's Entra workload identity
        tenants={
            tenant: ManagedTenantKafka(
                topics=access.topics,
                principal=access.principal_id,
                # Azure Workload Identity: no credential in the namespace.
                service_account_annotations={CLIENT_ID_ANNOTATION: access.client_id},
            )
            for tenant, access in event_hubs.tenant_access.items()
        },
        tenant_pod_labels=dict(WORKLOAD_IDENTITY_POD_LABEL),
    )
