"""Starting a training run on the laptop: the training entrypoint as a child process.

The command is the controller's `--` arguments, with `{work_dir}` and `{run_id}` replaced; each
run gets its own work directory under `--runs-dir`, and the environment names the run and the
requests it answers (`MLP_RETRAINING_RUN`, `MLP_RETRAINING_REQUEST_IDS`,
`MLP_RETRAINING_REASON`; the trainer tags its MLflow run with them).

The child runs in a session of its own: stopping the controller does not stop training (as a
TrainJob outlives the controller's pod), and a restarted controller finds the run again by its
PID, process start time and command line (never a recycled PID). A run whose process is gone has
succeeded when its work directory holds the trainer's `result.json` (which carries the gate's
decision), and failed otherwise. Starting is idempotent: a run already alive is not started
again, and a re-started run reuses its work directory (the trainer resumes from its checkpoint).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from workloads.monitoring.events import RetrainingRequest
from workloads.retraining.state import Run, RunStatus

log = logging.getLogger(__name__)
RESULT = "result.json"


def process_start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None  # a zombie has finished
    return int(fields[19])


class LocalLauncher:
    def __init__(self, command: list[str], runs_dir: Path, env: dict[str, str] | None = None):
        if not command:
            raise ValueError("the local launcher needs a training command after `--`")
        self.command = command
        self.runs_dir = runs_dir
        self.env = dict(os.environ if env is None else env)
        self._children: dict[str, subprocess.Popen] = {}

    def describe(self) -> str:
        return f"local process `{' '.join(self.command)}` under {self.runs_dir}"

    def work_dir(self, run: Run) -> Path:
        return self.runs_dir / f"run-{run.run_id}"

    def start(self, run: Run, request: RetrainingRequest) -> dict[str, Any]:
        if self._alive(run):
            return run.handle
        work_dir = self.work_dir(run)
        work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        argv = [
            a.replace("{work_dir}", str(work_dir)).replace("{run_id}", run.run_id)
            for a in self.command
        ]
        env = {
            **self.env,
            "MLP_RETRAINING_RUN": run.run_id,
            "MLP_RETRAINING_REQUEST_IDS": ",".join(run.request_ids),
            "MLP_RETRAINING_REASON": run.reason,
        }
        with open(work_dir / "controller-run.log", "ab") as output:
            child = subprocess.Popen(
                argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self._children[run.run_id] = child
        log.info("run %s: started pid %d: %s", run.run_id, child.pid, " ".join(argv))
        return {
            "pid": child.pid,
            "start_ticks": process_start_ticks(child.pid),
            "work_dir": str(work_dir),
        }

    def _alive(self, run: Run) -> bool:
        child = self._children.get(run.run_id)
        if child is not None:
            return child.poll() is None
        pid, ticks = run.handle.get("pid"), run.handle.get("start_ticks")
        return isinstance(pid, int) and ticks is not None and process_start_ticks(pid) == ticks

    def poll(self, run: Run) -> tuple[RunStatus, float | None, dict[str, Any] | None]:
        """(status, finished at, the trainer's result) of a started run."""
        if self._alive(run):
            return "running", None, None
        child = self._children.pop(run.run_id, None)
        result_file = self.work_dir(run) / RESULT
        result = json.loads(result_file.read_text()) if result_file.exists() else None
        code = child.returncode if child is not None else None
        succeeded = result is not None and code in (None, 0)
        if code not in (None, 0):
            log.warning("run %s: training exited %s", run.run_id, code)
        return ("succeeded" if succeeded else "failed"), time.time(), result

    def recover(self, model: str) -> list[Run]:
        """Nothing beyond the state file: local runs are known from it alone."""
        return []
