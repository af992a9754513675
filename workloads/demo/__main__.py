"""`python -m workloads.demo`: the scoring client of the local demo; prints a JSON summary.

traffic  send a sample of a file's transactions to the model server
live     replay a day as the card switch sends it: every transaction published to the
         transactions topic, the sample scored first, each with its customer's earlier
         transactions already streamed into Feast (no training/serving skew; see live.py)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from workloads.demo.traffic import Traffic, load_events, sample_indices, send
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
    live = commands.add_parser("live", help="replay a day: score a sample, stream every event")
    live.add_argument("--serving-url", required=True, help="e.g. http://127.0.0.1:18080")
    live.add_argument("--events", type=Path, required=True, help="a day's JSON-lines events")
    live.add_argument("--count", type=int, default=200, help="transactions scored (evenly spaced)")
    live.add_argument("--protocols", default="v1,v2")
    live.add_argument("--batch", type=int, default=1, help="transactions per request")
    live.add_argument(
        "--group-id",
        default=os.environ.get("MLP_STREAM_GROUP_ID") or "card-risk-features",
        help="the stream processor's consumer group",
    )
    live.add_argument("--timeout", type=float, default=60.0, help="most seconds per stream sync")
    args = parser.parse_args(argv)
    if args.command == "live":
        return _live(args)
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


def _live(args: argparse.Namespace) -> int:
    from workloads.demo.live import Publisher, replay

    settings = Settings.from_env()
    with open(args.events) as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    publisher = Publisher(settings, args.group_id, args.timeout)
    try:
        with Traffic(args.serving_url, settings.model_name, tuple(args.protocols.split(","))) as t:
            result = replay(
                t, publisher, events, set(sample_indices(len(events), args.count)), args.batch
            )
    finally:
        publisher.close()
    print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
