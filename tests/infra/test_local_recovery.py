"""A half-dead service (leader killed with kill -9, its worker still holding the port): `status`
says so and exits 1, `up` ends the orphaned worker by its recorded PID and start time and starts
the service again, and a process the platform did not start is never touched.

The services are stand-ins with MLflow's and Feast's process shape, started through the real
`LocalPlatform` with their real command lines: a leader (`python -m mlflow server ...`, the
`feast` console script) that starts one HTTP worker in its process group, which binds the port
and answers /health. tests/integration/test_half_dead_services.py does the same with the real
MLflow and Feast servers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.local import processes
from infra.local.platform import LocalPlatform, PlatformError
from infra.local.services import Workloads
from infra.local.state import Ports, StateDir

LEADER = """
import subprocess, sys
port = sys.argv[sys.argv.index("--port") + 1]
worker = subprocess.Popen([sys.executable, "-c", WORKER, port])
sys.exit(worker.wait())
"""
WORKER = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""
LISTENER = """
import socket, sys, time
server = socket.socket()
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen()
time.sleep(120)
"""
HALF_DEAD = ("mlflow", "feature-server")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    """MLflow and Feast stand-ins behind the platform's own command lines, on free ports."""
    bin_dir, repo = tmp_path / "bin", tmp_path / "repo"
    (repo / "mlflow").mkdir(parents=True)
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.symlink_to(sys.executable)
    leader = f"WORKER = {WORKER!r}\n{LEADER}"
    (repo / "mlflow" / "__init__.py").write_text("")
    (repo / "mlflow" / "__main__.py").write_text(leader)
    feast = bin_dir / "feast"
    feast.write_text(f"#!{python}\n{leader}")
    feast.chmod(0o700)
    state = StateDir(tmp_path / "state")
    ports = Ports(*_free_ports(4))
    umask = os.umask(0o077)
    try:
        state.create()
        state.save_ports(ports)
    finally:
        os.umask(umask)
    local = LocalPlatform(state, ports, Workloads(python, repo))
    try:
        yield local
    finally:
        local.down()


def _half_dead(platform: LocalPlatform, name: str) -> tuple[processes.ProcessRecord, int]:
    """Start `name` (if need be), wait until healthy, kill -9 its leader; (its record, the
    orphaned worker)."""
    platform.start(name)
    platform.wait_healthy(name, timeout=30)
    record = platform.record(name)
    assert record is not None and len(record.workers) == 1, record
    os.kill(record.pid, signal.SIGKILL)
    assert _gone(record.pid)
    [(worker, _)] = record.workers
    assert processes.orphans(record) == [worker]  # still running, still holding the port
    return record, worker


def _status(platform: LocalPlatform) -> tuple[int, dict[str, dict]]:
    state_dir = str(platform.state.root)
    result = CliRunner().invoke(app, ["local", "status", "--state-dir", state_dir, "--json"])
    return result.exit_code, {s["name"]: s for s in json.loads(result.stdout)["services"]}


@pytest.mark.parametrize("name", HALF_DEAD)
def test_status_calls_a_killed_leader_dead_and_exits_1(platform: LocalPlatform, name: str):
    for service in HALF_DEAD:
        platform.start(service)
        platform.wait_healthy(service, timeout=30)
    code, services = _status(platform)
    assert code == 0 and [services[s]["state"] for s in HALF_DEAD] == ["healthy", "healthy"]
    record, worker = _half_dead(platform, name)
    code, services = _status(platform)
    assert code == 1  # the other service is healthy: a dead one must still fail the status
    assert services[name]["state"] == "dead"
    detail = services[name]["detail"]
    assert f"exited (pid {record.pid})" in detail
    port = platform.service(name).port
    assert f"orphaned workers {worker} still run, holding port {port}" in detail
    assert "`mlplatform local up` ends them and restarts it" in detail


@pytest.mark.parametrize("name", HALF_DEAD)
def test_up_ends_the_orphaned_worker_and_starts_the_service_again(
    platform: LocalPlatform, name: str
):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        record, worker = _half_dead(platform, name)
        fresh = platform.start(name)
        platform.wait_healthy(name, timeout=30)
        assert _gone(worker), "the orphaned worker still runs"
        assert fresh.pid != record.pid and processes.is_ours(fresh)
        assert platform.service_status(name).state == "healthy"
        assert f"leader {record.pid} was gone; ended workers [{worker}]" in (
            platform.state.log(name).read_text()
        )
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_port_held_by_a_process_it_did_not_start_is_reported_and_left_alone(
    platform: LocalPlatform,
):
    port = platform.service("mlflow").port
    squatter = subprocess.Popen([sys.executable, "-c", LISTENER, str(port)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # A stale record that names the squatter as its worker, with another start time: as
        # if our worker had died and its PID been reused. It must not be taken for ours.
        stat = Path(f"/proc/{squatter.pid}/stat").read_text()
        start = int(stat[stat.rindex(")") + 2 :].split()[19])
        stale = processes.ProcessRecord(
            "mlflow", squatter.pid + 100000, 1, ["gone"], "x", ((squatter.pid, start - 1),)
        )
        stale.save(platform.state.record("mlflow"))
        with pytest.raises(PlatformError, match=f"port {port} on 127.0.0.1 is in use by another"):
            platform.start("mlflow")
        assert squatter.poll() is None
    finally:
        squatter.kill()
        squatter.wait()
