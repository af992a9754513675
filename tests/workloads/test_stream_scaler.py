"""The stream processor's autoscaler (workloads/streaming/scaler.py): the decision, exhaustively;
the lag read from a real broker (tansu); the loop against that broker and a stand-in for the
API server's `deployments/scale` (the official client's requests, as a cluster receives them);
the CLI as the Deployment runs it.

tansu answers ListOffsets with the base offset of a partition's last record batch (plus one),
not its last record's: these tests produce one record per batch, where both agree (a real broker
answers the end of the log whatever the batching).
"""

from __future__ import annotations

import itertools
import json
import re
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import RecordingApiServer, Reply, status
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import PYTHON, Service, free_port, wait_until

from workloads.retraining.trainjob import api_client
from workloads.streaming.scaler import (
    MERGE_PATCH,
    DeploymentScale,
    KafkaLag,
    Observation,
    Policy,
    Scaler,
    ScalerMetrics,
    State,
    Unavailable,
    decide,
)

NAMESPACE, DEPLOYMENT = "tenant-risk", "fraud-risk-stream"
POLICY = Policy(
    lag_per_replica=1000, min_replicas=2, max_replicas=6, max_step_up=2, scale_down_window_s=600
)


def seen(lag: int | None, replicas: int | None, now: float = 0.0, partitions: int = 6):
    return Observation(now, lag, partitions, replicas)


# ---------------------------------------------------------------- the decision


def test_a_backlog_scales_up_at_once_at_most_max_step_up_per_step() -> None:
    first = decide(POLICY, State(), seen(lag=4500, replicas=2))
    assert (first.action, first.replicas, first.wanted) == ("up", 4, 5)
    second = decide(POLICY, first.state, seen(lag=4500, replicas=4, now=30))
    assert (second.action, second.replicas) == ("up", 5)
    assert decide(POLICY, second.state, seen(lag=4500, replicas=5, now=60)).action == "hold"


def test_wanted_replicas_never_exceed_the_partitions_or_the_maximum() -> None:
    few = decide(POLICY, State(), seen(lag=10**9, replicas=2, partitions=3))
    assert (few.action, few.replicas, few.wanted) == ("up", 3, 3)
    many = decide(POLICY, State(), seen(lag=10**9, replicas=6, partitions=48))
    assert (many.action, many.replicas, many.wanted) == ("hold", None, 6)
    # partitions fewer than the minimum: the partitions win (a replica more would idle)
    one = decide(POLICY, State(), seen(lag=0, replicas=1, partitions=1))
    assert (one.action, one.wanted) == ("hold", 1)


def test_scale_down_waits_for_a_whole_window_of_low_lag_then_goes_one_at_a_time() -> None:
    state, replicas, steps = State(), 5, []
    for now in range(0, 2401, 30):
        decision = decide(POLICY, state, seen(lag=0, replicas=replicas, now=now))
        if decision.replicas is not None:
            steps.append((now, decision.replicas))
            replicas = decision.replicas
        state = decision.state
    assert steps == [(600, 4), (1200, 3), (1800, 2)]  # never below the minimum
    assert decide(POLICY, state, seen(lag=0, replicas=2, now=2430)).action == "hold"


def test_lag_back_up_during_the_window_restarts_it() -> None:
    waiting = decide(POLICY, State(), seen(lag=100, replicas=4, now=0))
    assert (waiting.action, waiting.state) == ("wait", State(low_since=0))
    busy = decide(POLICY, waiting.state, seen(lag=4000, replicas=4, now=500))
    assert (busy.action, busy.state) == ("hold", State())
    again = decide(POLICY, busy.state, seen(lag=100, replicas=4, now=560))
    late = decide(POLICY, again.state, seen(lag=100, replicas=4, now=1100))
    assert (late.action, late.state) == ("wait", State(low_since=560))
    assert decide(POLICY, late.state, seen(lag=100, replicas=4, now=1160)).replicas == 3


