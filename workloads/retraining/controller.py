"""The retraining controller: retraining requests in, at most one training run at a time out.

A long-running consumer of the tenant's retraining topic (consumer group, manual commits).
For each message: validate it (`retraining-request` v1; an invalid one is logged, counted and
skipped), decide (state.py: start, absorbed, duplicate, cooling-down, expired, or ignored when
it names another model), act (start a run through the launcher: a TrainJob in the cluster, a
process locally), save the state, then commit the message's offset. Between messages it
follows the run in progress until it finishes (the cool-down counts from then).

Idempotent across restarts: the state is saved before the offset is committed and run names
derive from request ids (see state.py); on start-up the launcher's own record (the TrainJobs
in the namespace) fills in what a lost state file forgot, and a run saved as `starting` is
started again (adopted if it exists). The promotion itself stays with the trainer's gate.

Metrics (Prometheus, `--metrics-port`): `retraining_requests_total{decision}`,
`retraining_runs_finished_total{outcome}`, `retraining_run_in_progress`,
`retraining_request_to_action_seconds` (from the request's Kafka timestamp to the decision).
Liveness: the heartbeat file (`workloads.health`), touched every loop.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from prometheus_client import Counter, Gauge, Histogram

from workloads.health import beat
from workloads.monitoring.events import MessageError, RetrainingRequest, parse
from workloads.retraining.state import (
    Decision,
    LaunchRefused,
    Policy,
    Run,
    RunStatus,
    State,
    decide,
    iso,
)
from workloads.settings import Settings

log = logging.getLogger(__name__)

REQUESTS = Counter("retraining_requests", "Retraining requests by decision", ["decision"])
FINISHED = Counter("retraining_runs_finished", "Training runs finished", ["outcome"])
IN_PROGRESS = Gauge("retraining_run_in_progress", "1 while a training run is in progress")
LATENCY = Histogram(
    "retraining_request_to_action_seconds",
    "From a request's Kafka timestamp to the controller's decision",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)


class Launcher(Protocol):
    def describe(self) -> str: ...
    def start(self, run: Run, request: RetrainingRequest) -> dict[str, Any]: ...
    def poll(self, run: Run) -> tuple[RunStatus, float | None, dict[str, Any] | None]: ...
    def recover(self, model: str) -> list[Run]: ...


@dataclass(frozen=True)
class ControllerArgs:
    model: str
    group_id: str
    policy: Policy = field(default_factory=Policy)
    state_file: Path | None = None
    poll_seconds: float = 5.0  # how often the run in progress is checked


class Controller:
    def __init__(self, settings: Settings, launcher: Launcher, args: ControllerArgs) -> None:
        self.settings = settings
        self.launcher = launcher
        self.args = args
        self.state = State.load(args.state_file)
        self._last_poll = 0.0

    # ------------------------------------------------------------------ start-up

    def recover(self) -> None:
        """Merge the launcher's record into the state; resume runs saved as `starting`."""
        for run in self.launcher.recover(self.args.model):
            known = self.state.runs.get(run.run_id)
            if known is None:
                self.state.runs[run.run_id] = run
                for request_id in run.request_ids:
                    self.state.seen.setdefault(
                        request_id, {"decision": "start", "run_id": run.run_id, "at": time.time()}
                    )
            elif not known.finished:
                known.status, known.finished_at = run.status, run.finished_at
        for run in self.state.runs.values():
            if run.status == "starting":
                log.info("run %s was being started when the controller stopped", run.run_id)
                self._launch(run, None)
        self.state.save(self.args.state_file)
        self.follow(force=True)

    # ------------------------------------------------------------------ requests

    def handle(self, value: bytes | None, kafka_timestamp_ms: int | None) -> Decision:
        now = time.time()
        try:
            request: RetrainingRequest = parse(value or b"", RetrainingRequest)
        except MessageError as error:
            REQUESTS.labels("invalid").inc()
            log.error("invalid retraining request skipped: %s", error)
            return Decision("ignored", None, f"invalid: {error}")
        if request.model != self.args.model:
            decision = Decision("ignored", None, f"model {request.model} is not {self.args.model}")
        else:
            self.follow(force=True)  # a run that just finished must not absorb the request
            decision = decide(self.state, request, now, self.args.policy)
        if decision.kind == "start" and decision.run_id:
            run = Run(decision.run_id, request.model, request.reason, [request.request_id], now)
            self.state.runs[run.run_id] = run
            self.state.record(request.request_id, decision, now)
            self.state.save(self.args.state_file)  # the intent, before anything is created
            self._launch(run, request)
        else:
            self.state.record(request.request_id, decision, now)
        self.state.prune(now, self._keep_seconds())
        self.state.save(self.args.state_file)
        REQUESTS.labels(decision.kind).inc()
        if kafka_timestamp_ms:
            LATENCY.observe(max(0.0, time.time() - kafka_timestamp_ms / 1000))
        log.info(
            "request %s (%s, %s): %s%s — %s",
            request.request_id,
            request.model,
            request.reason,
            decision.kind,
            f" run {decision.run_id}" if decision.run_id else "",
            decision.why,
        )
        return decision

    def _launch(self, run: Run, request: RetrainingRequest | None) -> None:
        request = request or RetrainingRequest(
            request_id=run.request_ids[0],
            model=run.model,
            reason=run.reason,  # type: ignore[arg-type]
            requested_at=iso(run.started_at),  # type: ignore[arg-type]
        )
        try:
            run.handle = self.launcher.start(run, request)
        except LaunchRefused as error:
            log.error("run %s could not start: %s", run.run_id, error)
            run.status, run.finished_at, run.result = "failed", time.time(), {"error": str(error)}
            FINISHED.labels("failed").inc()
            return
        run.status = "running"
        IN_PROGRESS.set(1)

    def _keep_seconds(self) -> float:
        p = self.args.policy
        return 2 * max(p.dedup_window_s, p.cooldown_s, p.max_request_age_s)

    # ------------------------------------------------------------------ runs

    def follow(self, force: bool = False) -> None:
        """Check the run in progress (at most every poll_seconds unless forced)."""
        now = time.monotonic()
        if not force and now - self._last_poll < self.args.poll_seconds:
            return
        self._last_poll = now
        changed = False
        for run in self.state.runs.values():
            if run.status != "running":
                continue
            status, finished_at, result = self.launcher.poll(run)
            if status == "running":
                continue
            run.status, run.finished_at, run.result = status, finished_at, result
            FINISHED.labels(status).inc()
            changed = True
            log.info("run %s %s at %s: %s", run.run_id, status, iso(finished_at), result)
        IN_PROGRESS.set(1 if self.state.active(self.args.model) else 0)
        if changed:
            self.state.save(self.args.state_file)

    # ------------------------------------------------------------------ the loop

    def consumer(self) -> Consumer:
        return Consumer(
            self.settings.kafka_config(
                **{
                    "group.id": self.args.group_id,
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": 6000,
                }
            )
        )

    def run(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        self.recover()
        consumer = self.consumer()
        consumer.subscribe(
            [self.settings.topics.retraining],
            on_assign=lambda *_: ready.set() if ready is not None else None,
        )
        log.info(
            "consuming %s as %s; runs: %s",
            self.settings.topics.retraining,
            self.args.group_id,
            self.launcher.describe(),
        )
        try:
            while not stop.is_set():
                beat()
                message = consumer.poll(0.5)
                self.follow()
                if message is None:
                    continue
                self._consume(consumer, message)
        finally:
            consumer.close()
            self.state.save(self.args.state_file)

    def _consume(self, consumer: Consumer, message: Message) -> None:
        error = message.error()
        if error is not None:
            if error.code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                return
            raise KafkaException(error)
        kind, stamp = message.timestamp()
        self.handle(message.value(), stamp if kind else None)
        consumer.commit(message=message, asynchronous=False)
