"""The local platform's Prometheus: the platform's own alert rules over the local services.

`mlplatform local up` starts Debian's `prometheus` (`make observability-tools`) on 127.0.0.1
with the same rule groups the cluster's PrometheusRule carries
(`components.observability.rules`), scraping every 5 s:

| job | target | what |
|---|---|---|
| `model-server` | the KServe predictor's `/metrics` | requests, latency, scores, served version |
| `model-events` | `python -m workloads.model_metrics` | the drift/performance verdicts as gauges |
| `stream-processor` | the stream processor's `/metrics` | lag, events by outcome, dead letters |
| `retraining-controller` | the retraining controller's `/metrics` | requests by decision, runs |
| `prometheus` | itself | |

The model-events exporter is a local service of its own (it reads `platform.model-events`
from the broker). Configuration, rules and the TSDB live under `<state>/prometheus/`
(retention one day: a scratch area like the rest of the local platform).
"""

from __future__ import annotations

import json
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import yaml

from components.observability.rules import AlertThresholds, rule_groups
from infra.local.state import Ports, StateDir

INTERVAL = "5s"
RUNBOOKS = "docs/runbooks.md"
NOT_INSTALLED = (
    "prometheus is not installed: install Debian's `prometheus` package "
    "(`make observability-tools` as root, or `apt-get install prometheus`)"
)


def binary() -> str | None:
    return shutil.which("prometheus")


def configuration(ports: Ports, host: str) -> dict[str, Any]:
    """prometheus.yml of the local platform."""
    return {
        "global": {
            "scrape_interval": INTERVAL,
            "evaluation_interval": INTERVAL,
            "external_labels": {"platform": "local"},
        },
        "rule_files": ["rules.yml"],
        "scrape_configs": [
            _job("model-server", f"{host}:{ports.model_server}"),
            _job("model-events", f"{host}:{ports.model_metrics}"),
            _job("stream-processor", f"{host}:{ports.stream_metrics}"),
            _job("retraining-controller", f"{host}:{ports.retraining_metrics}"),
            _job("prometheus", f"{host}:{ports.prometheus}"),
        ],
    }


def _job(name: str, target: str) -> dict[str, Any]:
    return {"job_name": name, "static_configs": [{"targets": [target]}]}


def write_configuration(state: StateDir, ports: Ports, host: str) -> Path:
    """Write prometheus.yml and rules.yml under `<state>/prometheus/`; return the config path."""
    directory = state.path("prometheus")
    (directory / "data").mkdir(parents=True, exist_ok=True, mode=0o700)
    rules = {"groups": rule_groups(AlertThresholds(), RUNBOOKS)}
    (directory / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    config = directory / "prometheus.yml"
    config.write_text(yaml.safe_dump(configuration(ports, host), sort_keys=False))
    return config


def argv(state: StateDir, ports: Ports, host: str) -> list[str]:
    directory = state.path("prometheus")
    return [
        binary() or "prometheus",
        f"--config.file={directory / 'prometheus.yml'}",
        f"--storage.tsdb.path={directory / 'data'}",
        "--storage.tsdb.retention.time=1d",
        f"--web.listen-address={host}:{ports.prometheus}",
        "--web.enable-lifecycle",
    ]


def api_url(host: str, port: int, path: str, **query: str) -> str:
    suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
    return f"http://{host}:{port}/api/v1/{path}{suffix}"


def parse_api(body: bytes) -> Any:
    """The `data` of a Prometheus HTTP API answer; ValueError with its error otherwise."""
    answer = json.loads(body)
    if answer.get("status") != "success":
        raise ValueError(f"Prometheus API: {answer.get('errorType')}: {answer.get('error')}")
    return answer["data"]
