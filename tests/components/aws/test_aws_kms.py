"""PlatformKeys: rotated, 30-day-window CMKs whose policies name no wildcard principal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.aws.kms import KeySpec, PlatformKeys, PlatformKeysArgs
from tests.components.aws.aws_fixtures import (
    ACCOUNT,
    REGION,
    SITE,
    by_sid,
    inputs,
    policy,
    principals,
    run_aws,
)

CLUSTER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlplatform-test-cluster"
TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/mlplatform-test-trail"
ASG_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
    "AWSServiceRoleForAutoScaling"
)
SPECS = (
    KeySpec("data", "data", via_services=("s3", "rds", "ec2"), service_linked_roles=(ASG_ROLE,)),
    KeySpec("secrets", "secrets", direct_users=(CLUSTER_ROLE,)),
    KeySpec("logs", "logs", via_services=("s3",), cloudwatch_logs=True, cloudtrail_arns=(TRAIL,)),
)


def _keys(site=SITE):
    return run_aws(
        lambda opts: PlatformKeys(
            "keys", PlatformKeysArgs(site=site, prefix="mlplatform-test", keys=SPECS), opts
        )
    )


@pytest.fixture(scope="module")
def keys():
    synthesis = _keys()
    return {
        r.name.removeprefix("keys-"): r for r in synthesis.of_type("aws:kms/key:Key")
    }, synthesis


def test_every_key_rotates_keeps_30_days_and_stays_single_region(keys):
    found, _ = keys
    assert set(found) == {"data", "secrets", "logs"}
    for key in found.values():
        i = inputs(key)
        assert i["enableKeyRotation"] is True
        assert i["deletionWindowInDays"] == 30
        assert i["bypassPolicyLockoutSafetyCheck"] is False
        assert i["multiRegion"] is False
        assert key.options["protect"] is True


def test_no_key_policy_names_a_wildcard_or_foreign_principal(keys):
    found, _ = keys
    for key in found.values():
        for principal in principals(policy(key)):
            assert principal != "*"
            assert principal.startswith(f"arn:aws:iam::{ACCOUNT}:") or principal.endswith(
                ".amazonaws.com"
            ), principal


def test_account_may_administer_but_only_use_keys_through_regional_services(keys):
    found, _ = keys
    statements = by_sid(policy(found["data"]))
    admin = statements["KeyAdministration"]["Action"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:Create*", "kms:*"} & set(
        admin
    )
    use = statements["UseThroughRegionalServices"]["Condition"]["StringEquals"]
    assert use["kms:CallerAccount"] == ACCOUNT
    assert use["kms:ViaService"] == [
        f"s3.{REGION}.amazonaws.com",
        f"rds.{REGION}.amazonaws.com",
        f"ec2.{REGION}.amazonaws.com",
    ]
    grants = statements["GrantsForRegionalServiceResources"]["Condition"]
    assert grants["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert statements["UseByServiceLinkedRoles"]["Principal"] == {"AWS": [ASG_ROLE]}


def test_secrets_key_is_used_by_the_eks_role_only(keys):
    found, _ = keys
    statements = by_sid(policy(found["secrets"]))
    assert set(statements) == {"KeyAdministration", "UseByNamedRoles"}
    assert statements["UseByNamedRoles"]["Principal"] == {"AWS": [CLUSTER_ROLE]}


def test_logs_key_admits_regional_cloudwatch_logs_and_this_trail_only(keys):
    found, _ = keys
    statements = by_sid(policy(found["logs"]))
    logs = statements["CloudWatchLogsInRegion"]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
    }
    trail = statements["CloudTrailEncryptLogs"]["Condition"]
    assert trail["StringEquals"]["aws:SourceArn"] == [TRAIL]


def test_aliases_name_each_purpose(keys):
    _, synthesis = keys
    aliases = {inputs(r)["name"] for r in synthesis.of_type("aws:kms/alias:Alias")}
    assert aliases == {f"alias/mlplatform-test-{p}" for p in ("data", "secrets", "logs")}


def test_ephemeral_keys_are_not_protected_but_keep_their_window():
    synthesis = _keys(replace(SITE, protect=False))
    for key in synthesis.of_type("aws:kms/key:Key"):
        assert key.options["protect"] is False
        assert inputs(key)["deletionWindowInDays"] == 30
