"""`python -m workloads.monitoring`: the model monitors, one-shot (CronJob-friendly), and tools.

job          drift and performance checks in one run (what the monitoring CronJob runs);
             prints {"drift": ..., "performance": ..., "alert": ...} as one JSON line
check        the drift check alone (scored traffic since the last check vs the reference)
performance  the performance check alone (labels of the window joined with the scores)
labels       publish settled outcomes (transaction_id, is_fraud) on the labels topic
tail         print every message now in a topic as JSON lines

Exit status: 0 the checks ran (whatever they found, unless --alert-exit-code says otherwise;
`job` exits 3 when a check raised an alert, i.e. published a retraining request), 1 a check
could not run (Kafka, MLflow or the reference unreachable: worth a retry), 2 a usage or
configuration error (retrying cannot help). Endpoints and topics come from the environment
(`workloads.settings`, and `MLP_TOPIC_MODEL_EVENTS`, `MLP_TOPIC_LABELS`, `MLP_TENANT`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from workloads.settings import KafkaConfigError, Settings

log = logging.getLogger("workloads.monitoring")
ALERT_STATUSES = {"drift", "degraded"}


def _drift_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group-id", default="card-risk-drift-monitor")
    parser.add_argument("--min-records", type=int, default=200)
    parser.add_argument("--psi-threshold", type=float, default=0.25)


def _performance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window-hours", type=float, default=24.0, help="labels of the last H h")
    parser.add_argument(
        "--label-delay-hours", type=float, default=72.0, help="most a label lags its prediction"
    )
    parser.add_argument("--min-labelled", type=int, default=200)
    parser.add_argument("--min-positives", type=int, default=5)
    parser.add_argument("--decision-threshold", type=float, default=0.5)
    parser.add_argument("--max-auc-drop", type=float, default=0.05)
    parser.add_argument("--max-precision-drop", type=float, default=0.15)
    parser.add_argument("--min-auc", type=float, default=0.0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.monitoring",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    job = commands.add_parser("job", help="drift and performance checks (the CronJob)")
    _drift_options(job)
    _performance_options(job)
    job.add_argument("--no-drift", action="store_true", help="skip the drift check")
    job.add_argument("--no-performance", action="store_true", help="skip the performance check")
    job.add_argument("--alert-exit-code", type=int, default=3)
    check = commands.add_parser("check", help="one drift check")
    _drift_options(check)
    check.add_argument("--alert-exit-code", type=int, default=0)
    performance = commands.add_parser("performance", help="one performance check")
    _performance_options(performance)
    performance.add_argument("--alert-exit-code", type=int, default=0)
    labels = commands.add_parser("labels", help="publish ground-truth labels")
    labels.add_argument("--settled", required=True, help="parquet/JSON lines path or URI")
    labels.add_argument("--only", help="a file of transaction ids, one a line (default: all)")
    tail = commands.add_parser("tail", help="print a topic's messages")
    tail.add_argument(
        "--topic",
        required=True,
        help="a topic name, or one of: transactions, dead_letter, scored, drift, retraining, "
        "model_events, labels",
    )
    return parser


def _run_checks(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from workloads.monitoring import drift, monitor, performance
    from workloads.monitoring.events import LoopTopics

    topics = LoopTopics.from_env()
    champion = monitor.load_champion(settings)
    result: dict[str, Any] = {}
    if args.command in ("check", "job") and not getattr(args, "no_drift", False):
        result["drift"] = monitor.check(
            settings,
            args.group_id,
            args.min_records,
            drift.Thresholds(psi=args.psi_threshold),
            topics,
            champion,
        )
    if args.command in ("performance", "job") and not getattr(args, "no_performance", False):
        result["performance"] = performance.check_performance(
            settings,
            performance.PerformanceWindow(
                args.window_hours, args.label_delay_hours, args.min_labelled, args.min_positives
            ),
            performance.PerformanceThresholds(
                args.decision_threshold, args.max_auc_drop, args.max_precision_drop, args.min_auc
            ),
            topics,
            champion,
        )
    return result


def _other(args: argparse.Namespace, settings: Settings) -> int:
    from workloads.monitoring.events import LoopTopics

    topics = LoopTopics.from_env()
    if args.command == "labels":
        from workloads.monitoring.labels import publish_labels, read_settled

        only = None
        if args.only:
            with open(args.only) as handle:
                only = {line.strip() for line in handle if line.strip()}
        count = publish_labels(settings, topics, read_settled(args.settled), only)
        print(json.dumps({"published": count, "topic": topics.labels}))
        return 0
    from workloads.streaming.topics import read_to_end

    topic = getattr(settings.topics, args.topic, None) or getattr(topics, args.topic, args.topic)
    for record in read_to_end(settings, topic):
        print(json.dumps(record))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        settings.kafka_config()  # unusable Kafka settings are a configuration error, named now
    except (KafkaConfigError, ValueError) as error:  # KafkaConfigError is a ValueError
        log.error("configuration error: %s", error)
        print(json.dumps({"status": "error", "error": str(error)}))
        return 2
    try:
        if args.command in ("labels", "tail"):
            return _other(args, settings)
        result = _run_checks(args, settings)
    except Exception as error:  # Kafka, MLflow, the object store: the CronJob retries
        log.exception("the check could not run")
        print(json.dumps({"status": "error", "error": f"{type(error).__name__}: {error}"}))
        return 1
    alert = any(r.get("status") in ALERT_STATUSES for r in result.values())
    if args.command == "job":
        print(json.dumps({**result, "alert": alert}, default=str))
    else:
        print(json.dumps(next(iter(result.values())), default=str))
    return args.alert_exit_code if alert else 0


if __name__ == "__main__":
    sys.exit(main())
