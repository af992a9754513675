"""MSK: TLS + IAM only, CMK, private brokers in every zone; tenants confined to `<tenant>.*`."""

from __future__ import annotations

import json

import pytest

from components.aws.msk import (
    MskCluster,
    MskClusterArgs,
    MskTenantAccess,
    MskTenantAccessArgs,
)
from tests.components.aws.aws_fixtures import (
    ACCOUNT,
    KEY_ARN,
    LOGS_KEY_ARN,
    REGION,
    SITE,
    by_sid,
    inputs,
    one,
    policy,
    run_aws,
)

SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
EKS_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/mlplatform-test"


def _msk(brokers: int = 3):
    def build(opts):
        msk = MskCluster(
            "msk",
            MskClusterArgs(
                site=SITE,
                cluster_name="mlplatform-test-kafka",
                kafka_version="4.1.x.kraft",
                vpc_id="vpc-1",
                subnet_ids=SUBNETS,
                client_security_group_id="sg-nodes",
                kms_key_arn=KEY_ARN,
                logs_key_arn=LOGS_KEY_ARN,
                log_retention_days=400,
                brokers=brokers,
                broker_storage_gi=250,
                server_properties={"auto.create.topics.enable": "false"},
                platform_topics=(),
                partitions=6,
                replication_factor=3,
                topic_configs={},
            ),
            opts,
        )
        MskTenantAccess(
            "kafka-risk",
            MskTenantAccessArgs(
                site=SITE,
                tenant="risk",
                namespace="tenant-risk",
                service_account="workloads",
                msk_cluster_arn=msk.arn,
                eks_cluster_name="mlplatform-test",
                eks_cluster_arn=EKS_ARN,
                role_name="mlplatform-test-tenant-risk-kafka",
                topics=("risk.transactions", "risk.scores"),
                partitions=6,
                replication_factor=3,
                topic_configs={"min.insync.replicas": "2"},
            ),
            opts,
        )

    return run_aws(build)


@pytest.fixture(scope="module")
def msk():
    return _msk()


