"""The ML loop's share of the stack: `sampleWorkloads.loop` refused when wrong (naming the key),
the loop's Kafka topics (the dead-letter topic among them) on every Kafka variant, and the
retraining controller's ServiceAccount bound to the tenant's Kafka identity on MSK and Event
Hubs."""

from __future__ import annotations

import pytest

from infra.synth import manifests
from infra.synth.recording import unwrap
from stacks.config.errors import ConfigError
from stacks.config.loader import stack_config
from stacks.config.ml_loop import MlLoop, tenant_topics

VARIANTS = {
    "strimzi-onprem": ("uae-onprem",),
    "strimzi-aws": ("uae-cloud",),
    "msk": ("uae-cloud", "kafka.mode=managed"),
    "strimzi-azure": ("uae-cloud-azure",),
    "event-hubs": ("uae-cloud-azure", "kafka.mode=managed"),
}


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def variant(request):
    return request.param


@pytest.fixture
def plan(variant, stack_plan):
    return stack_plan(*VARIANTS[variant])


def _resources(plan, kind: str):
    return [r for r in plan.synthesis.resources if r.type.split(":")[-1] == kind]


def _kafka_topics(plan) -> set[str]:
    return {
        manifests.to_object(r)["metadata"]["name"]
        for r in _resources(plan, "KafkaTopic")
        if manifests.is_kubernetes_object(r)
    }


def test_dead_letter_and_loop_topics_exist_on_every_kafka_variant(plan, variant):
    tenant = plan.config.sample_workloads.tenant
    wanted = {
        f"{tenant}.transactions",
        f"{tenant}.transactions.dlq",
        f"{tenant}.transactions.scored",
        f"{tenant}.transactions.labels",
        f"{tenant}.model-events",
        f"{tenant}.model-drift-events",
        f"{tenant}.model-retraining-requests",
    }
    if variant == "msk":
        names = {unwrap(r.inputs)["name"] for r in _resources(plan, "Topic")}
    elif variant == "event-hubs":
        names = {unwrap(r.inputs)["eventHubName"] for r in _resources(plan, "EventHub")}
    else:
        names = _kafka_topics(plan)
    assert wanted <= names
    assert not {n for n in names if n.startswith("marketing.") and n.endswith(".dlq")}


def test_retraining_controller_shares_the_tenants_kafka_identity(plan, variant):
    tenant = plan.config.sample_workloads.tenant
    if variant == "msk":
        associations = {
            (unwrap(r.inputs)["namespace"], unwrap(r.inputs)["serviceAccount"])
            for r in _resources(plan, "PodIdentityAssociation")
        }
        assert (f"tenant-{tenant}", "retraining-controller") in associations
        assert (f"tenant-{tenant}", "stream-scaler") in associations
        assert (f"tenant-{tenant}", "workloads") in associations
        assert ("tenant-marketing", "retraining-controller") not in associations
        role = next(
            unwrap(r.inputs)
            for r in _resources(plan, "Role")
            if unwrap(r.inputs).get("name", "").endswith(f"tenant-{tenant}-kafka")
        )
        trust = role["assumeRolePolicy"]
        assert '"retraining-controller"' in trust and '"workloads"' in trust
        assert '"stream-scaler"' in trust
    elif variant == "event-hubs":
        subjects = {
            unwrap(r.inputs)["subject"] for r in _resources(plan, "FederatedIdentityCredential")
        }
        assert f"system:serviceaccount:tenant-{tenant}:retraining-controller" in subjects
        assert f"system:serviceaccount:tenant-{tenant}:stream-scaler" in subjects
        assert f"system:serviceaccount:tenant-{tenant}:workloads" in subjects
        assert "system:serviceaccount:tenant-marketing:retraining-controller" not in subjects
    else:
        assert not _resources(plan, "PodIdentityAssociation") or all(
            unwrap(r.inputs)["serviceAccount"] != "retraining-controller"
            for r in _resources(plan, "PodIdentityAssociation")
        )


def test_only_the_loops_tenant_gets_loop_topics():
    assert tenant_topics(["events"], None) == ["events"]
    assert tenant_topics(["transactions", "scores"], MlLoop()) == [
        "transactions",
        "scores",
        "transactions.dlq",
        "transactions.scored",
        "transactions.labels",
        "model-events",
        "model-drift-events",
        "model-retraining-requests",
    ]
    # the input topic is added when the tenant does not list it
    assert tenant_topics(["events"], MlLoop(input_topic="payments"))[:3] == [
        "events",
        "payments",
        "payments.dlq",
    ]


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        (
            ["sampleWorkloads.loop.streaming.maxReplicas=12"],
            "sampleWorkloads.loop.streaming.maxReplicas",
            "exceeds the input topic's partitions (kafka.partitions = 6)",
        ),
        (
            [
                "sampleWorkloads.loop.streaming.replicas=5",
                "sampleWorkloads.loop.streaming.maxReplicas=4",
            ],
            "sampleWorkloads.loop.streaming.replicas",
            "exceeds maxReplicas (4)",
        ),
        (
            ["sampleWorkloads.loop.streaming.lagPerReplica=10"],
            "sampleWorkloads.loop.streaming.lagPerReplica",
            "is too small; allowed: at least 100",
        ),
        (
            ["sampleWorkloads.loop.streaming.scaleDownWindowSeconds=5"],
            "sampleWorkloads.loop.streaming.scaleDownWindowSeconds",
            "is too small; allowed: at least 60",
        ),
        (
            ["sampleWorkloads.loop.streaming.targetCpuPercent=70"],
            "sampleWorkloads.loop.streaming.targetCpuPercent",
            # gone with the HPA: a stack that still sets it is refused, not ignored
            "is an unknown key; allowed keys here: cpu, lagPerReplica,",
        ),
        (
            ["sampleWorkloads.loop.monitoring.schedule=every hour"],
            "sampleWorkloads.loop.monitoring.schedule",
            "is not a cron schedule",
        ),
        (
            ["sampleWorkloads.loop.batch.outputPath=../marketing/scores"],
            "sampleWorkloads.loop.batch.outputPath",
            "is not a path inside the tenant's prefix",
        ),
        (
            ["sampleWorkloads.loop.rollout.maxErrorRate=2"],
            "sampleWorkloads.loop.rollout.maxErrorRate",
            "less than 1",
        ),
        (
            ["sampleWorkloads.loop.inputTopic=Transactions!"],
            "sampleWorkloads.loop.inputTopic",
            "is not a DNS label",
        ),
    ],
)
def test_bad_loop_config_is_refused_naming_the_key(overrides, key, expected):
    with pytest.raises(ConfigError) as caught:
        stack_config("uae-onprem", overrides)
    problems = {p.key: str(p) for p in caught.value.problems}
    assert key in problems, problems
    assert expected in problems[key]
