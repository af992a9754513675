"""The platform the serving, freshness and training benchmarks run against, on 127.0.0.1 only.

It is the embedded local platform (`infra.local`: tansu broker, MLflow, Feast with its sqlite
online store), started with its own code in a scratch state directory under build/bench/ on free
ports, so a benchmark never touches a developer's `.local-platform/` or a test run's services.
The Feast feature server is not started: the workloads under test read the online store through
the Feast SDK, as they do in the cluster. Every process is started through
`infra.local.processes.spawn` with a PID record, and `stop()` stops exactly those (by PID, start
time and command line), also after a failure.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.local import processes
from infra.local.platform import LocalPlatform
from infra.local.services import Workloads
from infra.local.state import REPO_ROOT, Ports, StateDir

Progress = Callable[[str], None]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BenchPlatform:
    def __init__(self, root: Path, python: Path) -> None:
        ports = Ports(
            broker=free_port(),
            mlflow=free_port(),
            feature_server=free_port(),
            model_server=free_port(),
        )
        if root.exists():
            shutil.rmtree(root)  # a benchmark always starts from an empty platform
        self.state = StateDir(root)
        self.platform = LocalPlatform(self.state, ports, Workloads(python, REPO_ROOT))
        self.env = self.platform.env
        self.env["MLP_EXPERIMENT"] = "benchmarks"  # keeps benchmark runs apart in MLflow
        self.data = self.state.path("data")

    @property
    def ports(self) -> Ports:
        return self.platform.ports

    def start(self, progress: Progress) -> None:
        p = self.platform
        self.state.create()
        self.data.mkdir(mode=0o700, exist_ok=True)
        self.state.save_ports(self.ports)
        for name in ("broker", "mlflow"):
            progress(f"starting {name}")
            p.start(name)
        feast_yaml = self.feature_store_yaml
        progress("applying the Feast repository")
        self.step(
            "feast-render",
            "workloads.features",
            "render-local",
            "--data-dir",
            str(feast_yaml.parent),
        )
        self.step(
            "feast-apply", "workloads.features", "apply", "--feature-store-yaml", str(feast_yaml)
        )
        p.wait_healthy("broker")
        progress("creating topics")
        self.step("topics", "workloads.streaming", "create-topics")
        p.wait_healthy("mlflow")

    @property
    def feature_store_yaml(self) -> Path:
        return self.state.path("feast") / "feature_store.yaml"

    def step(self, name: str, module: str, *args: str, timeout: float = 600.0) -> dict[str, Any]:
        """Run a module of the workloads environment to completion; return its JSON line."""
        argv = self.platform.workloads.module(module, *args)
        return self.platform.run_step(name, argv, timeout=timeout)

    def run(self, name: str, argv: list[str], timeout: float = 600.0) -> dict[str, Any]:
        return self.platform.run_step(name, argv, timeout=timeout)

    def workloads_bin(self, name: str) -> str:
        return str(self.platform.workloads.bin(name))

    def spawn(self, name: str, module: str, *args: str) -> processes.ProcessRecord:
        """Start a background workload process, recorded so that `stop()` ends it too."""
        argv = self.platform.workloads.module(module, *args)
        return processes.spawn(
            name,
            argv,
            self.env,
            self.platform.workloads.repo_root,
            self.state.log(name),
            self.state.record(name),
        )

    def end(self, record: processes.ProcessRecord) -> None:
        processes.stop(record)
        self.state.record(record.name).unlink(missing_ok=True)

    def stop(self) -> dict[str, list[int]]:
        return self.platform.down()
