"""`EventHubsKafka`: an Event Hubs Premium namespace used through its Kafka endpoint.

Premium gives the Kafka endpoint (`<namespace>.servicebus.windows.net:9093`, SASL_SSL), zone
redundancy and customer-managed keys: data is encrypted with the platform's HSM key through a
user-assigned identity, with infrastructure encryption on top (UAE-KEY-001). Shared access
signatures are disabled (`disableLocalAuth`): clients authenticate with Entra ID tokens
(SASL `OAUTHBEARER`), which pods obtain through Azure Workload Identity. TLS 1.2 minimum, no
public network access — only the private endpoint in the platform VNet (UAE-NET-002).

Each tenant topic becomes an event hub named `<tenant>.<topic>` (Kafka topic = event hub), and
each platform topic (`platform.feature-events`...) one hub of that name. Each tenant gets a
user-assigned identity federated with its `workloads` service account in `tenant-<name>`,
"Azure Event Hubs Data Sender/Receiver" on *its own* hubs and Receiver only on the platform hubs
(read-only, as the Strimzi ACLs grant: only the platform writes them).

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `namespace_name` | globally unique |
| `key_vault_uri`, `key_name`, `identity_id` | CMK + identity allowed to use it |
| `endpoint_subnet_id`, `dns_zone_id` | private endpoint + privatelink.servicebus.windows.net |
| `subscription_id` | role definition IDs |
| `oidc_issuer` | the AKS OIDC issuer (tenant identities federate with it) |
| `tenants` | `TenantTopics(tenant, namespace, service_account, topics)` (+ the |
| | `also_service_accounts` of the namespace federated with the same identity) |
| `platform_topics` | hub names the platform owns (tenants may only read them) |
| `partitions`, `retention_hours`, `capacity` | hub and namespace sizing |
| `workspace_id` | in-country Log Analytics for the namespace's audit logs (optional) |
| `protect` | `protect` on the namespace and its hubs (events are data) |

Outputs: `namespace`, `bootstrap` (`<ns>.servicebus.windows.net:9093`), `tenant_access`
(tenant → `TenantEventHubsAccess`: hub names, identity client ID for the SA annotation).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.azure.identity import FederatedSubject, Grant, ManagedIdentity, ManagedIdentityArgs
from components.azure.monitoring import diagnostic_setting
from components.azure.network import private_endpoint

KAFKA_PORT = 9093


@dataclass(frozen=True)
class TenantTopics:
    tenant: str
    namespace: str  # Kubernetes namespace of the tenant
    service_account: str
    topics: tuple[str, ...]
    also_service_accounts: tuple[str, ...] = ()  # e.g. the tenant's retraining controller


@dataclass(frozen=True)
class TenantEventHubsAccess:
    topics: list[str]  # Kafka topic names (= event hub names)
    client_id: pulumi.Output[str]  # for the azure.workload.identity/client-id annotation
    identity_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]


@dataclass(frozen=True)
class EventHubsKafkaArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    namespace_name: str
    key_vault_uri: pulumi.Input[str]
    key_name: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]
    subscription_id: str
    oidc_issuer: pulumi.Input[str]
    tags: dict[str, str]
    # From the stack's `kafka` config and tenants (no defaults here: the config model holds them)
    tenants: tuple[TenantTopics, ...]
    platform_topics: tuple[str, ...]
    partitions: int
    retention_hours: int
    capacity: int = 1
    workspace_id: pulumi.Input[str] | None = None
    protect: bool = True


def topic_name(tenant: str, topic: str) -> str:
    return f"{tenant}.{topic}"


class EventHubsKafka(pulumi.ComponentResource):
    namespace: azure.eventhub.Namespace
    bootstrap: pulumi.Output[str]
    tenant_access: dict[str, TenantEventHubsAccess]

    def __init__(
        self, name: str, args: EventHubsKafkaArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:EventHubsKafka", name, None, opts)
        if args.retention_hours > 90 * 24:
            raise ValueError("Event Hubs Premium keeps events at most 90 days (2160 hours)")
        self.namespace = azure.eventhub.Namespace(
            f"{name}-namespace",
            namespace_name=args.namespace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "Premium", "tier": "Premium", "capacity": args.capacity},
            zone_redundant=True,
            kafka_enabled=True,
            disable_local_auth=True,
            minimum_tls_version="1.2",
            public_network_access="Disabled",
            identity={"type": "UserAssigned", "user_assigned_identities": [args.identity_id]},
            encryption={
                "key_source": "Microsoft.KeyVault",
                "key_vault_properties": [
                    {
                        "key_name": args.key_name,
                        "key_vault_uri": args.key_vault_uri,
                        "identity": {"user_assigned_identity": args.identity_id},
                    }
                ],
                "require_infrastructure_encryption": True,
            },
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.bootstrap = self.namespace.name.apply(
            lambda ns: f"{ns}.servicebus.windows.net:{KAFKA_PORT}"
        )
        private_endpoint(
            f"{name}-pe",
            target_id=self.namespace.id,
            group_id="namespace",
            subnet_id=args.endpoint_subnet_id,
            dns_zone_id=args.dns_zone_id,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            parent=self,
        )
        if args.workspace_id is not None:
            diagnostic_setting(
                f"{name}-audit",
                resource_uri=self.namespace.id,
                workspace_id=args.workspace_id,
                category_groups=("audit",),
                parent=self,
            )

        platform_hubs = [self._hub(name, topic, args) for topic in args.platform_topics]
        self.tenant_access = {
            tenant.tenant: self._tenant_access(name, args, tenant, platform_hubs)
            for tenant in args.tenants
        }

        self.register_outputs(
            {
                "namespaceId": self.namespace.id,
                "bootstrap": self.bootstrap,
                "tenantTopics": {t: a.topics for t, a in self.tenant_access.items()},
            }
        )

    def _tenant_access(
        self,
        name: str,
        args: EventHubsKafkaArgs,
        tenant: TenantTopics,
        platform_hubs: list[azure.eventhub.EventHub],
    ) -> TenantEventHubsAccess:
        """The tenant's hubs and an identity federated with its service account: send and
        receive on its own hubs, receive only from the platform's."""
        hubs = [self._hub(name, topic_name(tenant.tenant, t), args) for t in tenant.topics]
        grants = tuple(
            Grant(role, hub.id)
            for hub in hubs
            for role in ("Azure Event Hubs Data Sender", "Azure Event Hubs Data Receiver")
        ) + tuple(Grant("Azure Event Hubs Data Receiver", hub.id) for hub in platform_hubs)
        identity = ManagedIdentity(
            f"{name}-{tenant.tenant}",
            ManagedIdentityArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                subscription_id=args.subscription_id,
                tags=args.tags,
                grants=grants,
                issuer=args.oidc_issuer,
                subjects=tuple(
                    FederatedSubject(tenant.namespace, account)
                    for account in (tenant.service_account, *tenant.also_service_accounts)
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return TenantEventHubsAccess(
            topics=[topic_name(tenant.tenant, t) for t in tenant.topics],
            client_id=identity.client_id,
            identity_id=identity.id,
            principal_id=identity.principal_id,
        )

    def _hub(self, name: str, hub: str, args: EventHubsKafkaArgs) -> azure.eventhub.EventHub:
        return azure.eventhub.EventHub(
            f"{name}-{hub.replace('.', '-')}",
            event_hub_name=hub,
            namespace_name=self.namespace.name,
            resource_group_name=args.resource_group_name,
            partition_count=args.partitions,
            retention_description={
                "cleanup_policy": "Delete",
                "retention_time_in_hours": args.retention_hours,
            },
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
