"""`ContainerRegistry`: the stack's in-country image and chart registry (ACR Premium).

Premium is the tier with private endpoints, customer-managed keys and zone redundancy. Images
are encrypted with the platform's HSM key (versionless key ID, so rotations are followed). Per
Microsoft ("Encrypt registry using a customer-managed key"): the CMK can be enabled only when
the registry is created, and then with a user-assigned identity; a registry reaches a Key Vault
behind its firewall only as a trusted service, i.e. with its SYSTEM-assigned identity (the
vault's `bypass: AzureServices`). So the registry has both identities, its system principal is
granted Key Vault Crypto Service Encryption User on the key, and `key_identity` says which one
encryption uses: `user-assigned` when the registry is created (the bootstrap phase),
`system-assigned` afterwards (ACR's reserved client ID `system`, what
`az acr encryption rotate-key --identity [system]` sets). The user-assigned identity stays
attached: ACR refuses to drop an identity its encryption was configured with.
There is no admin user, anonymous pull or public network access, and
export is disabled so images cannot be copied out of the registry by `az acr import`
elsewhere. The registry has no geo-replicas: a replica outside the UAE would be a cross-border
copy (UAE-RES-002); if a second copy is needed it may only be uaecentral.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `registry_name` | `config.azure.acrName` (5-50 lowercase letters and digits) |
| `key_uri`, `key_id` | the CMK's versionless URI; its ARM ID (the system identity's grant) |
| `identity_id`, `identity_client_id` | the user-assigned identity the CMK is created with |
| `subscription_id` | where the grant's role definition lives |
| `key_identity` | `user-assigned` (creation) or `system-assigned` (trusted service, the default) |
| `endpoint_subnet_id`, `dns_zone_id` | private endpoint + privatelink.azurecr.io |
| `retention_days` | untagged manifests kept this long |
| `workspace_id` | in-country Log Analytics for login/repository events (optional) |
| `protect` | `protect` on the registry |

Outputs: `registry`, `id`, `login_server`, `key_grant` (the system principal's role assignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_azure_native as azure

from components.azure.identity import role_definition_id
from components.azure.monitoring import diagnostic_setting
from components.azure.network import private_endpoint
from components.objects import upstream

# ACR's reserved client ID for the registry's system-assigned identity in keyVaultProperties.
ACR_SYSTEM_IDENTITY = "system"


@dataclass(frozen=True)
class ContainerRegistryArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    registry_name: str
    key_uri: pulumi.Input[str]
    key_id: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    identity_client_id: pulumi.Input[str]
    subscription_id: str
    endpoint_subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]
    tags: dict[str, str]
    key_identity: Literal["user-assigned", "system-assigned"] = "system-assigned"
    retention_days: int = 30
    workspace_id: pulumi.Input[str] | None = None
    protect: bool = True


class ContainerRegistry(pulumi.ComponentResource):
    registry: azure.containerregistry.Registry
    id: pulumi.Output[str]
    login_server: pulumi.Output[str]

    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:ContainerRegistry", name, None, opts)
        self.registry = azure.containerregistry.Registry(
            f"{name}-registry",
            registry_name=args.registry_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "Premium"},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            data_endpoint_enabled=True,
            public_network_access="Disabled",
            network_rule_set={"default_action": "Deny", "ip_rules": []},
            network_rule_bypass_options="AzureServices",
            zone_redundancy="Enabled",
            identity=pulumi.Output.from_input(args.identity_id).apply(
                lambda i: {
                    "type": "SystemAssigned, UserAssigned",
                    "user_assigned_identities": {i: {}},
                }
            ),
            encryption={
                "status": "enabled",
                "key_vault_properties": {
                    "key_identifier": args.key_uri,
                    "identity": (
                        ACR_SYSTEM_IDENTITY
                        if args.key_identity == "system-assigned"
                        else args.identity_client_id
                    ),
                },
            },
            policies={
                "export_policy": {"status": "disabled"},
                "retention_policy": {"status": "enabled", "days": args.retention_days},
                "azure_ad_authentication_as_arm_policy": {"status": "enabled"},
            },
            tags=args.tags,
            # the component's depends_on (its identity's role assignments) reach the resource
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=upstream(opts)
            ),
        )
        self.id = self.registry.id
        self.login_server = self.registry.login_server
        # The trusted-service path: the registry's own principal may wrap/unwrap with this key
        # (and nothing else); it exists once the registry does, before encryption switches to it.
        self.key_grant = azure.authorization.RoleAssignment(
            f"{name}-system-key",
            principal_id=self.registry.identity.apply(lambda i: i.principal_id if i else None),
            principal_type="ServicePrincipal",
            role_definition_id=role_definition_id(
                args.subscription_id, "Key Vault Crypto Service Encryption User"
            ),
            scope=args.key_id,
            description=f"mlplatform: {name}'s system identity encrypts with this key only",
            opts=pulumi.ResourceOptions(parent=self),
        )
        private_endpoint(
            f"{name}-pe",
            target_id=self.registry.id,
            group_id="registry",
            subnet_id=args.endpoint_subnet_id,
            dns_zone_id=args.dns_zone_id,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            parent=self,
        )
        if args.workspace_id is not None:
            diagnostic_setting(
                f"{name}-audit",
                resource_uri=self.registry.id,
                workspace_id=args.workspace_id,
                categories=("ContainerRegistryLoginEvents", "ContainerRegistryRepositoryEvents"),
                parent=self,
            )
        self.register_outputs({"registryId": self.id, "loginServer": self.login_server})
