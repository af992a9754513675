"""`python -m workloads.model_metrics`: serve the monitors' verdicts as Prometheus metrics.

--port (MLP_METRICS_PORT, 9110) and --address (MLP_METRICS_ADDRESS, 127.0.0.1; 0.0.0.0 in the
pod) say where /metrics listens; the topic is MLP_TOPIC_MODEL_EVENTS (platform.model-events)
and Kafka comes from the usual MLP_KAFKA_* settings (`workloads.settings`). Exit 2 on a
configuration error, 1 when Kafka fails for good; SIGTERM ends it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from confluent_kafka import KafkaException
from prometheus_client import start_http_server

from workloads.model_metrics.exporter import VerdictMetrics, run
from workloads.monitoring.events import LoopTopics, group_id
from workloads.settings import KafkaConfigError, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.model_metrics", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("MLP_METRICS_PORT", 9110)))
    parser.add_argument("--address", default=os.environ.get("MLP_METRICS_ADDRESS", "127.0.0.1"))
    parser.add_argument("--group-id", default="model-metrics-exporter")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
        settings.kafka_config()
    except (KafkaConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    topics = LoopTopics.from_env()
    metrics = VerdictMetrics()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server, _ = start_http_server(args.port, args.address, registry=metrics.registry)
    logging.info(
        "serving /metrics on %s:%d, reading %s", args.address, args.port, topics.model_events
    )
    try:
        run(settings, topics.model_events, metrics, group_id(topics, args.group_id), stop)
    except KafkaException as error:
        print(f"error: kafka: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
