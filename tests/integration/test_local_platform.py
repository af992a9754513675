"""The embedded local platform for real: `mlplatform local demo` on free ports, checked outside.

One demo run (module fixture) starts the real services (tansu, MLflow, Feast feature server,
KServe model server) under a temporary state directory; the tests then check what a tenant
would: features online over HTTP, a registered champion in MLflow, predictions in both
protocols, a drift event on the topic, loopback-only listeners, owner-only files. The last
test stops everything with `mlplatform local down` and checks that no process is left; the
fixture runs `down` again in any case.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local import processes
from infra.local.services import SERVICES
from infra.local.state import REPO_ROOT

pytestmark = pytest.mark.integration
WORKLOADS_PYTHON = REPO_ROOT / ".venv-workloads" / "bin" / "python"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Platform:
    state: Path
    ports: dict[str, int]
    summary: dict[str, Any]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def cli(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", "local", *args, "--state-dir", str(state)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def http_json(url: str, body: dict | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory):
    if not WORKLOADS_PYTHON.exists():
        pytest.fail(f"{WORKLOADS_PYTHON} is missing: run `make .venv-workloads/.installed`")
    state = tmp_path_factory.mktemp("local-platform") / "state"
    broker, mlflow, feast, model, prom, verdicts, stream, retraining = free_ports(8)
    ports = {"broker": broker, "mlflow": mlflow, "feature-server": feast, "model-server": model}
    ports |= {"prometheus": prom, "model-metrics": verdicts}
    ports |= {"stream-processor": stream, "retraining-controller": retraining}
    try:
        done = cli(
            state,
            "demo",
            "--json",
            "--broker-port",
            str(broker),
            "--mlflow-port",
            str(mlflow),
            "--feature-server-port",
            str(feast),
            "--model-server-port",
            str(model),
            "--prometheus-port",
            str(prom),
            "--model-metrics-port",
            str(verdicts),
            "--stream-metrics-port",
            str(stream),
            "--retraining-metrics-port",
            str(retraining),
            timeout=900,
        )
        assert done.returncode == 0, f"demo failed:\n{done.stderr[-4000:]}"
        yield Platform(state, ports, json.loads(done.stdout))
    finally:
        cli(state, "down")


def test_events_are_streamed_into_online_features(platform: Platform) -> None:
    summary = platform.summary
    assert summary["stream"]["pushed_rows"] == summary["produced"]["events"] > 1000
    assert summary["stream"]["dead_lettered"] == summary["produced"]["poison_events"] > 0
    customer = summary["online_features"]["customer_id"]
    status, answer = http_json(
        f"{platform.url('feature-server')}/get-online-features",
        {"feature_service": "card_risk_v1", "entities": {"customer_id": [customer]}},
    )
    assert status == 200
    values = dict(
        zip(
            answer["metadata"]["feature_names"],
            (r["values"][0] for r in answer["results"]),
            strict=True,
        )
    )
    assert values["txn_count_24h"] >= 1 and values["credit_limit_aed"] > 0


def test_a_champion_is_registered_in_mlflow(platform: Platform) -> None:
    query = urllib.parse.urlencode({"name": "card-risk", "alias": "champion"})
    status, answer = http_json(
        f"{platform.url('mlflow')}/api/2.0/mlflow/registered-models/alias?{query}"
    )
    assert status == 200
    # the champion now: the first training's (the retrained version the gate promoted was
    # rolled back by hand)
    assert answer["model_version"]["version"] == platform.summary["training"]["version"]
    first = platform.summary["training"]
    status, run = http_json(
        f"{platform.url('mlflow')}/api/2.0/mlflow/runs/get?run_id={first['run_id']}"
    )
    metrics = {m["key"]: m["value"] for m in run["run"]["data"]["metrics"]}
    assert metrics["holdout_roc_auc"] > 0.8
    tags = {t["key"]: t["value"] for t in run["run"]["data"]["tags"]}
    assert tags["gate.decision"] == "promoted"


def test_predictions_over_v1_and_v2(platform: Platform) -> None:
    instance = {
        "customer_id": platform.summary["online_features"]["customer_id"],
        "amount_aed": 349.0,
        "merchant_category": "restaurants",
        "channel": "contactless",
        "merchant_country": "AE",
        "timestamp": "2026-11-25T18:00:00Z",
    }
    status, v1 = http_json(
        f"{platform.url('model-server')}/v1/models/card-risk:predict", {"instances": [instance]}
    )
    assert status == 200 and 0 <= v1["predictions"][0]["risk_score"] <= 1
    inputs = [
        {"name": k, "shape": [1], "datatype": "FP64" if k == "amount_aed" else "BYTES", "data": [v]}
        for k, v in instance.items()
    ]
    status, v2 = http_json(
        f"{platform.url('model-server')}/v2/models/card-risk/infer", {"inputs": inputs}
    )
    assert status == 200
    assert v2["outputs"][0]["data"][0] == pytest.approx(v1["predictions"][0]["risk_score"])
    assert platform.summary["serving"]["normal"]["errors"] == 0


def test_drifted_traffic_puts_a_drift_event_on_the_topic(platform: Platform) -> None:
    drifted = platform.summary["drift"]["drifted"]
    assert drifted["status"] == "drift"
    assert platform.summary["drift"]["normal"]["status"] == "stable"
    env = {**os.environ, "MLP_KAFKA_BOOTSTRAP": f"127.0.0.1:{platform.ports['broker']}"}
    done = subprocess.run(
        [str(WORKLOADS_PYTHON), "-m", "workloads.monitoring", "tail", "--topic", "drift"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event_id"] for e in events] == [drifted["drift_event_id"]]
    assert "amount_aed" in events[0]["drifted_features"]


def test_the_drift_alert_fires_in_the_local_prometheus(platform: Platform) -> None:
    alert = platform.summary["alert"]["alert"]
    assert alert["labels"]["alertname"] == "ModelDriftDetected"
    assert alert["state"] == "firing"
    # asked again, outside the demo: Prometheus' own API on loopback, the metric behind it too
    status, answer = http_json(platform.url("prometheus") + "/api/v1/alerts")
    assert status == 200
    firing = [a for a in answer["data"]["alerts"] if a["state"] == "firing"]
    assert [a["labels"]["alertname"] for a in firing] == ["ModelDriftDetected"]
    query = "/api/v1/query?query=mlplatform_model_drift_psi%7Bfeature%3D%22amount_aed%22%7D"
    status, answer = http_json(platform.url("prometheus") + query)
    assert (
        float(answer["data"]["result"][0]["value"][1]) > platform.summary["alert"]["psi_threshold"]
    )


def test_the_always_on_stream_processor_reports_what_it_pushed(platform: Platform) -> None:
    with OPENER.open(platform.url("stream-processor") + "/metrics", timeout=30) as response:
        text = response.read().decode()
    valid = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("card_risk_stream_events_total") and 'outcome="valid"' in line
    ]
    # the history, then the live and the drifted day the demo replayed through Kafka
    serving = platform.summary["serving"]
    assert serving["normal"]["published"] == platform.summary["data"]["live_events"]
    assert serving["drifted"]["published"] == platform.summary["data"]["drift_events"]
    replayed = serving["normal"]["published"] + serving["drifted"]["published"]
    assert sum(valid) == platform.summary["stream"]["pushed_rows"] + replayed


def test_the_drift_request_starts_a_retraining_run_that_the_gate_judges(
    platform: Platform,
) -> None:
    drifted, retraining = platform.summary["drift"]["drifted"], platform.summary["retraining"]
    run = retraining["run"]
    assert retraining["request_id"] == drifted["retraining_request_id"]
    assert run["status"] == "succeeded" and run["reason"] == "drift"
    assert run["request_ids"] == [drifted["retraining_request_id"]]
    result, first = run["result"], platform.summary["training"]
    gate = result["gate"]
    assert result["world_size"] == 1 and result["version"] != first["version"]
    # The gate judged the new version against the first training's champion on the same
    # held-out drifted-period transactions: trained on the drifted day's outcomes (its new
    # fraud pattern), it wins and is promoted; the same model server process followed the
    # alias, and MLflow holds the decision on the run.
    assert gate["champion_version"] == first["version"]
    assert gate["promoted"], gate
    assert gate["challenger_auc"] > gate["champion_auc"] + 0.01, gate
    assert retraining["champion_version"] == result["version"]
    assert result["version"] in retraining["served_versions"]
    status, answer = http_json(
        f"{platform.url('mlflow')}/api/2.0/mlflow/runs/get?run_id={result['run_id']}"
    )
    assert status == 200
    tags = {t["key"]: t["value"] for t in answer["run"]["data"]["tags"]}
    assert tags["gate.decision"] == "promoted"
    # the training run records which requests it answers
    assert tags["retraining.requests"] == drifted["retraining_request_id"]
    assert tags["retraining.run"] == run["run_id"] and tags["retraining.reason"] == "drift"


def test_a_manual_rollback_is_served_without_a_restart(platform: Platform) -> None:
    retrained = platform.summary["retraining"]["run"]["result"]
    first = platform.summary["training"]["version"]
    assert retrained["gate"]["promoted"], retrained["gate"]
    rollback = platform.summary["rollback"]
    assert (rollback["from_version"], rollback["to_version"]) == (retrained["version"], first)
    assert rollback["served_versions"] == [first] and rollback["seconds"] < 30
    # asked outside the demo: the model server, never restarted, serves the restored version
    with OPENER.open(platform.url("model-server") + "/metrics", timeout=30) as response:
        text = response.read().decode()
    served = [
        line
        for line in text.splitlines()
        if line.startswith("card_risk_model_served{") and line.endswith(" 1.0")
    ]
    assert len(served) == 1 and f'model_version="{first}"' in served[0], served
    services = json.loads(cli(platform.state, "status", "--json").stdout)["services"]
    pids = {s["name"]: s["pid"] for s in services}
    assert pids["model-server"] == platform.summary["retraining"]["model_server_pid"]


def test_status_reports_every_service_healthy(platform: Platform) -> None:
    done = cli(platform.state, "status", "--json")
    assert done.returncode == 0
    states = {s["name"]: s["state"] for s in json.loads(done.stdout)["services"]}
    assert states == dict.fromkeys(SERVICES, "healthy")


def test_every_service_listens_on_loopback_only(platform: Platform) -> None:
    listening: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].rsplit(":", 1)
            if fields[3] == "0A":
                listening.setdefault(int(port, 16), set()).add(address)
    for service, port in platform.ports.items():
        assert listening.get(port) == {"0100007F"}, (service, listening.get(port))


def test_up_again_changes_nothing(platform: Platform) -> None:
    before = json.loads(cli(platform.state, "status", "--json").stdout)["services"]
    done = cli(platform.state, "up", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)["services"]
    assert [s["pid"] for s in after] == [s["pid"] for s in before]


def test_state_files_are_owner_only(platform: Platform) -> None:
    exposed = [p for p in platform.state.rglob("*") if p.stat().st_mode & 0o077]
    assert exposed == []
    assert (platform.state / "mlflow" / "mlflow.db").exists()


def test_down_stops_every_process_it_started(platform: Platform) -> None:
    records = [processes.ProcessRecord.load(p) for p in (platform.state / "run").glob("*.json")]
    pids = {pid for r in records if r for pid in processes.members(r)}
    assert len(records) == len(SERVICES) and len(pids) >= len(SERVICES)
    done = cli(platform.state, "down", "--json")
    assert done.returncode == 0
    assert set(json.loads(done.stdout)["stopped"]) == set(SERVICES)
    assert [pid for pid in pids if running(pid)] == []
    status = cli(platform.state, "status", "--json")
    assert status.returncode == 1
    assert {s["state"] for s in json.loads(status.stdout)["services"]} == {"stopped"}
