"""The stream processor's Prometheus metrics, and the `/metrics` endpoint that serves them.

What the cluster's autoscaling and alerting read (all labelled with the consumer `group`):

- `card_risk_stream_consumer_lag{group,topic,partition}` (gauge): messages between the group's
  committed offset and the partition's end (high watermark), per assigned partition, after
  every batch: what autoscaling on lag reads;
- `card_risk_stream_consumer_lag_total{group,topic}` (gauge): the sum over this process's
  partitions;
- `card_risk_stream_events_total{group,outcome}` (counter): events read, `valid`,
  `dead_lettered` or `rebuilt` (replayed into the windows only);
- `card_risk_stream_dead_letters_total{group,error_class}` (counter): by exception class;
- `card_risk_stream_batch_seconds{group}` (histogram): to process, push and commit one batch;
- `card_risk_stream_last_commit_timestamp_seconds{group}` (gauge): when offsets were last
  committed (a stuck processor stops moving it).

Each processor has a registry of its own (tests run several in one process). `serve` starts
prometheus_client's HTTP server on a daemon thread: `--metrics-port` / `MLP_METRICS_PORT`,
bound to `MLP_METRICS_ADDRESS` (default 127.0.0.1; the pod sets 0.0.0.0 for its scrape).
"""

from __future__ import annotations

import contextlib
import time
import warnings

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class StreamMetrics:
    def __init__(self, group: str) -> None:
        self.group = group
        self.registry = CollectorRegistry()
        self.lag = Gauge(
            "card_risk_stream_consumer_lag",
            "Messages between the committed offset and the end of the partition",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.lag_total = Gauge(
            "card_risk_stream_consumer_lag_total",
            "Consumer lag summed over this process's partitions",
            ["group", "topic"],
            registry=self.registry,
        )
        self.events = Counter(
            "card_risk_stream_events",
            "Events read, by outcome",
            ["group", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "card_risk_stream_dead_letters",
            "Dead letters written, by exception class",
            ["group", "error_class"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "card_risk_stream_batch_seconds",
            "Seconds to process, push and commit one batch",
            ["group"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.last_commit = Gauge(
            "card_risk_stream_last_commit_timestamp_seconds",
            "Unix time of the last offset commit",
            ["group"],
            registry=self.registry,
        )

    def event(self, outcome: str, count: int = 1) -> None:
        if count:
            self.events.labels(self.group, outcome).inc(count)

    def dead_letter(self, error_class: str) -> None:
        self.dead_letters.labels(self.group, error_class).inc()

    def committed(self, topic: str, lags: dict[int, int], seconds: float) -> None:
        for partition, lag in lags.items():
            self.lag.labels(self.group, topic, str(partition)).set(lag)
        self.lag_total.labels(self.group, topic).set(sum(lags.values()))
        self.batch_seconds.labels(self.group).observe(seconds)
        self.last_commit.labels(self.group).set(time.time())

    def forget(self, topic: str, partitions: list[int]) -> None:
        """Partitions revoked from this process: their lag is another consumer's to report."""
        with warnings.catch_warnings():
            # importing Feast switches prometheus_client to multi-process files, whose removal
            # it warns about; this registry reads its own metric objects, which do remove it
            warnings.simplefilter("ignore", UserWarning)
            for partition in partitions:
                with contextlib.suppress(KeyError):
                    self.lag.remove(self.group, topic, str(partition))

    def serve(self, port: int, address: str = "127.0.0.1") -> int:
        """Serve `/metrics` on a daemon thread; return the port (0 picks a free one)."""
        server, _ = start_http_server(port, addr=address, registry=self.registry)
        return int(server.server_port)
