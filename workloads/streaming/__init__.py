"""Kafka → Feast stream processing of the card transactions (`python -m workloads.streaming`).

Here, without imports, what the processor and the benchmarks' baselines share:
- a batch is up to BATCH_SIZE events or what arrived within BATCH_TIMEOUT seconds: a backlog
  drains in large batches (Feast's per-write costs amortised), a live stream is written within
  a quarter of a second;
- CONSUMER_SETTINGS, the librdkafka consumer settings beside the group id and security: manual
  commits after the push, partition ends reported (`--until-caught-up`), quick group joins
  (about half the session timeout), and fetches answered within 100 ms when there is nothing
  to return (a broker holds an empty fetch up to `fetch.wait.max.ms`, 500 by default: that
  delay was most of an event's freshness at a live rate).
"""

BATCH_SIZE = 2000
BATCH_TIMEOUT = 0.25
CONSUMER_SETTINGS: dict[str, object] = {
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": True,
    "session.timeout.ms": 6000,
    "fetch.wait.max.ms": 100,
}
