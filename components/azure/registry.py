"""`ContainerRegistry`: the stack's in-country image and chart registry (ACR Premium).

Premium is the tier with private endpoints, customer-managed keys and zone redundancy. Images
are encrypted with the platform's HSM key via a user-assigned identity (versionless key ID, so
rotations are followed); there is no admin user, anonymous pull or public network access, and
export is disabled so images cannot be copied out of the registry by `az acr import`
elsewhere. The registry has no geo-replicas: a replica outside the UAE would be a cross-border
copy (UAE-RES-002); if a second copy is needed it may only be uaecentral.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `registry_name` | `config.azure.acrName` (5-50 lowercase letters and digits) |
| `key_uri`, `identity_id`, `identity_client_id` | CMK and the identity allowed to use it |
| `endpoint_subnet_id`, `dns_zone_id` | private endpoint + privatelink.azurecr.io |
| `retention_days` | untagged manifests kept this long |
| `workspace_id` | in-country Log Analytics for login/repository events (optional) |
| `protect` | `protect` on the registry |

Outputs: `registry`, `id`, `login_server`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.azure.monitoring import diagnostic_setting
from components.azure.network import private_endpoint
from components.objects import upstream


@dataclass(frozen=True)
class ContainerRegistryArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    registry_name: str
    key_uri: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    identity_client_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]
    tags: dict[str, str]
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
                lambda i: {"type": "UserAssigned", "user_assigned_identities": {i: {}}}
            ),
            encryption={
                "status": "enabled",
                "key_vault_properties": {
                    "key_identifier": args.key_uri,
                    "identity": args.identity_client_id,
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
