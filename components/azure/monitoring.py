"""In-country logging: the Log Analytics workspace and its private link, Activity Log export,
diagnostic settings and VNet flow logs — every destination in the stack's own UAE location
(UAE-LOG-001/004, UAE-NET-006).

`LogAnalytics`

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `workspace_name` | physical name |
| `retention_days` | interactive retention, 30-730 (Log Analytics' range) |
| `export_activity_log` | subscription Activity Log → this workspace (UAE-LOG-004) |

Outputs: `workspace`, `id`.

The workspace refuses local (shared key) auth and public ingestion and public queries: it is
read and written only through the stack's Azure Monitor Private Link Scope (`MonitorPrivateLink`),
so operators query it from the VNet or a network peered with it (a jump host, the site's private
link), never from the internet. Diagnostic settings (AKS audit, Activity Log) and Traffic
Analytics deliver over Azure's backbone and are unaffected. Customer-managed keys for Log
Analytics need a dedicated cluster (a 100 GB/day commitment tier); this distribution does not
create one — a declared exception (the stack's `LOG_ANALYTICS_PLATFORM_KEYS`).

`MonitorPrivateLink`

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where the private endpoint lives (explicit location) |
| `scope_name` | the Private Link Scope (an ARM object in `global`, holding no data) |
| `workspace_id` | the workspace it scopes |
| `endpoint_subnet_id`, `dns_zone_ids` | the endpoint's subnet; zone → ID for `MONITOR_DNS_ZONES` |

Ingestion and queries through the scope are `PrivateOnly`. pulumi-azure-native 3.29 manages
the scope with API version 2023-06-01-preview, the only one it offers for the type (the service
itself is generally available).

`VnetFlowLog`

| Args | meaning |
|---|---|
| `target_resource_id` | the VNet whose flows are logged |
| `storage_account_id` | in-country storage account receiving the raw flow logs |
| `identity_id` | user-assigned identity allowed to write there (shared keys are off) |
| `workspace` | Traffic Analytics destination (the same in-country workspace) |
| `network_watcher_name`, `network_watcher_resource_group` | the region's Network Watcher |

Outputs: `flow_log`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.objects import upstream

# Activity Log categories exported to the workspace (all of them: the audit trail is the point).
ACTIVITY_LOG_CATEGORIES: tuple[str, ...] = (
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
)


@dataclass(frozen=True)
class LogAnalyticsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: str
    retention_days: int
    tags: dict[str, str]
    export_activity_log: bool = True


class LogAnalytics(pulumi.ComponentResource):
    workspace: azure.operationalinsights.Workspace
    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: LogAnalyticsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:LogAnalytics", name, None, opts)
        if not 30 <= args.retention_days <= 730:
            raise ValueError(
                f"Log Analytics retention {args.retention_days} days is outside 30..730"
            )
        child = pulumi.ResourceOptions(parent=self)
        self.workspace = azure.operationalinsights.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "PerGB2018"},
            retention_in_days=args.retention_days,
            features={
                "disable_local_auth": True,
                "enable_log_access_using_only_resource_permissions": True,
            },
            public_network_access_for_ingestion="Disabled",
            public_network_access_for_query="Disabled",  # through the Private Link Scope only
            tags=args.tags,
            opts=child,
        )
        self.id = self.workspace.id
        if args.export_activity_log:
            azure.monitor.SubscriptionDiagnosticSetting(
                f"{name}-activity-log",
                name=f"{args.workspace_name}-activity-log",
                workspace_id=self.workspace.id,
                logs=[{"category": c, "enabled": True} for c in ACTIVITY_LOG_CATEGORIES],
                opts=child,
            )
        self.register_outputs({"workspaceId": self.id})


ACTIVITY_LOG_CONTAINER = "insights-activity-logs"  # where Azure Monitor archives it


def archive_activity_log(
    name: str, storage_account_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> azure.monitor.SubscriptionDiagnosticSetting:
    """The subscription Activity Log archived to an in-country storage account, where Azure
    Monitor writes it into the container `insights-activity-logs` (made write-once there):
    the immutable copy of the audit trail beside the workspace's queryable one (UAE-LOG-005)."""
    return azure.monitor.SubscriptionDiagnosticSetting(
        f"{name}-activity-log-archive",
        name=f"{name}-activity-log-archive",
        storage_account_id=storage_account_id,
        logs=[{"category": c, "enabled": True} for c in ACTIVITY_LOG_CATEGORIES],
        opts=opts,
    )


# Zones Azure Monitor's private endpoint registers in (query, ingestion, agent and storage).
MONITOR_DNS_ZONES: tuple[str, ...] = (
    "privatelink.monitor.azure.com",
    "privatelink.oms.opinsights.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.agentsvc.azure-automation.net",
    "privatelink.blob.core.windows.net",
)


