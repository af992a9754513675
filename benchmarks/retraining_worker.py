"""The retraining controller's reaction time: `python -m benchmarks.retraining_worker`.

How long from a retraining request on Kafka to a training run (issue 15: within 5 s locally).
Against the broker in MLP_KAFKA_BOOTSTRAP, on a topic of its own:
1. starts the controller (`python -m workloads.retraining local`, no de-duplication window and
   no cool-down, so every request starts a run) whose "training" is a Python process that
   writes the time it started into its work directory;
2. a warm-up request (its latency includes the consumer group's join; reported apart);
3. `--requests` requests, one a second (the previous run has ended by then), each with its own
   reason and id; for each: the controller's decision (the run's `started_at` in the state
   file) and the training process running (the time it wrote), against the produce time;
4. the baseline, measured in the same run: a bare consumer in its own group on the same topic,
   produce to delivery of the same messages (what any Kafka consumer pays).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.stats import latency_summary

STARTED = "import sys, time; open(sys.argv[1] + '/started', 'w').write(repr(time.time()))"
REASONS = ("drift", "performance", "manual")


def _request(index: int) -> dict[str, Any]:
    return {
        "type": "retraining-request",
        "schema_version": 1,
        "request_id": str(uuid.uuid4()),
        "model": "bench-model",
        "reason": REASONS[index % len(REASONS)],
        "requested_at": datetime.now(UTC).isoformat(),
    }


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.01)
    raise TimeoutError(f"{what} not seen within {timeout} s")


def _state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {"runs": [], "seen": {}}


def _run_of(state_file: Path, request_id: str) -> dict[str, Any] | None:
    for run in _state(state_file)["runs"]:
        if request_id in run["request_ids"] and run["handle"].get("work_dir"):
            return run
    return None


def _controller(root: Path, topic: str) -> subprocess.Popen:
    env = {**os.environ, "MLP_TOPIC_RETRAINING": topic, "MLP_MODEL_NAME": "bench-model"}
    argv = [
        sys.executable, "-m", "workloads.retraining", "local",
        "--state-file", str(root / "state.json"), "--runs-dir", str(root / "runs"),
        "--dedup-window", "0", "--cooldown", "0", "--poll-seconds", "0.2",
        "--metrics-port", "0", "--group-id", f"bench-controller-{uuid.uuid4().hex[:6]}",
        "--", sys.executable, "-c", STARTED, "{work_dir}",
    ]  # fmt: skip
    log = open(root / "controller.log", "wb")  # noqa: SIM115 - the child writes it
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)


def measure(requests: int) -> dict[str, Any]:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from workloads.settings import Settings

    settings = Settings.from_env()
    topic = f"bench-retraining-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(settings.kafka_config())
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(30)
    baseline = Consumer(
        settings.kafka_config(
            **{
                "group.id": f"bench-baseline-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
            }
        )
    )
    baseline.subscribe([topic])
    producer = Producer(settings.kafka_config(**{"acks": "all", "linger.ms": 0}))
    root = Path(tempfile.mkdtemp(prefix="bench-retraining-"))
    controller = _controller(root, topic)
    try:
        return _measure(settings, producer, baseline, controller, root, topic, requests)
    finally:
        controller.send_signal(signal.SIGTERM)
        controller.wait(30)
        baseline.close()
        shutil.rmtree(root, ignore_errors=True)


def _measure(
    settings: Any,
    producer: Any,
    baseline: Any,
    controller: subprocess.Popen,
    root: Path,
    topic: str,
    requests: int,
) -> dict[str, Any]:
    state_file = root / "state.json"
    decided, running, consumed, warm_up = [], [], [], 0.0
    for index in range(requests + 1):
        sent, delivered, decision, began = _one(state_file, producer, baseline, topic, index)
        if index == 0:
            warm_up = began - sent
            continue
        consumed.append(delivered - sent)
        decided.append(decision - sent)
        running.append(began - sent)
        time.sleep(max(0.0, 1.0 - (time.time() - sent)))
    return {
        "requests": requests,
        "first_request_incl_group_join_s": round(warm_up, 3),
        "decision": latency_summary(decided),
        "training_process_running": latency_summary(running),
        "baseline_consumer_delivery": latency_summary(consumed),
        "controller_alive": controller.poll() is None,
        "load_average": list(os.getloadavg()),
    }


def _one(
    state_file: Path, producer: Any, baseline: Any, topic: str, index: int
) -> tuple[float, float, float, float]:
    """One request: (sent, delivered to the bare consumer, decided, training running), epoch s;
    returns once its run has ended."""
    message = _request(index)
    sent = time.time()
    producer.produce(topic, key=b"bench-model", value=json.dumps(message).encode())
    producer.flush(10)

    def delivery() -> float | None:
        got = baseline.poll(0.5)
        ours = got is not None and not got.error()
        return (
            time.time()
            if ours and json.loads(got.value())["request_id"] == message["request_id"]
            else None
        )

    delivered = _wait(delivery, 60, "the baseline consumer's delivery")
    run = _wait(lambda: _run_of(state_file, message["request_id"]), 60, "the decision")
    started = Path(run["handle"]["work_dir"]) / "started"

    def began() -> str | None:
        return started.read_text() if started.exists() and started.stat().st_size else None

    running = float(_wait(began, 30, "the training process"))
    _wait(lambda: _finished(state_file, run["run_id"]), 30, "the run's end")
    return sent, delivered, float(run["started_at"]), running


def _finished(state_file: Path, run_id: str) -> bool | None:
    runs = {r["run_id"]: r for r in _state(state_file)["runs"]}
    return True if runs.get(run_id, {}).get("status") in ("succeeded", "failed") else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.retraining_worker", description=__doc__
    )
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.requests)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
