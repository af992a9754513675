"""`python -m workloads.streaming`: run the stream processor, or create the topics locally.

run            consume card transactions into Feast until SIGTERM (or, with
               --until-caught-up, until every assigned partition is read to its end);
               prints the counters as JSON on exit.
create-topics  create the use case's topics if missing (local broker and tests only).

Endpoints and topic names come from the environment (`workloads.settings`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from workloads.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.streaming",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="consume transactions into Feast")
    run.add_argument(
        "--state-dir",
        type=Path,
        required=True,
        help="where the per-partition window snapshots live",
    )
    run.add_argument("--group-id", default="card-risk-features")
    run.add_argument("--batch-size", type=int, default=500)
    run.add_argument("--batch-timeout", type=float, default=1.0, help="seconds")
    run.add_argument("--until-caught-up", action="store_true")
    commands.add_parser("create-topics", help="create missing topics")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()

    if args.command == "create-topics":
        from workloads.streaming.topics import ensure_topics

        print(json.dumps({"created": ensure_topics(settings)}))
        return 0

    from workloads.features.repository import open_store
    from workloads.streaming.consumer import StreamProcessor

    processor = StreamProcessor(
        settings,
        open_store(settings.feature_store_yaml),
        args.state_dir,
        group_id=args.group_id,
        batch_size=args.batch_size,
        batch_timeout=args.batch_timeout,
    )
    stats = processor.run(until_caught_up=args.until_caught_up)
    print(json.dumps(dict(stats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
