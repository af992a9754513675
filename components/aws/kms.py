"""`PlatformKeys`: the platform's customer-managed KMS keys, one per purpose, pinned in-country.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect (see `AwsSite`) |
| `prefix` | alias prefix: `alias/<prefix>-<purpose>` |
| `keys` | one `KeySpec` per purpose (data, secrets, logs): who may use it, and how |
| `admin_role_arns` | who administers the keys (`aws.adminRoleArns`; the deployer is one) |
| `deletion_window_in_days` | 30 (UAE-KEY-004 minimum) |
| `rotation_period_in_days` | automatic rotation period (rotation is always on) |

Outputs: `keys` (purpose → `aws.kms.Key`), `arns` (purpose → key ARN), `aliases`.

Every key: symmetric, single-region (a multi-region key could be replicated abroad), rotation
on, 30-day deletion window, lockout safety check kept. The key policy names who may do what
(UAE-KEY-005) — nothing is delegated to the account as a whole:

- the admin roles *administer* the key (not use it), and may have the listed services of this
  region create grants for the resources they provision (RDS, ElastiCache, MSK, ECR, EKS);
  creating the key as one of them passes KMS's lockout check;
- named roles use it only through the listed services of this region (`kms:ViaService`,
  `kms:CallerAccount`); they are created after the keys (their policies name the keys), so
  the statement names them by `aws:PrincipalArn` with the account as principal — only those
  roles, never "any principal of the account";
- named roles may use it directly (the EKS cluster role for Secrets envelope encryption), and
  named service-linked roles may use it and create grants for AWS resources (the Auto Scaling
  role that launches CMK-encrypted node volumes);
- CloudWatch Logs of this region, limited by encryption context to this account's log
  groups, and CloudTrail, limited to this stack's trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite, document, statement

_ADMIN_ACTIONS = (
    "kms:CreateAlias",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)
_USE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)
_GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")


@dataclass(frozen=True)
class KeySpec:
    """Who may use one key, and through what."""

    purpose: str  # data | secrets | logs
    description: str
    via_services: tuple[str, ...] = ()  # e.g. ("s3", "rds"): <name>.<region>.amazonaws.com
    # Role ARNs that use the key through `via_services` (may not exist yet: named by
    # `aws:PrincipalArn`, so they can be created after the key their policies name)
    service_users: tuple[str, ...] = ()
    direct_users: tuple[pulumi.Input[str], ...] = ()  # role ARNs that call KMS themselves
    service_linked_roles: tuple[str, ...] = ()  # SLR ARNs needing grants (EBS via Auto Scaling)
    cloudwatch_logs: bool = False
    cloudtrail_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformKeysArgs:
    site: AwsSite
    prefix: str
    keys: tuple[KeySpec, ...]
    admin_role_arns: tuple[str, ...]
    deletion_window_in_days: int = 30
    rotation_period_in_days: int = 365


def key_policy(site: AwsSite, spec: KeySpec, admins: Sequence[str]) -> pulumi.Output[str]:
    """The key policy for one purpose (exposed for tests and the compliance report)."""
    if not admins:
        raise ValueError("a key policy needs its administrators (aws.adminRoleArns)")
    statements: list[dict[str, Any]] = [
        statement("KeyAdministration", _ADMIN_ACTIONS, principals={"AWS": list(admins)}),
    ]
    statements += _regional_service_statements(site, spec, admins)
    if spec.direct_users:
        statements.append(
            statement(
                "UseByNamedRoles",
                (*_USE_ACTIONS, "kms:ListGrants"),
                principals={"AWS": list(spec.direct_users)},
            )
        )
    if spec.service_linked_roles:
        slrs = {"AWS": list(spec.service_linked_roles)}
        statements += [
            statement("UseByServiceLinkedRoles", _USE_ACTIONS, principals=slrs),
            statement(
                "GrantsByServiceLinkedRoles",
                ("kms:CreateGrant",),
                principals=slrs,
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
    statements += _service_statements(site, spec)
    return document(*statements)


def _regional_service_statements(
    site: AwsSite, spec: KeySpec, admins: Sequence[str]
) -> list[dict[str, Any]]:
    """Use through the listed regional services: grants for what the admins provision, and
    use by the named roles (`aws:PrincipalArn`), each limited to this account's callers."""
    if not spec.via_services:
        return []
    via = {
        "kms:CallerAccount": site.account_id,
        "kms:ViaService": [site.service(s) for s in spec.via_services],
    }
    for_resources = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    statements = [
        statement(
            "AdminsProvisionThroughRegionalServices",
            ("kms:CreateGrant",),
            principals={"AWS": list(admins)},
            conditions={"StringEquals": via, **for_resources},
        )
    ]
    if spec.service_users:
        named = {"ArnEquals": {"aws:PrincipalArn": list(spec.service_users)}}
        statements += [
            statement(
                "UseThroughRegionalServices",
                _USE_ACTIONS,
                principals={"AWS": site.root},
                conditions={"StringEquals": via, **named},
            ),
            statement(
                "GrantsForRegionalServiceResources",
                _GRANT_ACTIONS,
                principals={"AWS": site.root},
                conditions={"StringEquals": via, **named, **for_resources},
            ),
        ]
    return statements


def _service_statements(site: AwsSite, spec: KeySpec) -> list[dict[str, Any]]:
    """What AWS services themselves may do with the key: CloudWatch Logs (log groups of this
    region and account only) and CloudTrail (the named trails only)."""
    statements: list[dict[str, Any]] = []
    if spec.cloudwatch_logs:
        statements.append(
            statement(
                "CloudWatchLogsInRegion",
                (
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ),
                principals={"Service": site.service("logs")},
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": site.arn("logs", "log-group:*")
                    }
                },
            )
        )
    if spec.cloudtrail_arns:
        trails = list(spec.cloudtrail_arns)
        statements += [
            statement(
                "CloudTrailEncryptLogs",
                ("kms:GenerateDataKey*",),
                principals={"Service": "cloudtrail.amazonaws.com"},
                conditions={
                    "StringEquals": {"aws:SourceArn": trails},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            ),
            statement(
                "CloudTrailDescribeKey",
                ("kms:DescribeKey",),
                principals={"Service": "cloudtrail.amazonaws.com"},
                conditions={"StringEquals": {"aws:SourceArn": trails}},
            ),
        ]
    return statements


class PlatformKeys(pulumi.ComponentResource):
    keys: dict[str, aws.kms.Key]
    arns: dict[str, pulumi.Output[str]]
    aliases: dict[str, aws.kms.Alias]

    def __init__(
        self, name: str, args: PlatformKeysArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:PlatformKeys", name, None, opts)
        site = args.site
        self.keys, self.arns, self.aliases = {}, {}, {}
        for spec in args.keys:
            key = aws.kms.Key(
                f"{name}-{spec.purpose}",
                description=spec.description,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                multi_region=False,
                enable_key_rotation=True,
                rotation_period_in_days=args.rotation_period_in_days,
                deletion_window_in_days=args.deletion_window_in_days,
                bypass_policy_lockout_safety_check=False,
                policy=key_policy(site, spec, args.admin_role_arns),
                tags=site.tags_for(f"{args.prefix}-{spec.purpose}", purpose=spec.purpose),
                opts=site.stateful(self),
            )
            self.aliases[spec.purpose] = aws.kms.Alias(
                f"{name}-{spec.purpose}-alias",
                name=f"alias/{args.prefix}-{spec.purpose}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.keys[spec.purpose] = key
            self.arns[spec.purpose] = key.arn
        self.register_outputs({"arns": self.arns})
