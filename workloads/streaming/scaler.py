"""The stream processor's autoscaler: replicas that follow the consumer group's lag.

`python -m workloads.streaming scale` owns the `replicas` of the processor's Deployment (no
HPA beside it: two owners would fight). Every `--interval` seconds it:

1. reads the group's lag over the input topic (`KafkaLag`): per partition, the end of the log
   (high watermark) minus the group's committed offset; a partition the group never committed
   counts from the start of the log (low watermark), as `auto.offset.reset: earliest` reads it;
2. reads the Deployment's `scale` subresource (`DeploymentScale`, the official client);
3. decides (`decide`, a pure function of the policy, its state and what was observed):
   wanted = ceil(lag / lag_per_replica) within [min_replicas, min(max_replicas, partitions)]
   (a replica beyond the partitions would idle). Up at once, at most `max_step_up` per step;
   down only when the wanted count has stayed below the current one for a whole
   `scale_down_window_s`, one replica per window (each rebalance pauses the whole group);
   outside the bounds (a hand-made scale, a lowered maximum) straight back within them;
4. patches `spec.replicas` of the scale subresource when the decision changes it.

What it cannot read (Kafka or the API server down, a partition's offsets in error) is logged and
counted, and the replicas stay as they are: it never scales on missing data, and a gap restarts
the scale-down window. A Deployment scaled to 0 by hand is left alone (autoscaling paused, as the
HPA does). Its RBAC is `get` and `patch` on `deployments/scale` of that one Deployment.

Metrics (own registry, `/metrics` with `--metrics-port`), labelled with the Deployment:
`card_risk_stream_scaler_consumer_lag`, `card_risk_stream_scaler_wanted_replicas`,
`card_risk_stream_scaler_replicas`, `card_risk_stream_scaler_decisions_total{action}`,
`card_risk_stream_scaler_errors_total{source}` (kafka, kubernetes).
Liveness: the heartbeat file (`workloads.health`), touched every loop.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from workloads.health import beat

log = logging.getLogger(__name__)

Action = Literal["up", "down", "hold", "wait", "paused", "missing"]
MERGE_PATCH = "application/merge-patch+json"
NO_OFFSET = -1001  # librdkafka's OFFSET_INVALID: the group has committed nothing there


@dataclass(frozen=True, kw_only=True)
class Policy:
    lag_per_replica: int
    min_replicas: int
    max_replicas: int
    max_step_up: int = 2
    scale_down_window_s: float = 600.0

    def __post_init__(self) -> None:
        checks = [
            (self.lag_per_replica >= 1, f"--lag-per-replica {self.lag_per_replica} must be >= 1"),
            (self.min_replicas >= 1, f"--min-replicas {self.min_replicas} must be >= 1"),
            (
                self.max_replicas >= self.min_replicas,
                f"--max-replicas {self.max_replicas} must be >= --min-replicas "
                f"({self.min_replicas})",
            ),
            (self.max_step_up >= 1, f"--max-step-up {self.max_step_up} must be >= 1"),
            (
                self.scale_down_window_s >= 0,
                f"--scale-down-window {self.scale_down_window_s} must be >= 0 seconds",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass(frozen=True)
class Observation:
    now: float  # monotonic seconds
    lag: int | None  # summed over the partitions; None: could not be read
    partitions: int | None  # of the input topic; None: could not be read
    replicas: int | None  # the Deployment's spec.replicas; None: could not be read


@dataclass(frozen=True)
class State:
    low_since: float | None = None  # since when the wanted count has stayed below the current


@dataclass(frozen=True)
class Decision:
    action: Action
    replicas: int | None  # what to set; None: leave the Deployment alone
    wanted: int | None  # from the lag, within the bounds
    why: str
    state: State


def decide(policy: Policy, state: State, seen: Observation) -> Decision:
    """The next step, from what was observed (pure: the same inputs give the same decision)."""
    if seen.lag is None or seen.partitions is None or seen.replicas is None:
        return Decision("missing", None, None, "lag or replicas unknown: holding", State())
    current = seen.replicas
    if current == 0:
        return Decision("paused", None, None, "scaled to 0 by hand: autoscaling paused", State())
    ceiling = max(1, min(policy.max_replicas, seen.partitions))
    floor = min(policy.min_replicas, ceiling)
    wanted = min(max(math.ceil(seen.lag / policy.lag_per_replica), floor), ceiling)
    lag = f"lag {seen.lag} ({policy.lag_per_replica} per replica)"
    if not floor <= current <= ceiling:
        bound = floor if current < floor else ceiling
        why = f"{current} replicas outside [{floor}, {ceiling}]: back to {bound}"
        return Decision("up" if bound > current else "down", bound, wanted, why, State())
    if wanted > current:
        target = min(wanted, current + policy.max_step_up)
        return Decision("up", target, wanted, f"{lag} wants {wanted}: {target}", State())
    if wanted == current:
        return Decision("hold", None, wanted, f"{lag} wants {wanted}", State())
    since = seen.now if state.low_since is None else state.low_since
    waited = seen.now - since
    if waited >= policy.scale_down_window_s:
        why = f"{lag} wanted at most {wanted} for {waited:.0f} s: one replica fewer"
        return Decision("down", current - 1, wanted, why, State(low_since=seen.now))
    why = f"{lag} wants {wanted}, low for {waited:.0f} of {policy.scale_down_window_s:.0f} s"
    return Decision("wait", None, wanted, why, State(low_since=since))


# ---------------------------------------------------------------------------- what it reads


class Unavailable(Exception):
    """The lag or the replicas could not be read (or the replicas not set)."""


@dataclass(frozen=True)
class Lag:
    total: int
    partitions: dict[int, int]  # partition → lag


class KafkaLag:
    """A consumer group's lag over one topic, from the admin API (no group membership)."""

    def __init__(self, config: dict[str, Any], group: str, topic: str, timeout: float = 10.0):
        self.admin = AdminClient(config)
        self.group, self.topic, self.timeout = group, topic, timeout

    def read(self) -> Lag:
        try:
            metadata = self.admin.list_topics(self.topic, timeout=self.timeout).topics[self.topic]
            if metadata.error is not None or not metadata.partitions:
                raise Unavailable(f"topic {self.topic}: {metadata.error or 'no partitions'}")
            partitions = [TopicPartition(self.topic, p) for p in sorted(metadata.partitions)]
            committed = self._committed(partitions)
            ends = self._offsets(partitions, OffsetSpec.latest())
            starts = self._offsets(partitions, OffsetSpec.earliest())
        except KafkaException as error:
            raise Unavailable(f"Kafka: {error}") from None
        lags = {}
        for p in ends:
            start = committed[p] if committed[p] >= 0 else starts[p]
            lags[p] = max(ends[p] - start, 0)
        return Lag(sum(lags.values()), lags)

    def _committed(self, partitions: list[TopicPartition]) -> dict[int, int]:
        request = [ConsumerGroupTopicPartitions(self.group, partitions)]
        futures = self.admin.list_consumer_group_offsets(request, request_timeout=self.timeout)
        answer = futures[self.group].result()
        found = {}
        for tp in answer.topic_partitions:
            if tp.error is not None:
                raise Unavailable(f"committed offset of {self.topic}[{tp.partition}]: {tp.error}")
            found[tp.partition] = tp.offset
        return {tp.partition: found.get(tp.partition, NO_OFFSET) for tp in partitions}

    def _offsets(self, partitions: list[TopicPartition], spec: OffsetSpec) -> dict[int, int]:
        futures = self.admin.list_offsets(
            {tp: spec for tp in partitions}, request_timeout=self.timeout
        )
        return {tp.partition: int(f.result().offset) for tp, f in futures.items()}


