"""RDS PostgreSQL and ElastiCache: CMK at rest, TLS, private, multi-AZ, nodes-only access."""

from __future__ import annotations

import pytest

from components.aws.databases import (
    PostgresDatabase,
    PostgresDatabaseArgs,
    RedisCache,
    RedisCacheArgs,
)
from infra.synth.recording import SECRET, redact
from tests.components.aws.aws_fixtures import (
    KEY_ARN,
    LOGS_KEY_ARN,
    SITE,
    inputs,
    one,
    run_aws,
)

STORE = {
    "site": SITE,
    "vpc_id": "vpc-1",
    "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
    "client_security_group_id": "sg-nodes",
    "kms_key_arn": KEY_ARN,
    "logs_key_arn": LOGS_KEY_ARN,
    "log_retention_days": 400,
}


@pytest.fixture(scope="module")
def stores():
    import pulumi

    def build(opts):
        PostgresDatabase(
            "pg",
            PostgresDatabaseArgs(
                identifier="mlplatform-test-postgres",
                username="mlplatform",
                password=pulumi.Output.secret("pg-secret"),
                **STORE,
            ),
            opts,
        )
        RedisCache(
            "redis",
            RedisCacheArgs(
                replication_group_id="mlplatform-test-feast",
                auth_token=pulumi.Output.secret("redis-secret-token-0123456789"),
                **STORE,
            ),
            opts,
        )

    return run_aws(build)


def test_postgres_is_private_multi_az_and_encrypted_with_the_cmk(stores):
    db = one(stores, "aws:rds/instance:Instance")
    i = inputs(db)
    assert i["publiclyAccessible"] is False
    assert i["multiAz"] is True
    assert i["storageEncrypted"] is True and i["kmsKeyId"] == KEY_ARN
    assert i["performanceInsightsKmsKeyId"] == KEY_ARN
    assert i["iamDatabaseAuthenticationEnabled"] is True
    assert i["backupRetentionPeriod"] >= 7
    assert i["deletionProtection"] is True and i["skipFinalSnapshot"] is False
    assert db.options["protect"] is True
    assert redact(db.inputs)["password"] == SECRET


def test_postgres_forces_tls_12(stores):
    params = inputs(one(stores, "aws:rds/parameterGroup:ParameterGroup"))["parameters"]
    values = {p["name"]: p["value"] for p in params}
    assert values["rds.force_ssl"] == "1"
    assert values["ssl_min_protocol_version"] == "TLSv1.2"


def test_postgres_logs_go_to_precreated_encrypted_groups(stores):
    db = one(stores, "aws:rds/instance:Instance")
    exports = inputs(db)["enabledCloudwatchLogsExports"]
    groups = {
        inputs(g)["name"]: g
        for g in stores.of_type("aws:cloudwatch/logGroup:LogGroup")
        if "/aws/rds/" in inputs(g)["name"]
    }
    assert set(groups) == {f"/aws/rds/instance/mlplatform-test-postgres/{e}" for e in exports}
    for group in groups.values():
        assert inputs(group)["kmsKeyId"] == LOGS_KEY_ARN
        assert group.urn in db.options["dependsOn"]


def test_redis_requires_tls_auth_and_cmk_with_failover_across_zones(stores):
    group = one(stores, "aws:elasticache/replicationGroup:ReplicationGroup")
    i = inputs(group)
    assert i["transitEncryptionEnabled"] is True and i["transitEncryptionMode"] == "required"
    assert i["atRestEncryptionEnabled"] is True and i["kmsKeyId"] == KEY_ARN
    assert i["automaticFailoverEnabled"] is True and i["multiAzEnabled"] is True
    assert i["numCacheClusters"] == 3
    assert redact(group.inputs)["authToken"] == SECRET
    assert group.options["protect"] is True


def test_data_stores_admit_their_port_from_the_nodes_only(stores):
    groups = {
        r.id: inputs(r)["name"] for r in stores.of_type("aws:ec2/securityGroup:SecurityGroup")
    }
    rules = [
        inputs(r)
        for r in stores.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ]
    assert {(groups[r["securityGroupId"]], r["fromPort"]) for r in rules} == {
        ("mlplatform-test-postgres-postgres", 5432),
        ("mlplatform-test-feast-redis", 6379),
    }
    for rule in rules:
        assert rule["referencedSecurityGroupId"] == "sg-nodes"
        assert "cidrIpv4" not in rule and rule["fromPort"] == rule["toPort"]
    assert not stores.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
