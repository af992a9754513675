"""`EgressFirewall`: the VNet's only way out — Azure Firewall in the stack's UAE location, letting
out only an FQDN allowlist.

The nodes subnet's route table (`components.azure.network`) sends everything outside the VNet
to the firewall's private address; the firewall lets out HTTPS/HTTP to the names listed here and
nothing else (application rules match the TLS SNI / Host header, so an address cannot pass for
an allowed name), denies known-malicious addresses (threat intelligence: deny), and logs every
decision to the stack's in-country workspace. Everything the platform keeps (Key Vault, storage,
PostgreSQL, Redis, Event Hubs, the registry) is reached through private endpoints inside the
VNet and never crosses it. It takes no inbound traffic: no DNAT rule, no management subnet; its
public address (Standard, static, zone-redundant) is only the source of what it lets out.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (the stack's UAE location) |
| `name_prefix` | physical names (`<prefix>-fw`, `<prefix>-fw-policy`, ...) |
| `subnet_id` | the VNet's `AzureFirewallSubnet` |
| `private_ip` | the address the route table sends egress to (`network.firewall_private_ip`) |
| `sources` | who may go out (the nodes subnet) |
| `allowed` | `AllowedDestinations`: FQDNs or Azure FQDN tags, with why |
| `workspace_id` | in-country Log Analytics for the firewall's logs |
| `zones` | availability zones (1-3) |

Outputs: `firewall`, `policy`, `rules` (the rule collection group AKS must wait for).

`AKS_EGRESS`: what AKS nodes need (Microsoft's `AzureKubernetesService` FQDN tag: MCR, AKS
packages, ARM, Entra ID) and Entra ID for workload identity; `GPU_DRIVER_EGRESS`: the NVIDIA
hosts GPU node images install their driver from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.azure.monitoring import diagnostic_setting


@dataclass(frozen=True)
class AllowedDestinations:
    """HTTP(S) destinations the firewall lets out, by name or Azure FQDN tag."""

    name: str
    why: str
    fqdns: tuple[str, ...] = ()
    fqdn_tags: tuple[str, ...] = ()
    ports: tuple[int, ...] = (443,)

    def __post_init__(self) -> None:
        if not (self.fqdns or self.fqdn_tags):
            raise ValueError(f"egress destination '{self.name}' names no FQDN or FQDN tag")
        if not self.ports or set(self.ports) - {80, 443}:
            raise ValueError(
                f"egress destination '{self.name}': ports {list(self.ports)}; allowed: 443, 80"
            )


AKS_EGRESS: tuple[AllowedDestinations, ...] = (
    AllowedDestinations(
        "aks-required",
        "what AKS nodes need: MCR images, AKS packages, ARM, Entra ID (Microsoft's FQDN tag)",
        fqdn_tags=("AzureKubernetesService",),
        ports=(443, 80),
    ),
    AllowedDestinations(
        "entra-id",
        "Entra ID's token endpoint: pods exchange their workload identity token there",
        fqdns=("login.microsoftonline.com",),
    ),
)
GPU_DRIVER_EGRESS = AllowedDestinations(
    "gpu-driver",
    "NVIDIA driver and container toolkit packages for AKS GPU node images",
    fqdns=("nvidia.github.io", "us.download.nvidia.com", "download.docker.com"),
)


@dataclass(frozen=True)
class EgressFirewallArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    name_prefix: str
    subnet_id: pulumi.Input[str]
    private_ip: str
    sources: tuple[str, ...]
    allowed: tuple[AllowedDestinations, ...]
    workspace_id: pulumi.Input[str]
    tags: dict[str, str]
    zones: tuple[str, ...] = ("1", "2", "3")


def _application_rule(
    sources: Sequence[str], allowed: AllowedDestinations
) -> azure.network.ApplicationRuleArgs:
    """One application rule (the typed Args: a rule collection's `rules` is a union of rule
    kinds, so plain dicts would reach ARM with their Python names untranslated)."""
    return azure.network.ApplicationRuleArgs(
        rule_type="ApplicationRule",
        name=allowed.name,
        description=allowed.why,
        source_addresses=list(sources),
        protocols=[
            azure.network.FirewallPolicyRuleApplicationProtocolArgs(
                protocol_type="Https" if port == 443 else "Http", port=port
            )
            for port in allowed.ports
        ],
        target_fqdns=list(allowed.fqdns) or None,
        fqdn_tags=list(allowed.fqdn_tags) or None,
    )


class EgressFirewall(pulumi.ComponentResource):
    firewall: azure.network.AzureFirewall
    policy: azure.network.FirewallPolicy
    rules: azure.network.FirewallPolicyRuleCollectionGroup

    def __init__(
        self, name: str, args: EgressFirewallArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:EgressFirewall", name, None, opts)
        if not args.allowed or not args.sources:
            raise ValueError(f"{name}: an egress firewall needs sources and an allowlist")
        child = pulumi.ResourceOptions(parent=self)
        where = {"resource_group_name": args.resource_group_name, "location": args.location}
        address = azure.network.PublicIPAddress(
            f"{name}-pip",
            public_ip_address_name=f"{args.name_prefix}-fw-pip",
            sku={"name": "Standard", "tier": "Regional"},
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=list(args.zones),
            tags=args.tags,
            opts=child,
            **where,
        )
        self.policy = azure.network.FirewallPolicy(
            f"{name}-policy",
            firewall_policy_name=f"{args.name_prefix}-fw-policy",
            sku={"tier": "Standard"},
            threat_intel_mode="Deny",
            tags=args.tags,
            opts=child,
            **where,
        )
        self.rules = azure.network.FirewallPolicyRuleCollectionGroup(
            f"{name}-rules",
            rule_collection_group_name="egress-allowlist",
            firewall_policy_name=self.policy.name,
            resource_group_name=args.resource_group_name,
            priority=200,
            rule_collections=[
                azure.network.FirewallPolicyFilterRuleCollectionArgs(
                    rule_collection_type="FirewallPolicyFilterRuleCollection",
                    name="allowlist",
                    priority=200,
                    action=azure.network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
                    rules=[_application_rule(args.sources, a) for a in args.allowed],
                )
            ],
            opts=child,
        )
        self.firewall = azure.network.AzureFirewall(
            name,
            azure_firewall_name=f"{args.name_prefix}-fw",
            sku={"name": "AZFW_VNet", "tier": "Standard"},
            firewall_policy={"id": self.policy.id},
            ip_configurations=[
                {
                    "name": "egress",
                    "subnet": {"id": args.subnet_id},
                    "public_ip_address": {"id": address.id},
                }
            ],
            zones=list(args.zones),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.rules]),
            **where,
        )
        self.firewall.ip_configurations.apply(lambda c: _check_address(c, args.private_ip))
        diagnostic_setting(
            f"{name}-logs",
            resource_uri=self.firewall.id,
            workspace_id=args.workspace_id,
            category_groups=("allLogs",),
            parent=self,
        )
        self.register_outputs({"firewallId": self.firewall.id})


def _check_address(configurations: object, expected: str) -> None:
    """Fail `pulumi up` if Azure gave the firewall another address than the route targets."""
    for config in configurations or []:  # type: ignore[attr-defined]
        actual = getattr(config, "private_ip_address", None)
        if actual and actual != expected:
            raise ValueError(
                f"the egress firewall got private address {actual}, but the nodes' route "
                f"sends egress to {expected}: nothing would leave the VNet"
            )
