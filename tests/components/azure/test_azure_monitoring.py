"""LogAnalytics and MonitorPrivateLink: the workspace is fed and queried privately only."""

from __future__ import annotations

import re

import pytest

from components.azure.monitoring import (
    MONITOR_DNS_ZONES,
    LogAnalytics,
    LogAnalyticsArgs,
    MonitorPrivateLink,
    MonitorPrivateLinkArgs,
)
from tests.components.azure.azure_fixtures import (
    LOCATION,
    PROVIDERS,
    RG,
    SUBNET,
    TAGS,
    WORKSPACE,
    assert_pinned,
    of,
    one,
    run_azure,
)

ZONES = {z: f"{PROVIDERS}/Microsoft.Network/privateDnsZones/{z}" for z in MONITOR_DNS_ZONES}


def _private_link(zones: dict[str, str] = ZONES):
    return run_azure(
        lambda opts: MonitorPrivateLink(
            "logs-private-link",
            MonitorPrivateLinkArgs(
                resource_group_name=RG,
                location=LOCATION,
                scope_name="mlplatform-test-ampls",
                workspace_id=WORKSPACE,
                endpoint_subnet_id=SUBNET,
                dns_zone_ids=zones,
                tags=TAGS,
            ),
            opts=opts,
        )
    )


def test_workspace_refuses_public_ingestion_and_public_queries():
    """Issue 13.8: the query endpoint was public (Entra ID only)."""
    synthesis = run_azure(
        lambda opts: LogAnalytics(
            "logs",
            LogAnalyticsArgs(
                resource_group_name=RG,
                location=LOCATION,
                workspace_name="log-test",
                retention_days=400,
                tags=TAGS,
            ),
            opts=opts,
        )
    )
    workspace = one(synthesis, "Workspace").inputs
    assert workspace["publicNetworkAccessForIngestion"] == "Disabled"
    assert workspace["publicNetworkAccessForQuery"] == "Disabled"
    assert workspace["features"]["disableLocalAuth"] is True


def test_the_private_link_scope_admits_only_private_ingestion_and_queries_of_the_workspace():
    synthesis = _private_link()
    assert_pinned(synthesis)
    scope = one(synthesis, "PrivateLinkScope").inputs
    assert scope["location"] == "global"  # an ARM object; the data stays in the workspace
    assert scope["accessModeSettings"] == {
        "ingestionAccessMode": "PrivateOnly",
        "queryAccessMode": "PrivateOnly",
    }
    (scoped,) = [r.inputs for r in of(synthesis, "PrivateLinkScopedResource")]
    assert scoped["linkedResourceId"] == WORKSPACE
    endpoint = one(synthesis, "PrivateEndpoint").inputs
    assert endpoint["location"] == LOCATION and endpoint["subnet"] == {"id": SUBNET}
    (connection,) = endpoint["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["azuremonitor"]
    group = one(synthesis, "PrivateDnsZoneGroup").inputs
    zones = {c["privateDnsZoneId"] for c in group["privateDnsZoneConfigs"]}
    assert zones == set(ZONES.values())


def test_a_missing_monitor_zone_is_refused():
    partial = {z: i for z, i in ZONES.items() if z != "privatelink.ods.opinsights.azure.com"}
    with pytest.raises(ValueError, match=re.escape("privatelink.ods.opinsights.azure.com")):
        _private_link(partial)
