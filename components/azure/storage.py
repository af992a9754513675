"""`StorageAccount`: StorageV2 encrypted with the platform's key, reachable only privately.

Encryption uses the customer-managed key in the in-country Key Vault through a user-assigned
identity (`Microsoft.Keyvault` key source, versionless key URI so rotations are picked up;
infrastructure encryption on top — UAE-KEY-001). Public blob access, shared keys and TLS below
1.2 are refused (`defaultToOAuthAuthentication`: clients use Entra ID / workload identity); the
account has no public endpoint (UAE-NET-002) and is reached through private endpoints for `blob`
and `dfs`. Blob versioning and soft delete guard against mistakes; containers listed in
`immutable_days` get a container-level WORM policy (UAE-LOG-005). The policy is created
*unlocked*: locking makes it irreversible, so it is an explicit operator step after review
(`az storage container immutability-policy lock`).

Redundancy (`sku`): `Standard_GZRS` replicates to the Azure pair of the account's location.
For uaenorth that pair is uaecentral (both in the UAE), so GZRS keeps every copy in-country;
the stack only asks for it after checking that pairing (UAE-RES-002), otherwise `Standard_ZRS`.

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where (explicit location) |
| `account_name` | globally unique, 3-24 lowercase letters and digits |
| `sku` | `Standard_ZRS` or `Standard_GZRS` (see above) |
| `key_vault_uri`, `key_name`, `identity_id` | the CMK and the identity allowed to use it |
| `containers` | private containers to create |
| `immutable_days` | container → WORM retention in days |
| `endpoint_subnet_id`, `dns_zone_ids` | private endpoints; `{"blob": zone id, "dfs": zone id}` |
| `soft_delete_days` | blob and container soft delete |
| `protect` | `protect` on the account and containers |

Outputs: `account`, `account_name`, `id`, `blob_endpoint`, `containers` (name → BlobContainer),
`container_ids` (name → ARM id, the scope for per-container role assignments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.network import private_endpoint
from components.objects import upstream

IN_COUNTRY_SKUS = ("Standard_ZRS", "Standard_GZRS")


@dataclass(frozen=True)
class StorageAccountArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    account_name: str
    key_vault_uri: pulumi.Input[str]
    key_name: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    dns_zone_ids: dict[str, pulumi.Input[str]]
    tags: dict[str, str]
    sku: str = "Standard_ZRS"
    containers: tuple[str, ...] = ()
    immutable_days: dict[str, int] = field(default_factory=dict)
    soft_delete_days: int = 30
    protect: bool = True


class StorageAccount(pulumi.ComponentResource):
    account: azure.storage.StorageAccount
    account_name: pulumi.Output[str]
    id: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]
    containers: dict[str, azure.storage.BlobContainer]
    container_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: StorageAccountArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:StorageAccount", name, None, opts)
        if args.sku not in IN_COUNTRY_SKUS:
            raise ValueError(f"storage sku {args.sku!r}; allowed: {', '.join(IN_COUNTRY_SKUS)}")
        if not (3 <= len(args.account_name) <= 24 and args.account_name.isalnum()):
            raise ValueError(f"storage account name {args.account_name!r} is not 3-24 [a-z0-9]")
        missing = set(args.immutable_days) - set(args.containers)
        if missing:
            raise ValueError(f"immutable_days names unknown containers: {sorted(missing)}")
        # the component's depends_on (role assignments of the identity it uses) reach the resource
        stateful = pulumi.ResourceOptions(
            parent=self, protect=args.protect, depends_on=upstream(opts)
        )

        self.account = azure.storage.StorageAccount(
            f"{name}-account",
            account_name=args.account_name,
            location=args.location,
            kind="StorageV2",
            sku={"name": args.sku},
            access_tier="Hot",
            identity={"type": "UserAssigned", "user_assigned_identities": [args.identity_id]},
            encryption=_encryption(args),
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            allowed_copy_scope="PrivateLink",
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            public_network_access="Disabled",
            network_rule_set={"default_action": "Deny", "bypass": "AzureServices"},
            is_hns_enabled=False,
            is_sftp_enabled=False,
            is_local_user_enabled=False,
            tags=args.tags,
            opts=stateful,
            resource_group_name=args.resource_group_name,
        )
        self.account_name = self.account.name
        self.id = self.account.id
        self.blob_endpoint = self.account.primary_endpoints.apply(lambda e: e.blob)

        self.containers = self._containers(name, args)
        self.container_ids = {c: r.id for c, r in self.containers.items()}

        for group_id, zone_id in args.dns_zone_ids.items():
            private_endpoint(
                f"{name}-pe-{group_id}",
                target_id=self.account.id,
                group_id=group_id,
                subnet_id=args.endpoint_subnet_id,
                dns_zone_id=zone_id,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=args.tags,
                parent=self,
            )

        self.register_outputs(
            {
                "accountId": self.id,
                "blobEndpoint": self.blob_endpoint,
                "containerIds": self.container_ids,
            }
        )

    def _containers(
        self, name: str, args: StorageAccountArgs
    ) -> dict[str, azure.storage.BlobContainer]:
        """Versioning and soft delete on the blob service, the private containers, and a
        time-based immutability (WORM) policy where `immutable_days` names one."""
        retention = {"enabled": True, "days": args.soft_delete_days}
        blob_service = azure.storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=self.account.name,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            change_feed={"enabled": True, "retention_in_days": max(args.soft_delete_days, 7)},
            opts=pulumi.ResourceOptions(parent=self),
            resource_group_name=args.resource_group_name,
        )

        containers: dict[str, azure.storage.BlobContainer] = {}
        after_service = pulumi.ResourceOptions(
            parent=self, protect=args.protect, depends_on=[blob_service]
        )
        for container in args.containers:
            containers[container] = azure.storage.BlobContainer(
                f"{name}-{container}",
                container_name=container,
                account_name=self.account.name,
                public_access="None",
                opts=after_service,
                resource_group_name=args.resource_group_name,
            )
        for container, days in args.immutable_days.items():
            azure.storage.BlobContainerImmutabilityPolicy(
                f"{name}-{container}-worm",
                account_name=self.account.name,
                container_name=containers[container].name,
                immutability_policy_name="default",
                immutability_period_since_creation_in_days=days,
                # Audit writers append; nobody rewrites or deletes before `days` have passed.
                allow_protected_append_writes_all=True,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
                resource_group_name=args.resource_group_name,
            )
        return containers


def _encryption(args: StorageAccountArgs) -> dict:
    """Every service encrypted with the Key Vault key through the identity, plus a second
    (infrastructure) layer."""
    return {
        "key_source": "Microsoft.Keyvault",
        "key_vault_properties": {
            "key_vault_uri": args.key_vault_uri,
            "key_name": args.key_name,
        },
        "encryption_identity": {"encryption_user_assigned_identity": args.identity_id},
        "require_infrastructure_encryption": True,
        "services": {
            "blob": {"enabled": True, "key_type": "Account"},
            "file": {"enabled": True, "key_type": "Account"},
            "queue": {"enabled": True, "key_type": "Account"},
            "table": {"enabled": True, "key_type": "Account"},
        },
    }
