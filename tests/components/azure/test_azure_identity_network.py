"""ManagedIdentity (scoped grants, federation) and Network (subnets, NSGs, private DNS)."""

from __future__ import annotations

import pytest

from components.azure.identity import (
    ROLES,
    FederatedSubject,
    Grant,
    ManagedIdentity,
    ManagedIdentityArgs,
    role_definition_id,
)
from components.azure.network import (
    PRIVATE_DNS_ZONES,
    Network,
    NetworkArgs,
    firewall_private_ip,
    private_endpoint,
    subnet_prefixes,
)
from tests.components.azure.azure_fixtures import (
    LOCATION,
    RG,
    SUBNET,
    SUBSCRIPTION,
    TAGS,
    ZONE,
    assert_pinned,
    of,
    one,
    run_azure,
)

KEY = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv"
KEY += "/keys/data"
ISSUER = "https://uaenorth.oic.prod-aks.azure.com/tenant/cluster/"


def _identity(**extra):
    return ManagedIdentityArgs(
        resource_group_name=RG, location=LOCATION, subscription_id=SUBSCRIPTION, tags=TAGS, **extra
    )


def test_identity_grants_exactly_the_named_roles_on_the_named_scopes():
    syn = run_azure(
        lambda opts: ManagedIdentity(
            "id-cmk",
            _identity(grants=(Grant("Key Vault Crypto Service Encryption User", KEY),)),
            opts=opts,
        )
    )
    assert_pinned(syn)
    uai = one(syn, "UserAssignedIdentity").inputs
    assert uai["location"] == LOCATION and uai["tags"] == TAGS
    (assignment,) = of(syn, "RoleAssignment")
    assert assignment.inputs["scope"] == KEY
    assert assignment.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    )
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert not of(syn, "FederatedIdentityCredential")


def test_identity_federates_only_the_named_service_account():
    syn = run_azure(
        lambda opts: ManagedIdentity(
            "id-mlflow",
            _identity(issuer=ISSUER, subjects=(FederatedSubject("mlflow", "mlflow"),)),
            opts=opts,
        )
    )
    credential = one(syn, "FederatedIdentityCredential").inputs
    assert credential["subject"] == "system:serviceaccount:mlflow:mlflow"
    assert credential["issuer"] == ISSUER
    assert credential["audiences"] == ["api://AzureADTokenExchange"]


def test_identity_refuses_unknown_roles_and_issuerless_federation():
    with pytest.raises(ValueError, match="unknown role"):
        role_definition_id(SUBSCRIPTION, "Owner")
    assert "Owner" not in ROLES and "Contributor" not in ROLES
    with pytest.raises(ValueError, match="issuer"):
        run_azure(
            lambda opts: ManagedIdentity(
                "id-x", _identity(subjects=(FederatedSubject("ns", "sa"),)), opts=opts
            )
        )


def test_subnet_layout_is_carved_from_the_vnet():
    assert subnet_prefixes("10.50.0.0/16") == {
        "nodes": "10.50.0.0/20",
        "endpoints": "10.50.16.0/24",
        "postgres": "10.50.17.0/24",
        "apiserver": "10.50.18.0/28",
        "firewall": "10.50.19.0/26",
    }
    assert firewall_private_ip("10.50.0.0/16") == "10.50.19.4"
    with pytest.raises(ValueError, match="too small"):
        subnet_prefixes("10.50.0.0/20")


@pytest.fixture(scope="module")
def network():
    return run_azure(
        lambda opts: Network(
            "net",
            NetworkArgs(
                resource_group_name=RG,
                location=LOCATION,
                name_prefix="mlplatform-test",
                address_space="10.60.0.0/16",
                tags=TAGS,
            ),
            opts=opts,
        )
    )


def test_network_subnets_are_delegated_and_guarded(network):
    assert_pinned(network)
    subnets = {s.inputs["subnetName"]: s.inputs for s in of(network, "Subnet")}
    assert set(subnets) == {"nodes", "endpoints", "postgres", "apiserver", "AzureFirewallSubnet"}
    firewall = subnets.pop("AzureFirewallSubnet")  # Azure allows no NSG there
    assert firewall["addressPrefix"] == "10.60.19.0/26" and "networkSecurityGroup" not in firewall
    assert subnets["postgres"]["delegations"][0]["serviceName"] == (
        "Microsoft.DBforPostgreSQL/flexibleServers"
    )
    assert subnets["apiserver"]["delegations"][0]["serviceName"] == (
        "Microsoft.ContainerService/managedClusters"
    )
    assert subnets["apiserver"]["addressPrefix"] == "10.60.18.0/28"
    for subnet in subnets.values():
        assert subnet["networkSecurityGroup"]["id"].endswith("-nsg")
        assert subnet["defaultOutboundAccess"] is False


