"""PlatformKeys: rotated, 30-day-window CMKs whose policies name who administers and who uses
each key — no wildcard principal, nothing delegated to the whole account."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.aws.kms import KeySpec, PlatformKeys, PlatformKeysArgs, key_policy
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
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
MLFLOW = f"arn:aws:iam::{ACCOUNT}:role/mlplatform-test-mlflow"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/mlplatform-test-trail"
ASG_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
    "AWSServiceRoleForAutoScaling"
)
SPECS = (
    KeySpec(
        "data",
        "data",
        via_services=("s3", "rds", "ec2"),
        service_users=(MLFLOW,),
        service_linked_roles=(ASG_ROLE,),
    ),
    KeySpec("secrets", "secrets", via_services=("eks",), direct_users=(CLUSTER_ROLE,)),
    KeySpec("logs", "logs", via_services=("s3",), cloudwatch_logs=True, cloudtrail_arns=(TRAIL,)),
)


def _keys(site=SITE):
    return run_aws(
        lambda opts: PlatformKeys(
            "keys",
            PlatformKeysArgs(
                site=site, prefix="mlplatform-test", keys=SPECS, admin_role_arns=(ADMIN,)
            ),
            opts,
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


def test_admin_roles_administer_and_named_roles_use_keys_through_regional_services(keys):
    found, _ = keys
    statements = by_sid(policy(found["data"]))
    admin = statements["KeyAdministration"]
    assert admin["Principal"] == {"AWS": [ADMIN]}
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:Create*", "kms:*"} & set(
        admin["Action"]
    )
    provision = statements["AdminsProvisionThroughRegionalServices"]
    assert provision["Principal"] == {"AWS": [ADMIN]} and provision["Action"] == ["kms:CreateGrant"]
    assert provision["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    use = statements["UseThroughRegionalServices"]["Condition"]
    assert use["ArnEquals"] == {"aws:PrincipalArn": [MLFLOW]}
    assert use["StringEquals"]["kms:CallerAccount"] == ACCOUNT
    assert use["StringEquals"]["kms:ViaService"] == [
        f"s3.{REGION}.amazonaws.com",
        f"rds.{REGION}.amazonaws.com",
        f"ec2.{REGION}.amazonaws.com",
    ]
    grants = statements["GrantsForRegionalServiceResources"]["Condition"]
    assert grants["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert grants["ArnEquals"] == {"aws:PrincipalArn": [MLFLOW]}
    assert statements["UseByServiceLinkedRoles"]["Principal"] == {"AWS": [ASG_ROLE]}


def test_the_account_root_never_administers_and_uses_keys_only_for_named_roles(keys):
    """The finding: administration and decryption delegated to every principal of the account
    (root with no principal condition). Root remains only as the principal of statements that
    name their roles by aws:PrincipalArn (roles created after the key)."""
    found, _ = keys
    for key in found.values():
        for st in policy(key)["Statement"]:
            if ROOT not in principals({"Statement": [st]}):
                continue
            assert st["Sid"] != "KeyAdministration"
            assert st["Condition"]["ArnEquals"]["aws:PrincipalArn"], st["Sid"]


def test_a_key_without_administrators_is_refused():
    with pytest.raises(ValueError, match="adminRoleArns"):
        key_policy(SITE, SPECS[0], ())


def test_secrets_key_is_used_by_the_eks_role_only(keys):
    found, _ = keys
    statements = by_sid(policy(found["secrets"]))
    assert set(statements) == {
        "KeyAdministration",
        "AdminsProvisionThroughRegionalServices",
        "UseByNamedRoles",
    }
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
