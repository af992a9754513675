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
    }
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
    assert set(subnets) == {"nodes", "endpoints", "postgres", "apiserver"}
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
        (rule,) = nsg.inputs["securityRules"]
        assert (rule["direction"], rule["access"], rule["sourceAddressPrefix"]) == (
            "Inbound",
            "Deny",
            "Internet",
        )


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
