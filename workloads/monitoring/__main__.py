"""`python -m workloads.monitoring`: run one drift check, or print what a topic holds.

check  compare the scored traffic since the last check with the champion's reference;
       publishes a drift event and a retraining request when thresholds are crossed;
       prints the report as JSON.
tail   print every message now in a topic (drift, retraining, dead-letter...) as JSON lines.

Endpoints and topic names come from the environment (`workloads.settings`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from workloads.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.monitoring",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="one drift check")
    check.add_argument("--group-id", default="card-risk-drift-monitor")
    check.add_argument("--min-records", type=int, default=200)
    check.add_argument("--psi-threshold", type=float, default=0.25)
    tail = commands.add_parser("tail", help="print a topic's messages")
    tail.add_argument(
        "--topic",
        required=True,
        help="a topic name, or one of: transactions, dead_letter, scored, drift, retraining",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()

    if args.command == "tail":
        from workloads.streaming.topics import read_to_end

        topic = getattr(settings.topics, args.topic, args.topic)
        for record in read_to_end(settings, topic):
            print(json.dumps(record))
        return 0

    from workloads.monitoring import drift
    from workloads.monitoring.monitor import check as run_check

    report = run_check(
        settings, args.group_id, args.min_records, drift.Thresholds(psi=args.psi_threshold)
    )
    print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