class DeploymentScale:
    """The Deployment's `scale` subresource (`get`, `patch`: the scaler's whole RBAC).

    The patch is a JSON merge patch of `spec.replicas`, said so explicitly: the client's
    default content type for a patch is a JSON Patch (a list of operations)."""

    def __init__(self, api: Any, namespace: str, name: str, timeout: float = 10.0) -> None:
        from kubernetes import client

        self.apps = client.AppsV1Api(api)
        self.namespace, self.name, self.timeout = namespace, name, timeout

    def replicas(self) -> int:
        try:
            scale = self.apps.read_namespaced_deployment_scale(
                self.name, self.namespace, _request_timeout=self.timeout
            )
        except Exception as error:  # ApiException, urllib3's connection errors
            raise Unavailable(f"Deployment {self.namespace}/{self.name}: {error}") from None
        return int(scale.spec.replicas or 0)

    def scale(self, replicas: int) -> None:
        body = {"spec": {"replicas": replicas}}
        try:
            self.apps.patch_namespaced_deployment_scale(
                self.name,
                self.namespace,
                body,
                _content_type=MERGE_PATCH,
                _request_timeout=self.timeout,
            )
        except Exception as error:
            raise Unavailable(f"Deployment {self.namespace}/{self.name}: {error}") from None


