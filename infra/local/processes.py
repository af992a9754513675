"""Starting detached service processes, and stopping exactly the processes we started.

Each service starts in its own session (so it is a process-group leader and survives the CLI
that started it). Its record (pid, kernel start time, command line) is saved under the state
directory; once the service is healthy its workers (the other processes of its group: MLflow's
and Feast's HTTP workers, which hold the port) are recorded too, each by PID and start time.
A PID alone is not an identity: after a reboot or a long time, the same number can belong to
someone else's process. So before signalling, `members()` lists, while the leader lives and its
start time and command line still match the record, the processes of the service's group
(pgid = the leader's pid) that started no earlier than the leader; once the leader is gone
(kill -9), only the recorded workers whose PID, start time and group still match (`orphans()`).
Only those are signalled, one by one: a recycled PID is never killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_ticks: int  # field 22 of /proc/PID/stat: start time in clock ticks since boot
    argv: list[str]
    log: str
    # (pid, start ticks) of the group's other processes, recorded once the service is healthy
    workers: tuple[tuple[int, int], ...] = ()

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> ProcessRecord | None:
        try:
            data = json.loads(path.read_text())
            workers = data.get("workers", ())
            data["workers"] = tuple((int(pid), int(start)) for pid, start in workers)
            return cls(**data)
        except (OSError, ValueError, TypeError, AttributeError):
            return None


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, pgid, start ticks) of a process, or None if it does not exist."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2]), int(fields[19])


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").split("\0")[:-1]


def command_line(pid: int) -> list[str] | None:
    """The process's command line as the kernel shows it, None when it is gone."""
    return _cmdline(pid)


def is_ours(record: ProcessRecord) -> bool:
    """True if the recorded leader still runs: same PID, start time and command line."""
    stat = _stat(record.pid)
    if stat is None or stat[0] == "Z":
        return False
    return stat[2] == record.start_ticks and _cmdline(record.pid) == record.argv


def _alive(pid: int) -> tuple[str, int, int] | None:
    """The process's stat while it runs (not a zombie), else None."""
    stat = _stat(pid)
    return None if stat is None or stat[0] == "Z" else stat


def _start_of(pid: int) -> int | None:
    """Start ticks of a running process, else None."""
    stat = _alive(pid)
    return None if stat is None else stat[2]


def _group(pgid: int, since_ticks: int) -> list[int]:
    """Live processes of process group `pgid` that started at or after `since_ticks`."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        stat = _alive(int(entry.name))
        if stat is not None and stat[1] == pgid and stat[2] >= since_ticks:
            found.append(int(entry.name))
    return found


def orphans(record: ProcessRecord) -> list[int]:
    """Recorded workers still running after their leader died: same PID, start time and group.

    Empty while the leader lives (its workers are not orphans then).
    """
    if _alive(record.pid) is not None:
        return []
    found = []
    for pid, start in record.workers:
        stat = _alive(pid)
        if stat is not None and stat[1:] == (record.pid, start):
            found.append(pid)
    return found


def members(record: ProcessRecord) -> list[int]:
    """PIDs of the service's processes that belong to this start of the service."""
    if _alive(record.pid) is None:
        return orphans(record)
    if not is_ours(record):
        # The PID was reused. Linux does not reuse a PID while a process group of that id
        # lives, so none of the recorded service's processes can still exist.
        return []
    return _group(record.pid, record.start_ticks)


def with_workers(record: ProcessRecord) -> ProcessRecord:
    """The record with the group's current other processes as its workers (leader ours)."""
    if not is_ours(record):
        return record
    workers = []
    for pid in _group(record.pid, record.start_ticks):
        start = _start_of(pid)
        if pid != record.pid and start is not None:
            workers.append((pid, start))
    return replace(record, workers=tuple(sorted(workers)))


def spawn(
    name: str, argv: list[str], env: dict[str, str], cwd: Path, log: Path, record_path: Path
) -> ProcessRecord:
    """Start `argv` detached, output appended to `log` (owner-only); save and return its record."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(fd)
    argv_seen, start = _wait_for_exec(process.pid, argv, log)
    record = ProcessRecord(name, process.pid, start, argv_seen, str(log))
    record.save(record_path)
    return record


def _wait_for_exec(
    pid: int, argv: list[str], log: Path, timeout: float = 10.0
) -> tuple[list[str], int]:
    """The command line the kernel shows once `argv` has been exec'd, and the start ticks.

    Popen can return while the child is still between fork and exec (its cmdline is then
    the parent's, or empty). And the kernel's view can differ from `argv`: a script's shebang
    puts the interpreter first (`.../bin/python3 .../bin/feast ...`). So wait until the
    cmdline ends with our arguments, and record what the kernel shows.
    """
    deadline = time.monotonic() + timeout
    program = os.path.basename(argv[0])
    while True:
        stat = _stat(pid)
        if stat is None or stat[0] == "Z":
            raise RuntimeError(f"{argv[0]} exited immediately; see {log}")
        seen = _cmdline(pid) or []
        if (
            len(seen) >= len(argv)
            and seen[len(seen) - len(argv) + 1 :] == argv[1:]
            and any(os.path.basename(part) == program for part in seen[: len(seen) - len(argv) + 1])
        ):
            return seen, stat[2]  # exec keeps the process's start time
        if time.monotonic() > deadline:
            raise RuntimeError(f"{argv[0]} did not start within {timeout:.0f} s; see {log}")
        time.sleep(0.01)


def stop(record: ProcessRecord, timeout: float = 15.0) -> list[int]:
    """SIGTERM the service's processes, SIGKILL what remains after `timeout`; return the PIDs.

    Each process is pinned by its start time when first seen, so one that outlives its leader
    is still killed, and a PID reused meanwhile is not.
    """
    known: dict[int, int] = {}

    def remaining() -> list[int]:
        for pid in members(record):
            start = _start_of(pid)
            if start is not None:
                known.setdefault(pid, start)
        return [pid for pid, start in known.items() if _start_of(pid) == start]

    signalled: list[int] = []
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        pids = remaining()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, sig)
                signalled.append(pid)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while remaining() and time.monotonic() < deadline:
            time.sleep(0.1)
    return sorted(set(signalled))
