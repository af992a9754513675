"""`SecureBucket`: an S3 bucket that is private, CMK-encrypted, versioned and TLS-only.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `bucket_name` | globally unique name (the stack adds account and environment) |
| `purpose` | tag value, e.g. `mlflow-artifacts`, `feast-offline`, `audit` |
| `kms_key_arn` | the CMK for SSE-KMS (UAE-KEY-001), bucket keys on |
| `vpc_endpoint_id` | if set, object reads/writes are refused unless they come through it |
| `object_lock` | `ObjectLock(mode, days)` for immutable audit evidence (UAE-LOG-005) |
| `transition_ia_days`, `expire_days` | lifecycle for logs (None: keep) |
| `noncurrent_expire_days` | how long overwritten/deleted versions stay |
| `enforce_kms_key_header` | refuse uploads that name another KMS key |
| `extra_statements` | more bucket-policy statements (e.g. CloudTrail delivery) |
| `force_destroy` | ephemeral stacks only |

Outputs: `bucket`, `name`, `arn`, `policy`.

Always: Block Public Access (all four), `BucketOwnerEnforced` (no ACLs), versioning,
SSE-KMS by default plus a policy that denies non-TLS requests, TLS below 1.2 and uploads
asking for another encryption; incomplete multipart uploads are aborted. No replication is
ever configured: copies of the data stay in this region (UAE-RES-002).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite, document, statement


@dataclass(frozen=True)
class ObjectLock:
    mode: str  # COMPLIANCE (nobody can delete before expiry) or GOVERNANCE
    days: int


@dataclass(frozen=True)
class SecureBucketArgs:
    site: AwsSite
    bucket_name: str
    purpose: str
    kms_key_arn: pulumi.Input[str]
    vpc_endpoint_id: pulumi.Input[str] | None = None
    object_lock: ObjectLock | None = None
    transition_ia_days: int | None = None
    expire_days: int | None = None
    noncurrent_expire_days: int = 90
    enforce_kms_key_header: bool = True
    extra_statements: tuple[dict[str, Any], ...] = ()
    force_destroy: bool = False


def _deny(sid: str, actions: list[str], resources: list[Any], condition: dict) -> dict:
    # Deny statements apply to every caller, hence `Principal: "*"` (a deny cannot grant).
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": condition,
    }


def bucket_policy(args: SecureBucketArgs, arn: pulumi.Output[str]) -> pulumi.Output[str]:
    objects = arn.apply(lambda a: f"{a}/*")
    both = [arn, objects]
    statements: list[dict[str, Any]] = [
        _deny("DenyInsecureTransport", ["s3:*"], both, {"Bool": {"aws:SecureTransport": "false"}}),
        _deny("DenyTlsBelow12", ["s3:*"], both, {"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
        _deny(
            "DenyOtherEncryption",
            ["s3:PutObject"],
            [objects],
            {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        ),
    ]
    if args.enforce_kms_key_header:
        statements.append(
            _deny(
                "DenyOtherKmsKey",
                ["s3:PutObject"],
                [objects],
                {
                    "StringNotEqualsIfExists": {
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": args.kms_key_arn
                    }
                },
            )
        )
    if args.vpc_endpoint_id is not None:
        statements.append(
            _deny(
                "DenyObjectAccessOutsideVpcEndpoint",
                ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject"],
                [objects],
                {"StringNotEquals": {"aws:SourceVpce": args.vpc_endpoint_id}},
            )
        )
    statements += list(args.extra_statements)
    return document(*statements)


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    policy: aws.s3.BucketPolicy

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:SecureBucket", name, None, opts)
        site = args.site
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            object_lock_enabled=args.object_lock is not None,
            force_destroy=args.force_destroy,
            tags=site.tags_for(args.bucket_name, purpose=args.purpose),
            opts=site.stateful(self),
        )
        self.name, self.arn = self.bucket.bucket, self.bucket.arn
        bucket = self.bucket.id

        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket,
            policy=bucket_policy(args, self.bucket.arn),
            # Block Public Access must be in place before any policy is attached.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )
        if args.object_lock is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket,
                object_lock_enabled="Enabled",
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.object_lock.mode, days=args.object_lock.days
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket,
            rules=self._lifecycle(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        self.register_outputs({"name": self.name, "arn": self.arn})

    @staticmethod
    def _lifecycle(args: SecureBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
        every_object = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
        rules = [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-uploads",
                status="Enabled",
                filter=every_object,
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7
                ),
            ),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions",
                status="Enabled",
                filter=every_object,
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_expire_days
                ),
            ),
        ]
        if args.transition_ia_days is not None or args.expire_days is not None:
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="age-out-logs",
                    status="Enabled",
                    filter=every_object,
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=args.transition_ia_days, storage_class="STANDARD_IA"
                        )
                    ]
                    if args.transition_ia_days is not None
                    else None,
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.expire_days
                    )
                    if args.expire_days is not None
                    else None,
                )
            )
        return rules


def prefix_access_policy(
    site: AwsSite,
    bucket_arn: pulumi.Input[str],
    prefix: str,
    kms_key_arn: pulumi.Input[str],
) -> pulumi.Output[str]:
    """Least privilege for one workload: read/write objects under `prefix/` of one bucket.

    The CMK may be used only through S3 in this region (the workload never calls KMS itself).
    """
    bucket = pulumi.Output.from_input(bucket_arn)
    return document(
        statement(
            "ListOwnPrefix",
            ("s3:ListBucket",),
            [bucket],
            conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        ),
        statement("LocateBucket", ("s3:GetBucketLocation",), [bucket]),
        statement(
            "ReadWriteOwnPrefix",
            (
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ),
            [bucket.apply(lambda a: f"{a}/{prefix}/*")],
        ),
        statement(
            "UseBucketKeyThroughS3",
            ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
            [kms_key_arn],
            conditions={"StringEquals": {"kms:ViaService": site.service("s3")}},
        ),
    )
