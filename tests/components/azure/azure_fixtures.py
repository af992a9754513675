"""Shared helpers for the Azure component tests (run under the SDK mocks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_azure_native as azure

from infra.synth.recording import Resource, Synthesis, synthesize

SUBSCRIPTION = "00000000-0000-4000-8000-000000000000"  # the mocks' default subscription
TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
LOCATION = "uaenorth"
RG = "mlplatform-test-rg"
TAGS = {
    "owner": "ml-platform-team",
    "cost-centre": "cc-4410",
    "data-classification": "confidential",
    "system": "mlplatform",
    "residency": "uae",
    "pii": "false",
}
PROVIDERS = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + RG + "/providers"
SUBNET = f"{PROVIDERS}/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints"
ZONE = f"{PROVIDERS}/Microsoft.Network/privateDnsZones/privatelink.example"
IDENTITY = f"{PROVIDERS}/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk"
VAULT_URI = "https://kv-test.vault.azure.net/"
WORKSPACE = f"{PROVIDERS}/Microsoft.OperationalInsights/workspaces/log-test"


def run_azure(build: Callable[[pulumi.ResourceOptions], Any]) -> Synthesis:
    """Run `build(opts)` with a provider pinned to uaenorth, as the stack does."""

    def program() -> None:
        provider = azure.Provider("azure", location=LOCATION, subscription_id=SUBSCRIPTION)
        build(pulumi.ResourceOptions(provider=provider))

    return synthesize("test", {}, program)


def of(syn: Synthesis, kind: str) -> list[Resource]:
    """Azure resources of one kind (`Vault`, `RoleAssignment`...), components excluded."""
    return [r for r in syn.resources if r.custom and r.type.endswith(f":{kind}")]


def one(syn: Synthesis, kind: str) -> Resource:
    found = of(syn, kind)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def assert_pinned(syn: Synthesis) -> None:
    """Every Azure resource uses the pinned provider; located ones name uaenorth/global."""
    (provider,) = syn.of_type("pulumi:providers:azure-native")
    for r in syn.resources:
        if r.custom and r.type.startswith("azure-native:"):
            assert r.provider and r.provider.startswith(provider.urn), r.name
            location = r.inputs.get("location")
            assert location in (None, LOCATION, "uaecentral", "global"), (r.name, location)
