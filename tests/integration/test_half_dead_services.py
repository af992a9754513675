"""The real MLflow and Feast servers, half-dead: kill -9 of the leader leaves its HTTP worker on
the port; `mlplatform local status` says the service is dead and exits 1, and starting it again
(what `up` does per service) ends that worker by its recorded PID and start time and brings the
service back healthy on the same port.

Broker-less and apply-less, like the local verification suite: MLflow on sqlite, the feature
server on the rendered (not applied) repository. Bounded: each start waits at most 120 s.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.local import processes
from infra.local.platform import LocalPlatform
from infra.local.services import Workloads
from infra.local.state import REPO_ROOT, Ports, StateDir

pytestmark = pytest.mark.integration
WORKLOADS = Workloads(REPO_ROOT / ".venv-workloads" / "bin" / "python", REPO_ROOT)
SERVICES = ("mlflow", "feature-server")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    if not os.access(WORKLOADS.python, os.X_OK):
        pytest.fail(f"no workloads environment at {WORKLOADS.python}: `make setup`")
    state = StateDir(tmp_path_factory.mktemp("recovery") / "state")
    ports = Ports(*_free_ports(4))
    local = LocalPlatform(state, ports, WORKLOADS)
    umask = os.umask(0o077)
    try:
        state.create()
        state.save_ports(ports)
        feast_dir = state.path("feast")
        local.run_step(
            "feast-render",
            WORKLOADS.module("workloads.features", "render-local", "--data-dir", str(feast_dir)),
        )
        for name in SERVICES:
            local.start(name)
        for name in SERVICES:
            local.wait_healthy(name, timeout=120)
        os.umask(umask)
        yield local
    finally:
        os.umask(umask)
        local.down()


def _status(platform: LocalPlatform) -> tuple[int, dict[str, dict]]:
    state_dir = str(platform.state.root)
    result = CliRunner().invoke(app, ["local", "status", "--state-dir", state_dir, "--json"])
    return result.exit_code, {s["name"]: s for s in json.loads(result.stdout)["services"]}


@pytest.mark.parametrize("name", SERVICES)
def test_a_killed_leader_is_reported_dead_and_recovered(platform: LocalPlatform, name: str):
    record = platform.record(name)
    assert record is not None and record.workers, f"{name}: no worker recorded: {record}"
    port = platform.service(name).port
    os.kill(record.pid, signal.SIGKILL)
    assert _gone(record.pid)
    orphans = processes.orphans(record)
    assert orphans, f"{name}: killing the leader left no worker (nothing to recover)"

    code, services = _status(platform)
    assert code == 1
    assert services[name]["state"] == "dead"
    assert f"still run, holding port {port}" in services[name]["detail"]

    fresh = platform.start(name)
    platform.wait_healthy(name, timeout=120)
    assert all(_gone(pid) for pid in orphans)
    assert processes.is_ours(fresh) and fresh.pid != record.pid
    assert platform.service_status(name).state == "healthy"
