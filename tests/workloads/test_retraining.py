"""The retraining controller with real Kafka messages: one run per request burst, de-duplication,
cool-down, expiry, invalid requests, restarts; local runs are real processes."""

from __future__ import annotations

import json
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import PYTHON, Service, wait_until

from workloads.data.producer import produce
from workloads.retraining.controller import Controller, ControllerArgs
from workloads.retraining.local import LocalLauncher
from workloads.retraining.state import Policy, State
from workloads.settings import Settings, Topics

pytestmark = pytest.mark.slow  # a real broker, real processes

# A stand-in for the training entrypoint: marks its start, waits for `release` in its work
# directory (unless FAKE_TRAINER_NO_WAIT), then writes the trainer's result.json.
FAKE_TRAINER = """
import json, os, sys, time
work = sys.argv[1]
open(os.path.join(work, "started"), "a").write(os.environ["MLP_RETRAINING_RUN"] + "\\n")
deadline = time.time() + 120
while not os.environ.get("FAKE_TRAINER_NO_WAIT") and not os.path.exists(
    os.path.join(work, "release")
):
    if time.time() > deadline:
        sys.exit(3)
    time.sleep(0.05)
result = {"version": "7", "gate": {"promoted": True},
          "requests": os.environ["MLP_RETRAINING_REQUEST_IDS"]}
open(os.path.join(work, "result.json"), "w").write(json.dumps(result))
"""


def make_settings(broker: str) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(retraining=f"retrain-{suffix}")
    admin = AdminClient({"bootstrap.servers": broker})
    for future in admin.create_topics([NewTopic(topics.retraining, 1, 1)]).values():
        future.result(30)
    return Settings(kafka_bootstrap=broker, model_name="card-risk", topics=topics)


def request(reason: str = "drift", age: timedelta = timedelta(0), **extra: Any) -> dict:
    return {
        "type": "retraining-request",
        "schema_version": 1,
        "request_id": str(uuid.uuid4()),
        "model": "card-risk",
        "reason": reason,
        "detail": f"{reason} in the test",
        "requested_at": (datetime.now(UTC) - age).isoformat(),
        **extra,
    }


def publish(settings: Settings, *messages: dict | bytes) -> None:
    produce(
        settings,
        settings.topics.retraining,
        [("card-risk", m if isinstance(m, bytes) else json.dumps(m).encode()) for m in messages],
    )


def decisions(state_file: Path) -> dict[str, str]:
    if not state_file.exists():
        return {}
    return {k: v["decision"] for k, v in json.loads(state_file.read_text())["seen"].items()}


def wait_decided(state_file: Path, *request_ids: str, timeout: float = 30) -> dict[str, str]:
    wait_until(
        lambda: set(request_ids) <= set(decisions(state_file)),
        timeout,
        f"decisions on {request_ids}",
    )
    return decisions(state_file)


def runs(state_file: Path) -> list[dict]:
    return json.loads(state_file.read_text())["runs"]


@pytest.fixture
def trainer_script(tmp_path: Path) -> Path:
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    return script


