"""`python -m workloads.retraining`: the retraining controller (see controller.py).

cluster  start runs as TrainJobs from the tenant's template (the Deployment):
           python -m workloads.retraining cluster --template /etc/mlplatform/training/trainjob.yaml
local    start runs as processes (the local platform); the command follows `--`:
           python -m workloads.retraining local --runs-dir DIR -- \\
               torchrun --standalone --nproc_per_node=1 -m workloads.training \\
               --labelled data.parquet --work-dir {work_dir}

Requests come from the retraining topic (`MLP_TOPIC_RETRAINING`) of the Kafka in
`workloads.settings`; the model is `MLP_MODEL_NAME`. SIGTERM stops it cleanly between messages
(a run in progress carries on, and is followed again after the restart). Exit status: 0 stopped,
1 a Kafka or Kubernetes API failure (the Deployment restarts it), 2 a usage or configuration
error (bad template, Kafka settings, policy).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from prometheus_client import start_http_server

from workloads.monitoring.events import LoopTopics, group_id
from workloads.retraining.controller import Controller, ControllerArgs, Launcher
from workloads.retraining.state import Policy
from workloads.settings import KafkaConfigError, Settings

log = logging.getLogger("workloads.retraining")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.retraining",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--group-id", default="retraining-controller")
    common.add_argument("--dedup-window", type=float, default=3600.0, help="seconds")
    common.add_argument("--cooldown", type=float, default=1800.0, help="seconds after a run")
    common.add_argument("--max-request-age", type=float, default=6 * 3600.0, help="seconds")
    common.add_argument("--poll-seconds", type=float, default=5.0, help="run status checks")
    common.add_argument("--state-file", type=Path, help="JSON state (a volume); optional")
    common.add_argument("--metrics-port", type=int, default=9109, help="0: no metrics server")
    common.add_argument("--metrics-address", default="127.0.0.1")
    commands = parser.add_subparsers(dest="command", required=True)
    cluster = commands.add_parser("cluster", parents=[common], help="runs as TrainJobs")
    cluster.add_argument("--template", type=Path, required=True, help="TrainJob manifest")
    cluster.add_argument("--namespace", help="default: the pod's namespace")
    cluster.add_argument("--kubeconfig", type=Path, help="default: in-cluster service account")
    local = commands.add_parser("local", parents=[common], help="runs as local processes")
    local.add_argument("--runs-dir", type=Path, required=True, help="one work dir per run")
    local.add_argument("training_command", nargs=argparse.REMAINDER, help="-- then the command")
    return parser


def launcher_for(args: argparse.Namespace) -> Launcher:
    if args.command == "local":
        from workloads.retraining.local import LocalLauncher

        command = args.training_command
        if command[:1] == ["--"]:
            command = command[1:]
        return LocalLauncher(command, args.runs_dir)
    from workloads.retraining import trainjob

    template = trainjob.load_template(args.template)
    namespace = args.namespace or trainjob.default_namespace(template)
    return trainjob.TrainJobLauncher(trainjob.api_client(args.kubeconfig), namespace, template)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        settings.kafka_config()
        policy = Policy(args.dedup_window, args.cooldown, args.max_request_age)
        launcher = launcher_for(args)
        controller = Controller(
            settings,
            launcher,
            ControllerArgs(
                model=settings.model_name,
                group_id=group_id(LoopTopics.from_env(), args.group_id),
                policy=policy,
                state_file=args.state_file,
                poll_seconds=args.poll_seconds,
            ),
        )
    except (KafkaConfigError, ValueError) as error:  # TemplateError is a ValueError
        log.error("configuration error: %s", error)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.metrics_port:
        start_http_server(args.metrics_port, args.metrics_address)
    try:
        controller.run(stop)
    except Exception:
        log.exception("the controller stopped on an error")
        return 1
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
