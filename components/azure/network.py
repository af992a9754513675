"""`Network`: the platform's VNet in one UAE location, with no way in from the internet.

Subnets are carved deterministically from the VNet's address space (it must be /19 or larger):

| subnet | prefix (for 10.50.0.0/16) | purpose |
|---|---|---|
| `nodes` | 10.50.0.0/20 | AKS nodes (CNI overlay: pod IPs come from the pod CIDR) |
| `endpoints` | 10.50.16.0/24 | private endpoints: Key Vault, Storage, Redis, Event Hubs, ACR |
| `postgres` | 10.50.17.0/24 | delegated to PostgreSQL Flexible Server (VNet-injected) |
| `apiserver` | 10.50.18.0/28 | delegated to AKS API Server VNet Integration (private KMS) |
| `AzureFirewallSubnet` | 10.50.19.0/26 | the egress firewall (`components.azure.firewall`) |

Egress is closed: the nodes subnet's route table sends everything outside the VNet to the
firewall's private address (`firewall_private_ip`, the first address Azure hands out in its
subnet), and the firewall lets out only its FQDN allowlist. Each subnet but the firewall's has
its own NSG with explicit rules both ways: inbound, `Internet` denied (UAE-NET-003: Azure's
default rules already do; the explicit rule survives a hand-added allow and shows the intent to
the policy pack); outbound, the VNet, then only what that subnet's own traffic needs (the nodes:
HTTPS/HTTP, which the route takes to the firewall; PostgreSQL and the API server: Entra ID and,
for PostgreSQL, storage in the stack's region, by service tag), then `Internet` denied.

Private DNS zones (`location: global` — Azure DNS zones are global metadata, not data; the
records only resolve inside the linked VNet) are created for every private endpoint service and
for the PostgreSQL server. The PostgreSQL zone is `<prefix>.private.postgres.database.azure.com`,
not `privatelink.postgres…`, which Azure reserves for Private Link and would shadow later PEs.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `name_prefix` | physical names (`<prefix>-vnet`, ...) |
| `address_space` | VNet CIDR (/19 or larger) |
| `private_dns_zones` | zones for private endpoints (defaults: `PRIVATE_DNS_ZONES`) |

Outputs: `vnet`, `subnets` (name → Subnet), `dns_zone_ids` (zone → id), `postgres_dns_zone`,
`route_table` (the nodes' route to the firewall).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

PRIVATE_DNS_ZONES: tuple[str, ...] = (
    "privatelink.vaultcore.azure.net",
    "privatelink.blob.core.windows.net",
    "privatelink.dfs.core.windows.net",
    "privatelink.redis.cache.windows.net",
    "privatelink.servicebus.windows.net",
    "privatelink.azurecr.io",
    # Azure Monitor's private link (the workspace is queried and fed privately only)
    "privatelink.monitor.azure.com",
    "privatelink.oms.opinsights.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.agentsvc.azure-automation.net",
)

# subnet → (prefix length, index among subnets of that length, delegation service)
_LAYOUT: dict[str, tuple[int, int, str | None]] = {
    "nodes": (20, 0, None),
    "endpoints": (24, 16, None),
    "postgres": (24, 17, "Microsoft.DBforPostgreSQL/flexibleServers"),
    "apiserver": (28, 18 * 16, "Microsoft.ContainerService/managedClusters"),
    "firewall": (26, 19 * 4, None),
}
# Azure requires these names for these subnets.
_SUBNET_NAMES = {"firewall": "AzureFirewallSubnet"}
# Subnets Azure refuses an NSG on.
_NO_NSG = frozenset({"firewall"})
# Regional service-tag spelling of the UAE locations (Storage.<Region>).
_REGION_TAGS = {"uaenorth": "UAENorth", "uaecentral": "UAECentral"}


def firewall_private_ip(address_space: str) -> str:
    """The egress firewall's private address: Azure gives an Azure Firewall the first address
    it hands out in AzureFirewallSubnet (the fourth: it keeps .0-.3 of every subnet)."""
    subnet = ipaddress.ip_network(subnet_prefixes(address_space)["firewall"])
    return str(subnet.network_address + 4)


def subnet_prefixes(address_space: str) -> dict[str, str]:
    """The subnet CIDRs for a VNet address space (see the module table)."""
    vnet = ipaddress.ip_network(address_space)
    if vnet.prefixlen > 19:
        raise ValueError(f"VNet address space {address_space} is too small; use /19 or larger")
    layout = {}
    for subnet, (length, index, _) in _LAYOUT.items():
        layout[subnet] = str(list(vnet.subnets(new_prefix=length))[index])
    return layout


@dataclass(frozen=True)
class NetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    name_prefix: str
    address_space: str
    tags: dict[str, str]
    private_dns_zones: tuple[str, ...] = PRIVATE_DNS_ZONES


def _rule(
    name: str, priority: int, direction: str, access: str, peer: str, ports: str, why: str
) -> dict:
    """One NSG rule; `peer` is the source (inbound) or destination (outbound)."""
    inbound = direction == "Inbound"
    return {
        "name": name,
        "priority": priority,
        "direction": direction,
        "access": access,
        "protocol": "Tcp" if ports != "*" else "*",
        "source_address_prefix": peer if inbound else "VirtualNetwork",
        "source_port_range": "*",
        "destination_address_prefix": "*" if inbound else peer,
        "destination_port_range": ports,
        "description": why,
    }


def _outbound_needs(subnet: str, location: str) -> list[tuple[str, str, str, str]]:
    """(name, destination, ports, why) a subnet's own traffic needs beyond the VNet."""
    entra = ("allow-entra-id", "AzureActiveDirectory", "443", "Entra ID token validation")
    if subnet == "nodes":
        return [
            ("allow-https-to-firewall", "Internet", "443", "routed to the egress firewall"),
            ("allow-http-to-firewall", "Internet", "80", "routed to the egress firewall (CRLs)"),
        ]
    if subnet == "postgres":
        region = _REGION_TAGS.get(location, location)
        storage = f"Storage.{region}"
        return [
            (*entra[:3], "Entra ID authentication of database logins"),
            ("allow-storage-in-region", storage, "443", "WAL and backups, in the stack's region"),
        ]
    if subnet == "apiserver":
        return [entra]
    return []


