"""`python -m workloads.streaming`: run the stream processor, or create the topics locally.

run            consume card transactions into Feast until SIGTERM (or, with
               --until-caught-up, until every assigned partition is read to its end);
               prints the counters as JSON on exit.
create-topics  create the use case's topics if missing (local broker and tests only).

Endpoints and topic names come from the environment (`workloads.settings`); so may the
options of `run` (the cluster's Deployment sets these):

- `MLP_STREAM_GROUP_ID` (`--group-id`, default `card-risk-features`);
- `MLP_METRICS_PORT` (`--metrics-port`; unset: no `/metrics` endpoint) and
  `MLP_METRICS_ADDRESS` (`--metrics-address`, default `127.0.0.1`; in a pod `0.0.0.0`);
- `MLP_EVENTS_EARLIEST`, `MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS`, `MLP_EVENTS_MAX_AMOUNT_AED`:
  the validator's bounds (`workloads.data.events`).

A configuration error (settings, bounds, Kafka security) ends it with status 2 and a message.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from workloads.settings import Settings
from workloads.streaming import BATCH_SIZE, BATCH_TIMEOUT


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
    run.add_argument(
        "--group-id", default=os.environ.get("MLP_STREAM_GROUP_ID") or "card-risk-features"
    )
    run.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="most events per batch")
    run.add_argument(
        "--batch-timeout",
        type=float,
        default=BATCH_TIMEOUT,
        help="seconds a batch waits for events",
    )
    run.add_argument("--until-caught-up", action="store_true")
    run.add_argument(
        "--metrics-port",
        type=int,
        default=os.environ.get("MLP_METRICS_PORT") or None,
        help="serve Prometheus /metrics on this port (0: any free port)",
    )
    run.add_argument(
        "--metrics-address", default=os.environ.get("MLP_METRICS_ADDRESS") or "127.0.0.1"
    )
    commands.add_parser("create-topics", help="create missing topics")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
    except ValueError as error:
        return _configuration_error(error)
    if args.command == "create-topics":
        from workloads.streaming.topics import ensure_topics

        print(json.dumps({"created": ensure_topics(settings)}))
        return 0

    from workloads.data.events import EventLimits
    from workloads.features.repository import open_store
    from workloads.streaming.consumer import StreamProcessor

    try:
        limits = EventLimits.from_env()
        settings.kafka_config()  # refuses unusable Kafka security settings before anything runs
    except ValueError as error:  # KafkaConfigError is a ValueError
        return _configuration_error(error)
    processor = StreamProcessor(
        settings,
        open_store(settings.feature_store_yaml),
        args.state_dir,
        group_id=args.group_id,
        batch_size=args.batch_size,
        batch_timeout=args.batch_timeout,
        limits=limits,
    )
    if args.metrics_port is not None:
        port = processor.metrics.serve(args.metrics_port, args.metrics_address)
        logging.getLogger(__name__).info(
            "metrics on http://%s:%d/metrics", args.metrics_address, port
        )
    stats = processor.run(until_caught_up=args.until_caught_up)
    print(json.dumps(dict(stats)))
    return 0


def _configuration_error(error: ValueError) -> int:
    print(f"configuration error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