def test_network_security_groups_deny_the_internet_and_allow_nothing_in(network):
    nsgs = of(network, "NetworkSecurityGroup")
    assert len(nsgs) == 4
    for nsg in nsgs:
        assert nsg.inputs["location"] == LOCATION
        (rule,) = [r for r in nsg.inputs["securityRules"] if r["direction"] == "Inbound"]
        assert (rule["direction"], rule["access"], rule["sourceAddressPrefix"]) == (
            "Inbound",
            "Deny",
            "Internet",
        )


def test_each_subnet_says_what_it_may_reach_outside_the_vnet_and_nothing_else(network):
    """Issue 13.3: the NSGs had no outbound rules (Azure's default lets everything out)."""
    allowed = {}
    for nsg in of(network, "NetworkSecurityGroup"):
        subnet = nsg.inputs["networkSecurityGroupName"].removeprefix("mlplatform-test-")
        rules = [r for r in nsg.inputs["securityRules"] if r["direction"] == "Outbound"]
        last = max(rules, key=lambda r: r["priority"])
        assert (last["access"], last["destinationAddressPrefix"]) == ("Deny", "Internet")
        allowed[subnet.removesuffix("-nsg")] = {
            (r["destinationAddressPrefix"], r["destinationPortRange"])
            for r in rules
            if r["access"] == "Allow"
        }
    vnet = ("VirtualNetwork", "*")
    assert allowed == {
        "nodes": {vnet, ("Internet", "443"), ("Internet", "80")},  # routed to the firewall
        "endpoints": {vnet},
        "postgres": {vnet, ("AzureActiveDirectory", "443"), ("Storage.UAENorth", "443")},
        "apiserver": {vnet, ("AzureActiveDirectory", "443")},
    }


def test_the_nodes_route_everything_outside_the_vnet_to_the_firewall(network):
    table = one(network, "RouteTable").inputs
    (route,) = table["routes"]
    assert route["addressPrefix"] == "0.0.0.0/0"
    assert (route["nextHopType"], route["nextHopIpAddress"]) == ("VirtualAppliance", "10.60.19.4")
    assert table["disableBgpRoutePropagation"] is True
    with_route = [
        s.inputs["subnetName"] for s in of(network, "Subnet") if s.inputs.get("routeTable")
    ]
    assert with_route == ["nodes"]


def test_private_dns_zones_are_global_and_linked_to_the_vnet(network):
    zones = {z.inputs["privateZoneName"]: z.inputs for z in of(network, "PrivateZone")}
    assert set(zones) == {*PRIVATE_DNS_ZONES, "mlplatform-test.private.postgres.database.azure.com"}
    assert {z["location"] for z in zones.values()} == {"global"}
    links = of(network, "VirtualNetworkLink")
    assert len(links) == len(zones)
    assert all(link.inputs["registrationEnabled"] is False for link in links)


def test_private_endpoint_registers_its_dns_record():
    def build(opts):
        net = Network(
            "n",
            NetworkArgs(
                resource_group_name=RG,
                location=LOCATION,
                name_prefix="t",
                address_space="10.70.0.0/16",
                tags=TAGS,
                private_dns_zones=(),
            ),
            opts=opts,
        )
        private_endpoint(
            "pe-vault",
            target_id="/subscriptions/s/vaults/kv",
            group_id="vault",
            subnet_id=SUBNET,
            dns_zone_id=ZONE,
            resource_group_name=RG,
            location=LOCATION,
            tags=TAGS,
            parent=net,
        )

    syn = run_azure(build)
    endpoint = one(syn, "PrivateEndpoint").inputs
    assert endpoint["subnet"]["id"] == SUBNET and endpoint["location"] == LOCATION
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]
    group = one(syn, "PrivateDnsZoneGroup").inputs
    assert group["privateDnsZoneConfigs"] == [{"name": "vault", "privateDnsZoneId": ZONE}]
