"""A deliberately broken local platform fails the local suite, and the messages say why.

A scratch state directory holds three recorded "services", started with infra.local's own
`processes.spawn`: `rogue` listens on 0.0.0.0 (all interfaces), `loopback-helper` on 127.0.0.1
(the control: it must pass), `ghost` is a record whose process has exited. `state.json` is made
world-readable. `mlplatform verify --local --state-dir` must exit 1 naming each problem, and
the processes are always stopped. The same holds from an installed package: the suites ship in
`infra/verify/suites` and `verify` runs them from a package tree outside the checkout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.local import processes
from infra.local.state import Ports, StateDir
from infra.verify.suite import suite_path

pytestmark = pytest.mark.verify

LISTENER = """
import socket, sys, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen()
time.sleep(300)
"""
MLPLATFORM = Path(sys.executable).parent / "mlplatform"
REPO = Path(__file__).resolve().parents[2]
SETUP = "from setuptools import setup; setup()"  # reads pyproject.toml
CLI = "from infra.cli import app; app()"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the test listener on port {port} did not start")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken-local")
    state = StateDir(root / "state")
    umask = os.umask(0o077)
    started: list[processes.ProcessRecord] = []
    try:
        state.create()
        state.save_ports(Ports(*(_free_port() for _ in range(4))))
        listeners = {"rogue": ("0.0.0.0", _free_port()), "loopback-helper": ("127.0.0.1", 0)}
        listeners["loopback-helper"] = ("127.0.0.1", _free_port())
        for name, (address, port) in listeners.items():
            argv = [sys.executable, "-c", LISTENER, address, str(port)]
            record = processes.spawn(
                name, argv, dict(os.environ), root, state.log(name), state.record(name)
            )
            started.append(record)
            _wait_listening(port)
        exited = subprocess.Popen([sys.executable, "-c", "pass"])
        exited.wait()
        processes.ProcessRecord(
            "ghost", exited.pid, 1, [sys.executable, "-c", "pass"], str(state.log("ghost"))
        ).save(state.record("ghost"))
        os.umask(umask)
        (state.root / "state.json").chmod(0o644)
        yield state, {r.name: r for r in started}, listeners
    finally:
        os.umask(umask)
        for record in started:
            processes.stop(record, timeout=5)
        assert not [pid for r in started for pid in processes.members(r)], "listeners survived"


def test_broken_local_platform_fails_each_relevant_check(broken):
    state, records, listeners = broken
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLP_VERIFY_")}
    env["MLP_VERIFY_LOCAL_STATE_DIR"] = str(state.root)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite_path("local")), "-v", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    rogue_port = listeners["rogue"][1]
    assert (
        f"rogue (pid {records['rogue'].pid}) listens on 0.0.0.0:{rogue_port} — all interfaces; "
        "local platform services must bind 127.0.0.1 only"
    ) in out
    assert f"{state.root}/state.json has mode 0644: readable or writable by group/others" in out, (
        out
    )
    assert "ghost: recorded pid" in out and "is not running" in out
    outcomes = {
        line.split(" ")[0].split("::")[-1]: line.split(" ")[1]
        for line in out.splitlines()
        if line.startswith("infra/verify/suites/local/") and " " in line
    }
    assert outcomes["test_service_listens_on_loopback_only[rogue]"] == "FAILED"
    assert outcomes["test_service_listens_on_loopback_only[loopback-helper]"] == "PASSED"
    assert outcomes["test_service_process_is_the_recorded_one_and_ours[rogue]"] == "PASSED"
    assert outcomes["test_service_process_is_the_recorded_one_and_ours[ghost]"] == "FAILED"
    assert outcomes["test_state_directory_is_owner_only"] == "FAILED"


def test_mlplatform_verify_local_exits_1_on_the_broken_platform(broken):
    state, _, listeners = broken
    done = subprocess.run(
        [str(MLPLATFORM), "verify", "--local", "--state-dir", str(state.root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"listens on 0.0.0.0:{listeners['rogue'][1]}" in done.stdout


def test_verify_local_runs_from_an_installed_package_tree(broken, tmp_path):
    """`mlplatform verify` from a built package tree (setuptools build_py, as a wheel holds it),
    run outside the checkout: the packaged suite is found, runs and fails the broken platform."""
    state, _, listeners = broken
    tree = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-c", SETUP, "-q", "build_py", "--build-lib", str(tree)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    assert (tree / "infra/verify/suites/local/test_local_services_hardened.py").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLP_VERIFY_")}
    env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [sys.executable, "-c", CLI, "verify", "--local", "--state-dir", str(state.root)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert f"rootdir: {tree}" in out or str(tree / "infra/verify/suites/local") in out, out
    assert f"listens on 0.0.0.0:{listeners['rogue'][1]}" in out
