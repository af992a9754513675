"""The local platform's state directory: layout, permissions and the ports in use.

Everything `mlplatform local` writes lives under one directory (default `.local-platform/` at
the repository root, git-ignored), created owner-only (0700) and written under umask 077, so
pid records, logs and sqlite databases are never readable by other users:

    state.json         ports of the running platform (later commands reuse them), and the
                       training options retraining runs use
    run/<service>.json process records (see processes.py)
    logs/<service>.log service and step logs
    feast/             feature_store.yaml, sqlite registry and online store, offline parquet
    mlflow/            tracking database and artifacts
    stream/            the stream processor's window snapshots
    labelled/          settled (labelled) transactions, what training and retraining read
    retraining/        the retraining controller's state file and one work directory per run
    demo/              generated data, training work directories, step results
    prometheus/        prometheus.yml, the platform's alert rules (rules.yml), its TSDB
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".local-platform"
DATA_DIRS = ("feast", "mlflow", "stream", "demo", "prometheus", "labelled", "retraining")


@dataclass(frozen=True)
class Ports:
    broker: int = 19092
    mlflow: int = 15000
    feature_server: int = 16566
    model_server: int = 18080
    prometheus: int = 19090
    model_metrics: int = 19110
    stream_metrics: int = 19111  # the stream processor's /metrics (its health check)
    retraining_metrics: int = 19112  # the retraining controller's /metrics

    def merged(self, **overrides: int | None) -> Ports:
        values = asdict(self)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Ports(**values)


def restrict_permissions() -> None:
    """Owner-only files for this process and everything it starts."""
    os.umask(0o077)


class StateDir:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def create(self) -> StateDir:
        restrict_permissions()
        for directory in (self.root, self.run, self.logs, *(self.root / d for d in DATA_DIRS)):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        return self

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def path(self, name: str) -> Path:
        return self.root / name

    def record(self, service: str) -> Path:
        return self.run / f"{service}.json"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def saved_ports(self) -> Ports | None:
        try:
            data = json.loads((self.root / "state.json").read_text())["ports"]
        except (OSError, ValueError, KeyError):
            return None
        known = {f.name for f in fields(Ports)}
        return Ports(**{k: int(v) for k, v in data.items() if k in known})

    def _saved(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / "state.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, Any]) -> None:
        path = self.root / "state.json"
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(path.with_suffix(".tmp"), path)

    def save_ports(self, ports: Ports) -> None:
        self._save({**self._saved(), "ports": asdict(ports)})

    def save_training(self, epochs: int, seed: int) -> None:
        """What the retraining controller's runs train with (`local demo --epochs/--seed`)."""
        self._save({**self._saved(), "training": {"epochs": epochs, "seed": seed}})

    def retraining_options(self) -> tuple[str, ...]:
        training = self._saved().get("training") or {}
        epochs, seed = int(training.get("epochs", 8)), int(training.get("seed", 7))
        return ("--epochs", str(epochs), "--seed", str(seed))
