"""Liveness of the workloads that serve no HTTP: a heartbeat file, and the check that reads it.

The stream processor (per poll), training (per step) and the drift monitor (per read) touch the
file named by MLP_HEARTBEAT_FILE; the image's HEALTHCHECK (and a Kubernetes exec probe) runs
`python -m workloads.health --max-age SECONDS`, which fails when the file is older than that:
a wedged consumer or a hung collective is reported, not just a dead process. Without the
variable (local runs, tests) beating is a no-op.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HEARTBEAT_ENV = "MLP_HEARTBEAT_FILE"


def beat() -> None:
    path = os.environ.get(HEARTBEAT_ENV)
    if path:
        Path(path).touch()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.health", description=__doc__)
    parser.add_argument("--max-age", type=float, default=120.0, help="seconds")
    args = parser.parse_args(argv)
    path = os.environ.get(HEARTBEAT_ENV)
    if not path:
        print(f"{HEARTBEAT_ENV} is not set", file=sys.stderr)
        return 1
    try:
        age = time.time() - Path(path).stat().st_mtime
    except FileNotFoundError:
        print(f"no heartbeat yet at {path}", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"last heartbeat {age:.0f} s ago (limit {args.max_age:.0f} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
