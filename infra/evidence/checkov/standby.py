"""A checkov process started before its scan: checkov's imports paid while the plan synthesizes.

Every checkov process first imports checkov, its checks and their libraries: about 1.8 s of one
core before it reads a file. A plan starts checkov once the variant's files are written and then
waits for it at the end of the variant, so that import was on the plan's path, once per variant.
`prepare` starts the project's launcher in stand-by (`policies/checkov/launcher.py --stand-by`):
it imports checkov, then waits for one scan on its standard input. `launch` hands a scan to the
process prepared for the same program and environment when there is one still alive, and starts
checkov afresh otherwise: the caller gets a `Popen` whose exit status, log files and reports are
checkov's either way.

A scan's own variables (the allowed registries, `env` of `launch`) are set in the prepared
process before checkov runs; everything else in its environment must equal what the process was
started with (a variable read while importing would otherwise differ), or it is not used. A
prepared process that is never used ends when its standard input closes: `discard` (at exit) or
this process ending.

The stand-by protocol, one JSON line: {"argv", "env", "cwd", "stdout", "stderr"}.
"""

from __future__ import annotations

import atexit
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

STAND_BY = "--stand-by"


@dataclass
class _Prepared:
    program: tuple[str, ...]
    environment: dict[str, str]
    cwd: Path
    process: subprocess.Popen[bytes]


_prepared: list[_Prepared] = []


def prepare(program: Sequence[str], environment: Mapping[str, str], cwd: Path) -> None:
    """Start `program --stand-by` with `environment` in `cwd` unless such a process is waiting
    already; one that would not fit a scan now is ended (at most one waits)."""
    if any(_fits(p, program, environment, {}, cwd) for p in _alive()):
        return
    discard()
    process = subprocess.Popen(
        [*program, STAND_BY],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(environment),
        cwd=cwd,
    )
    _prepared.append(_Prepared(tuple(program), dict(environment), cwd, process))


def launch(
    program: Sequence[str],
    arguments: Sequence[str],
    environment: Mapping[str, str],
    env: Mapping[str, str],
    cwd: Path,
    stdout: Path,
    stderr: Path,
) -> subprocess.Popen[bytes]:
    """checkov with `arguments`, its output in `stdout`/`stderr`: in a prepared process started
    with `environment` when one is waiting, else a new one; `env` is the scan's own variables."""
    scan_env = {**environment, **env}
    for prepared in _alive():
        if not _fits(prepared, program, environment, env, cwd):
            continue
        _prepared.remove(prepared)
        for log in (stdout, stderr):  # there even if it ends before it reads the scan
            log.write_bytes(b"")
        job = {
            "argv": list(arguments),
            "env": scan_env,
            "cwd": str(cwd),
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        assert prepared.process.stdin is not None
        try:
            prepared.process.stdin.write(json.dumps(job).encode() + b"\n")
            prepared.process.stdin.close()
        except OSError:  # it ended after all: start afresh
            prepared.process.kill()
            prepared.process.wait()
            break
        return prepared.process
    with stdout.open("wb") as out, stderr.open("wb") as err:
        return subprocess.Popen(
            [*program, *arguments], stdout=out, stderr=err, env=scan_env, cwd=cwd
        )


def discard() -> None:
    """End every prepared process that was not used."""
    while _prepared:
        prepared = _prepared.pop()
        if prepared.process.poll() is None:
            prepared.process.kill()
        prepared.process.wait()
        if prepared.process.stdin is not None:
            prepared.process.stdin.close()


def _alive() -> list[_Prepared]:
    for prepared in [p for p in _prepared if p.process.poll() is not None]:
        _prepared.remove(prepared)  # it failed to import: the scan will say why, started afresh
        if prepared.process.stdin is not None:
            prepared.process.stdin.close()
    return list(_prepared)


def _fits(
    prepared: _Prepared,
    program: Sequence[str],
    environment: Mapping[str, str],
    scan: Mapping[str, str],
    cwd: Path,
) -> bool:
    """Whether `prepared` runs what a new process would: the same program, directory and
    environment, apart from the scan's own variables (set before checkov runs)."""
    if prepared.program != tuple(program) or prepared.cwd != cwd:
        return False
    keys = (set(prepared.environment) | set(environment)) - set(scan)
    return all(prepared.environment.get(k) == environment.get(k) for k in keys)


atexit.register(discard)
