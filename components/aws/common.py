"""What every AWS component shares: the site facts (`AwsSite`) and IAM policy helpers.

`AwsSite` carries what the stack validated once — account, region, mandatory tags, whether
stateful resources are protected — so components build ARNs, service names and tags the same
way and never read config themselves. The region pinning itself is the explicit `aws.Provider`
the stack passes to every component (`providers=[...]`); components never set a per-resource
`region`, so there is exactly one place the region comes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi


@dataclass(frozen=True)
class AwsSite:
    """Account-level facts shared by the AWS components.

    | field | meaning |
    |---|---|
    | `account_id` | the only account the provider may touch (`allowed_account_ids`) |
    | `region` | the UAE region (validated: me-central-1) |
    | `tags` | mandatory governance tags (UAE-GOV-001), set on every taggable resource |
    | `protect` | `protect=True` on stateful resources (False only for ephemeral stacks) |
    """

    account_id: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    protect: bool = True
    partition: str = "aws"

    def tags_for(self, name: str, **extra: str) -> dict[str, str]:
        return {**self.tags, "Name": name, **extra}

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def service(self, name: str) -> str:
        """A regional service endpoint name, e.g. `s3.me-central-1.amazonaws.com`."""
        return f"{name}.{self.region}.amazonaws.com"

    def endpoint_service(self, name: str) -> str:
        """A VPC endpoint service name, e.g. `com.amazonaws.me-central-1.ecr.api`."""
        return f"com.amazonaws.{self.region}.{name}"

    def role_arn(self, name: str) -> str:
        """The ARN of this account's IAM role `name` (known before the role exists)."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{name}"

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def managed_policy(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def stateful(self, parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a stateful child: parented, and protected unless the stack is ephemeral."""
        return pulumi.ResourceOptions(parent=parent, protect=self.protect, **kwargs)


# --------------------------------------------------------------------------- IAM documents


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]] | pulumi.Input[str] | None = "*",
    *,
    effect: str = "Allow",
    principals: Mapping[str, Any] | None = None,
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """One IAM/KMS/S3 policy statement. Principals are always explicit (never `"*"`).

    `resources=None` leaves `Resource` out (trust policies have none).
    """
    st: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": list(actions)}
    if resources is not None:
        st["Resource"] = list(resources) if isinstance(resources, list | tuple) else resources
    if principals is not None:
        st["Principal"] = dict(principals)
    if conditions:
        st["Condition"] = {op: dict(values) for op, values in conditions.items()}
    return st


def document(*statements: Mapping[str, Any]) -> pulumi.Output[str]:
    """A policy document as JSON, resolving any Outputs inside the statements."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust(
    service: str,
    *,
    actions: Sequence[str] = ("sts:AssumeRole",),
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> pulumi.Output[str]:
    """A trust policy letting one AWS service principal assume a role."""
    return document(
        statement(
            "TrustService",
            actions,
            principals={"Service": service},
            conditions=conditions,
            resources=None,
        )
    )
