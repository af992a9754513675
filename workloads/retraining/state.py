"""What the retraining controller remembers, and the decision it takes for each request.

State: the runs it started (id, model, reason, the requests they absorbed, start and finish
times, outcome, and the launcher's handle: a TrainJob name or a local process) and the request
ids it has decided on. `decide` is a pure function of that state, the request and the time:

1. a request id already decided on: `duplicate` (a redelivered or re-published request);
2. a request older than `max_request_age_s`: `expired` (a backlog replayed after an outage);
3. a run of the model in progress: `absorbed` into it (its training reads the latest data);
4. a run of the same model for the same reason started within `dedup_window_s`: `duplicate`;
5. a run of the model finished within `cooldown_s`: `cooling-down` (dropped: the monitor asks
   again at its next check if the problem persists);
6. otherwise: `start` a run.

The file is written atomically (temporary file, fsync, rename) before the request's Kafka offset
is committed, so a crash at any instant either re-delivers a request the state already knows
(step 1) or one it never saw. In the cluster the TrainJobs themselves carry the same facts
(labels and annotations), so the state is rebuilt from them when no file survives a restart.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from workloads.monitoring.events import RetrainingRequest, derived_id

RunStatus = Literal["starting", "running", "succeeded", "failed"]
DecisionKind = Literal["start", "absorbed", "duplicate", "cooling-down", "expired", "ignored"]
FINISHED = ("succeeded", "failed")


class LaunchRefused(RuntimeError):
    """A launcher's refusal for good (e.g. the API server's 403 or 422): the run fails and the
    controller goes on; retrying the same request cannot help."""


@dataclass(frozen=True)
class Policy:
    dedup_window_s: float = 3600.0
    cooldown_s: float = 1800.0
    max_request_age_s: float = 6 * 3600.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {value}")


@dataclass
class Run:
    run_id: str
    model: str
    reason: str
    request_ids: list[str]
    started_at: float  # epoch seconds
    status: RunStatus = "starting"
    finished_at: float | None = None
    handle: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    run_id: str | None
    why: str


def run_id_for(request: RetrainingRequest) -> str:
    """Deterministic: the same first request always names the same run (and TrainJob)."""
    return derived_id("run", request.request_id).replace("-", "")[:10]


@dataclass
class State:
    runs: dict[str, Run] = field(default_factory=dict)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id -> decision

    def active(self, model: str) -> Run | None:
        return next((r for r in self.runs.values() if r.model == model and not r.finished), None)

    def latest(self, model: str, reason: str | None = None) -> Run | None:
        runs = [
            r
            for r in self.runs.values()
            if r.model == model and (reason is None or r.reason == reason)
        ]
        return max(runs, key=lambda r: r.started_at, default=None)

    def last_finished(self, model: str) -> Run | None:
        finished = [r for r in self.runs.values() if r.model == model and r.finished_at]
        return max(finished, key=lambda r: r.finished_at or 0.0, default=None)

    def record(self, request_id: str, decision: Decision, now: float) -> None:
        """Remember the first decision on a request (a redelivery does not overwrite it)."""
        if request_id in self.seen:
            return
        self.seen[request_id] = {"decision": decision.kind, "run_id": decision.run_id, "at": now}
        if decision.run_id and decision.kind in ("absorbed", "duplicate"):
            run = self.runs.get(decision.run_id)
            if run is not None and request_id not in run.request_ids:
                run.request_ids.append(request_id)

    def prune(self, now: float, keep_s: float) -> None:
        """Forget decisions and finished runs older than `keep_s` (the longest window)."""
        self.seen = {k: v for k, v in self.seen.items() if now - v["at"] <= keep_s}
        self.runs = {
            k: r
            for k, r in self.runs.items()
            if not r.finished or now - (r.finished_at or r.started_at) <= keep_s
        }

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict[str, Any]:
        return {"runs": [asdict(r) for r in self.runs.values()], "seen": self.seen}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        runs = {r["run_id"]: Run(**r) for r in data.get("runs", [])}
        return cls(runs=runs, seen=dict(data.get("seen", {})))

    def save(self, path: Path | None) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(self.to_json(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path | None) -> State:
        if path is None or not path.exists():
            return cls()
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError, KeyError) as error:
            raise ValueError(f"retraining state file {path} is unreadable: {error}") from None


def decide(state: State, request: RetrainingRequest, now: float, policy: Policy) -> Decision:
    previous = state.seen.get(request.request_id)
    if previous is not None:
        return Decision("duplicate", previous.get("run_id"), "request already decided on")
    age = now - request.requested_at.timestamp()
    if age > policy.max_request_age_s:
        return Decision("expired", None, f"requested {age:.0f} s ago")
    active = state.active(request.model)
    if active is not None:
        return Decision("absorbed", active.run_id, f"run {active.run_id} is in progress")
    same = state.latest(request.model, request.reason)
    if same is not None and now - same.started_at < policy.dedup_window_s:
        return Decision(
            "duplicate",
            same.run_id,
            f"run {same.run_id} for {request.reason} started {now - same.started_at:.0f} s ago "
            f"(window {policy.dedup_window_s:.0f} s)",
        )
    finished = state.last_finished(request.model)
    if finished is not None and now - (finished.finished_at or 0.0) < policy.cooldown_s:
        return Decision(
            "cooling-down",
            None,
            f"run {finished.run_id} finished {now - (finished.finished_at or 0.0):.0f} s ago "
            f"(cool-down {policy.cooldown_s:.0f} s)",
        )
    return Decision("start", run_id_for(request), request.detail or request.reason)


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch).astimezone().isoformat()
