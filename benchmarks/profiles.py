"""Where the time went in a benchmark run: `python -m benchmarks --profile` samples every Python
process of the run with py-spy (`record --subprocesses`, collapsed stacks), and this module
turns those samples into tables, one per process.

    python -m benchmarks.profiles build/bench/profile.txt
    python -m benchmarks.profiles build/bench/profile.txt --process "--mode processor" \\
        --under StreamProcessor.run --top 30

A function's inclusive share counts the samples with it anywhere on the stack (once per sample,
however deep the recursion); its own share counts those where it was running. `--under` keeps
only the samples that pass through a frame (the loop being measured, not the imports before it)
and makes shares relative to them. Sampling is of wall-clock stacks of running threads (py-spy
leaves idle ones out); the figures of a profiled run come from processes that were sampled, so
they are for where the time goes, not for comparison with an unprofiled run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

RATE = 100  # samples per second per process, as `--profile` records them
# a process frame; its command line may hold ';' (`python -c "a; b"`), so it is taken off the
# line before the frames are split
_PROCESS = re.compile(r'process (\d+):"(.*?)"(?:;|$)', re.DOTALL)
_RECORD = re.compile(r'process \d+:"')
_LINE = re.compile(r":\d+\)$")
NO_FRAME = "(no Python frame: native code without the GIL)"


@dataclass
class Process:
    """The samples of one process: its command line and its stacks (outermost frame first)."""

    pid: int
    command: str
    stacks: Counter[tuple[str, ...]] = field(default_factory=Counter)

    @property
    def samples(self) -> int:
        return sum(self.stacks.values())


@dataclass(frozen=True)
class Share:
    function: str
    samples: int
    share: float  # of the samples summarised


@dataclass(frozen=True)
class Summary:
    process: Process
    under: str | None
    samples: int
    inclusive: list[Share]
    own: list[Share]


def function(frame: str) -> str:
    """`name (path:line)` → `name (path)`: every line of a function counts as the function."""
    return _LINE.sub(")", frame)


def read(lines: Iterable[str]) -> list[Process]:
    """py-spy's raw (collapsed) format: `frame;frame;... count` per line; with
    `--subprocesses` the first frames name the process and its parents. Processes in order of
    samples, most first."""
    processes: dict[int, Process] = {}
    for number, line in _records(lines):
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            raise ValueError(f"line {number}: expected 'frame;frame;... count', got {line[:120]!r}")
        pid, command = 0, ""
        # a child's stacks come under its parents' process frames: the last one is its own
        while found := _PROCESS.match(stack):
            pid, command = int(found[1]), " ".join(found[2].split())
            stack = stack[found.end() :]
        frames = stack.split(";") if stack else [NO_FRAME]
        process = processes.setdefault(pid, Process(pid, command))
        process.stacks[tuple(function(f) for f in frames)] += int(count)
    return sorted(processes.values(), key=lambda p: p.samples, reverse=True)


def _records(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(first line number, record): a command line with newlines (`python -c` of several lines)
    runs over several lines; with `--subprocesses` every record starts with a process frame."""
    number, record = 0, ""
    for index, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if record and record.startswith("process ") and not _RECORD.match(line):
            record += "\n" + line
            continue
        if record:
            yield number, record
        number, record = index, line
    if record:
        yield number, record


def summarise(process: Process, under: str | None = None, top: int = 20) -> Summary:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for stack, count in process.stacks.items():
        if under is not None:
            start = next((i for i, f in enumerate(stack) if f.startswith(under)), None)
            if start is None:
                continue
            stack = stack[start:]
        if not stack:
            continue
        total += count
        for name in set(stack):
            inclusive[name] += count
        own[stack[-1]] += count

    def shares(counter: Counter[str]) -> list[Share]:
        return [Share(name, n, n / total) for name, n in counter.most_common(top)]

    return Summary(process, under, total, shares(inclusive), shares(own))


def markdown(summaries: Iterable[Summary], rate: int = RATE) -> Iterator[str]:
    for summary in summaries:
        process = summary.process
        where = f", under `{summary.under}`" if summary.under else ""
        yield (
            f"## pid {process.pid}: `{process.command[:200]}`"
            if process.command
            else "## the process"
        )
        yield ""
        yield f"{summary.samples} samples (about {summary.samples / rate:.1f} s{where})"
        yield ""
        yield "| inclusive | own | function |"
        yield "|---:|---:|---|"
        owns = {s.function: s for s in summary.own}
        for share in summary.inclusive:
            mine = owns.get(share.function)
            own = f"{100 * mine.share:.1f} %" if mine else ""
            yield f"| {100 * share.share:.1f} % | {own} | `{share.function[:160]}` |"
        listed = {s.function for s in summary.inclusive}
        for share in summary.own:
            if share.function not in listed:
                yield f"| | {100 * share.share:.1f} % | `{share.function[:160]}` |"
        yield ""


def report(
    path: Path,
    process: str | None,
    under: str | None,
    top: int,
    least: float,
    rate: int = RATE,
) -> str:
    """The tables of every process with at least `least` of the run's samples (or whose command
    line contains `process`), largest first."""
    with open(path) as handle:
        processes = read(handle)
    everything = sum(p.samples for p in processes) or 1
    chosen = [
        p
        for p in processes
        if (process in p.command if process is not None else p.samples / everything >= least)
    ]
    if not chosen:
        raise SystemExit(f"{path}: no process matches (of {len(processes)} sampled)")
    summaries = [summarise(p, under, top) for p in chosen]
    head = [f"# Profile: {path.name}", "", f"{len(processes)} processes, {everything} samples", ""]
    return "\n".join(head + list(markdown((s for s in summaries if s.samples), rate))) + "\n"


def record(command: list[str], out: Path, env: dict[str, str] | None = None) -> int:
    """Run `command` with py-spy sampling it and every Python process it starts; write
    out/profile.txt (collapsed stacks) and out/profile.md (`report`). Returns its exit status."""
    spy = Path(sys.executable).parent / "py-spy"  # the environment's own (locks/iac.txt)
    found = str(spy) if spy.exists() else shutil.which("py-spy")
    if found is None:
        print("--profile: py-spy is not installed (`make setup` installs it)", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    samples = out / "profile.txt"
    samples.unlink(missing_ok=True)
    sampler = [
        found, "record", "--subprocesses", "--nonblocking", "--rate", str(RATE),
        "--format", "raw", "--output", str(samples), "--",
    ]  # fmt: skip
    environment = {**os.environ, **(env or {})}
    status = subprocess.run([*sampler, *command], env=environment, check=False).returncode
    if not samples.exists():
        print(f"--profile: py-spy wrote no samples (exit {status})", file=sys.stderr)
        return status or 1
    summary = out / "profile.md"
    summary.write_text(report(samples, None, None, top=25, least=0.02))
    print(f"profile: {samples} (collapsed stacks), {summary} (a table per process)")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profiles",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("profile", type=Path, help="py-spy's raw output (profile.txt)")
    parser.add_argument("--process", help="only processes whose command line contains this")
    parser.add_argument("--under", help="only samples through this frame (a function's name)")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--rate", type=int, default=RATE, help="samples/s the profile was taken at")
    parser.add_argument(
        "--least", type=float, default=0.02, help="without --process: the smallest share shown"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(
        report(args.profile, args.process, args.under, args.top, args.least, args.rate)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
