"""The local platform's lifecycle: bring services up in order, report their health, stop them.

`up` is idempotent: a service whose recorded process still runs is left alone; a stale record
(the process died) is replaced, after its orphaned workers (recorded by PID and start time,
see processes.py) are ended: a leader killed with kill -9 leaves MLflow's or Feast's worker
holding the port, and `up` recovers that half-dead service without touching any process it did
not start. A port held by anything else is reported, never freed.

Order matters: the broker and MLflow start first (in parallel), the Feast repository is
applied while they boot, the feature server starts on the applied registry, the topics are
created once the broker accepts connections, then the stream processor and the retraining
controller (the loop's always-on half, as their Deployments in the cluster), the model-events
exporter and Prometheus (`infra.local.prometheus`) start, and the model server starts only
when MLflow has a `champion` to serve (otherwise after training, by the demo).

The broker keeps its data in memory, so a broker start is a fresh Kafka: the stream
processor's snapshots (which record Kafka offsets) are cleared at the same moment (and a
stream processor still running is restarted). `down` also ends the retraining runs the
controller left training (they run in sessions of their own, see `infra.local.loop`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local import loop, processes, prometheus
from infra.local.services import (
    HOST,
    NO_PROXY_OPENER,
    SERVICES,
    Service,
    Workloads,
    environment,
    healthy,
    port_free,
    service,
)
from infra.local.state import Ports, StateDir

MODEL_NAME = "card-risk"
Progress = Callable[[str], None]


class PlatformError(RuntimeError):
    """A service or step failed; the message says which and quotes its log."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # healthy | unhealthy | dead (started, its leader gone) | stopped (never / down)
    pid: int | None
    url: str
    detail: str


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class LocalPlatform:
    def __init__(self, state: StateDir, ports: Ports, workloads: Workloads) -> None:
        self.state = state
        self.ports = ports
        self.workloads = workloads
        self.env = environment(state, ports, workloads.repo_root)
        self.env["MLP_MODEL_NAME"] = MODEL_NAME

    def service(self, name: str) -> Service:
        return service(name, self.workloads, self.state, self.ports)

    def record(self, name: str) -> processes.ProcessRecord | None:
        return processes.ProcessRecord.load(self.state.record(name))

    def running(self, name: str) -> bool:
        record = self.record(name)
        return record is not None and processes.is_ours(record)

    # -- starting --------------------------------------------------------------------------
    def start(self, name: str) -> processes.ProcessRecord:
        existing = self.record(name)
        if existing is not None and processes.is_ours(existing):
            return self._record_workers(existing)
        if existing is not None:
            self._end_orphans(existing)
        svc = self.service(name)
        if not os.access(svc.argv[0], os.X_OK):
            raise PlatformError(
                f"{name}: {svc.argv[0]} is missing; create the workloads "
                "environment with `make .venv-workloads/.installed`"
            )
        if not port_free(svc.port):
            raise PlatformError(
                f"{name}: port {svc.port} on {HOST} is in use by another process (not one the "
                "local platform started); stop it, or choose another port with the port "
                "options of `mlplatform local up`"
            )
        try:
            return processes.spawn(
                name,
                svc.argv,
                self.env,
                self.workloads.repo_root,
                self.state.log(name),
                self.state.record(name),
            )
        except RuntimeError as error:
            raise PlatformError(f"{name}: {error}\n{_tail(self.state.log(name))}") from None

    def _end_orphans(self, record: processes.ProcessRecord) -> None:
        """A dead service's recorded workers that still run (and hold its port) are ended."""
        ended = processes.stop(record, timeout=10.0)
        if processes.orphans(record):
            raise PlatformError(
                f"{record.name}: its orphaned workers {processes.orphans(record)} did not stop; "
                "end them and run `mlplatform local up` again"
            )
        with open(self.state.log(record.name), "a") as log:
            log.write(f"[mlplatform local] leader {record.pid} was gone; ended workers {ended}\n")
        self.state.record(record.name).unlink(missing_ok=True)

    def _record_workers(self, record: processes.ProcessRecord) -> processes.ProcessRecord:
        """Record the service's current workers (PID, start time) beside its leader."""
        updated = processes.with_workers(record)
        if updated != record:
            updated.save(self.state.record(record.name))
        return updated

    def wait_healthy(self, name: str, timeout: float = 120.0) -> None:
        svc, deadline = self.service(name), time.monotonic() + timeout
        while True:
            ok, detail = healthy(svc)
            if ok:
                record = self.record(name)
                if record is not None:
                    self._record_workers(record)
                return
            if not self.running(name):
                raise PlatformError(
                    f"{name} exited during start-up; last log lines:\n{_tail(self.state.log(name))}"
                )
            if time.monotonic() > deadline:
                raise PlatformError(
                    f"{name} not healthy after {timeout:.0f} s ({detail}); "
                    f"last log lines:\n{_tail(self.state.log(name))}"
                )
            time.sleep(0.25)

    def run_step(self, name: str, argv: list[str], timeout: float = 600.0) -> dict[str, Any]:
        """Run a workload to completion; its last stdout line is its JSON result."""
        log = self.state.log(name)
        with open(log, "a") as handle:
            try:
                done = subprocess.run(
                    argv,
                    cwd=self.workloads.repo_root,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=handle,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise PlatformError(
                    f"{name} did not finish in {timeout:.0f} s; see {log}"
                ) from None
            handle.write(done.stdout)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise PlatformError(
                f"{name} failed (exit {done.returncode}); last log lines:\n{_tail(log)}"
            )
        return json.loads(lines[-1])

    def champion_version(self) -> str | None:
        query = urllib.parse.urlencode({"name": MODEL_NAME, "alias": "champion"})
        url = f"http://{HOST}:{self.ports.mlflow}/api/2.0/mlflow/registered-models/alias?{query}"
        try:
            with NO_PROXY_OPENER.open(url, timeout=5) as response:
                return str(json.load(response)["model_version"]["version"])
        except OSError:  # HTTPError (404: no champion) and connection errors alike
            return None

    def up(self, progress: Progress = lambda _: None) -> list[ServiceStatus]:
        self.state.create()
        self.state.save_ports(self.ports)
        if not self.running("broker"):
            self._fresh_stream_state()
        for name in ("broker", "mlflow"):
            progress(f"starting {name}")
            self.start(name)
        feast_yaml = self.state.path("feast") / "feature_store.yaml"
        if not (self.state.path("feast") / "registry.db").exists():
            progress("applying the Feast feature repository")
            self.run_step(
                "feast-apply",
                self.workloads.module(
                    "workloads.features", "render-local", "--data-dir", str(feast_yaml.parent)
                ),
            )
            self.run_step(
                "feast-apply",
                self.workloads.module(
                    "workloads.features", "apply", "--feature-store-yaml", str(feast_yaml)
                ),
            )
        progress("starting feature-server")
        self.start("feature-server")
        self.wait_healthy("broker")
        progress("creating topics")
        self.run_step("topics", self.workloads.module("workloads.streaming", "create-topics"))
        for name in ("mlflow", "feature-server"):
            progress(f"waiting for {name}")
            self.wait_healthy(name)
        self.start_loop(progress)
        self.start_monitoring(progress)
        if self.champion_version() is not None:
            self.start_model_server(progress)
        return self.status()

    def _fresh_stream_state(self) -> None:
        """A fresh broker: the stream processor's snapshots record offsets of the old one, so
        a processor still running is stopped (`start_loop` starts it again) and they go."""
        record = self.record("stream-processor")
        if record is not None:
            processes.stop(record)
            self.state.record("stream-processor").unlink(missing_ok=True)
        shutil.rmtree(self.state.path("stream"), ignore_errors=True)
        self.state.path("stream").mkdir(mode=0o700)

    def start_loop(self, progress: Progress = lambda _: None) -> None:
        """The always-on half of the ML loop, as in the cluster: the stream processor (Kafka →
        Feast) and the retraining controller (retraining requests → training runs)."""
        for name in ("stream-processor", "retraining-controller"):
            progress(f"starting {name}")
            self.start(name)
        for name in ("stream-processor", "retraining-controller"):
            self.wait_healthy(name)

    def start_monitoring(self, progress: Progress = lambda _: None) -> None:
        """The model-events exporter and Prometheus with the platform's alert rules."""
        if prometheus.binary() is None:
            raise PlatformError(prometheus.NOT_INSTALLED)
        prometheus.write_configuration(self.state, self.ports, HOST)
        for name in ("model-metrics", "prometheus"):
            progress(f"starting {name}")
            self.start(name)
        for name in ("model-metrics", "prometheus"):
            self.wait_healthy(name)

    def start_model_server(self, progress: Progress = lambda _: None) -> None:
        progress("starting model-server")
        self.start("model-server")
        self.wait_healthy("model-server", timeout=180.0)

    # -- status and stopping ---------------------------------------------------------------
    def status(self) -> list[ServiceStatus]:
        return [self.service_status(name) for name in SERVICES]

    def service_status(self, name: str) -> ServiceStatus:
        """healthy/unhealthy (its leader runs), dead (recorded, leader gone) or stopped."""
        svc, record = self.service(name), self.record(name)
        if record is None:
            return ServiceStatus(name, "stopped", None, svc.url, "not running")
        if not processes.is_ours(record):
            orphans = processes.orphans(record)
            detail = f"exited (pid {record.pid})"
            if orphans:
                held = "" if port_free(svc.port) else f", holding port {svc.port}"
                detail += (
                    f"; its orphaned workers {', '.join(map(str, orphans))} still run{held}: "
                    "`mlplatform local up` ends them and restarts it"
                )
            else:
                detail += "; `mlplatform local up` restarts it"
            return ServiceStatus(name, "dead", None, svc.url, detail)
        ok, detail = healthy(svc)
        return ServiceStatus(name, "healthy" if ok else "unhealthy", record.pid, svc.url, detail)

    def down(self) -> dict[str, list[int]]:
        """Stop every recorded service, the loop's first (then the retraining runs still
        training, as `retraining-run-<id>`); return the PIDs signalled."""
        names = [*reversed(SERVICES)]
        names += sorted(p.stem for p in self.state.run.glob("*.json") if p.stem not in names)
        stopped: dict[str, list[int]] = {}
        for name in names:
            record = self.record(name)
            if record is not None:
                stopped[name] = processes.stop(record)
                self.state.record(name).unlink(missing_ok=True)
            if name == "retraining-controller":
                stopped.update(self._stop_retraining_runs())
        return stopped

    def _stop_retraining_runs(self) -> dict[str, list[int]]:
        """The controller's runs still training: they run in sessions of their own (as a
        TrainJob outlives the controller), so stopping the controller leaves them running."""
        return {run.name: processes.stop(run) for run in loop.live_run_processes(self.state)}
