"""The loop's always-on services seen from outside (infra.local.loop): the stream processor's
counters read from its Prometheus text, and the retraining runs `mlplatform local down` ends —
exactly the controller's runs still training, never a process whose PID was reused."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local import loop, processes
from infra.local.platform import LocalPlatform
from infra.local.services import Workloads
from infra.local.state import REPO_ROOT, Ports, StateDir

# As prometheus_client writes it (the stream processor's registry, two consumer groups).
EXPOSITION = """\
# HELP card_risk_stream_events_total Events read, by outcome
# TYPE card_risk_stream_events_total counter
card_risk_stream_events_total{group="card-risk-features",outcome="valid"} 5990.0
card_risk_stream_events_total{group="card-risk-features",outcome="dead_lettered"} 12.0
card_risk_stream_events_total{group="other",outcome="valid"} 10.0
card_risk_stream_events_created{group="card-risk-features",outcome="valid"} 1.7e+09
# TYPE card_risk_stream_consumer_lag_total gauge
card_risk_stream_consumer_lag_total{group="card-risk-features",topic="card-transactions"} 3.0
# TYPE card_risk_stream_batch_seconds histogram
card_risk_stream_batch_seconds_bucket{group="card-risk-features",le="0.01"} 2.0
card_risk_stream_batch_seconds_count{group="card-risk-features"} 24.0
card_risk_stream_batch_seconds_sum{group="card-risk-features"} 3.5
not a sample line
"""


def test_stream_progress_sums_the_processors_counters() -> None:
    progress = loop.stream_progress(EXPOSITION)
    assert progress == loop.StreamProgress(pushed_rows=6000, dead_lettered=12, batches=24, lag=3)
    assert progress.handled == 6012
    assert loop.stream_progress("") == loop.StreamProgress(0, 0, 0, 0)


def test_label_values_with_escaped_quotes_are_read_whole() -> None:
    [(name, labels, value)] = loop.samples('m{a="x\\"y",b="z"} 2\n')
    assert (name, labels, value) == ("m", {"a": 'x\\"y', "b": "z"}, 2.0)


@pytest.fixture
def state(tmp_path: Path) -> StateDir:
    return StateDir(tmp_path / "state").create()


@pytest.fixture
def started(state: StateDir) -> Iterator[list[processes.ProcessRecord]]:
    """Processes the test starts (each in a session of its own); ended whatever happens."""
    records: list[processes.ProcessRecord] = []
    yield records
    for record in records:
        processes.stop(record, timeout=2.0)


def _training_stand_in(state: StateDir, run_id: str, started: list) -> processes.ProcessRecord:
    """A process with the command line of a local run's training (sleeping instead)."""
    work_dir = loop.runs_dir(state) / f"run-{run_id}"
    work_dir.mkdir(parents=True)
    argv = [sys.executable, "-c", "import time; time.sleep(120)", "-m", "workloads.training"]
    argv += ["--work-dir", str(work_dir)]
    record = processes.spawn(
        run_id, argv, {}, REPO_ROOT, state.log(run_id), state.run / f"{run_id}.stand-in"
    )
    started.append(record)
    return record


def _write_runs(state: StateDir, runs: dict[str, dict]) -> None:
    loop.state_file(state).write_text(
        json.dumps(
            {
                "runs": [
                    {"run_id": run_id, "status": "running", "started_at": time.time(), **run}
                    for run_id, run in runs.items()
                ],
                "seen": {},
            }
        )
    )


def test_down_ends_the_runs_still_training_and_nothing_else(
    state: StateDir, started: list[processes.ProcessRecord]
) -> None:
    training = _training_stand_in(state, "abc123", started)
    reused = _training_stand_in(state, "def456", started)

    def handle(record: processes.ProcessRecord, start_ticks: int) -> dict:
        work_dir = str(loop.runs_dir(state) / f"run-{record.name}")
        return {"pid": record.pid, "start_ticks": start_ticks, "work_dir": work_dir}

    _write_runs(
        state,
        {
            "abc123": {"handle": handle(training, training.start_ticks), "request_ids": ["r-1"]},
            # the PID of a process that started after the run: a recycled PID, never signalled
            "def456": {"handle": handle(reused, reused.start_ticks - 1), "request_ids": ["r-2"]},
        },
    )

    assert [r.pid for r in loop.live_run_processes(state)] == [training.pid]
    assert loop.run_for_request(state, "r-2")["run_id"] == "def456"  # type: ignore[index]
    assert loop.run_for_request(state, "r-3") is None

    platform = LocalPlatform(state, Ports(), Workloads(Path(sys.executable), REPO_ROOT))
    assert platform.down() == {"retraining-run-abc123": [training.pid]}
    assert not processes.is_ours(training)
    assert processes.is_ours(reused)


def test_a_run_outside_the_controllers_runs_directory_is_not_ours(
    state: StateDir, started: list[processes.ProcessRecord], tmp_path: Path
) -> None:
    training = _training_stand_in(state, "abc123", started)
    handle = {
        "pid": training.pid,
        "start_ticks": training.start_ticks,
        "work_dir": str(tmp_path / "elsewhere" / "run-abc123"),
    }
    _write_runs(state, {"abc123": {"handle": handle, "request_ids": []}})
    assert loop.live_run_processes(state) == []


def test_no_state_file_or_an_unreadable_one_means_no_runs(state: StateDir) -> None:
    assert loop.retraining_runs(state) == []
    loop.state_file(state).write_text("{not json")
    assert loop.retraining_runs(state) == []
