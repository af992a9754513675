"""UAE-CHG-001: stateful resources are protected and never deleted before replacement."""

from __future__ import annotations

from policy_fixtures import assert_fails, assert_passes, aws, azure, check, k8s

from policies.pack_config import PackConfig


def test_protected_stateful_resources_pass() -> None:
    db = aws("aws:rds/instance:Instance", "mlflow", protect=True)
    vault = azure("azure-native:keyvault:Vault", "kv", retain=True)
    pvc = k8s(
        "kubernetes:core/v1:PersistentVolumeClaim", "data", "kafka", {"spec": {}}, protect=True
    )
    assert_passes(check("UAE-CHG-001", db, vault, pvc))


def test_unprotected_or_delete_before_replace_fails() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts")
    key = aws("aws:kms/key:Key", "data", protect=True, delete_before_replace=True)
    result = check("UAE-CHG-001", bucket, key)
    assert_fails(result, "Bucket 'artifacts'", "neither protected nor retainOnDelete")
    assert_fails(result, "Key 'data'", "deleteBeforeReplace")
    ephemeral = check("UAE-CHG-001", bucket, key, config=PackConfig(require_protect=False))
    assert [f.message for f in ephemeral.findings] == [
        "Key 'data' sets deleteBeforeReplace: a replacement would destroy its data first."
    ]
