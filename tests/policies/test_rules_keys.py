"""UAE-KEY-001 … 005: CMKs at rest, rotation, HSM for restricted data, loss protection, custody."""

from __future__ import annotations

import json

from policy_fixtures import ACCOUNT, TAGS, assert_fails, assert_passes, aws, azure, check

from policies.pack_config import PackConfig

KEY_ARN = f"arn:aws:kms:me-central-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def sse(bucket: str, algorithm: str = "aws:kms", key: str | None = KEY_ARN) -> dict:
    default = {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}
    return aws(
        SSE,
        f"{bucket}-sse",
        {"bucket": bucket, "rules": [{"applyServerSideEncryptionByDefault": default}]},
    )


def kms_key(name: str = "data", **inputs: object) -> dict:
    body = {"enableKeyRotation": True, "deletionWindowInDays": 30, **inputs}
    return aws("aws:kms/key:Key", name, body, protect=True)


# --------------------------------------------------------------------------- UAE-KEY-001


def test_cmk_encrypted_stores_pass() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    db = aws("aws:rds/instance:Instance", "mlflow", {"storageEncrypted": True, "kmsKeyId": KEY_ARN})
    account = azure(
        "azure-native:storage:StorageAccount",
        "lake",
        {
            "encryption": {
                "keySource": "Microsoft.Keyvault",
                "keyVaultProperties": {"keyName": "data"},
            }
        },
    )
    assert_passes(check("UAE-KEY-001", bucket, sse("artifacts"), db, account))


def test_bucket_without_encryption_configuration_fails() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    assert_fails(
        check("UAE-KEY-001", bucket),
        "Bucket 'artifacts'",
        "no BucketServerSideEncryptionConfiguration",
    )


def test_provider_managed_keys_fail() -> None:
    aes = sse("logs", algorithm="AES256", key=None)
    aws_managed = sse("data", key=None)
    db = aws("aws:rds/instance:Instance", "mlflow", {"storageEncrypted": True})
    msk = aws("aws:msk/cluster:Cluster", "kafka", {"encryptionInfo": {}})
    pg = azure(
        "azure-native:dbforpostgresql:Server", "pg", {"dataEncryption": {"type": "SystemManaged"}}
    )
    aks = azure("azure-native:containerservice:ManagedCluster", "aks", {})
    result = check("UAE-KEY-001", aes, aws_managed, db, msk, pg, aks)
    assert_fails(result, "logs-sse", "AES256")
    assert_fails(result, "data-sse", "aws/s3")
    assert_fails(result, "Instance 'mlflow'", "kmsKeyId")
    assert_fails(result, "Cluster 'kafka'", "encryptionAtRestKmsKeyArn")
    assert_fails(result, "Server 'pg'", "AzureKeyVault")
    assert_fails(result, "ManagedCluster 'aks'", "diskEncryptionSetID")


# --------------------------------------------------------------------------- UAE-KEY-002


def test_rotating_keys_pass() -> None:
    policy = {
        "lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}}]
    }
    vault_key = azure(
        "azure-native:keyvault:Key",
        "data",
        {"properties": {"kty": "RSA-HSM", "rotationPolicy": policy}},
    )
    assert_passes(check("UAE-KEY-002", kms_key(), vault_key))


def test_key_rotation_off_fails() -> None:
    no_rotation = kms_key("logs", enableKeyRotation=False)
    vault_key = azure("azure-native:keyvault:Key", "secrets", {"properties": {"kty": "RSA-HSM"}})
    result = check("UAE-KEY-002", no_rotation, vault_key)
    assert_fails(result, "Key 'logs'", "enableKeyRotation")
    assert_fails(result, "Key 'secrets'", "rotation policy")


# --------------------------------------------------------------------------- UAE-KEY-003

RESTRICTED = {**TAGS, "data-classification": "restricted"}


def test_restricted_keys_in_hsm_pass_and_confidential_keys_need_none() -> None:
    hsm = kms_key("risk", customKeyStoreId="cks-1234567890abcdef0", tags=RESTRICTED)
    azure_hsm = azure(
        "azure-native:keyvault:Key", "risk", {"tags": RESTRICTED, "properties": {"kty": "RSA-HSM"}}
    )
    assert_passes(check("UAE-KEY-003", hsm, azure_hsm, kms_key("platform")))


