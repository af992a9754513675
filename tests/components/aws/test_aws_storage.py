"""SecureBucket and AuditTrail: private CMK-encrypted buckets, TLS only, immutable audit logs."""

from __future__ import annotations

import pytest

from components.aws.audit import AuditTrail, AuditTrailArgs
from components.aws.storage import SecureBucket, SecureBucketArgs, prefix_access_policy
from infra.synth.recording import synthesize
from tests.components.aws.aws_fixtures import (
    ACCOUNT,
    KEY_ARN,
    LOGS_KEY_ARN,
    REGION,
    SITE,
    by_sid,
    inputs,
    one,
    policy,
    run_aws,
)

BUCKET = "mlplatform-test-artifacts-111122223333"
VPCE = "vpce-0123456789abcdef0"


@pytest.fixture(scope="module")
def bucket():
    return run_aws(
        lambda opts: SecureBucket(
            "artifacts",
            SecureBucketArgs(
                site=SITE,
                bucket_name=BUCKET,
                purpose="mlflow-artifacts",
                kms_key_arn=KEY_ARN,
                vpc_endpoint_id=VPCE,
            ),
            opts,
        )
    )


@pytest.fixture(scope="module")
def audit():
    return run_aws(
        lambda opts: AuditTrail(
            "audit",
            AuditTrailArgs(
                site=SITE,
                trail_name="mlplatform-test-trail",
                bucket_name="mlplatform-test-audit-111122223333",
                logs_key_arn=LOGS_KEY_ARN,
                retention_days=400,
                data_event_buckets=(f"arn:aws:s3:::{BUCKET}",),
            ),
            opts,
        )
    )


def test_public_access_is_blocked_four_ways_and_acls_are_off(bucket):
    block = inputs(one(bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"))
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True
    ownership = inputs(one(bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls"))
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_objects_are_encrypted_with_the_cmk_and_versioned(bucket):
    encryption = inputs(
        one(
            bucket,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
    )
    (rule,) = encryption["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY_ARN,
    }
    assert rule["bucketKeyEnabled"] is True
    versioning = inputs(one(bucket, "aws:s3/bucketVersioning:BucketVersioning"))
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


def test_policy_denies_plain_http_old_tls_other_keys_and_access_outside_the_endpoint(bucket):
    statements = by_sid(policy(one(bucket, "aws:s3/bucketPolicy:BucketPolicy")))
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert statements["DenyTlsBelow12"]["Condition"] == {
        "NumericLessThan": {"s3:TlsVersion": "1.2"}
    }
    other_key = statements["DenyOtherKmsKey"]["Condition"]["StringNotEqualsIfExists"]
    assert other_key == {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN}
    outside = statements["DenyObjectAccessOutsideVpcEndpoint"]
    assert outside["Condition"] == {"StringNotEquals": {"aws:SourceVpce": VPCE}}
    assert all(s["Effect"] == "Deny" for s in statements.values())


def test_bucket_is_protected_never_replicated_and_ages_out_old_versions(bucket):
    assert one(bucket, "aws:s3/bucket:Bucket").options["protect"] is True
    assert not [r for r in bucket.resources if "Replication" in r.type]
    rules = inputs(one(bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"))
    ids = {r["id"] for r in rules["rules"]}
    assert {"abort-incomplete-uploads", "expire-old-versions"} <= ids


def test_workload_policy_reaches_only_its_prefix_through_s3():
    def program():
        import pulumi

        pulumi.export("p", prefix_access_policy(SITE, f"arn:aws:s3:::{BUCKET}", "mlflow", KEY_ARN))

    import json

    document = json.loads(synthesize("test", {}, program).outputs["p"])
    statements = by_sid(document)
    assert statements["ReadWriteOwnPrefix"]["Resource"] == [f"arn:aws:s3:::{BUCKET}/mlflow/*"]
    assert statements["ListOwnPrefix"]["Condition"]["StringLike"]["s3:prefix"] == [
        "mlflow",
        "mlflow/*",
    ]
    kms = statements["UseBucketKeyThroughS3"]
    assert kms["Resource"] == [KEY_ARN]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    for st in document["Statement"]:
        assert "*" not in st["Action"] and not any(a.endswith(":*") for a in st["Action"])


def test_audit_trail_is_multi_region_validated_and_encrypted_in_country(audit):
    trail = inputs(one(audit, "aws:cloudtrail/trail:Trail"))
    assert trail["isMultiRegionTrail"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["kmsKeyId"] == LOGS_KEY_ARN
    assert trail["s3BucketName"] == "mlplatform-test-audit-111122223333"
    (selector,) = trail["eventSelectors"]
    assert selector["dataResources"][0]["values"] == [f"arn:aws:s3:::{BUCKET}/"]
    assert one(audit, "aws:cloudtrail/trail:Trail").options["protect"] is True


def test_audit_bucket_locks_objects_for_the_retention_period(audit):
    assert inputs(one(audit, "aws:s3/bucket:Bucket"))["objectLockEnabled"] is True
    lock = inputs(one(audit, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"))
    assert lock["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 400}
    rules = inputs(one(audit, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"))
    expiry = [r["expiration"]["days"] for r in rules["rules"] if r.get("expiration")]
    assert expiry and min(expiry) > 400


def test_audit_bucket_admits_only_this_trail(audit):
    statements = by_sid(policy(one(audit, "aws:s3/bucketPolicy:BucketPolicy")))
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/mlplatform-test-trail"
    write = statements["CloudTrailWrite"]
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert write["Resource"] == [
        f"arn:aws:s3:::mlplatform-test-audit-111122223333/AWSLogs/{ACCOUNT}/*"
    ]
    assert "DenyInsecureTransport" in statements