@pytest.mark.parametrize(
    "observation",
    [seen(lag=None, replicas=4), seen(lag=10**6, replicas=None), Observation(0, 10**6, None, 2)],
)
def test_missing_data_holds_the_replicas_and_restarts_the_window(observation) -> None:
    decision = decide(POLICY, State(low_since=-10_000), observation)
    assert (decision.action, decision.replicas, decision.state) == ("missing", None, State())


def test_out_of_bounds_replicas_return_within_them_at_once_and_zero_is_left_alone() -> None:
    above = decide(POLICY, State(), seen(lag=0, replicas=9, partitions=6))
    assert (above.action, above.replicas) == ("down", 6)
    below = decide(POLICY, State(), seen(lag=0, replicas=1))
    assert (below.action, below.replicas) == ("up", 2)
    paused = decide(POLICY, State(), seen(lag=10**6, replicas=0))
    assert (paused.action, paused.replicas) == ("paused", None)


def test_every_decision_keeps_the_bounds_and_the_step_rules() -> None:
    """All lags, replica counts, partition counts and window states in a small grid."""
    lags = [None, 0, 1, 999, 1000, 1001, 2500, 5999, 6000, 10**7]
    for lag, replicas, partitions, low_since, now in itertools.product(
        lags, [None, *range(0, 9)], [1, 2, 3, 6, 12], [None, 0.0, 100.0], [0.0, 599.0, 700.0]
    ):
        state = State(low_since)
        d = decide(POLICY, state, Observation(now, lag, partitions, replicas))
        where = (lag, replicas, partitions, low_since, now, d)
        if lag is None or replicas is None or replicas == 0:
            assert d.replicas is None, where
            continue
        ceiling = min(POLICY.max_replicas, partitions)
        floor = min(POLICY.min_replicas, ceiling)
        assert floor <= d.wanted <= ceiling, where  # type: ignore[operator]
        if d.replicas is None:
            continue
        assert floor <= d.replicas <= ceiling, where
        inside = floor <= replicas <= ceiling
        if inside and d.replicas > replicas:
            assert d.replicas - replicas <= POLICY.max_step_up, where
        if inside and d.replicas < replicas:
            assert d.replicas == replicas - 1, where
            waited_from = now if low_since is None else low_since
            assert now - waited_from >= POLICY.scale_down_window_s, where


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"lag_per_replica": 0}, "--lag-per-replica 0"),
        ({"min_replicas": 0}, "--min-replicas 0"),
        ({"max_replicas": 1}, "--max-replicas 1 must be >= --min-replicas"),
        ({"max_step_up": 0}, "--max-step-up 0"),
        ({"scale_down_window_s": -1}, "--scale-down-window -1"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_option(change: dict[str, Any], named: str) -> None:
    values = {
        "lag_per_replica": 1000,
        "min_replicas": 2,
        "max_replicas": 6,
        "max_step_up": 2,
        "scale_down_window_s": 600,
    }
    with pytest.raises(ValueError, match=re.escape(named)):
        Policy(**{**values, **change})


# ---------------------------------------------------------------- the lag on a real broker


def new_topic(broker: str, partitions: int) -> str:
    topic = f"scaler-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(30)
    return topic


def produce(broker: str, topic: str, count: int, partitions: int) -> None:
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 0})
    for i in range(count):
        producer.produce(topic, value=json.dumps({"i": i}).encode(), partition=i % partitions)
        producer.flush(10)  # one record per batch: see the module docstring


def consume_and_commit(broker: str, topic: str, group: str, count: int, partitions: list[int]):
    """Read `count` messages of the given partitions as `group`, committing each one."""
    consumer = Consumer(
        {
            "bootstrap.servers": broker,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition(topic, p) for p in partitions])
    done = 0
    try:
        while done < count:
            message = consumer.poll(10)
            assert message is not None, f"only {done} of {count} messages arrived"
            if message.error():
                continue
            consumer.commit(message=message, asynchronous=False)
            done += 1
    finally:
        consumer.close()