class Running:
    """A controller on its own thread, stopped (and joined) at the end of the test."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(60), f"the controller never got its partition: {self.errors}"

    def _run(self) -> None:
        try:
            self.controller.run(self.stop, self.ready)
        except BaseException as error:  # surfaced by the test
            self.errors.append(error)
            self.ready.set()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.errors, self.errors


@pytest.fixture
def start_controller(broker: str, tmp_path: Path, trainer_script: Path) -> Iterator[Any]:
    started: list[Running] = []

    def start(policy: Policy, env: dict[str, str] | None = None) -> tuple[Settings, Path, Path]:
        settings = make_settings(broker)
        state_file, runs_dir = tmp_path / "state.json", tmp_path / "runs"
        launcher = LocalLauncher([sys.executable, str(trainer_script), "{work_dir}"], runs_dir, env)
        args = ControllerArgs("card-risk", f"ctl-{uuid.uuid4().hex[:6]}", policy, state_file, 0.2)
        started.append(Running(Controller(settings, launcher, args)))
        return settings, state_file, runs_dir

    yield start
    for running in started:
        running.close()


def test_a_burst_of_requests_starts_one_run_and_the_cool_down_holds(
    start_controller: Any,
) -> None:
    settings, state_file, runs_dir = start_controller(Policy(3600, 3600))
    first = request("drift")
    publish(settings, first)
    assert wait_decided(state_file, first["request_id"])[first["request_id"]] == "start"
    (work,) = list(runs_dir.iterdir())
    wait_until(lambda: (work / "started").exists(), 30, "the training process")

    again, drifting, degraded = first, request("drift"), request("performance")
    publish(settings, again, drifting, degraded)
    seen = wait_decided(state_file, drifting["request_id"], degraded["request_id"])
    assert seen[drifting["request_id"]] == "absorbed"
    assert seen[degraded["request_id"]] == "absorbed"
    assert seen[first["request_id"]] == "start"  # the redelivered request changed nothing
    (run,) = runs(state_file)
    assert run["status"] == "running"
    assert set(run["request_ids"]) == {
        first["request_id"],
        drifting["request_id"],
        degraded["request_id"],
    }

    (work / "release").touch()
    wait_until(lambda: runs(state_file)[0]["status"] == "succeeded", 30, "the run's end")
    assert runs(state_file)[0]["result"]["gate"] == {"promoted": True}

    during_cool_down = request("performance")
    publish(settings, during_cool_down)
    seen = wait_decided(state_file, during_cool_down["request_id"])
    assert seen[during_cool_down["request_id"]] == "cooling-down"
    assert len(list(runs_dir.iterdir())) == 1
    assert (work / "started").read_text().splitlines() == [run["run_id"]]  # started once


def test_the_same_reason_within_the_window_is_a_duplicate_another_reason_starts(
    start_controller: Any,
) -> None:
    settings, state_file, runs_dir = start_controller(
        Policy(dedup_window_s=3600, cooldown_s=0), {"FAKE_TRAINER_NO_WAIT": "1"}
    )
    first = request("drift")
    publish(settings, first)
    wait_decided(state_file, first["request_id"])
    wait_until(lambda: runs(state_file)[0]["status"] == "succeeded", 30, "the first run's end")

    same_reason, other_reason = request("drift"), request("performance")
    publish(settings, same_reason, other_reason)
    seen = wait_decided(state_file, same_reason["request_id"], other_reason["request_id"])
    assert seen[same_reason["request_id"]] == "duplicate"
    assert seen[other_reason["request_id"]] == "start"
    # the decision is saved before the launcher creates the run's work directory (the intent
    # first, so a crash in between relaunches it): wait for the directory, do not race it
    wait_until(lambda: len(list(runs_dir.iterdir())) == 2, 30, "the second run's work directory")


def test_invalid_and_stale_requests_start_nothing_and_do_not_stop_the_controller(
    start_controller: Any,
) -> None:
    settings, state_file, runs_dir = start_controller(Policy(max_request_age_s=3600))
    stale = request("drift", age=timedelta(hours=2))
    bad_reason = request("boredom")
    fresh = request("manual")
    publish(settings, b"not json", bad_reason, stale, fresh)
    seen = wait_decided(state_file, stale["request_id"], fresh["request_id"])
    assert seen[stale["request_id"]] == "expired"
    assert seen[fresh["request_id"]] == "start"
    assert bad_reason["request_id"] not in seen
    wait_until(lambda: len(list(runs_dir.iterdir())) == 1, 30, "the fresh request's work directory")


def test_decisions_survive_a_restart_of_the_controller_process(
    broker: str, tmp_path: Path, trainer_script: Path
) -> None:
    settings = make_settings(broker)
    state_file, runs_dir = tmp_path / "state.json", tmp_path / "runs"
    env = {
        "MLP_KAFKA_BOOTSTRAP": broker,
        "MLP_TOPIC_RETRAINING": settings.topics.retraining,
        "MLP_MODEL_NAME": "card-risk",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PATH": "/usr/bin:/bin",
    }
    argv = [
        PYTHON, "-m", "workloads.retraining", "local",
        "--state-file", str(state_file), "--runs-dir", str(runs_dir),
        "--cooldown", "3600", "--poll-seconds", "0.2", "--metrics-port", "0",
        "--group-id", f"ctl-{uuid.uuid4().hex[:6]}",
        "--", PYTHON, str(trainer_script), "{work_dir}",
    ]  # fmt: skip
    first = request("drift")
    publish(settings, first)
    controller = Service(argv, tmp_path / "controller-1.log", env)
    try:
        wait_decided(state_file, first["request_id"], timeout=60)
        (work,) = list(runs_dir.iterdir())
        wait_until(lambda: (work / "started").exists(), 30, "the training process")
    finally:
        # The controller alone, as a rolling update would stop its pod (not the tree: the
        # training run is in a session of its own and must outlive it).
        controller.process.send_signal(signal.SIGTERM)
        assert controller.process.wait(30) == 0, (tmp_path / "controller-1.log").read_text()
    assert not (work / "result.json").exists()

    again, second = first, request("drift")
    publish(settings, again, second)
    controller = Service(argv, tmp_path / "controller-2.log", env)
    try:
        seen = wait_decided(state_file, second["request_id"], timeout=60)
        assert seen == {first["request_id"]: "start", second["request_id"]: "absorbed"}
        (work / "release").touch()
        wait_until(lambda: runs(state_file)[0]["status"] == "succeeded", 30, "the run's end")
    finally:
        controller.stop(signal.SIGTERM)
    assert len(list(runs_dir.iterdir())) == 1
    assert len((work / "started").read_text().splitlines()) == 1
    state = State.load(state_file)
    (run,) = state.runs.values()
    assert run.request_ids == [first["request_id"], second["request_id"]]