def _nsg_rules(subnet: str, location: str) -> list[dict]:
    """Inbound: no internet. Outbound: the VNet, what the subnet needs, then no internet."""
    rules = [
        _rule(
            "deny-internet-inbound",
            4000,
            "Inbound",
            "Deny",
            "Internet",
            "*",
            "No ingress from the internet to any platform subnet (UAE-NET-003)",
        ),
        _rule("allow-vnet-outbound", 100, "Outbound", "Allow", "VirtualNetwork", "*", "the VNet"),
    ]
    for offset, (name, peer, ports, why) in enumerate(_outbound_needs(subnet, location)):
        rules.append(_rule(name, 200 + 10 * offset, "Outbound", "Allow", peer, ports, why))
    rules.append(
        _rule(
            "deny-internet-outbound",
            4000,
            "Outbound",
            "Deny",
            "Internet",
            "*",
            "Nothing else leaves the VNet (closed egress)",
        )
    )
    return rules


class Network(pulumi.ComponentResource):
    vnet: azure.network.VirtualNetwork
    subnets: dict[str, azure.network.Subnet]
    dns_zone_ids: dict[str, pulumi.Output[str]]
    postgres_dns_zone: azure.privatedns.PrivateZone
    route_table: azure.network.RouteTable

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:azure:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefixes = subnet_prefixes(args.address_space)

        self.vnet = azure.network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=f"{args.name_prefix}-vnet",
            location=args.location,
            address_space={"address_prefixes": [args.address_space]},
            resource_group_name=args.resource_group_name,
            tags=args.tags,
            opts=child,
        )

        self.route_table = self._egress_route(name, args)
        # Subnets one after another: ARM refuses concurrent writes to the same VNet.
        self.subnets = {}
        previous: pulumi.Resource | None = None
        for subnet, (_, _, delegation) in _LAYOUT.items():
            self.subnets[subnet] = azure.network.Subnet(
                f"{name}-{subnet}",
                subnet_name=_SUBNET_NAMES.get(subnet, subnet),
                virtual_network_name=self.vnet.name,
                resource_group_name=args.resource_group_name,
                address_prefix=prefixes[subnet],
                network_security_group=self._nsg(name, subnet, args),
                route_table={"id": self.route_table.id} if subnet == "nodes" else None,
                delegations=[{"name": subnet, "service_name": delegation}] if delegation else None,
                # NSGs also apply to private endpoints in this subnet.
                private_endpoint_network_policies="Enabled" if subnet not in _NO_NSG else None,
                default_outbound_access=False if subnet not in _NO_NSG else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else []),
            )
            previous = self.subnets[subnet]

        self.dns_zone_ids = {}
        for zone in args.private_dns_zones:
            self.dns_zone_ids[zone] = self._zone(name, zone, zone, args).id
        self.postgres_dns_zone = self._zone(
            name, "postgres", f"{args.name_prefix}.private.postgres.database.azure.com", args
        )

        self.register_outputs(
            {
                "vnetId": self.vnet.id,
                "subnetIds": {k: v.id for k, v in self.subnets.items()},
                "dnsZoneIds": self.dns_zone_ids,
            }
        )

    def _nsg(self, name: str, subnet: str, args: NetworkArgs) -> dict[str, Any] | None:
        if subnet in _NO_NSG:
            return None
        nsg = azure.network.NetworkSecurityGroup(
            f"{name}-{subnet}-nsg",
            network_security_group_name=f"{args.name_prefix}-{subnet}-nsg",
            location=args.location,
            security_rules=_nsg_rules(subnet, args.location),
            resource_group_name=args.resource_group_name,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return {"id": nsg.id}

    def _egress_route(self, name: str, args: NetworkArgs) -> azure.network.RouteTable:
        """Everything the nodes send outside the VNet goes to the egress firewall."""
        return azure.network.RouteTable(
            f"{name}-egress",
            route_table_name=f"{args.name_prefix}-egress-rt",
            location=args.location,
            resource_group_name=args.resource_group_name,
            disable_bgp_route_propagation=True,  # no learned route can bypass the firewall
            routes=[
                {
                    "name": "to-egress-firewall",
                    "address_prefix": "0.0.0.0/0",
                    "next_hop_type": "VirtualAppliance",
                    "next_hop_ip_address": firewall_private_ip(args.address_space),
                }
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _zone(
        self, name: str, key: str, zone: str, args: NetworkArgs
    ) -> azure.privatedns.PrivateZone:
        child = pulumi.ResourceOptions(parent=self)
        short = key.removeprefix("privatelink.").split(".")[0] if key != "postgres" else key
        resource = azure.privatedns.PrivateZone(
            f"{name}-zone-{short}",
            private_zone_name=zone,
            resource_group_name=args.resource_group_name,
            location="global",  # Azure DNS zones only exist as global resources
            tags=args.tags,
            opts=child,
        )
        azure.privatedns.VirtualNetworkLink(
            f"{name}-zone-{short}-link",
            virtual_network_link_name=f"{args.name_prefix}-vnet",
            private_zone_name=resource.name,
            resource_group_name=args.resource_group_name,
            location="global",
            virtual_network={"id": self.vnet.id},
            registration_enabled=False,
            tags=args.tags,
            opts=child,
        )
        return resource


def private_endpoint(
    name: str,
    *,
    target_id: pulumi.Input[str],
    group_id: str,
    subnet_id: pulumi.Input[str],
    dns_zone_id: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> azure.network.PrivateEndpoint:
    """A private endpoint for one sub-resource (`vault`, `blob`...) and its DNS record."""
    endpoint = azure.network.PrivateEndpoint(
        name,
        private_endpoint_name=name,
        resource_group_name=resource_group_name,
        location=location,
        subnet={"id": subnet_id},
        private_link_service_connections=[
            {"name": name, "private_link_service_id": target_id, "group_ids": [group_id]}
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    azure.network.PrivateDnsZoneGroup(
        f"{name}-dns",
        private_dns_zone_group_name="default",
        private_endpoint_name=endpoint.name,
        resource_group_name=resource_group_name,
        private_dns_zone_configs=[{"name": group_id, "private_dns_zone_id": dns_zone_id}],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return endpoint
