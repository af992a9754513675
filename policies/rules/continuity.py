"""Business continuity (UAE-BCP-*): UAE-BCP-001, resilience that stays in-country.

Multi-zone databases, caches, brokers and node pools (by zone ID), backups of at least a week,
deletion protection, versioned buckets and zone-redundant storage. The DR target being in the
UAE is UAE-RES-002's job: cross-border DR is a violation, not a fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.core import (
    UNKNOWN,
    Policy,
    ResourceView,
    Severity,
    StackView,
    Violation,
    as_list,
    get,
    number,
    refers_to,
    truthy,
    types,
)
from policies.pack_config import PackConfig

MIN_BACKUP_DAYS = 7
ZONAL_AZURE = ("uaenorth",)  # uaecentral has no availability zones
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)


def _short_backup(r: ResourceView, value: object) -> Iterator[str]:
    days = number(value)
    if value is not UNKNOWN and (days is None or days < MIN_BACKUP_DAYS):
        yield (
            f"{r.describe()} keeps backups {'the default' if days is None else f'{days:.0f}'} "
            f"days; keep at least {MIN_BACKUP_DAYS}."
        )


def _zones(r: ResourceView, zones: object, what: str) -> Iterator[str]:
    location = str(r.location or "").replace(" ", "").lower()
    if zones is UNKNOWN or location not in ZONAL_AZURE:
        return
    if len(as_list(zones)) < 2:
        yield f"{r.describe()} {what} runs in fewer than two availability zones."


def check_resilience(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t == "aws:rds/instance:Instance":
        if p.get("replicateSourceDb"):
            return
        if truthy(p.get("multiAz")) is False:
            yield f"{r.describe()} is single-AZ (multiAz is not true)."
        yield from _short_backup(r, p.get("backupRetentionPeriod"))
        if truthy(p.get("deletionProtection")) is False:
            yield f"{r.describe()} has no deletion protection."
    elif t == "aws:rds/cluster:Cluster":
        yield from _short_backup(r, p.get("backupRetentionPeriod"))
        if truthy(p.get("deletionProtection")) is False:
            yield f"{r.describe()} has no deletion protection."
    elif t == "azure-native:dbforpostgresql:Server":
        mode = get(p, "highAvailability.mode")
        if mode != "ZoneRedundant":
            yield f"{r.describe()} is not zone-redundant (highAvailability.mode={mode})."
        yield from _short_backup(r, get(p, "backup.backupRetentionDays"))
    elif t == "aws:elasticache/replicationGroup:ReplicationGroup":
        if (
            truthy(p.get("multiAzEnabled")) is False
            or truthy(p.get("automaticFailoverEnabled")) is False
        ):
            yield (
                f"{r.describe()} does not fail over across AZs "
                "(multiAzEnabled/automaticFailoverEnabled)."
            )
    elif t == "aws:msk/cluster:Cluster":
        brokers = number(p.get("numberOfBrokerNodes"))
        subnets = as_list(get(p, "brokerNodeGroupInfo.clientSubnets"))
        if len(subnets) < 3 or (brokers is not None and brokers % 3):
            yield (
                f"{r.describe()} does not spread brokers evenly over "
                f"three AZs ({brokers} brokers, {len(subnets)} subnets)."
            )
    elif t == "aws:eks/nodeGroup:NodeGroup":
        if len(as_list(p.get("subnetIds"))) < 2 and p.get("subnetIds") is not UNKNOWN:
            yield f"{r.describe()} places nodes in a single subnet (one AZ)."
    elif t == "aws:ec2/subnet:Subnet":
        if p.get("availabilityZone") and not p.get("availabilityZoneId"):
            yield (
                f"{r.describe()} picks its zone by name ('{p.get('availabilityZone')}'); "
                "zone names differ per account, use availabilityZoneId."
            )
    elif t == "azure-native:containerservice:ManagedCluster":
        for pool in as_list(p.get("agentPoolProfiles")):
            yield from _zones(r, get(pool, "availabilityZones"), f"pool '{get(pool, 'name')}'")
    elif t == "azure-native:containerservice:AgentPool":
        yield from _zones(r, p.get("availabilityZones"), "pool")
    elif t == "azure-native:storage:StorageAccount":
        sku = str(get(p, "sku.name") or "")
        if sku.endswith("_LRS"):
            yield (
                f"{r.describe()} keeps data in one zone ({sku}); use "
                "ZRS (or GZRS paired with uaecentral)."
            )


def stack_resilience(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    versioning = stack.of_type(*VERSIONING)
    for bucket in stack.of_type(*S3_BUCKETS):
        enabled = [
            v
            for v in versioning
            if refers_to(v.props.get("bucket"), bucket)
            and get(v.props, "versioningConfiguration.status") in ("Enabled", UNKNOWN)
        ]
        if not enabled:
            yield Violation(
                f"{bucket.describe()} is not versioned: overwritten or deleted objects are lost.",
                bucket.urn,
            )
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    for group in stack.of_type("aws:eks/nodeGroup:NodeGroup"):
        refs = as_list(group.props.get("subnetIds"))
        if UNKNOWN in refs:
            continue  # subnets being created (preview): decides on the update
        zones: set[str] = set()
        for ref in refs:
            subnet = next((s for s in subnets if refers_to(ref, s)), None)
            if ref is UNKNOWN or subnet is None:
                zones.add(f"?{ref}")
                continue
            zone = subnet.props.get("availabilityZoneId") or subnet.props.get("availabilityZone")
            zones.add(str(zone))
        if len(zones) < 2:
            yield Violation(
                (
                    f"{group.describe()} spans fewer than two availability "
                    f"zones ({sorted(map(str, zones))})."
                ),
                group.urn,
            )


BCP_001 = Policy(
    id="UAE-BCP-001",
    name="In-country resilience",
    description=(
        "Databases, caches, Kafka and node pools span availability zones (by zone ID); backups are "
        "kept ≥ 7 days with deletion protection; buckets are versioned; storage is zone-redundant."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("5.30", "8.13", "8.14"),
    uae_refs=("CBUAE C 14/2021 Art. 6.7 (jurisdiction and concentration risk)",),
    remediation=(
        "RDS multiAz=true, backupRetentionPeriod≥7, deletionProtection=true; Azure PG "
        "highAvailability.mode=ZoneRedundant; ElastiCache multiAzEnabled and automatic failover; "
        "MSK brokers in multiples of three over three subnets; node groups over ≥ 2 zone IDs; "
        "BucketVersioning Enabled; Storage ZRS/GZRS. Keep the DR copy in the UAE "
        "(uaecentral or on-prem)."
    ),
    domain="resilience",
    applies=types(
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "azure-native:dbforpostgresql:Server",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:msk/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:ec2/subnet:Subnet",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:storage:StorageAccount",
        *S3_BUCKETS,
    ),
    check=check_resilience,
    stack_check=stack_resilience,
)

POLICIES = (BCP_001,)