@dataclass(frozen=True)
class MonitorPrivateLinkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    scope_name: str
    workspace_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    dns_zone_ids: Mapping[str, pulumi.Input[str]]
    tags: dict[str, str]


class MonitorPrivateLink(pulumi.ComponentResource):
    """The workspace's only way in: a Private Link Scope and its endpoint in the VNet."""

    scope: azure.monitor.PrivateLinkScope
    endpoint: azure.network.PrivateEndpoint

    def __init__(
        self, name: str, args: MonitorPrivateLinkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:MonitorPrivateLink", name, None, opts)
        missing = [z for z in MONITOR_DNS_ZONES if z not in args.dns_zone_ids]
        if missing:
            raise ValueError(f"{name}: Azure Monitor's private endpoint needs DNS zones {missing}")
        child = pulumi.ResourceOptions(parent=self)
        self.scope = azure.monitor.PrivateLinkScope(
            name,
            scope_name=args.scope_name,
            resource_group_name=args.resource_group_name,
            location="global",  # an ARM object only: no data is held or routed through it
            access_mode_settings={
                "ingestion_access_mode": "PrivateOnly",
                "query_access_mode": "PrivateOnly",
            },
            tags=args.tags,
            opts=child,
        )
        azure.monitor.PrivateLinkScopedResource(
            f"{name}-workspace",
            name="workspace",
            scope_name=self.scope.name,
            resource_group_name=args.resource_group_name,
            linked_resource_id=args.workspace_id,
            opts=child,
        )
        self.endpoint = azure.network.PrivateEndpoint(
            f"{name}-pe",
            private_endpoint_name=f"{args.scope_name}-pe",
            resource_group_name=args.resource_group_name,
            location=args.location,
            subnet={"id": args.endpoint_subnet_id},
            private_link_service_connections=[
                {
                    "name": args.scope_name,
                    "private_link_service_id": self.scope.id,
                    "group_ids": ["azuremonitor"],
                }
            ],
            tags=args.tags,
            opts=child,
        )
        azure.network.PrivateDnsZoneGroup(
            f"{name}-pe-dns",
            private_dns_zone_group_name="default",
            private_endpoint_name=self.endpoint.name,
            resource_group_name=args.resource_group_name,
            private_dns_zone_configs=[
                {"name": zone.replace(".", "-"), "private_dns_zone_id": args.dns_zone_ids[zone]}
                for zone in MONITOR_DNS_ZONES
            ],
            opts=child,
        )
        self.register_outputs({"scopeId": self.scope.id})


def diagnostic_setting(
    name: str,
    *,
    resource_uri: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    categories: tuple[str, ...] = (),
    category_groups: tuple[str, ...] = (),
    parent: pulumi.Resource,
) -> azure.monitor.DiagnosticSetting:
    """Send a resource's logs (by category or category group) to the in-country workspace."""
    logs = [{"category": c, "enabled": True} for c in categories]
    logs += [{"category_group": g, "enabled": True} for g in category_groups]
    return azure.monitor.DiagnosticSetting(
        name,
        name=name,
        resource_uri=resource_uri,
        workspace_id=workspace_id,
        log_analytics_destination_type="Dedicated",
        logs=logs,
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class VnetFlowLogArgs:
    location: str
    target_resource_id: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    workspace: azure.operationalinsights.Workspace
    retention_days: int
    tags: dict[str, str]
    # Azure creates one Network Watcher per region and subscription, in NetworkWatcherRG.
    network_watcher_name: str | None = None
    network_watcher_resource_group: str = "NetworkWatcherRG"


class VnetFlowLog(pulumi.ComponentResource):
    flow_log: azure.network.FlowLog

    def __init__(
        self, name: str, args: VnetFlowLogArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:VnetFlowLog", name, None, opts)
        watcher = args.network_watcher_name or f"NetworkWatcher_{args.location}"
        self.flow_log = azure.network.FlowLog(
            name,
            flow_log_name=name,
            network_watcher_name=watcher,
            resource_group_name=args.network_watcher_resource_group,
            location=args.location,
            target_resource_id=args.target_resource_id,
            storage_id=args.storage_account_id,
            identity={"type": "UserAssigned", "user_assigned_identities": [args.identity_id]},
            enabled=True,
            format={"type": "JSON", "version": 2},
            retention_policy={"enabled": True, "days": min(args.retention_days, 365)},
            flow_analytics_configuration={
                "network_watcher_flow_analytics_configuration": {
                    "enabled": True,
                    "traffic_analytics_interval": 10,
                    "workspace_id": args.workspace.customer_id,
                    "workspace_region": args.location,
                    "workspace_resource_id": args.workspace.id,
                }
            },
            tags=args.tags,
            # the component's depends_on (its identity's role assignments) reach the resource
            opts=pulumi.ResourceOptions(parent=self, depends_on=upstream(opts)),
        )
        self.register_outputs({"flowLogId": self.flow_log.id})
