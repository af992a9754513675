"""AKS Container Insights: every container's log (ContainerLogV2) and the cluster's inventory
in the stack's in-country Log Analytics workspace — the Azure target's log shipping.

The workspace refuses shared-key ingestion, so the monitoring add-on authenticates with its
managed identity (`useAADAuth`), which needs what `az aks enable-addons` would create: a data
collection rule (the Container Insights stream → the workspace, in the cluster's location) and
its association with the cluster. UAE-LOG-006 reads the add-on from the cluster.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure

STREAM = "Microsoft-ContainerInsights-Group-Default"
DESTINATION = "workspace"


def monitoring_addon(workspace_id: pulumi.Input[str]) -> dict[str, Any]:
    """The ManagedCluster `addon_profiles` entry of the monitoring add-on."""
    return {
        "omsagent": {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"},
        }
    }


def container_insights(
    name: str,
    cluster: azure.containerservice.ManagedCluster,
    resource_group_name: pulumi.Input[str],
    location: str,
    workspace_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> azure.monitor.DataCollectionRuleAssociation:
    """The data collection rule of the add-on and its association with `cluster`."""
    rule = azure.monitor.DataCollectionRule(
        f"{name}-container-insights",
        resource_group_name=resource_group_name,
        location=location,
        kind="Linux",
        description="AKS Container Insights: container logs and inventory to the stack's workspace",
        data_sources={
            "extensions": [
                {
                    "name": "ContainerInsightsExtension",
                    "extension_name": "ContainerInsights",
                    "streams": [STREAM],
                    "extension_settings": {
                        "dataCollectionSettings": {
                            "interval": "1m",
                            "namespaceFilteringMode": "Off",
                            "enableContainerLogV2": True,
                        }
                    },
                }
            ]
        },
        destinations={
            "log_analytics": [{"name": DESTINATION, "workspace_resource_id": workspace_id}]
        },
        data_flows=[{"streams": [STREAM], "destinations": [DESTINATION]}],
        tags=tags,
        opts=opts,
    )
    return azure.monitor.DataCollectionRuleAssociation(
        f"{name}-container-insights",
        association_name="ContainerInsightsExtension",
        resource_uri=cluster.id,
        data_collection_rule_id=rule.id,
        description="Container Insights for this cluster",
        opts=opts,
    )
