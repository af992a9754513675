"""`python -m workloads.demo traffic`: send transactions to the model server, print a summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workloads.demo.traffic import load_events, send
from workloads.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    traffic = commands.add_parser("traffic", help="score events over HTTP")
    traffic.add_argument("--serving-url", required=True, help="e.g. http://127.0.0.1:18080")
    traffic.add_argument("--events", type=Path, required=True, help="JSON-lines events")
    traffic.add_argument("--count", type=int, default=200)
    traffic.add_argument(
        "--last", action="store_true", help="the last events of the file (default: evenly spaced)"
    )
    traffic.add_argument("--protocols", default="v1,v2")
    traffic.add_argument("--batch", type=int, default=1, help="transactions per request")
    args = parser.parse_args(argv)
    events = load_events(args.events, args.count, last=args.last)
    result = send(
        args.serving_url,
        Settings.from_env().model_name,
        events,
        tuple(args.protocols.split(",")),
        args.batch,
    )
    print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
