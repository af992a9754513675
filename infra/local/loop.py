"""The loop's always-on services seen from outside: the stream processor and retraining runs.

The local platform runs the stream processor and the retraining controller as services (their
Deployments in the cluster). This module reads what they did without importing workload code:

- `stream_progress`: the stream processor's counters from its Prometheus `/metrics` (events
  pushed to Feast, dead-lettered, batches, consumer lag), parsed from the text format;
- `served_versions`: the model versions the model server serves (its `/metrics`), to see it
  follow the `champion` alias without a restart;
- `retraining_runs`: the runs the controller started, from its state file
  (`<state>/retraining/state.json`, written atomically by `workloads.retraining.state`);
- `live_run_processes`: the process records of local runs still training. The controller starts
  each run in a session of its own (a TrainJob outlives the controller's pod, and so does a local
  run), so `mlplatform local down` ends them itself; a run is identified by the PID and start
  time the controller recorded, and its command line must still be the training entrypoint
  over the run's own work directory (a recycled PID is never signalled).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local import processes
from infra.local.state import StateDir

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
_COUNTED = ("card_risk_stream_batch_seconds_count", "card_risk_stream_consumer_lag_total")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class StreamProgress:
    pushed_rows: int  # events pushed to Feast (online + offline)
    dead_lettered: int
    batches: int
    lag: int  # messages not yet read, summed over the processor's partitions

    @property
    def handled(self) -> int:
        return self.pushed_rows + self.dead_lettered

    def as_dict(self) -> dict[str, int]:
        return {
            "pushed_rows": self.pushed_rows,
            "dead_lettered": self.dead_lettered,
            "batches": self.batches,
            "consumer_lag": self.lag,
        }


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample in a Prometheus text exposition."""
    found = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or line.startswith("#"):
            continue
        labels = dict(_LABEL.findall(match.group(2) or ""))
        try:
            found.append((match.group(1), labels, float(match.group(3))))
        except ValueError:
            continue
    return found


def stream_progress(metrics_text: str) -> StreamProgress:
    """The stream processor's counters, summed over its consumer groups' series."""
    total: dict[str, float] = {}
    for name, labels, value in samples(metrics_text):
        if name == "card_risk_stream_events_total":
            key = f"events:{labels.get('outcome', '')}"
        elif name in _COUNTED:
            key = name
        else:
            continue
        total[key] = total.get(key, 0.0) + value
    return StreamProgress(
        pushed_rows=int(total.get("events:valid", 0)),
        dead_lettered=int(total.get("events:dead_lettered", 0)),
        batches=int(total.get("card_risk_stream_batch_seconds_count", 0)),
        lag=int(total.get("card_risk_stream_consumer_lag_total", 0)),
    )


def served_versions(metrics_text: str) -> set[str]:
    """The model versions a model server serves now (`card_risk_model_served` is 1)."""
    return {
        labels.get("model_version", "")
        for name, labels, value in samples(metrics_text)
        if name == "card_risk_model_served" and value == 1
    }


def state_file(state: StateDir) -> Path:
    return state.path("retraining") / "state.json"


def runs_dir(state: StateDir) -> Path:
    return state.path("retraining") / "runs"


def retraining_runs(state: StateDir) -> list[dict[str, Any]]:
    """The controller's runs (run_id, reason, request_ids, status, handle, result), oldest first;
    none while it has not written its state file."""
    try:
        data = json.loads(state_file(state).read_text())
    except (OSError, ValueError):
        return []
    runs = data.get("runs", []) if isinstance(data, dict) else []
    return sorted(
        (r for r in runs if isinstance(r, dict)), key=lambda r: float(r.get("started_at") or 0)
    )


def run_for_request(state: StateDir, request_id: str) -> dict[str, Any] | None:
    """The run that started for, or absorbed, a retraining request."""
    return next((r for r in retraining_runs(state) if request_id in r.get("request_ids", [])), None)


def live_run_processes(state: StateDir) -> list[processes.ProcessRecord]:
    """Records of the local runs still training (PID, start time and command line checked)."""
    live = []
    for run in retraining_runs(state):
        handle = run.get("handle") or {}
        pid, ticks, work_dir = handle.get("pid"), handle.get("start_ticks"), handle.get("work_dir")
        if not (isinstance(pid, int) and isinstance(ticks, int) and isinstance(work_dir, str)):
            continue
        if Path(work_dir).parent != runs_dir(state):
            continue  # not a run of this platform's controller
        argv = processes.command_line(pid)
        record = processes.ProcessRecord(
            f"retraining-run-{run.get('run_id')}", pid, ticks, argv or [], str(work_dir)
        )
        if argv and _is_training(argv, work_dir) and processes.is_ours(record):
            live.append(record)
    return live


def _is_training(argv: list[str], work_dir: str) -> bool:
    return "workloads.training" in argv and work_dir in argv
