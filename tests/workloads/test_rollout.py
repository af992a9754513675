"""Rollout and rollback with a real MLflow server and real model server processes.

One registered model of its own (so the aliases other tests read stay as training left them),
served the way the InferenceService serves it: a stable predictor following `@champion` and a
canary predictor following `@challenger`, both polling MLflow every second. Its versions: two
copies of the trained champion (good), one that fails on real traffic, one that is slow
(`faulty_model.py`, logged as code).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pytest
from conftest import PYTHON, REPO_ROOT, Dataset, Service, Workspace, free_port, http_ok, wait_until
from mlflow.tracking import MlflowClient
from test_serving import sample

from workloads.features import vectors

pytestmark = pytest.mark.slow
Trained = tuple[Workspace, dict[str, Any]]
POLL_SECONDS = 1


@dataclass
class Registry:
    name: str
    client: MlflowClient
    good: str
    other_good: str
    failing: str
    slow: str

    def point(self, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.name, alias, version)

    def alias(self, alias: str) -> str:
        return str(self.client.get_model_version_by_alias(self.name, alias).version)


def log_faulty(uri: str, name: str, config: dict[str, Any]) -> str:
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(run_name=f"faulty-{uuid.uuid4().hex[:6]}"):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).parent / "faulty_model.py"),
            model_config=config,
            metadata={"feature_names": vectors.FEATURE_NAMES},
            registered_model_name=name,
            pip_requirements=["mlflow", "numpy"],
        )
    return str(info.registered_model_version)


@pytest.fixture(scope="module")
def registry(trained: Trained) -> Registry:
    ws, result = trained
    client = MlflowClient(tracking_uri=ws.settings.mlflow_tracking_uri)
    name = f"card-risk-rollout-{uuid.uuid4().hex[:6]}"
    source = f"models:/{ws.settings.model_name}/{result['version']}"
    good = client.copy_model_version(source, name).version
    other_good = client.copy_model_version(source, name).version
    # As the promotion gate records it: the second good version replaced the first.
    client.set_model_version_tag(name, other_good, "gate.champion_version", str(good))
    failing = log_faulty(ws.settings.mlflow_tracking_uri, name, {"fail": True})
    slow = log_faulty(ws.settings.mlflow_tracking_uri, name, {"delay_seconds": 0.15})
    registry = Registry(name, client, str(good), str(other_good), failing, slow)
    registry.point("champion", registry.good)
    registry.point("challenger", registry.good)
    return registry


@pytest.fixture(scope="module")
def predictors(trained: Trained, registry: Registry) -> Iterator[dict[str, tuple[str, Service]]]:
    """The stable (@champion) and canary (@challenger) predictors of the registered model."""
    ws, _ = trained
    started: dict[str, tuple[str, Service]] = {}
    try:
        for alias in ("champion", "challenger"):
            port = free_port()
            env = {
                **ws.env,
                "MLP_MODEL_NAME": registry.name,
                "MLP_MODEL_ALIAS": alias,
                "MLP_MODEL_POLL_SECONDS": str(POLL_SECONDS),
            }
            argv = [PYTHON, "-m", "workloads.serving", "local", "--port", str(port)]
            server = Service([*argv, "--no-prediction-log"], ws.root / f"{alias}.log", env)
            started[alias] = (f"http://127.0.0.1:{port}", server)
        for alias, (url, server) in started.items():
            wait_until(
                lambda url=url: http_ok(f"{url}/v2/health/ready"),
                300,
                alias,
                server.process,
                server.log,
            )
        yield started
    finally:
        for _, server in started.values():
            server.stop()


@dataclass
class Traffic:
    """Scoring requests sent back to back from a thread: (status, served version) of each."""

    url: str
    model: str
    event: dict[str, Any]
    answers: list[tuple[int, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                response = client.post(
                    f"/v1/models/{self.model}:predict", json={"instances": [self.event]}
                )
                version = response.json().get("model_version", "") if response.is_success else ""
                self.answers.append((response.status_code, version))

    def __enter__(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def wait_for_version(self, version: str, timeout: float) -> float:
        began = time.monotonic()
        seen = len(self.answers)
        while time.monotonic() - began < timeout:
            if any(v == version for _, v in self.answers[seen:]):
                return time.monotonic() - began
            time.sleep(0.05)
        raise TimeoutError(f"version {version} not served after {timeout} s: {self.answers[-3:]}")


def served_version(url: str, model: str, event: dict[str, Any]) -> str:
    response = httpx.post(f"{url}/v1/models/{model}:predict", json={"instances": [event]})
    return str(response.json().get("model_version"))


def wait_serving(url: str, model: str, event: dict[str, Any], version: str) -> None:
    wait_until(lambda: served_version(url, model, event) == version, 60, f"v{version} served")


def cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "workloads.serving", *args],
        cwd=REPO_ROOT,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_promotion_is_served_without_restart_or_a_failed_request(
    predictors: dict[str, tuple[str, Service]], registry: Registry, dataset: Dataset
) -> None:
    url, server = predictors["champion"]
    event = dataset.events[-1]
    registry.point("champion", registry.good)
    wait_serving(url, registry.name, event, registry.good)
    with Traffic(url, registry.name, event) as traffic:
        time.sleep(0.5)
        registry.point("champion", registry.other_good)
        traffic.wait_for_version(registry.other_good, timeout=30)
        time.sleep(0.5)
    statuses = {status for status, _ in traffic.answers}
    versions = [v for _, v in traffic.answers]
    assert statuses == {200}, "a request failed during the swap"
    assert versions[0] == registry.good and versions[-1] == registry.other_good
    switch = versions.index(registry.other_good)
    assert set(versions[switch:]) == {registry.other_good}, "the old version came back"
    assert server.process.poll() is None  # the same process throughout: no restart
    metrics = httpx.get(f"{url}/metrics").text
    assert sample(metrics, "card_risk_model_served", model_version=registry.other_good) == 1
    assert sample(metrics, "card_risk_model_served", model_version=registry.good) == 0
    assert sample(metrics, "card_risk_model_swaps_total") >= 1


def test_the_rollback_cli_restores_the_previous_champion_within_seconds(
    predictors: dict[str, tuple[str, Service]],
    registry: Registry,
    trained: Trained,
    dataset: Dataset,
) -> None:
    ws, _ = trained
    url, _ = predictors["champion"]
    event = dataset.events[-1]
    registry.point("champion", registry.other_good)
    wait_serving(url, registry.name, event, registry.other_good)
    with Traffic(url, registry.name, event) as traffic:
        done = cli(ws, "rollback", "--model", registry.name, "--reason", "test: bad release")
        assert done.returncode == 0, done.stderr[-2000:]
        move = json.loads(done.stdout.strip().splitlines()[-1])
        # From the alias moved (the CLI has returned) to the old version answering requests.
        effective = traffic.wait_for_version(registry.good, timeout=30)
    assert move == {
        "model": registry.name,
        "alias": "champion",
        "from_version": registry.other_good,
        "to_version": registry.good,
        "reason": "test: bad release",
    }
    assert registry.alias("champion") == registry.good
    assert {status for status, _ in traffic.answers} == {200}
    assert effective < POLL_SECONDS + 5, f"the rollback took {effective:.1f} s to be served"
    tags = registry.client.get_model_version(registry.name, registry.other_good).tags
    assert tags["rollout.decision"] == "rolled_back"
    assert "test: bad release" in tags["rollout.rolled_back"]


def test_a_rollback_with_nothing_recorded_to_return_to_is_refused(
    registry: Registry, trained: Trained
) -> None:
    ws, _ = trained
    registry.point("champion", registry.good)  # the first version replaced nothing
    done = cli(ws, "rollback", "--model", registry.name)
    assert done.returncode == 2
    assert "records no version it replaced" in done.stderr and "--to" in done.stderr
    assert "Traceback" not in done.stderr
    missing = cli(ws, "rollback", "--model", registry.name, "--to", "999")
    assert missing.returncode == 2 and "has no version '999'" in missing.stderr
    assert registry.alias("champion") == registry.good


def guard(ws: Workspace, registry: Registry, url: str, *limits: str) -> tuple[int, dict]:
    done = cli(
        ws,
        "guard",
        "--model",
        registry.name,
        "--metrics-url",
        f"{url}/metrics",
        "--window",
        "4",
        "--min-requests",
        "10",
        *limits,
    )
    assert done.returncode in (0, 3), done.stderr[-2000:]
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("bad", "limits", "reason"),
    [
        ("failing", ("--max-error-rate", "0.05", "--max-p99-ms", "5000"), "error rate"),
        ("slow", ("--max-error-rate", "0.05", "--max-p99-ms", "100"), "p99 latency"),
    ],
)
def test_the_guard_rolls_a_bad_canary_back_from_its_real_metrics(
    predictors: dict[str, tuple[str, Service]],
    registry: Registry,
    trained: Trained,
    dataset: Dataset,
    bad: str,
    limits: tuple[str, ...],
    reason: str,
) -> None:
    ws, _ = trained
    url, _ = predictors["challenger"]
    event = dataset.events[-1]
    bad_version = getattr(registry, bad)
    registry.point("champion", registry.good)
    registry.point("challenger", bad_version)
    with Traffic(url, registry.name, event) as traffic:
        wait_until(
            lambda: any(s == 500 or v == bad_version for s, v in traffic.answers[-5:]),
            60,
            f"canary serving v{bad_version}",
        )
        code, decision = guard(ws, registry, url, *limits)
        traffic.wait_for_version(registry.good, timeout=30)
    assert code == 3 and decision["verdict"] == "rolled_back", decision
    assert any(reason in r for r in decision["reasons"]), decision["reasons"]
    assert decision["health"]["version"] == bad_version
    assert registry.alias("challenger") == registry.good  # the canary serves the champion
    assert registry.alias("champion") == registry.good
    tags = registry.client.get_model_version(registry.name, bad_version).tags
    assert tags["rollout.decision"] == "rolled_back" and reason in tags["rollout.reason"]


def test_the_guard_leaves_a_healthy_canary_alone(
    predictors: dict[str, tuple[str, Service]],
    registry: Registry,
    trained: Trained,
    dataset: Dataset,
) -> None:
    ws, _ = trained
    url, _ = predictors["challenger"]
    event = dataset.events[-1]
    registry.point("champion", registry.good)
    registry.point("challenger", registry.other_good)
    wait_serving(url, registry.name, event, registry.other_good)
    with Traffic(url, registry.name, event):
        code, decision = guard(
            ws, registry, url, "--max-error-rate", "0.05", "--max-p99-ms", "5000"
        )
    assert code == 0 and decision["verdict"] == "healthy", decision
    assert decision["health"]["requests"] >= 10 and decision["health"]["errors"] == 0
    assert registry.alias("challenger") == registry.other_good
    # Too little traffic is no evidence either way: nothing moves.
    code, decision = guard(ws, registry, url, "--max-p99-ms", "0.001")
    assert code == 0 and decision["verdict"] == "inconclusive"
    assert registry.alias("challenger") == registry.other_good
