"""Physical names derived from the config, and the clouds' limits on them.

The AWS target names its buckets, database, cache, trail and roles from `tags.system`,
`environment` and the account (`AwsNames`); validation refuses an environment that would make
one too long for AWS, before anything is declared.
"""

from __future__ import annotations

from stacks.config.model import Aws, StackConfig


class AwsNames:
    """Every physical name the AWS foundation uses."""

    def __init__(self, config: StackConfig, aws_config: Aws):
        self.prefix = f"{config.tags.system}-{config.environment}"
        self.cluster = self.prefix
        acct = aws_config.account_id
        self.artifacts_bucket = f"{self.prefix}-mlflow-artifacts-{acct}"
        self.offline_bucket = f"{self.prefix}-feast-offline-{acct}"
        self.audit_bucket = f"{self.prefix}-audit-{acct}"
        self.trail = f"{self.prefix}-account-trail"
        self.database = f"{self.prefix}-postgres"
        self.cache = f"{self.prefix}-feast"
        self.kafka = f"{self.prefix}-kafka"

    def too_long(self) -> list[str]:
        """Names over AWS's limits (S3 buckets and RDS 63, ElastiCache 40, IAM roles 64)."""
        limits = {
            self.artifacts_bucket: 63,
            self.offline_bucket: 63,
            self.audit_bucket: 63,
            self.database: 63,
            self.cache: 40,
            f"{self.cluster}-cluster-autoscaler": 64,  # longest IAM role name
        }
        return [name for name, limit in limits.items() if len(name) > limit]
