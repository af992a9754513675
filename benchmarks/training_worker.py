"""Workloads-side training measurements: `python -m benchmarks.training_worker`.

dataset  build the training set the way the trainer does (Feast point-in-time retrieval) into
         a work directory, and time one epoch of the bare loop on it (the calibration that
         picks the epoch count for a run of the wanted length).
trainer  the packaged trainer (`workloads.training.train.train`) with its phases timed by
         wrapping the functions it calls (PHASES): Feast training-set retrieval, process-group
         set-up, the MLflow run's start, per epoch the held-out AUC and the bookkeeping
         (metrics buffered, a checkpoint and an asynchronous metrics batch when due), barriers,
         and at the end the metrics flush, the registration, the promotion gate and the rest of
         `finish` (reference set, run end). What is left of the wall time is the training loop
         itself (with the per-epoch held-out forward pass). Under torchrun only rank 0 prints.
bare     the bare PyTorch loop on the same tensors (the trainer's cached training set): same
         network, optimiser, loss, batch size, epochs and threads; no Feast, MLflow,
         checkpoints or heartbeat.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

IMPORT_STARTED = time.perf_counter()
# What the trainer's entrypoint (`python -m workloads.training`) sets before torch is imported;
# this driver stands in for that entrypoint, and the bare loop runs under the same setting.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
BARE_DATASET = "training_set.npz"  # workloads.training.train.DATASET (not imported: see bare_loop)
CALIBRATION_EPOCHS = 9  # the first is a warm-up; the median of the other eight is used


class PhaseTimers:
    """Wall time per wrapped function, each call's own: the time of a timed call made inside
    another is taken out of the outer one (the registration and the gate out of `finish`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.inner: list[float] = []  # per open call: the time of the timed calls inside it

    def wrap(self, name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.inner.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.seconds[name] += elapsed - self.inner.pop()
                self.calls[name] += 1
                if self.inner:
                    self.inner[-1] += elapsed

        return timed

    def total(self) -> float:
        return sum(self.seconds.values())

    def to_json(self) -> dict[str, dict[str, float]]:
        return {
            name: {"seconds": round(self.seconds[name], 3), "calls": self.calls[name]}
            for name in sorted(self.seconds)
        }


def bare_loop(
    work_dir: Path, epochs: int, batch_size: int, hidden: str, lr: float, seed: int
) -> dict[str, Any]:
    # Bare: torch, numpy and the network only. Importing the trainer's modules (MLflow, Feast,
    # pandas) would give this process a heap of ~570,000 objects for the collector to walk
    # again and again, a cost of the instrumentation, not of the loop.
    import numpy as np
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from workloads.training.model import RiskNet

    with np.load(work_dir / BARE_DATASET) as data:
        x_train, y_train, fingerprint = data["x_train"], data["y_train"], str(data["fingerprint"])
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))  # what the trainer uses with one process
    began = time.perf_counter()
    cpu_began = time.process_time()
    x, y = torch.from_numpy(x_train), torch.from_numpy(y_train)
    net = RiskNet(x.shape[1], tuple(int(s) for s in hidden.split(",")))
    net.fit_scaling(x)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    positives = float(y.sum())
    loss_fn = nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor((len(y) - positives) / max(positives, 1.0))
    )
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    net.train()
    epoch_seconds = []
    for _ in range(epochs):
        epoch_began = time.perf_counter()
        for features, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(net(features), labels)
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - epoch_began)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    steady = sorted(epoch_seconds[1:] or epoch_seconds)
    return {
        "epochs": epochs,
        "steady_epoch_seconds": round(steady[len(steady) // 2], 4),
        "fastest_epoch_seconds": round(steady[0], 4),
        "training_rows": len(y),
        "fingerprint": fingerprint,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "samples_per_s": round(len(y) * epochs / seconds, 1),
    }


def dataset(args: argparse.Namespace) -> dict[str, Any]:
    from workloads.settings import Settings
    from workloads.training.train import parse_args, training_set

    trainer_args = parse_args(["--labelled", str(args.labelled), "--work-dir", str(args.work_dir)])
    args.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    began = time.perf_counter()
    data = training_set(trainer_args, Settings.from_env(), 0, 1)
    retrieval = time.perf_counter() - began
    epoch = bare_loop(
        args.work_dir,
        CALIBRATION_EPOCHS,
        trainer_args.batch_size,
        trainer_args.hidden,
        trainer_args.learning_rate,
        trainer_args.seed,
    )
    return {
        "training_rows": len(data.y_train),
        "holdout_rows": len(data.y_holdout),
        "features": int(data.x_train.shape[1]),
        "fingerprint": data.fingerprint,
        "retrieval_seconds": round(retrieval, 3),
        "bare_epoch_seconds": epoch["steady_epoch_seconds"],
        "fastest_epoch_seconds": epoch["fastest_epoch_seconds"],
    }


# What the trainer does besides the bare loop, by phase: (module, function) wrapped by name.
# Fixed costs (once a run) and per-epoch ones; what is left of the wall time is the loop itself
# (with the per-epoch held-out forward pass).
PHASES = {
    "feast_training_set": ("workloads.training.train", "training_set"),
    "process_group_init": ("workloads.training.train", "init_distributed"),
    "mlflow_run_start": ("workloads.training.train", "start_tracking"),
    "barrier": ("workloads.training.train", "barrier"),
    "epoch_holdout_auc": ("workloads.training.progress", "roc_auc"),
    "epoch_bookkeeping": ("workloads.training.progress", "Progress.epoch_done"),
    "metrics_flush": ("workloads.training.progress", "Progress.close"),
    "register_model": ("workloads.training.registry", "log_and_register"),
    "promotion_gate": ("workloads.training.registry", "gate"),
    "finish_other": ("workloads.training.train", "finish"),
}
FIXED = (
    "feast_training_set",
    "process_group_init",
    "mlflow_run_start",
    "metrics_flush",
    "register_model",
    "promotion_gate",
    "finish_other",
)


def _install(timers: PhaseTimers) -> None:
    import importlib

    for name, (module, attribute) in PHASES.items():
        owner: Any = importlib.import_module(module)
        *path, function = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, function, timers.wrap(name, getattr(owner, function)))


def trainer(args: argparse.Namespace, argv: list[str]) -> dict[str, Any] | None:
    import workloads.training.train as train_module

    imports = time.perf_counter() - IMPORT_STARTED
    timers = PhaseTimers()
    _install(timers)
    trainer_args = train_module.parse_args(argv)
    began = time.perf_counter()
    cpu_began = time.process_time()
    result = train_module.train(trainer_args)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    if int(os.environ.get("RANK", "0")) != 0:
        return None
    rows, epochs = result["training_rows"], result["epochs"]
    loop = seconds - timers.total()
    phases = timers.to_json()
    return {
        "world_size": result["world_size"],
        "epochs": epochs,
        "training_rows": rows,
        "model_version": result["version"],
        "imports_seconds": round(imports, 3),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "samples_per_s": round(rows * epochs / seconds, 1),
        "loop_seconds": round(loop, 3),
        "loop_samples_per_s": round(rows * epochs / loop, 1),
        "fixed_seconds": round(sum(phases[n]["seconds"] for n in FIXED if n in phases), 3),
        "phases": phases,
        "fingerprint": _fingerprint(trainer_args.work_dir),
    }


def _fingerprint(work_dir: Path) -> str:
    from workloads.training.dataset import TrainingSet
    from workloads.training.train import DATASET

    return TrainingSet.load(work_dir / DATASET).fingerprint


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.training_worker", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ds = commands.add_parser("dataset")
    ds.add_argument("--labelled", type=Path, required=True)
    ds.add_argument("--work-dir", type=Path, required=True)
    commands.add_parser("trainer", help="then the trainer's own arguments")
    bare = commands.add_parser("bare")
    bare.add_argument("--work-dir", type=Path, required=True)
    bare.add_argument("--epochs", type=int, required=True)
    bare.add_argument("--batch-size", type=int, default=256)
    bare.add_argument("--hidden", default="32,16")
    bare.add_argument("--learning-rate", type=float, default=3e-3)
    bare.add_argument("--seed", type=int, default=7)
    if argv[:1] == ["trainer"]:
        result = trainer(parser.parse_args(argv[:1]), argv[1:])
    else:
        args = parser.parse_args(argv)
        if args.command == "dataset":
            result = dataset(args)
        else:
            result = bare_loop(
                args.work_dir,
                args.epochs,
                args.batch_size,
                args.hidden,
                args.learning_rate,
                args.seed,
            )
    if result is not None:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
