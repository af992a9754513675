"""EgressFirewall: the VNet's only way out, an FQDN allowlist in the stack's location."""

from __future__ import annotations

import pytest

from components.azure.firewall import (
    AKS_EGRESS,
    GPU_DRIVER_EGRESS,
    AllowedDestinations,
    EgressFirewall,
    EgressFirewallArgs,
)
from tests.components.azure.azure_fixtures import (
    LOCATION,
    PROVIDERS,
    RG,
    TAGS,
    WORKSPACE,
    assert_pinned,
    of,
    one,
    run_azure,
)

FIREWALL_SUBNET = f"{PROVIDERS}/Microsoft.Network/virtualNetworks/vnet/subnets/AzureFirewallSubnet"
NODES = "10.60.0.0/20"


def _args(**changes) -> EgressFirewallArgs:
    fields = {
        "resource_group_name": RG,
        "location": LOCATION,
        "name_prefix": "mlplatform-test",
        "subnet_id": FIREWALL_SUBNET,
        "private_ip": "10.60.19.4",
        "sources": (NODES,),
        "allowed": (*AKS_EGRESS, GPU_DRIVER_EGRESS),
        "workspace_id": WORKSPACE,
        "tags": TAGS,
        **changes,
    }
    return EgressFirewallArgs(**fields)


@pytest.fixture(scope="module")
def firewall():
    return run_azure(lambda opts: EgressFirewall("egress", _args(), opts=opts))


def test_the_firewall_is_zone_redundant_in_the_stack_location_and_takes_nothing_in(firewall):
    assert_pinned(firewall)
    fw = one(firewall, "AzureFirewall")
    i = fw.inputs
    assert i["location"] == LOCATION and i["zones"] == ["1", "2", "3"]
    assert i["sku"] == {"name": "AZFW_VNet", "tier": "Standard"}
    (config,) = i["ipConfigurations"]
    assert config["subnet"]["id"] == FIREWALL_SUBNET
    # no DNAT, no classic rule collections: only the policy's allowlist decides
    for unused in ("natRuleCollections", "networkRuleCollections", "applicationRuleCollections"):
        assert not i.get(unused)
    policy = one(firewall, "FirewallPolicy").inputs
    assert policy["location"] == LOCATION and policy["threatIntelMode"] == "Deny"
    # the allowlist exists before the firewall forwards anything
    rules = one(firewall, "FirewallPolicyRuleCollectionGroup")
    assert rules.urn in fw.options["dependsOn"]
    address = one(firewall, "PublicIPAddress").inputs
    assert address["location"] == LOCATION and address["sku"]["name"] == "Standard"


def test_only_the_allowlisted_names_leave_and_only_from_the_nodes(firewall):
    group = one(firewall, "FirewallPolicyRuleCollectionGroup").inputs
    (collection,) = group["ruleCollections"]
    assert collection["ruleCollectionType"] == "FirewallPolicyFilterRuleCollection"
    assert collection["action"] == {"type": "Allow"}
    found = {}
    for rule in collection["rules"]:
        assert rule["ruleType"] == "ApplicationRule"  # matched on the TLS SNI / Host name
        assert rule["sourceAddresses"] == [NODES]
        assert "destinationAddresses" not in rule and "targetUrls" not in rule
        names = (*rule.get("fqdnTags", ()), *rule.get("targetFqdns", ()))
        ports = {(p["protocolType"], p["port"]) for p in rule["protocols"]}
        found[rule["name"]] = (set(names), ports)
    https = {("Https", 443)}
    assert found == {
        "aks-required": ({"AzureKubernetesService"}, https | {("Http", 80)}),
        "entra-id": ({"login.microsoftonline.com"}, https),
        "gpu-driver": (
            {"nvidia.github.io", "us.download.nvidia.com", "download.docker.com"},
            https,
        ),
    }
    assert not any("*" in name for names, _ in found.values() for name in names)


def test_every_decision_is_logged_to_the_in_country_workspace(firewall):
    fw = one(firewall, "AzureFirewall")
    (setting,) = [s.inputs for s in of(firewall, "DiagnosticSetting")]
    assert setting["workspaceId"] == WORKSPACE
    assert setting["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert setting["resourceUri"] == fw.id


@pytest.mark.parametrize(
    "changes",
    [{"allowed": ()}, {"sources": ()}],
    ids=["no allowlist", "no sources"],
)
def test_a_firewall_without_an_allowlist_or_sources_is_refused(changes):
    with pytest.raises(ValueError, match="needs sources and an allowlist"):
        run_azure(lambda opts: EgressFirewall("egress", _args(**changes), opts=opts))


def test_a_destination_names_something_on_web_ports():
    with pytest.raises(ValueError, match="'nothing' names no FQDN"):
        AllowedDestinations("nothing", "a rule that would match no name")
    with pytest.raises(ValueError, match="ports \\[22\\]; allowed: 443, 80"):
        AllowedDestinations("ssh", "not HTTP(S)", fqdns=("example.org",), ports=(22,))
