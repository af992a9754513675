"""The local platform's Prometheus: the platform's alert rules, evaluated by the real server.

A stand-in exporter on loopback serves the model-events gauges; Prometheus, started with the
configuration `mlplatform local up` writes, must scrape it and fire `ModelDriftDetected`
through the same rule file the cluster's PrometheusRule carries.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from components.observability.rules import AlertThresholds, rule_groups
from infra.local import prometheus
from infra.local.state import Ports, StateDir

needs_prometheus = pytest.mark.skipif(
    prometheus.binary() is None,
    reason="prometheus not installed (Debian package `prometheus`: `make observability-tools`)",
)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_configuration_scrapes_local_services_on_loopback_with_the_platform_rules(
    tmp_path: Path,
) -> None:
    state = StateDir(tmp_path / "state").create()
    ports = Ports(model_server=20080, prometheus=20090, model_metrics=20110)
    ports = ports.merged(stream_metrics=20111, retraining_metrics=20112)
    config = yaml.safe_load(prometheus.write_configuration(state, ports, "127.0.0.1").read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets == {
        "model-server": ["127.0.0.1:20080"],
        "model-events": ["127.0.0.1:20110"],
        "stream-processor": ["127.0.0.1:20111"],
        "retraining-controller": ["127.0.0.1:20112"],
        "prometheus": ["127.0.0.1:20090"],
    }
    rules = yaml.safe_load((state.path("prometheus") / "rules.yml").read_text())
    assert rules == {"groups": rule_groups(AlertThresholds(), prometheus.RUNBOOKS)}
    argv = prometheus.argv(state, ports, "127.0.0.1")
    assert "--web.listen-address=127.0.0.1:20090" in argv


class _Exporter(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@needs_prometheus
def test_the_drift_alert_fires_in_the_real_prometheus(tmp_path: Path) -> None:
    prom_port, exporter_port = _free_ports(2)
    _Exporter.body = (
        b"# TYPE mlplatform_model_drift_detected gauge\n"
        b'mlplatform_model_drift_detected{tenant="risk",model="card-risk",model_version="3"} 1\n'
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", exporter_port), _Exporter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = StateDir(tmp_path / "state").create()
    ports = Ports(prometheus=prom_port, model_metrics=exporter_port)
    prometheus.write_configuration(state, ports, "127.0.0.1")
    log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        prometheus.argv(state, ports, "127.0.0.1"), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        firing: list[dict] = []
        deadline = time.monotonic() + 60
        while not firing and time.monotonic() < deadline:
            time.sleep(1)
            url = prometheus.api_url("127.0.0.1", prom_port, "alerts")
            try:
                with OPENER.open(url, timeout=5) as response:
                    alerts = prometheus.parse_api(response.read())["alerts"]
            except OSError:
                continue
            firing = [a for a in alerts if a["state"] == "firing"]
        assert [a["labels"]["alertname"] for a in firing] == ["ModelDriftDetected"], (
            tmp_path / "prometheus.log"
        ).read_text()[-2000:]
        assert firing[0]["labels"]["tenant"] == "risk"
        assert firing[0]["annotations"]["runbook_url"] == "docs/runbooks.md#model-drift-detected"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        server.shutdown()


def test_api_errors_name_the_problem() -> None:
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"})
    with pytest.raises(ValueError, match="bad_data: parse error"):
        prometheus.parse_api(body.encode())
