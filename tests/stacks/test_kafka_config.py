"""Kafka settings travel from the stack config to what the cluster receives, on every kind.

Each value below differs from the config model's default, so a component that hard-coded a
default (or an Args field with one) would fail here.
"""

from __future__ import annotations

import json
from typing import Any

from infra.synth.recording import unwrap

SETTINGS = (
    "kafka.brokers=6",
    "kafka.controllers=5",
    "kafka.brokerStorageGi=250",
    "kafka.controllerStorageGi=30",
    "kafka.replicationFactor=4",
    "kafka.minInsyncReplicas=3",
    "kafka.retentionHours=72",
    "kafka.partitions=12",
)


def _objects(result, kind: str) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["metadata"]["name"]: unwrap(r.inputs)
        for r in result.synthesis.resources
        if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")
    }


def test_strimzi_cr_carries_the_configured_kafka_settings(stack_plan):
    result = stack_plan("uae-onprem", *SETTINGS)
    kafka = _objects(result, "Kafka")["mlplatform"]["spec"]["kafka"]["config"]
    assert kafka["default.replication.factor"] == 4
    assert kafka["offsets.topic.replication.factor"] == 4
    assert kafka["min.insync.replicas"] == 3 and kafka["transaction.state.log.min.isr"] == 3
    assert kafka["log.retention.hours"] == 72 and kafka["num.partitions"] == 12
    pools = _objects(result, "KafkaNodePool")
    assert pools["brokers"]["spec"]["replicas"] == 6
    assert pools["brokers"]["spec"]["storage"]["size"] == "250Gi"
    assert pools["controllers"]["spec"]["replicas"] == 5
    assert pools["controllers"]["spec"]["storage"]["size"] == "30Gi"
    topics = _objects(result, "KafkaTopic")
    assert topics and all(t["spec"]["replicas"] == 4 for t in topics.values())
    assert all(t["spec"]["partitions"] == 12 for t in topics.values())
    assert all(t["spec"]["config"]["retention.ms"] == str(72 * 3_600_000) for t in topics.values())


def test_msk_carries_the_configured_kafka_settings(stack_plan):
    result = stack_plan("uae-cloud", "kafka.mode=managed", *SETTINGS)
    (cluster,) = result.synthesis.of_type("aws:msk/cluster:Cluster")
    nodes = unwrap(cluster.inputs)["brokerNodeGroupInfo"]
    assert unwrap(cluster.inputs)["numberOfBrokerNodes"] == 6
    assert nodes["storageInfo"]["ebsStorageInfo"]["volumeSize"] == 250
    (configuration,) = result.synthesis.of_type("aws:msk/configuration:Configuration")
    properties = dict(
        line.split("=", 1) for line in unwrap(configuration.inputs)["serverProperties"].split("\n")
    )
    assert properties["default.replication.factor"] == "4"
    assert properties["min.insync.replicas"] == "3"
    assert properties["log.retention.hours"] == "72" and properties["num.partitions"] == "12"
    topics = [unwrap(t.inputs) for t in result.synthesis.of_type("aws:msk/topic:Topic")]
    assert topics and all(t["replicationFactor"] == 4 for t in topics)
    assert all(t["partitionCount"] == 12 for t in topics)
    assert all(json.loads(t["configs"])["retention.ms"] == str(72 * 3_600_000) for t in topics)


def test_event_hubs_carry_the_configured_partitions_and_retention(stack_plan):
    result = stack_plan("uae-cloud-azure", "kafka.mode=managed", *SETTINGS)
    hubs = [unwrap(r.inputs) for r in result.synthesis.of_type("azure-native:eventhub:EventHub")]
    assert hubs and all(h["partitionCount"] == 12 for h in hubs)
    assert all(h["retentionDescription"]["retentionTimeInHours"] == 72 for h in hubs)
