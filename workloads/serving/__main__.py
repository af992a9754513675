"""`python -m workloads.serving`: the model server, batch scoring, rollback and the canary guard.

local     the model server on 127.0.0.1 (see server.py), for `mlplatform local`
cluster   the model server on 0.0.0.0:8080, as the InferenceService runs it
batch     score a JSON-lines or parquet file of transactions into a parquet file
rollback  re-point an alias (default champion) to the version it replaced, or to --to VERSION;
          every predictor following that alias serves it within MLP_MODEL_POLL_SECONDS
guard     judge a canary predictor's /metrics over --window seconds; past a threshold, revert
          its promotion (@challenger to the champion's version, the champion rolled back if
          it is the bad version)

Endpoints come from the environment (`workloads.settings`, `workloads.serving.config`). rollback
and guard print one JSON line. Exit codes: 0 done (guard: healthy or inconclusive), 2 bad usage
or an alias that cannot be moved as asked, 3 guard rolled the canary back.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from workloads.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.serving",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="serve on loopback")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=18080)
    local.add_argument(
        "--no-prediction-log", action="store_true", help="do not publish scored records to Kafka"
    )
    cluster = commands.add_parser("cluster", help="serve on 0.0.0.0 in the pod")
    # --http_port: the flag KServe's ModelServer takes, which the ClusterServingRuntime passes.
    cluster.add_argument("--port", "--http_port", dest="port", type=int, default=8080)
    batch = commands.add_parser("batch", help="score a file")
    batch.add_argument("--input", type=Path, required=True)
    batch.add_argument("--output", type=Path, required=True)
    rollback = commands.add_parser("rollback", help="re-point an alias to an earlier version")
    rollback.add_argument("--model", help="registered model (default: MLP_MODEL_NAME)")
    rollback.add_argument("--alias", default="champion")
    rollback.add_argument("--to", dest="to_version", help="version (default: the one replaced)")
    rollback.add_argument("--reason", default="manual rollback")
    guard = commands.add_parser("guard", help="judge a canary and roll it back if it is bad")
    guard.add_argument("--model", help="registered model (default: MLP_MODEL_NAME)")
    guard.add_argument("--metrics-url", required=True, help="the canary's /metrics URL")
    guard.add_argument("--ca-file", help="CA bundle that verifies an https metrics URL")
    guard.add_argument("--window", type=float, default=60.0, help="seconds between scrapes")
    guard.add_argument("--max-error-rate", type=float, default=0.02)
    guard.add_argument("--max-p99-ms", type=float, default=250.0)
    guard.add_argument("--min-requests", type=int, default=50)
    return parser


def _alias_commands(args: argparse.Namespace, settings: Settings) -> int:
    from mlflow.tracking import MlflowClient

    from workloads.serving import rollout

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    model = args.model or settings.model_name
    try:
        if args.command == "rollback":
            move = rollout.rollback(client, model, args.alias, args.to_version, args.reason)
            print(json.dumps(asdict(move)))
            return 0
        thresholds = rollout.Thresholds(
            args.max_error_rate, args.max_p99_ms / 1000, args.min_requests
        )
        decision = rollout.guard_canary(
            client, model, args.metrics_url, thresholds, args.window, ca_file=args.ca_file
        )
    except (rollout.RolloutError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(decision.to_json())
    return 3 if decision.verdict == "rolled_back" else 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from workloads.serving import server
    from workloads.serving.config import ServingConfig
    from workloads.serving.prediction_log import open_prediction_log
    from workloads.serving.predictor import CardRiskModel

    config = ServingConfig.from_env()
    wants_log = not (args.command == "local" and args.no_prediction_log)
    log = open_prediction_log(settings, config.prediction_log_capacity) if wants_log else None
    model = CardRiskModel(settings, log, config.poll_seconds)
    if args.command == "local":
        server.serve_local(model, config, args.host, args.port)
    else:
        server.serve_cluster(model, config, args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    # KServe's ModelServer module parses sys.argv itself when imported; keep only our own.
    args, _ = _parser().parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    if args.command == "batch":
        from workloads.serving.batch import score_file

        print(json.dumps(score_file(settings, args.input, args.output)))
        return 0
    if args.command in ("rollback", "guard"):
        return _alias_commands(args, settings)
    return _serve(args, settings)


if __name__ == "__main__":
    sys.exit(main())