# ---------------------------------------------------------------------------- the loop


class ScalerMetrics:
    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.registry = CollectorRegistry()
        labels, registry = ["deployment"], self.registry
        self.lag = Gauge(
            "card_risk_stream_scaler_consumer_lag", "The group's lag read", labels,
            registry=registry,
        )  # fmt: skip
        self.wanted = Gauge(
            "card_risk_stream_scaler_wanted_replicas", "Replicas the lag asks for", labels,
            registry=registry,
        )  # fmt: skip
        self.replicas = Gauge(
            "card_risk_stream_scaler_replicas", "The Deployment's replicas", labels,
            registry=registry,
        )  # fmt: skip
        self.decisions = Counter(
            "card_risk_stream_scaler_decisions", "Decisions by action", [*labels, "action"],
            registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "card_risk_stream_scaler_errors", "Read or scale failures", [*labels, "source"],
            registry=registry,
        )  # fmt: skip

    def error(self, source: str) -> None:
        self.errors.labels(self.deployment, source).inc()

    def record(self, seen: Observation, decision: Decision) -> None:
        d = self.deployment
        if seen.lag is not None:
            self.lag.labels(d).set(seen.lag)
        if decision.wanted is not None:
            self.wanted.labels(d).set(decision.wanted)
        if seen.replicas is not None:
            self.replicas.labels(d).set(decision.replicas or seen.replicas)
        self.decisions.labels(d, decision.action).inc()

    def serve(self, port: int, address: str = "127.0.0.1") -> int:
        server, _ = start_http_server(port, addr=address, registry=self.registry)
        return int(server.server_port)


class LagSource(Protocol):
    def read(self) -> Lag: ...


class ScaleTarget(Protocol):
    def replicas(self) -> int: ...
    def scale(self, replicas: int) -> None: ...


class Scaler:
    def __init__(
        self,
        lag: LagSource,
        target: ScaleTarget,
        policy: Policy,
        metrics: ScalerMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self.target, self.policy, self.metrics = lag, target, policy, metrics
        self.clock = clock
        self.state = State()

    def observe(self) -> Observation:
        lag: Lag | None = None
        replicas: int | None = None
        try:
            lag = self.source.read()
        except Unavailable as error:
            log.error("lag not read, replicas held: %s", error)
            self.metrics.error("kafka")
        try:
            replicas = self.target.replicas()
        except Unavailable as error:
            log.error("replicas not read, held: %s", error)
            self.metrics.error("kubernetes")
        total, partitions = (lag.total, len(lag.partitions)) if lag else (None, None)
        return Observation(self.clock(), total, partitions, replicas)

    def step(self) -> Decision:
        seen = self.observe()
        decision = decide(self.policy, self.state, seen)
        if decision.replicas is not None and decision.replicas != seen.replicas:
            try:
                self.target.scale(decision.replicas)
            except Unavailable as error:
                log.error("scale to %d failed, retried next step: %s", decision.replicas, error)
                self.metrics.error("kubernetes")
                decision = replace(decision, action="missing", replicas=None)
                self.metrics.record(seen, decision)
                return decision  # the state stays: the same step is taken again next time
            log.info("%s: %d → %d replicas (%s)", decision.action, seen.replicas or 0,
                     decision.replicas, decision.why)  # fmt: skip
        self.state = decision.state
        self.metrics.record(seen, decision)
        return decision

    def run(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            beat()
            self.step()
            stop.wait(interval)
