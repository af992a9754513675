"""`AuditTrail`: the account's CloudTrail, delivered to an Object Lock bucket in the UAE.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `trail_name`, `bucket_name` | trail and audit bucket names |
| `logs_key_arn` | CMK for the log files and the bucket (its policy admits this trail) |
| `retention_days` | Object Lock retention and lifecycle expiry (`logging.retentionDays`) |
| `lock_mode` | `COMPLIANCE` (production) or `GOVERNANCE` (ephemeral stacks) |
| `data_event_buckets` | bucket ARNs whose object reads/writes are recorded (who read the data) |
| `force_destroy` | ephemeral stacks only |

Outputs: `trail`, `bucket` (`SecureBucket`), `arn`.

The trail is multi-region on purpose (UAE-LOG-004): it records API activity of *every* region
into the in-country bucket, so evidence of any out-of-region action stays in the UAE. Log
file validation is on (tamper evidence), files are encrypted with the CMK, and the bucket's
Object Lock keeps them immutable for the retention period (UAE-LOG-005). The bucket policy
admits only this trail (`aws:SourceArn`) to write under `AWSLogs/<account>/`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite, statement
from components.aws.storage import ObjectLock, SecureBucket, SecureBucketArgs


@dataclass(frozen=True)
class AuditTrailArgs:
    site: AwsSite
    trail_name: str
    bucket_name: str
    logs_key_arn: pulumi.Input[str]
    retention_days: int
    lock_mode: str = "COMPLIANCE"
    data_event_buckets: tuple[pulumi.Input[str], ...] = ()
    force_destroy: bool = False


def trail_arn(site: AwsSite, trail_name: str) -> str:
    return site.arn("cloudtrail", f"trail/{trail_name}")


class AuditTrail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail
    bucket: SecureBucket
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:aws:AuditTrail", name, None, opts)
        site = args.site
        this_trail = trail_arn(site, args.trail_name)
        bucket_arn = f"arn:{site.partition}:s3:::{args.bucket_name}"
        cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
        from_trail = {"aws:SourceArn": this_trail}

        self.bucket = SecureBucket(
            f"{name}-bucket",
            SecureBucketArgs(
                site=site,
                bucket_name=args.bucket_name,
                purpose="audit",
                kms_key_arn=args.logs_key_arn,
                object_lock=ObjectLock(mode=args.lock_mode, days=args.retention_days),
                transition_ia_days=30,
                expire_days=args.retention_days + 1,
                noncurrent_expire_days=args.retention_days + 1,
                # CloudTrail names the key in its own form; SSE-KMS is still enforced.
                enforce_kms_key_header=False,
                extra_statements=(
                    statement(
                        "CloudTrailAclCheck",
                        ("s3:GetBucketAcl",),
                        [bucket_arn],
                        principals=cloudtrail,
                        conditions={"StringEquals": from_trail},
                    ),
                    statement(
                        "CloudTrailWrite",
                        ("s3:PutObject",),
                        [f"{bucket_arn}/AWSLogs/{site.account_id}/*"],
                        principals=cloudtrail,
                        conditions={
                            "StringEquals": {
                                **from_trail,
                                "s3:x-amz-acl": "bucket-owner-full-control",
                            }
                        },
                    ),
                ),
                force_destroy=args.force_destroy,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        selectors = [
            aws.cloudtrail.TrailEventSelectorArgs(
                read_write_type="All",
                include_management_events=True,
                data_resources=[
                    aws.cloudtrail.TrailEventSelectorDataResourceArgs(
                        type="AWS::S3::Object",
                        values=[
                            pulumi.Output.from_input(arn).apply(lambda a: f"{a}/")
                            for arn in args.data_event_buckets
                        ],
                    )
                ]
                if args.data_event_buckets
                else None,
            )
        ]
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args.trail_name,
            s3_bucket_name=self.bucket.name,
            kms_key_id=args.logs_key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            event_selectors=selectors,
            tags=site.tags_for(args.trail_name),
            opts=site.stateful(self, depends_on=[self.bucket.policy]),
        )
        self.arn = self.trail.arn
        self.register_outputs({"arn": self.arn, "bucket": self.bucket.name})
