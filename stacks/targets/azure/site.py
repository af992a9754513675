"""What every step of the Azure target shares: names, tags, the pinned provider and the group.

`open_site(config)` declares the one region-pinned `azure_native.Provider` (every resource
also carries an explicit `location`) and the resource group everything lives in.

Residency decisions. Azure pairs uaenorth with uaecentral — both in the UAE — so data that
Azure replicates to the pair stays in-country: storage uses GZRS and PostgreSQL geo-redundant
backups (encrypted with a key in a DR vault in uaecentral) only when `PAIRED_REGIONS` confirms
that `drLocation` is the pair of `location` (`in_country_pair`); otherwise ZRS and no
geo-backup (UAE-RES-002). The DR location is used for nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from components.azure.identity import Grant, ManagedIdentity, ManagedIdentityArgs
from components.azure.monitoring import ACTIVITY_LOG_CONTAINER
from stacks import governance
from stacks.config import Azure, StackConfig

# Azure region pairs (learn.microsoft.com "Azure cross-region replication pairings"), for the
# UAE locations only: a pair outside this table is never used for replication.
PAIRED_REGIONS: dict[str, str] = {"uaenorth": "uaecentral", "uaecentral": "uaenorth"}

KEY_PURPOSES = ("data", "logs", "secrets", "disks")

ARTIFACTS_CONTAINER = "mlflow"
OFFLINE_CONTAINER = "feast-offline"
# The write-once audit container: Azure Monitor archives the Activity Log under this name
AUDIT_CONTAINER = ACTIVITY_LOG_CONTAINER
ENCRYPTION_USER = "Key Vault Crypto Service Encryption User"


def in_country_pair(azure: Azure) -> bool:
    """True when Azure's replication pair of `location` is `drLocation` (both in the UAE)."""
    return PAIRED_REGIONS.get(azure.location) == azure.dr_location


def physical_names(config: StackConfig, azure: Azure) -> dict[str, str]:
    """Readable names, with a stable suffix where Azure wants global uniqueness."""
    env = "".join(ch for ch in config.environment if ch.isalnum())[:8]
    seed = f"{azure.subscription_id}/{config.environment}".encode()
    suffix = hashlib.sha256(seed).hexdigest()[:6]
    prefix = f"mlplatform-{config.environment}"
    return {
        "prefix": prefix,
        "rg": f"{prefix}-rg",
        "vault": f"kv-mlp-{env}-{suffix}",
        "dr_vault": f"kvdr-mlp-{env}-{suffix}",
        "storage": f"stmlp{env}{suffix}",
        "logs_storage": f"stlog{env}{suffix}",
        "postgres": f"psql-mlp-{env}-{suffix}",
        "redis": f"redis-mlp-{env}-{suffix}",
        "eventhubs": f"evhns-mlp-{env}-{suffix}",
        "workspace": f"log-{prefix}",
        "cluster": f"aks-{prefix}",
        "des": f"des-{prefix}",
    }


@dataclass
class AzureSite:
    """What every step needs: config, names, tags and the region-pinned provider."""

    config: StackConfig
    azure: Azure
    names: dict[str, str]
    tags: dict[str, str]
    provider: azure_native.Provider
    resource_group: pulumi.Output[str]

    @property
    def location(self) -> str:
        return self.azure.location

    @property
    def protect(self) -> bool:
        return not self.config.ephemeral

    def opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on))

    def common(self) -> dict:
        """Args fields every Azure component shares."""
        return {
            "resource_group_name": self.resource_group,
            "location": self.location,
            "tags": self.tags,
        }

    def identity(self, name: str, *grants: Grant, **extra) -> ManagedIdentity:
        fields = {**self.common(), **extra}
        return ManagedIdentity(
            f"id-{name}",
            ManagedIdentityArgs(
                subscription_id=self.azure.subscription_id, grants=grants, **fields
            ),
            opts=self.opts(),
        )


def open_site(config: StackConfig) -> AzureSite:
    """The provider pinned to `azure.location` and the stack's resource group."""
    azure = config.azure
    if azure is None:
        raise ValueError("the azure target needs the `azure` config section")
    if config.logging.retention_days > 730:
        raise ValueError(
            "logging.retentionDays above 730 needs Log Analytics long-term retention, "
            "which this distribution does not configure on Azure"
        )
    names = physical_names(config, azure)
    tags = governance.cloud_tags(config)
    provider = azure_native.Provider(
        f"azure-{azure.location}",
        location=azure.location,
        subscription_id=azure.subscription_id,
        tenant_id=azure.tenant_id,
    )
    group = azure_native.resources.ResourceGroup(
        "rg",
        resource_group_name=names["rg"],
        location=azure.location,
        tags=tags,
        opts=pulumi.ResourceOptions(provider=provider, protect=not config.ephemeral),
    )
    return AzureSite(config, azure, names, tags, provider, group.name)
