"""`python -m benchmarks` (what `make bench` runs): measure, print a table, write results.json.

    python -m benchmarks                       quick mode, every benchmark (CI-sized)
    python -m benchmarks --mode full           longer runs, more repetitions
    python -m benchmarks --only serving,synthesis
    python -m benchmarks --only freshness --profile

With --profile the run is sampled by py-spy (every Python process it starts, 100 samples/s):
<out>/profile.txt (collapsed stacks) and <out>/profile.md (a table per process, see
`benchmarks.profiles`). Sampling costs CPU, so a profiled run's figures say where the time goes,
not how they compare with an unprofiled run's; its results.json says it was profiled.

Run it with the IaC environment's interpreter (.venv/bin/python); the workload measurements
run in .venv-workloads. Exit status: 0 when every benchmark ran (whatever the figures are),
1 when one could not run, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks import profiles
from benchmarks.modes import MODES
from benchmarks.runner import BENCHMARKS, IAC_ONLY, PROFILED, print_summary, run

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    parser.add_argument(
        "--workloads-python", type=Path, default=REPO / ".venv-workloads" / "bin" / "python"
    )
    parser.add_argument("--profile", action="store_true", help="sample the run with py-spy")
    arguments = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(arguments)
    only = tuple(name.strip() for name in args.only.split(",") if name.strip())
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown or not only:
        parser.error(f"--only: unknown {unknown}; choose from {', '.join(BENCHMARKS)}")
    if set(only) - IAC_ONLY and not args.workloads_python.exists():
        parser.error(f"{args.workloads_python} is missing: run `make setup` first")
    if args.profile:
        # the same run without the flag, also where it was given as a prefix (`--prof`): the
        # profiled run must not profile itself again
        rest = [a for a in arguments if not (len(a) > 2 and "--profile".startswith(a))]
        command = [sys.executable, "-m", "benchmarks", *rest]
        return profiles.record(command, args.out, {PROFILED: "1"})
    began = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {message}", flush=True)

    document, ok = run(
        MODES[args.mode], only, args.out.resolve(), args.workloads_python.absolute(), progress
    )
    print_summary(document, args.out / "results.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
