"""`python -m workloads.streaming`: run the stream processor, its autoscaler, or create topics.

run            consume card transactions into Feast until SIGTERM (or, with
               --until-caught-up, until every assigned partition is read to its end);
               prints the counters as JSON on exit.
scale          keep the processor's Deployment at the replicas its consumer lag asks for
               (scaler.py) until SIGTERM:
                 python -m workloads.streaming scale --deployment card-risk-stream \\
                     --namespace tenant-risk --lag-per-replica 5000 --max-replicas 6
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
import signal
import sys
import threading
from pathlib import Path

from workloads.settings import Settings
from workloads.streaming import BATCH_SIZE, BATCH_TIMEOUT


def build_parser() -> argparse.ArgumentParser:
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
    _scale_parser(commands)
    commands.add_parser("create-topics", help="create missing topics")
    return parser


def _scale_parser(commands: argparse._SubParsersAction) -> None:
    scale = commands.add_parser("scale", help="replicas from the consumer lag")
    scale.add_argument("--deployment", required=True, help="the processor's Deployment")
    scale.add_argument("--namespace", help="default: the pod's namespace")
    scale.add_argument("--kubeconfig", type=Path, help="default: in-cluster service account")
    scale.add_argument(
        "--group-id", default=os.environ.get("MLP_STREAM_GROUP_ID") or "card-risk-features"
    )
    scale.add_argument("--lag-per-replica", type=int, default=5000, help="events")
    scale.add_argument("--min-replicas", type=int, default=1)
    scale.add_argument("--max-replicas", type=int, required=True, help="<= the partitions")
    scale.add_argument("--max-step-up", type=int, default=2, help="replicas added per step")
    scale.add_argument("--scale-down-window", type=float, default=600.0, help="seconds")
    scale.add_argument("--interval", type=float, default=30.0, help="seconds between steps")
    scale.add_argument("--metrics-port", type=int, default=None, help="0: any free port")
    scale.add_argument("--metrics-address", default="127.0.0.1")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
    except ValueError as error:
        return _configuration_error(error)
    if args.command == "create-topics":
        from workloads.streaming.topics import ensure_topics

        print(json.dumps({"created": ensure_topics(settings)}))
        return 0
    if args.command == "scale":
        return _scale(args, settings)

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


def _scale(args: argparse.Namespace, settings: Settings) -> int:
    from kubernetes.config import ConfigException

    from workloads.retraining.trainjob import SERVICE_ACCOUNT_NAMESPACE, api_client
    from workloads.streaming.scaler import DeploymentScale, KafkaLag, Policy, Scaler, ScalerMetrics

    try:
        policy = Policy(
            lag_per_replica=args.lag_per_replica,
            min_replicas=args.min_replicas,
            max_replicas=args.max_replicas,
            max_step_up=args.max_step_up,
            scale_down_window_s=args.scale_down_window,
        )
        lag = KafkaLag(settings.kafka_config(), args.group_id, settings.topics.transactions)
        namespace = args.namespace or SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
        target = DeploymentScale(api_client(args.kubeconfig), namespace, args.deployment)
    except (ValueError, OSError, ConfigException) as error:  # KafkaConfigError: a ValueError
        return _configuration_error(error)
    metrics = ScalerMetrics(args.deployment)
    if args.metrics_port is not None:
        port = metrics.serve(args.metrics_port, args.metrics_address)
        logging.getLogger(__name__).info(
            "metrics on http://%s:%d/metrics", args.metrics_address, port
        )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logging.getLogger(__name__).info(
        "scaling %s/%s on the lag of %s over %s", namespace, args.deployment, args.group_id,
        settings.topics.transactions,
    )  # fmt: skip
    Scaler(lag, target, policy, metrics).run(stop, args.interval)
    return 0


def _configuration_error(error: Exception) -> int:
    print(f"configuration error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