def test_lag_is_what_was_produced_minus_what_the_group_committed(broker: str) -> None:
    topic = new_topic(broker, 3)
    produce(broker, topic, 30, 3)  # 10 per partition
    consume_and_commit(broker, topic, "risk.features", 14, [0, 1])  # partition 2: never read
    lag = KafkaLag({"bootstrap.servers": broker}, "risk.features", topic).read()
    assert lag.total == 30 - 14
    assert lag.partitions[2] == 10  # no committed offset: counted from the start of the log
    assert lag.partitions[0] + lag.partitions[1] == 20 - 14
    fresh = KafkaLag({"bootstrap.servers": broker}, "risk.nobody", topic).read()
    assert (fresh.total, fresh.partitions) == (30, {0: 10, 1: 10, 2: 10})


def test_an_unreachable_broker_is_unavailable_not_zero() -> None:
    reader = KafkaLag({"bootstrap.servers": f"127.0.0.1:{free_port()}"}, "g", "t", timeout=2)
    with pytest.raises(Unavailable, match="Kafka"):
        reader.read()


# ---------------------------------------------------------------- a stand-in API server


class ScaleApi(RecordingApiServer):
    """`deployments/scale` of one Deployment, as the API server answers it; records requests."""

    PATH = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{DEPLOYMENT}/scale"

    def __init__(self, replicas: int) -> None:
        self.replicas, self.failing = replicas, False
        super().__init__()

    def route(self, request: dict[str, Any]) -> Reply:
        method, path, kind, body = (request[k] for k in ("method", "path", "type", "body"))
        if self.failing:
            return 503, status(503, "ServiceUnavailable")
        if path != self.PATH:  # the Role names this one Deployment's scale, nothing else
            return 403, status(403, "Forbidden")
        if method == "PATCH":
            if kind != MERGE_PATCH or not isinstance(body, dict):
                return 415, status(415, "UnsupportedMediaType")
            self.replicas = int(body["spec"]["replicas"])
        return 200, {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE},
            "spec": {"replicas": self.replicas},
            "status": {"replicas": self.replicas, "selector": "app=stream"},
        }

    def patches(self) -> list[Any]:
        with self.lock:
            return [r["body"] for r in self.requests if r["method"] == "PATCH"]


@pytest.fixture
def scale_api() -> Iterator[ScaleApi]:
    api = ScaleApi(replicas=1)
    yield api
    api.close()


@pytest.fixture
def kubeconfig(tmp_path: Path, scale_api: ScaleApi) -> Path:
    return scale_api.kubeconfig(tmp_path / "kubeconfig", "scaler-token")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_loop_follows_the_lag_up_and_down_on_a_real_broker(
    broker: str, scale_api: ScaleApi, kubeconfig: Path
) -> None:
    topic, group = new_topic(broker, 4), "risk.loop"
    policy = Policy(lag_per_replica=10, min_replicas=1, max_replicas=3, scale_down_window_s=300)
    clock = Clock()
    scaler = Scaler(
        KafkaLag({"bootstrap.servers": broker}, group, topic),
        DeploymentScale(api_client(kubeconfig), NAMESPACE, DEPLOYMENT),
        policy,
        ScalerMetrics(DEPLOYMENT),
        clock,
    )
    produce(broker, topic, 48, 4)
    assert scaler.step().replicas == 3  # lag 48 wants 5, within max 3 and +2: 1 → 3
    assert scaler.step().action == "hold"
    consume_and_commit(broker, topic, group, 33, [0, 1, 2, 3])  # lag 15: wants 2
    clock.now = 100
    assert scaler.step().action == "wait"
    clock.now = 400
    assert (scaler.step().replicas, scale_api.replicas) == (2, 2)
    consume_and_commit(broker, topic, group, 15, [0, 1, 2, 3])  # lag 0: wants 1
    clock.now = 500
    assert scaler.step().action == "wait"
    clock.now = 800
    assert (scaler.step().replicas, scale_api.replicas) == (1, 1)
    assert scale_api.patches() == [{"spec": {"replicas": n}} for n in (3, 2, 1)]
    assert {r["type"] for r in scale_api.requests if r["method"] == "PATCH"} == {MERGE_PATCH}
    metrics = scaler.metrics.registry
    assert (
        metrics.get_sample_value(
            "card_risk_stream_scaler_decisions_total", {"deployment": DEPLOYMENT, "action": "down"}
        )
        == 2
    )


