"""UAE-ENC-001 TLS in transit, UAE-ENC-002 Kubernetes secrets envelope encryption."""

from __future__ import annotations

from policy_fixtures import assert_fails, assert_passes, aws, azure, check, k8s

KEY_ARN = "arn:aws:kms:me-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KAFKA = "kubernetes:kafka.strimzi.io/v1:Kafka"


def strimzi(*listeners: dict) -> dict:
    return k8s(KAFKA, "platform", "kafka", {"spec": {"kafka": {"listeners": list(listeners)}}})


# --------------------------------------------------------------------------- UAE-ENC-001


def test_tls_everywhere_passes() -> None:
    msk = aws(
        "aws:msk/cluster:Cluster",
        "kafka",
        {"encryptionInfo": {"encryptionInTransit": {"clientBroker": "TLS", "inCluster": True}}},
    )
    cache = aws(
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "redis",
        {"transitEncryptionEnabled": True},
    )
    pg = aws("aws:rds/instance:Instance", "mlflow", {"engine": "postgres", "engineVersion": "16.4"})
    redis = azure(
        "azure-native:redis:Redis", "cache", {"minimumTlsVersion": "1.2", "enableNonSslPort": False}
    )
    account = azure("azure-native:storage:StorageAccount", "lake", {"minimumTlsVersion": "TLS1_2"})
    kafka = strimzi({"name": "tls", "port": 9093, "type": "internal", "tls": True})
    assert_passes(check("UAE-ENC-001", msk, cache, pg, redis, account, kafka))


def test_plaintext_listeners_and_old_tls_fail() -> None:
    msk = aws(
        "aws:msk/cluster:Cluster",
        "kafka",
        {"encryptionInfo": {"encryptionInTransit": {"clientBroker": "TLS_PLAINTEXT"}}},
    )
    cache = aws(
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "redis",
        {"transitEncryptionEnabled": False},
    )
    redis = azure(
        "azure-native:redis:Redis", "cache", {"minimumTlsVersion": "1.0", "enableNonSslPort": True}
    )
    account = azure("azure-native:storage:StorageAccount", "lake", {})
    kafka = strimzi({"name": "plain", "port": 9092, "type": "internal", "tls": False})
    result = check("UAE-ENC-001", msk, cache, redis, account, kafka)
    assert_fails(result, "Cluster 'kafka'", "TLS_PLAINTEXT")
    assert_fails(result, "ReplicationGroup 'redis'", "transitEncryptionEnabled")
    assert_fails(result, "Redis 'cache'", "minimumTlsVersion=1.0", "enableNonSslPort")
    assert_fails(result, "StorageAccount 'lake'", "minimumTlsVersion")
    assert_fails(result, "Kafka kafka/platform", "listener 'plain'")


def test_old_postgres_without_force_ssl_fails_but_a_forcing_parameter_group_passes() -> None:
    old = aws(
        "aws:rds/instance:Instance",
        "legacy",
        {"engine": "postgres", "engineVersion": "14.9", "parameterGroupName": "legacy"},
    )
    assert_fails(check("UAE-ENC-001", old), "Instance 'legacy'", "rds.force_ssl=1")
    group = aws(
        "aws:rds/parameterGroup:ParameterGroup",
        "legacy-params",
        {
            "name": "legacy",
            "family": "postgres14",
            "parameters": [{"name": "rds.force_ssl", "value": "1"}],
        },
    )
    assert_passes(check("UAE-ENC-001", old, group))


# --------------------------------------------------------------------------- UAE-ENC-002


def test_envelope_encrypted_clusters_pass() -> None:
    eks = aws(
        "aws:eks/cluster:Cluster",
        "eks",
        {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}},
    )
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {
            "securityProfile": {
                "azureKeyVaultKms": {
                    "enabled": True,
                    "keyId": "https://kv.vault.azure.net/keys/etcd/1",
                }
            }
        },
    )
    assert_passes(check("UAE-ENC-002", eks, aks))


def test_clusters_without_secrets_encryption_fail() -> None:
    eks = aws("aws:eks/cluster:Cluster", "eks", {})
    aks = azure("azure-native:containerservice:ManagedCluster", "aks", {"securityProfile": {}})
    result = check("UAE-ENC-002", eks, aks)
    assert_fails(result, "Cluster 'eks'", "'secrets'")
    assert_fails(result, "ManagedCluster 'aks'", "azureKeyVaultKms")