def test_restricted_data_under_a_software_key_fails() -> None:
    soft = kms_key("risk", tags=RESTRICTED)
    soft_azure = azure(
        "azure-native:keyvault:Key", "risk-az", {"tags": RESTRICTED, "properties": {"kty": "RSA"}}
    )
    platform_key = kms_key("platform", id="1234abcd-12ab-34cd-56ef-1234567890ab")
    bucket = aws(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "risk-sse",
        {
            "tags": RESTRICTED,
            "rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": KEY_ARN}}],
        },
    )
    result = check("UAE-KEY-003", soft, soft_azure, platform_key, bucket)
    assert_fails(result, "Key 'risk'", "software key")
    assert_fails(result, "Key 'risk-az'", "RSA-HSM")
    assert_fails(result, "risk-sse", "Key 'platform'")
    assert result.findings and all(f.enforcement == "mandatory" for f in result.findings)


# --------------------------------------------------------------------------- UAE-KEY-004


def test_protected_keys_and_purge_protected_vaults_pass() -> None:
    vault = azure(
        "azure-native:keyvault:Vault",
        "kv",
        {"properties": {"enableSoftDelete": True, "enablePurgeProtection": True}},
        protect=True,
    )
    assert_passes(check("UAE-KEY-004", kms_key(), vault))


def test_short_deletion_window_unprotected_key_and_purgeable_vault_fail() -> None:
    short = aws("aws:kms/key:Key", "logs", {"deletionWindowInDays": 7, "enableKeyRotation": True})
    vault = azure(
        "azure-native:keyvault:Vault",
        "kv",
        {"properties": {"enableSoftDelete": True}},
        protect=True,
    )
    result = check("UAE-KEY-004", short, vault)
    assert_fails(result, "Key 'logs'", "7 days", "not protected")
    assert_fails(result, "Vault 'kv'", "purge protection")
    # ephemeral test stacks may drop `protect`, never the deletion window
    relaxed = check("UAE-KEY-004", short, config=PackConfig(require_protect=False))
    assert "not protected" not in relaxed.findings[0].message


# --------------------------------------------------------------------------- UAE-KEY-005


def key_policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OWNER = {
    "Sid": "Owner",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/platform-admin"},
    "Action": "kms:*",
    "Resource": "*",
}
# The account root, narrowed to named roles: how a key names users created after it.
NAMED_USERS = {
    "Sid": "NamedUsers",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {
        "StringEquals": {"kms:ViaService": "s3.me-central-1.amazonaws.com"},
        "ArnEquals": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/mlflow"]},
    },
}


def test_key_policy_scoped_to_the_account_passes() -> None:
    via_service = {
        "Sid": "EBS",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": ACCOUNT,
                "kms:ViaService": "ec2.me-central-1.amazonaws.com",
            }
        },
    }
    key = kms_key(policy=key_policy(OWNER, via_service, NAMED_USERS))
    vault = azure(
        "azure-native:keyvault:Vault",
        "kv",
        {"properties": {"enableRbacAuthorization": True, "tenantId": "t1"}},
    )
    config = PackConfig(aws_account_ids=(ACCOUNT,), azure_tenant_ids=("t1",))
    assert_passes(check("UAE-KEY-005", key, vault, config=config))


def test_wildcard_or_foreign_principal_fails() -> None:
    anyone = {
        "Sid": "Anyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    foreign = {
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    key = kms_key(policy=key_policy(OWNER, anyone, foreign))
    vault = azure(
        "azure-native:keyvault:Vault",
        "kv",
        {"properties": {"tenantId": "t1", "accessPolicies": [{"tenantId": "t2", "objectId": "x"}]}},
    )
    result = check("UAE-KEY-005", key, vault, config=PackConfig(aws_account_ids=(ACCOUNT,)))
    assert_fails(result, "Key 'data'", "Anyone", "'*'")
    assert_fails(result, "Key 'data'", "Partner", "999988887777")
    assert_fails(result, "Vault 'kv'", "access policies", "foreign tenant t2")


def test_account_root_administering_or_using_a_key_fails() -> None:
    """Issue 13: administration and decryption delegated to the whole account (the root
    principal, so any IAM principal of the account an IAM policy lets through)."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    everything = {"Sid": "Everything", "Effect": "Allow", "Principal": {"AWS": root}}
    administer = {
        "Sid": "Administer",
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT},
        "Action": ["kms:Put*", "kms:Describe*"],
    }
    via_any_role = {
        **NAMED_USERS,
        "Sid": "AnyRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}},
    }
    describe_only = {**everything, "Sid": "DescribeOnly", "Action": "kms:DescribeKey"}
    key = kms_key(
        policy=key_policy(
            {**everything, "Action": "kms:*"}, administer, via_any_role, describe_only
        )
    )
    result = check("UAE-KEY-005", key, config=PackConfig(aws_account_ids=(ACCOUNT,)))
    whole_account = f"every principal of account {ACCOUNT}"
    assert_fails(result, "Everything", whole_account, "use and administer")
    assert_fails(result, "Administer", "administer the key")
    assert_fails(result, "AnyRole", "use the key")
    assert "DescribeOnly" not in " ".join(f.message for f in result.findings)