def test_without_kafka_or_the_api_server_nothing_is_scaled_and_errors_are_counted(
    broker: str, scale_api: ScaleApi, kubeconfig: Path
) -> None:
    topic = new_topic(broker, 2)
    produce(broker, topic, 40, 2)
    metrics = ScalerMetrics(DEPLOYMENT)
    policy = Policy(lag_per_replica=10, min_replicas=1, max_replicas=2)
    target = DeploymentScale(api_client(kubeconfig), NAMESPACE, DEPLOYMENT, timeout=3)
    dead = KafkaLag({"bootstrap.servers": f"127.0.0.1:{free_port()}"}, "g", topic, timeout=2)
    assert Scaler(dead, target, policy, metrics).step().action == "missing"
    scale_api.failing = True
    live = KafkaLag({"bootstrap.servers": broker}, "g", topic)
    assert Scaler(live, target, policy, metrics).step().action == "missing"
    assert scale_api.patches() == [] and scale_api.replicas == 1
    errors = {
        source: metrics.registry.get_sample_value(
            "card_risk_stream_scaler_errors_total", {"deployment": DEPLOYMENT, "source": source}
        )
        for source in ("kafka", "kubernetes")
    }
    assert errors == {"kafka": 1, "kubernetes": 1}
    scale_api.failing = False  # back: the next step acts on what it reads
    assert Scaler(live, target, policy, metrics).step().replicas == 2


def test_another_deployments_scale_is_refused_as_the_role_would(
    scale_api: ScaleApi, kubeconfig: Path
) -> None:
    other = DeploymentScale(api_client(kubeconfig), NAMESPACE, "fraud-risk-retraining")
    with pytest.raises(Unavailable, match="403"):
        other.replicas()
    with pytest.raises(Unavailable, match="403"):
        other.scale(3)
    assert scale_api.replicas == 1


# ---------------------------------------------------------------- the CLI, as the pod runs it


@pytest.mark.slow
def test_the_cli_scales_serves_metrics_and_stops_on_sigterm(
    broker: str, scale_api: ScaleApi, kubeconfig: Path, tmp_path: Path
) -> None:
    topic = new_topic(broker, 3)
    produce(broker, topic, 30, 3)
    port = free_port()
    env = {
        "MLP_KAFKA_BOOTSTRAP": broker,
        "MLP_TOPIC_TRANSACTIONS": topic,
        "MLP_TOPIC_DEAD_LETTER": f"{topic}.dlq",
        "MLP_STREAM_GROUP_ID": "risk.cli",
        "MLP_HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
        "PATH": "/usr/bin:/bin",
    }
    service = Service(
        [
            *(PYTHON, "-m", "workloads.streaming", "scale"),
            *("--deployment", DEPLOYMENT, "--namespace", NAMESPACE),
            *("--kubeconfig", str(kubeconfig), "--lag-per-replica", "10"),
            *("--min-replicas", "1", "--max-replicas", "3", "--interval", "0.5"),
            *("--metrics-port", str(port)),
        ],
        tmp_path / "scaler.log",
        env,
    )
    try:
        wait_until(lambda: scale_api.replicas == 3, 60, "scaled to 3", service.process,
                   service.log)  # fmt: skip
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert f'card_risk_stream_scaler_consumer_lag{{deployment="{DEPLOYMENT}"}} 30.0' in text
        assert f'card_risk_stream_scaler_replicas{{deployment="{DEPLOYMENT}"}} 3.0' in text
        assert (tmp_path / "heartbeat").exists()
    finally:
        code = service.stop(signal.SIGTERM)
    assert code == 0, service.log.read_text()[-2000:]
    assert scale_api.patches()[0] == {"spec": {"replicas": 3}}


def test_a_bad_option_ends_the_cli_with_status_2_naming_it(capsys) -> None:
    from workloads.streaming.__main__ import main

    assert main(["scale", "--deployment", DEPLOYMENT, "--namespace", NAMESPACE,
                 "--max-replicas", "0", "--min-replicas", "1"]) == 2  # fmt: skip
    assert "--max-replicas 0 must be >= --min-replicas (1)" in capsys.readouterr().err
