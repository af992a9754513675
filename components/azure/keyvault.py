"""`KeyVault`: a Key Vault Premium in one UAE location holding the platform's HSM-backed keys.

The vault authorises with Azure RBAC only (no access policies, so no wildcard or foreign
principals can hide in them — UAE-KEY-005), keeps deleted keys 90 days and cannot be purged
early (UAE-KEY-004), refuses public network access (reachable through its private endpoint and
by the trusted Azure services that use its keys for CMK: Storage, PostgreSQL, Event Hubs, ACR,
Disk Encryption Sets — `bypass: AzureServices`). Keys are `RSA-HSM` (Premium: FIPS 140-3 level 3
HSMs in the vault's region — UAE-KEY-003) with a rotation policy (UAE-KEY-002). Keys are created
through ARM (the management plane), which the vault firewall does not block.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `vault_name` | globally unique, 3-24 characters |
| `tenant_id` | Entra tenant the vault trusts |
| `keys` | purposes (e.g. `data`, `secrets`, `disks`), one key each, named `<purpose>` |
| `endpoint_subnet_id`, `dns_zone_id` | private endpoint + privatelink.vaultcore.azure.net |
| `endpoint_location` | the VNet's location, if the vault is elsewhere (DR vault) |
| `workspace_id` | in-country Log Analytics for the vault's audit log (optional) |
| `key_size` | RSA modulus (3072) |
| `rotate_after`, `expire_after`, `notify_before` | ISO 8601 durations of the rotation policy |
| `protect` | `protect` on the vault and keys (off only for ephemeral stacks) |

Outputs: `vault`, `vault_id`, `vault_uri`, `keys` (purpose → Key), `key_ids` (purpose → ARM id),
`key_uris` (purpose → versionless key URI; consumers follow rotations automatically).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.azure.monitoring import diagnostic_setting
from components.azure.network import private_endpoint

KEY_OPERATIONS = ["encrypt", "decrypt", "wrapKey", "unwrapKey"]


@dataclass(frozen=True)
class KeyVaultArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    vault_name: str
    tenant_id: str
    keys: tuple[str, ...]
    endpoint_subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]
    tags: dict[str, str]
    workspace_id: pulumi.Input[str] | None = None
    # The private endpoint lives in the VNet's location (a DR vault in uaecentral is still
    # reached through an endpoint in the uaenorth VNet).
    endpoint_location: str | None = None
    key_size: int = 3072
    rotate_after: str = "P180D"
    expire_after: str = "P1Y"
    notify_before: str = "P30D"
    soft_delete_days: int = 90
    protect: bool = True


def _key_properties(args: KeyVaultArgs) -> dict:
    """An HSM-backed RSA key, never exportable, rotated on schedule (notify before expiry)."""
    return {
        "kty": "RSA-HSM",
        "key_size": args.key_size,
        "key_ops": KEY_OPERATIONS,
        "attributes": {"enabled": True, "exportable": False},
        "rotation_policy": {
            "attributes": {"expiry_time": args.expire_after},
            "lifetime_actions": [
                {
                    "trigger": {"time_after_create": args.rotate_after},
                    "action": {"type": "rotate"},
                },
                {
                    "trigger": {"time_before_expiry": args.notify_before},
                    "action": {"type": "notify"},
                },
            ],
        },
    }


class KeyVault(pulumi.ComponentResource):
    vault: azure.keyvault.Vault
    vault_id: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    keys: dict[str, azure.keyvault.Key]
    key_ids: dict[str, pulumi.Output[str]]
    key_uris: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:azure:KeyVault", name, None, opts)
        if not 3 <= len(args.vault_name) <= 24:
            raise ValueError(f"Key Vault name {args.vault_name!r} must be 3-24 characters")
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)

        self.vault = azure.keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties={
                "tenant_id": args.tenant_id,
                "sku": {"family": "A", "name": "premium"},
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": args.soft_delete_days,
                "enable_purge_protection": True,
                "public_network_access": "Disabled",
                "network_acls": {
                    "default_action": "Deny",
                    "bypass": "AzureServices",
                    "ip_rules": [],
                    "virtual_network_rules": [],
                },
                "enabled_for_deployment": False,
                "enabled_for_template_deployment": False,
                "enabled_for_disk_encryption": False,
            },
            tags=args.tags,
            opts=stateful,
        )
        self.vault_id = self.vault.id
        self.vault_uri = self.vault.properties.apply(lambda p: p.vault_uri)

        self.keys = {}
        for purpose in args.keys:
            self.keys[purpose] = azure.keyvault.Key(
                f"{name}-{purpose}",
                key_name=purpose,
                vault_name=self.vault.name,
                resource_group_name=args.resource_group_name,
                properties=_key_properties(args),
                tags={**args.tags, "purpose": purpose},
                opts=stateful,
            )
        self.key_ids = {p: k.id for p, k in self.keys.items()}
        self.key_uris = {p: k.key_uri for p, k in self.keys.items()}

        private_endpoint(
            f"{name}-pe",
            target_id=self.vault.id,
            group_id="vault",
            subnet_id=args.endpoint_subnet_id,
            dns_zone_id=args.dns_zone_id,
            resource_group_name=args.resource_group_name,
            location=args.endpoint_location or args.location,
            tags=args.tags,
            parent=self,
        )
        if args.workspace_id is not None:
            diagnostic_setting(
                f"{name}-audit",
                resource_uri=self.vault.id,
                workspace_id=args.workspace_id,
                category_groups=("audit",),
                parent=self,
            )

        self.register_outputs(
            {"vaultId": self.vault_id, "vaultUri": self.vault_uri, "keyIds": self.key_ids}
        )
