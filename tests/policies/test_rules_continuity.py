"""UAE-BCP-001: multi-zone, backed-up, versioned, in-country resilience."""

from __future__ import annotations

from policy_fixtures import assert_fails, assert_passes, aws, azure, check


def subnet(name: str, zone: str) -> dict:
    return aws("aws:ec2/subnet:Subnet", name, {"availabilityZoneId": zone}, id=f"subnet-{name}")


def test_multi_zone_backed_up_versioned_passes() -> None:
    db = aws(
        "aws:rds/instance:Instance",
        "mlflow",
        {"multiAz": True, "backupRetentionPeriod": 14, "deletionProtection": True},
    )
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    versioning = aws(
        "aws:s3/bucketVersioning:BucketVersioning",
        "artifacts-versioning",
        {"bucket": "artifacts", "versioningConfiguration": {"status": "Enabled"}},
    )
    a, b = subnet("a", "mec1-az1"), subnet("b", "mec1-az2")
    group = aws("aws:eks/nodeGroup:NodeGroup", "system", {"subnetIds": ["subnet-a", "subnet-b"]})
    pg = azure(
        "azure-native:dbforpostgresql:Server",
        "pg",
        {"highAvailability": {"mode": "ZoneRedundant"}, "backup": {"backupRetentionDays": 14}},
    )
    assert_passes(check("UAE-BCP-001", db, bucket, versioning, a, b, group, pg))


def test_single_zone_short_backups_and_unversioned_buckets_fail() -> None:
    db = aws("aws:rds/instance:Instance", "mlflow", {"backupRetentionPeriod": 1})
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    a = subnet("a", "mec1-az1")
    group = aws("aws:eks/nodeGroup:NodeGroup", "gpu", {"subnetIds": ["subnet-a"]})
    account = azure(
        "azure-native:storage:StorageAccount", "lake", {"sku": {"name": "Standard_LRS"}}
    )
    result = check("UAE-BCP-001", db, bucket, a, group, account)
    assert_fails(result, "Instance 'mlflow'", "single-AZ", "backups 1 days", "deletion protection")
    assert_fails(result, "Bucket 'artifacts'", "not versioned")
    assert_fails(result, "NodeGroup 'gpu'", "single subnet", "fewer than two availability zones")
    assert_fails(result, "StorageAccount 'lake'", "Standard_LRS")
    assert all(f.enforcement == "advisory" for f in result.findings)
