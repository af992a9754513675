"""Security foundations of the Azure target: logs, network and keys, before anything stores data.

| what | component |
|---|---|
| Log Analytics workspace + subscription Activity Log export | `LogAnalytics` |
| VNet, subnets, NSGs, private DNS zones, the nodes' route to the firewall | `Network` |
| the VNet's only way out: Azure Firewall with an FQDN allowlist | `EgressFirewall` |
| its Azure Monitor Private Link Scope (queried from the VNet only) | `MonitorPrivateLink` |
| Key Vault with HSM keys `data`, `logs`, `secrets`, `disks` | `KeyVault` |
| the identity that encrypts with the `data` and `logs` keys | `ManagedIdentity` `cmk` |
| a DR vault (key `backup`) and its identity in `drLocation` | only when it is the UAE pair |

Log Analytics stays on Microsoft-managed keys: a declared exception
(`LOG_ANALYTICS_PLATFORM_KEYS`, in the contract and the compliance report).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.azure.firewall import (
    AKS_EGRESS,
    GPU_DRIVER_EGRESS,
    AllowedDestinations,
    EgressFirewall,
    EgressFirewallArgs,
)
from components.azure.identity import Grant, ManagedIdentity
from components.azure.keyvault import KeyVault, KeyVaultArgs
from components.azure.monitoring import (
    MONITOR_DNS_ZONES,
    LogAnalytics,
    LogAnalyticsArgs,
    MonitorPrivateLink,
    MonitorPrivateLinkArgs,
)
from components.azure.network import (
    Network,
    NetworkArgs,
    firewall_private_ip,
    subnet_prefixes,
)
from stacks.foundation import SecurityException
from stacks.targets.azure.site import ENCRYPTION_USER, KEY_PURPOSES, AzureSite, in_country_pair

# Log Analytics takes a customer-managed key only through a dedicated cluster
# (Microsoft.OperationalInsights/clusters, a commitment tier from 100 GB/day), which no default
# may impose on every customer; its data stays in the workspace's UAE location either way.
LOG_ANALYTICS_PLATFORM_KEYS = SecurityException(
    control="8.24",
    policy="UAE-LOG-003",
    what="the Log Analytics workspace (AKS kube-audit, Activity Log, Traffic Analytics) is "
    "encrypted with Microsoft-managed keys, not the platform's Key Vault key",
    why="customer-managed keys for Log Analytics need a dedicated cluster with a commitment "
    "tier from 100 GB/day; the workspace stays in the stack's UAE location",
    remedy="create a Log Analytics dedicated cluster with the Key Vault `logs` key in the same "
    "location and link the workspace to it (az monitor log-analytics cluster create; "
    "workspace linkedServices/cluster)",
)


@dataclass
class Security:
    logs: LogAnalytics
    network: Network
    firewall: EgressFirewall
    egress_exception: SecurityException  # what the firewall lets out of the country, and why
    vault: KeyVault
    cmk: ManagedIdentity  # Crypto Service Encryption User on the data and logs keys
    dr_vault: KeyVault | None
    geo_backup: ManagedIdentity | None


def build_security(site: AzureSite) -> Security:
    config, azure = site.config, site.azure
    logs = LogAnalytics(
        "logs",
        LogAnalyticsArgs(
            workspace_name=site.names["workspace"],
            retention_days=max(30, config.logging.retention_days),
            **site.common(),
        ),
        opts=site.opts(),
    )
    network = Network(
        "net",
        NetworkArgs(
            name_prefix=site.names["prefix"], address_space=azure.vnet_cidr, **site.common()
        ),
        opts=site.opts(),
    )
    allowed = egress_allowlist(site)
    firewall = _firewall(site, logs, network, allowed)
    MonitorPrivateLink(
        "logs-private-link",
        MonitorPrivateLinkArgs(
            scope_name=f"{site.names['prefix']}-ampls",
            workspace_id=logs.id,
            endpoint_subnet_id=network.subnets["endpoints"].id,
            dns_zone_ids={zone: network.dns_zone_ids[zone] for zone in MONITOR_DNS_ZONES},
            **site.common(),
        ),
        opts=site.opts(),
    )
    vault_zone = network.dns_zone_ids["privatelink.vaultcore.azure.net"]

    def key_vault(name: str, vault_name: str, keys: tuple[str, ...], location: str) -> KeyVault:
        fields = {**site.common(), "location": location}
        return KeyVault(
            name,
            KeyVaultArgs(
                vault_name=vault_name,
                tenant_id=azure.tenant_id,
                keys=keys,
                endpoint_subnet_id=network.subnets["endpoints"].id,
                endpoint_location=site.location,
                dns_zone_id=vault_zone,
                workspace_id=logs.id,
                protect=site.protect,
                **fields,
            ),
            opts=site.opts(),
        )

    vault = key_vault("kv", site.names["vault"], KEY_PURPOSES, site.location)
    cmk = site.identity(
        "cmk",
        Grant(ENCRYPTION_USER, vault.key_ids["data"]),
        Grant(ENCRYPTION_USER, vault.key_ids["logs"]),
    )
    dr_vault = geo_backup = None
    if in_country_pair(azure):
        # PostgreSQL geo-backups are encrypted with a key and identity in the paired region.
        dr_vault = key_vault("kv-dr", site.names["dr_vault"], ("backup",), azure.dr_location)
        geo_backup = site.identity(
            "geo-backup",
            Grant(ENCRYPTION_USER, dr_vault.key_ids["backup"]),
            location=azure.dr_location,
        )
    return Security(
        logs, network, firewall, egress_exception(allowed), vault, cmk, dr_vault, geo_backup
    )


def egress_allowlist(site: AzureSite) -> tuple[AllowedDestinations, ...]:
    """The nodes' egress: AKS's needs, Entra ID, and the NVIDIA driver hosts with GPU pools."""
    return (*AKS_EGRESS, GPU_DRIVER_EGRESS) if site.config.gpu_pools else AKS_EGRESS


def egress_exception(allowed: tuple[AllowedDestinations, ...]) -> SecurityException:
    """What leaves the VNet, declared: the firewall's allowlist names global services."""
    names = "; ".join(f"{a.name}: {', '.join((*a.fqdn_tags, *a.fqdns))} ({a.why})" for a in allowed)
    return SecurityException(
        control="8.20",
        policy="UAE-RES-005",
        what="the cluster's nodes reach services outside the UAE through the VNet's egress "
        f"firewall, which lets out HTTP(S) only to its FQDN allowlist — {names}",
        why="AKS cannot provision, join, patch or run its own add-ons without Microsoft's "
        "endpoints (its system images come from mcr.microsoft.com, not the in-country mirror), "
        "workload identity exchanges tokens at Entra ID, and GPU node images fetch NVIDIA's "
        "packages; these are requests for images, packages and tokens, carrying no platform "
        "data: every store is reached through private endpoints inside the VNet, the "
        "firewall logs every decision to the in-country workspace, and pods' NetworkPolicies "
        "admit outside the VNet only Entra ID's published sign-in ranges",
        remedy="an AKS network-isolated cluster (outboundType none, bootstrap artifacts from "
        "the in-country ACR's cache of MCR) once offered in the stack's location removes the "
        "AKS entries; workloads' images already come from the in-country mirror only",
    )


def _firewall(
    site: AzureSite,
    logs: LogAnalytics,
    network: Network,
    allowed: tuple[AllowedDestinations, ...],
) -> EgressFirewall:
    """The VNet's only way out, in the stack's location, logging to its workspace."""
    return EgressFirewall(
        "egress",
        EgressFirewallArgs(
            name_prefix=site.names["prefix"],
            subnet_id=network.subnets["firewall"].id,
            private_ip=firewall_private_ip(site.azure.vnet_cidr),
            sources=(subnet_prefixes(site.azure.vnet_cidr)["nodes"],),
            allowed=allowed,
            workspace_id=logs.id,
            **site.common(),
        ),
        opts=site.opts(),
    )