def test_brokers_are_private_tls_only_iam_authenticated_and_cmk_encrypted(msk):
    cluster = one(msk, "aws:msk/cluster:Cluster")
    i = inputs(cluster)
    assert i["encryptionInfo"]["encryptionAtRestKmsKeyArn"] == KEY_ARN
    assert i["encryptionInfo"]["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
    assert i["clientAuthentication"]["sasl"] == {"iam": True, "scram": False}
    assert i["clientAuthentication"]["unauthenticated"] is False
    nodes = i["brokerNodeGroupInfo"]
    assert nodes["connectivityInfo"]["publicAccess"] == {"type": "DISABLED"}
    assert nodes["clientSubnets"] == SUBNETS
    assert i["numberOfBrokerNodes"] == 3
    assert nodes["storageInfo"]["ebsStorageInfo"]["volumeSize"] == 250  # from the Args, no default
    assert cluster.options["protect"] is True


def test_broker_logs_stay_in_region_encrypted(msk):
    logging = inputs(one(msk, "aws:msk/cluster:Cluster"))["loggingInfo"]["brokerLogs"]
    group = one(msk, "aws:cloudwatch/logGroup:LogGroup")
    assert logging["cloudwatchLogs"] == {"enabled": True, "logGroup": inputs(group)["name"]}
    assert inputs(group)["kmsKeyId"] == LOGS_KEY_ARN


def test_only_nodes_reach_the_iam_listener(msk):
    (rule,) = [
        inputs(r) for r in msk.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ]
    assert (rule["fromPort"], rule["toPort"]) == (9098, 9098)
    assert rule["referencedSecurityGroupId"] == "sg-nodes"


def test_broker_count_must_fill_every_zone_evenly():
    with pytest.raises(Exception, match="multiple of the zones"):
        _msk(brokers=4)


def test_tenant_topics_are_declared_with_the_platform_settings(msk):
    topics = {inputs(t)["name"]: inputs(t) for t in msk.of_type("aws:msk/topic:Topic")}
    assert set(topics) == {"risk.transactions", "risk.scores"}
    for topic in topics.values():
        assert topic["replicationFactor"] == 3 and topic["partitionCount"] == 6
        assert json.loads(topic["configs"]) == {"min.insync.replicas": "2"}


def test_tenant_role_reaches_only_its_own_topics_and_groups(msk):
    access = by_sid(policy(one(msk, "aws:iam/rolePolicy:RolePolicy")))
    cluster_arn = one(msk, "aws:msk/cluster:Cluster").outputs["arn"]
    topic_arn = cluster_arn.replace(":cluster/", ":topic/") + "/risk.*"
    group_arn = cluster_arn.replace(":cluster/", ":group/") + "/risk.*"
    assert access["OwnTopics"]["Resource"] == [topic_arn]
    assert access["OwnConsumerGroups"]["Resource"] == [group_arn]
    assert access["ConnectToCluster"]["Resource"] == [cluster_arn]
    actions = {a for st in access.values() for a in st["Action"]}
    assert (
        not {"kafka-cluster:CreateTopic", "kafka-cluster:DeleteTopic", "kafka-cluster:*"} & actions
    )


def test_tenant_role_is_for_the_tenant_workloads_account_only(msk):
    association = inputs(one(msk, "aws:eks/podIdentityAssociation:PodIdentityAssociation"))
    assert (association["namespace"], association["serviceAccount"]) == ("tenant-risk", "workloads")
    trust = policy(one(msk, "aws:iam/role:Role"), "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": EKS_ARN}
    assert (
        trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == "tenant-risk"
    )


def test_tenant_topics_must_carry_the_tenant_prefix():
    def build(opts):
        MskTenantAccess(
            "bad",
            MskTenantAccessArgs(
                site=SITE,
                tenant="risk",
                namespace="tenant-risk",
                service_account="workloads",
                msk_cluster_arn="arn:aws:kafka:me-central-1:111122223333:cluster/c/u",
                eks_cluster_name="c",
                eks_cluster_arn=EKS_ARN,
                role_name="r",
                topics=("marketing.events",),
                partitions=1,
                replication_factor=1,
            ),
            opts,
        )

    with pytest.raises(Exception, match="not prefixed"):
        run_aws(build)


def test_platform_topics_exist_and_tenants_may_only_read_them():
    def build(opts):
        msk = MskCluster(
            "msk",
            MskClusterArgs(
                site=SITE,
                cluster_name="c",
                kafka_version="4.1.x.kraft",
                vpc_id="vpc-1",
                subnet_ids=SUBNETS,
                client_security_group_id="sg-nodes",
                kms_key_arn=KEY_ARN,
                logs_key_arn=LOGS_KEY_ARN,
                log_retention_days=30,
                brokers=3,
                broker_storage_gi=100,
                server_properties={},
                platform_topics=("platform.model-events",),
                partitions=1,
                replication_factor=3,
                topic_configs={},
            ),
            opts,
        )
        MskTenantAccess(
            "kafka-risk",
            MskTenantAccessArgs(
                site=SITE,
                tenant="risk",
                namespace="tenant-risk",
                service_account="workloads",
                msk_cluster_arn=msk.arn,
                eks_cluster_name="c",
                eks_cluster_arn=EKS_ARN,
                role_name="r",
                topics=("risk.events",),
                partitions=1,
                replication_factor=3,
                read_only_topics=("platform.model-events",),
            ),
            opts,
        )

    synthesis = run_aws(build)
    names = {inputs(t)["name"] for t in synthesis.of_type("aws:msk/topic:Topic")}
    assert names == {"platform.model-events", "risk.events"}
    statements = by_sid(policy(one(synthesis, "aws:iam/rolePolicy:RolePolicy")))
    read = statements["ReadPlatformTopics"]
    assert read["Action"] == ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    assert read["Resource"][0].endswith("/platform.model-events")
    writes = [s for s in statements.values() if "kafka-cluster:WriteData" in s["Action"]]
    assert all(r.endswith("/risk.*") for s in writes for r in s["Resource"])  # never platform
