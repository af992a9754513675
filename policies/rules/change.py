"""UAE-CHG-001: change safety for stateful resources.

Keys, databases, buckets, vaults, caches, brokers and PVC-backed clusters are `protect`ed (or
`retainOnDelete`) so a refactor or `pulumi destroy` cannot delete data, and never
`deleteBeforeReplace` (which destroys the old resource before its replacement exists).
Ephemeral test stacks set `require_protect: false`; the deleteBeforeReplace rule still applies.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.core import Policy, ResourceView, Severity, types
from policies.pack_config import PackConfig

STATEFUL = types(
    "aws:kms/key:Key",
    "aws:kms/externalKey:ExternalKey",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:msk/cluster:Cluster",
    "aws:efs/fileSystem:FileSystem",
    "aws:dynamodb/table:Table",
    "aws:ecr/repository:Repository",
    "aws:backup/vault:Vault",
    "azure-native:keyvault:Vault",
    "azure-native:keyvault:Key",
    "azure-native:keyvault:ManagedHsm",
    "azure-native:storage:StorageAccount",
    "azure-native:dbforpostgresql:Server",
    "azure-native:redis:Redis",
    "azure-native:eventhub:Namespace",
    "azure-native:containerregistry:Registry",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:kafka.strimzi.io/*:Kafka",
    "kubernetes:kafka.strimzi.io/*:KafkaNodePool",
    "kubernetes:postgresql.cnpg.io/*:Cluster",
)


def check_change_safety(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if cfg.require_protect and not (r.protect or r.retain_on_delete):
        yield f"{r.describe()} holds state but is neither protected nor retainOnDelete."
    if r.delete_before_replace:
        yield (
            f"{r.describe()} sets deleteBeforeReplace: a replacement would destroy its data first."
        )


CHG_001 = Policy(
    id="UAE-CHG-001",
    name="Stateful resources are protected from deletion",
    description=(
        "Keys, databases, buckets, vaults, caches, brokers and PVC-backed clusters set `protect` "
        "(or retainOnDelete) and never deleteBeforeReplace."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("8.32", "8.13"),
    uae_refs=(),
    remediation=(
        "Pass ResourceOptions(protect=not config.ephemeral) to stateful resources and drop "
        "delete_before_replace; to retire one, unprotect it in a reviewed change first."
    ),
    domain="change",
    applies=STATEFUL,
    check=check_change_safety,
    config_keys=("require_protect",),
)

POLICIES = (CHG_001,)
