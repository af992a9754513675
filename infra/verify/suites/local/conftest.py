"""The local platform the local suite checks: a running one, or one these tests start and stop.

With MLP_VERIFY_LOCAL_STATE_DIR (what `mlplatform verify --local` sets) the suite checks every
service recorded under that state directory and leaves it running. Without it (the README's test
command), it starts what the checks need — broker, MLflow and the Feast feature server — with
`infra.local`, in a temporary state directory on free ports, and always stops them by their
recorded PIDs. The feature server serves the rendered (not yet applied) repository: enough to
check its binding, owner and health, and 30 s faster than `local up`'s full apply. The model
server is left out: it needs a trained champion model (minutes of training); verifying a
platform after `mlplatform local demo` covers it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import testinfra

from infra.local import processes
from infra.local.platform import LocalPlatform
from infra.local.services import Workloads
from infra.local.state import REPO_ROOT, Ports, StateDir
from infra.verify.discovery import VerifySettings

STARTED_HERE = ("broker", "mlflow", "feature-server")
NOTHING_RECORDED = "(none recorded)"


@dataclass(frozen=True)
class LocalView:
    state: StateDir
    platform: LocalPlatform  # ports from the state directory; service definitions, health


def _existing() -> Path | None:
    return VerifySettings.from_env().local_state_dir


def recorded_services(state_dir: Path) -> list[str]:
    return sorted(p.stem for p in (state_dir / "run").glob("*.json"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "local_service" in metafunc.fixturenames:
        existing = _existing()
        names = recorded_services(existing) if existing else list(STARTED_HERE)
        metafunc.parametrize("local_service", names or [NOTHING_RECORDED])


def _free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


WORKLOADS = Workloads(REPO_ROOT / ".venv-workloads" / "bin" / "python", REPO_ROOT)


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalView]:
    existing = _existing()
    if existing is not None:
        if not (existing / "run").is_dir():
            pytest.fail(
                f"{existing} holds no local platform (no run/ directory); "
                "start one with `mlplatform local up`",
                pytrace=False,
            )
        state = StateDir(existing)
        yield LocalView(state, LocalPlatform(state, state.saved_ports() or Ports(), WORKLOADS))
        return
    if not os.access(WORKLOADS.python, os.X_OK):
        pytest.fail(
            f"no workloads environment at {WORKLOADS.python}: `make setup` (or "
            "`make .venv-workloads/.installed`) creates it",
            pytrace=False,
        )
    state = StateDir(tmp_path_factory.mktemp("local-platform") / "state")
    ports = Ports(*_free_ports(4))
    platform = LocalPlatform(state, ports, WORKLOADS)
    started: list[processes.ProcessRecord] = []

    def start(name: str) -> None:
        started.append(platform.start(name))

    umask = os.umask(0o077)  # StateDir.create() sets it for good; restore it for other tests
    try:
        state.create()
        state.save_ports(ports)
        for name in ("broker", "mlflow"):
            start(name)
        feast_yaml = state.path("feast") / "feature_store.yaml"
        platform.run_step(
            "feast-render",
            platform.workloads.module(
                "workloads.features", "render-local", "--data-dir", str(feast_yaml.parent)
            ),
        )
        start("feature-server")
        for name in STARTED_HERE:
            platform.wait_healthy(name)
        os.umask(umask)
        yield LocalView(state, platform)
    finally:
        os.umask(umask)
        try:
            platform.down()
        finally:
            # safety net: nothing these tests started outlives them
            for record in started:
                processes.stop(record, timeout=3.0)


@pytest.fixture(scope="session")
def local_host():
    return testinfra.get_host("local://")
