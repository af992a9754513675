"""Stopping exactly what the local platform started: never a process whose PID was reused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from infra.local import processes


def spawn(tmp_path: Path, *argv: str) -> processes.ProcessRecord:
    return processes.spawn(
        "svc", list(argv), dict(os.environ), tmp_path, tmp_path / "svc.log", tmp_path / "svc.json"
    )


def gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def bystander():
    """A process that is not ours: it must survive every test."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def test_spawned_service_is_recorded_detached_and_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        record = spawn(tmp_path, sys.executable, "-c", "import time; time.sleep(60)")
    finally:
        os.umask(old)
    try:
        assert processes.is_ours(record)
        assert os.getpgid(record.pid) == record.pid  # its own session and group
        assert processes.ProcessRecord.load(tmp_path / "svc.json") == record
        for path in (tmp_path / "svc.json", tmp_path / "svc.log"):
            assert path.stat().st_mode & 0o077 == 0
    finally:
        processes.stop(record)
    assert gone(record.pid)


def test_stop_terminates_the_whole_group_children_included(tmp_path: Path) -> None:
    record = spawn(tmp_path, "/bin/sh", "-c", "sleep 60 & sleep 60 & wait")
    deadline = time.monotonic() + 10
    while len(processes.members(record)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    members = processes.members(record)
    assert len(members) == 3
    assert sorted(processes.stop(record)) == sorted(members)
    assert all(gone(pid) for pid in members)


def test_a_reused_pid_is_never_signalled(tmp_path: Path, bystander: subprocess.Popen) -> None:
    # A record naming the bystander's PID, as if our service had died and the PID been reused:
    # the start time differs, and so does the command line.
    stat = Path(f"/proc/{bystander.pid}/stat").read_text()
    start = int(stat[stat.rindex(")") + 2 :].split()[19])
    stale = processes.ProcessRecord("svc", bystander.pid, start - 1, ["tansu", "broker"], "x")
    assert not processes.is_ours(stale)
    assert processes.members(stale) == []
    assert processes.stop(stale, timeout=1) == []
    same_start_other_command = replace(stale, start_ticks=start)
    assert processes.stop(same_start_other_command, timeout=1) == []
    assert bystander.poll() is None


def test_a_service_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    record = spawn(
        tmp_path,
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)",
    )
    deadline = time.monotonic() + 10
    while "ready" not in (tmp_path / "svc.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes.stop(record, timeout=0.5) == [record.pid]
    assert gone(record.pid)


def test_a_service_that_has_exited_has_nothing_to_stop(tmp_path: Path) -> None:
    record = spawn(tmp_path, sys.executable, "-c", "import time; time.sleep(0.5)")
    assert gone(record.pid)
    assert not processes.is_ours(record)
    assert processes.stop(record, timeout=1) == []


def test_a_script_is_recorded_as_the_kernel_shows_it(tmp_path: Path) -> None:
    # Console scripts (feast, mlflow) start through their shebang: the kernel's command line
    # then begins with the interpreter. The record must match it, or `down` could not stop it.
    script = tmp_path / "service"
    # The interpreter must stay the process (as Python does for a console script): a shell
    # script ending in `exec sleep` would replace itself before the poll could see it.
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    script.chmod(0o700)
    record = spawn(tmp_path, str(script), "--flag")
    try:
        assert record.argv[-2:] == [str(script), "--flag"]
        assert os.path.basename(record.argv[0]).startswith("python")
        assert processes.is_ours(record)
    finally:
        assert processes.stop(record) == [record.pid]
