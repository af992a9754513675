"""`python -m workloads.serving`: the model server (local or cluster) and batch scoring.

local    the KServe REST app on 127.0.0.1 (see server.py for how), for `mlplatform local`
cluster  kserve.ModelServer, as an InferenceService runs it (0.0.0.0:8080 in the pod)
batch    score a JSON-lines or parquet file of transactions into a parquet file

Endpoints come from the environment (`workloads.settings`).
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
    commands.add_parser("cluster", help="serve with kserve.ModelServer")
    batch = commands.add_parser("batch", help="score a file")
    batch.add_argument("--input", type=Path, required=True)
    batch.add_argument("--output", type=Path, required=True)
    # KServe's ModelServer parses sys.argv itself when imported; keep only our own arguments.
    args, _ = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()

    if args.command == "batch":
        from workloads.serving.batch import score_file

        print(json.dumps(score_file(settings, args.input, args.output)))
        return 0

    from workloads.serving import server
    from workloads.serving.prediction_log import open_prediction_log
    from workloads.serving.predictor import CardRiskModel

    if args.command == "local":
        log = None if args.no_prediction_log else open_prediction_log(settings)
        server.serve_local(CardRiskModel(settings, log), args.host, args.port)
    else:
        server.serve_cluster(CardRiskModel(settings, open_prediction_log(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
