"""The training entrypoint: Feast training set → DDP training → MLflow (registered, gated).

Run under torchrun (`torchrun --standalone --nproc_per_node=N -m workloads.training ...`) or as
a plain process (one worker). DistributedDataParallel uses NCCL when CUDA is present, gloo on CPU.

Fault tolerance: rank 0 builds the training set once into the work directory and checkpoints
atomically at most every `--checkpoint-seconds` and after the last epoch (weights, optimiser,
epoch, MLflow run id, the epoch metrics not yet confirmed in MLflow; see progress.py). A
restarted job (a killed pod, a preempted node) resumes from the last checkpoint in the same
MLflow run. A job
whose work directory already holds `result.json` has finished and only reprints it, so a Job
controller's retry after success does not register a second version.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import torch
import torch.distributed as dist
from mlflow.tracking import MlflowClient
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from workloads import storage
from workloads.features import vectors
from workloads.health import beat
from workloads.monitoring.records import REFERENCE_ARTIFACT, reference_frame
from workloads.settings import Settings
from workloads.training import checkpoint, progress, registry
from workloads.training.dataset import TrainingSet
from workloads.training.model import RiskNet, RiskScorer

log = logging.getLogger("workloads.training")

DATASET = "training_set.npz"
RESULT = "result.json"
# Set by the retraining controller: the MLflow run says which requests it answers.
RETRAINING_TAGS = {
    "MLP_RETRAINING_RUN": "retraining.run",
    "MLP_RETRAINING_REASON": "retraining.reason",
    "MLP_RETRAINING_REQUEST_IDS": "retraining.requests",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.training",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--labelled",
        required=True,
        help="parquet of settled transactions with is_fraud: a local path, file://, s3://, "
        "abfss:// or wasbs:// URI (workloads.storage)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        required=True,
        help="checkpoints, cached training set and result.json (one per run)",
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--hidden", default="32,16", help="hidden layer sizes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--min-delta",
        type=float,
        default=0.0,
        help="AUC margin the challenger must beat the champion by",
    )
    parser.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=30.0,
        help="at most this long between checkpoints (0: after every epoch); the last epoch is "
        "always checkpointed",
    )
    parser.add_argument("--experiment", default=os.environ.get("MLP_EXPERIMENT", "card-risk"))
    return parser.parse_args(argv)


def init_distributed() -> tuple[int, int, torch.device]:
    if "RANK" not in os.environ:
        return 0, 1, torch.device("cpu")
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    return dist.get_rank(), dist.get_world_size(), device


def barrier(world: int) -> None:
    if world > 1:
        dist.barrier()


def training_set(
    args: argparse.Namespace, settings: Settings, rank: int, world: int
) -> TrainingSet:
    path = args.work_dir / DATASET
    if rank == 0 and not path.exists():
        from workloads.features.repository import open_store
        from workloads.training import dataset

        store = open_store(settings.feature_store_yaml)
        dataset.build(store, storage.read_parquet(args.labelled)).save(path)
    barrier(world)
    return TrainingSet.load(path)


def start_tracking(
    args: argparse.Namespace,
    settings: Settings,
    data: TrainingSet,
    world: int,
    run_id: str | None,
    saved: dict[str, Any] | None,
) -> str:
    """Rank 0: open (or reopen) the MLflow run; a new run gets its parameters, a resumed one
    the metrics its checkpoint carried (they may not have reached MLflow before the kill)."""
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_experiment(args.experiment)
    run = mlflow.start_run(run_id=run_id)
    if saved is None:
        mlflow.log_params(
            {
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "learning_rate": args.learning_rate,
                "hidden": args.hidden,
                "seed": args.seed,
                "world_size": world,
                "backend": dist.get_backend() if world > 1 else "none",
                "training_rows": len(data.y_train),
                "holdout_rows": len(data.y_holdout),
                "training_set": data.fingerprint,
                "rows_without_history": data.defaulted_rows,
                "feature_count": len(vectors.FEATURE_NAMES),
            }
        )
        tags = {tag: os.environ[var] for var, tag in RETRAINING_TAGS.items() if var in os.environ}
        if tags:
            mlflow.set_tags(tags)
    else:
        mlflow.set_tag("resumed_from_epoch", str(saved["epoch"]))
        progress.log_now(MlflowClient(), run.info.run_id, progress.carried_metrics(saved))
    return str(run.info.run_id)


@dataclass(frozen=True)
class Trainee:
    """What the loop trains: the network, the module the optimiser steps through (the network
    or its DistributedDataParallel wrapper), where, and this process's place in the group."""

    net: RiskNet
    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    rank: int
    world: int


@dataclass(frozen=True)
class Batches:
    """What each epoch draws on: the loader and its sampler, the loss, the held-out features."""

    loader: DataLoader
    sampler: DistributedSampler
    loss_fn: nn.Module
    holdout_x: torch.Tensor


def batches(args: argparse.Namespace, t: Trainee, data: TrainingSet) -> Batches:
    positives = float(data.y_train.sum())
    pos_weight = torch.tensor(
        (len(data.y_train) - positives) / max(positives, 1.0), device=t.device
    )
    train_set = TensorDataset(torch.from_numpy(data.x_train), torch.from_numpy(data.y_train))
    sampler = DistributedSampler(train_set, num_replicas=t.world, rank=t.rank, seed=args.seed)
    return Batches(
        DataLoader(train_set, batch_size=args.batch_size, sampler=sampler),
        sampler,
        nn.BCEWithLogitsLoss(pos_weight=pos_weight),
        torch.from_numpy(data.x_holdout).to(t.device),
    )


def run_epochs(
    args: argparse.Namespace,
    t: Trainee,
    data: TrainingSet,
    start_epoch: int,
    tracker: progress.Progress | None,
) -> None:
    """The training loop. Per step: the optimisation and the heartbeat (a clock read). Per
    epoch, on rank 0: the held-out AUC by ranks, and `progress` (a checkpoint when due)."""
    b = batches(args, t, data)

    def state() -> dict[str, Any]:
        return {"model": t.net.state_dict(), "optimizer": t.optimizer.state_dict()}

    # Everything alive now (MLflow, Feast, pandas, the data: ~570,000 objects) outlives the
    # loop: frozen, the collector's full passes skip it. Unfrozen, a full pass over it every
    # few seconds took 0.3-0.5 s, a tenth of the loop's time (benchmarks/training.py).
    gc.freeze()
    try:
        for epoch in range(start_epoch, args.epochs):
            metrics = _epoch(epoch, t, b, data, evaluate=tracker is not None)
            last = epoch == args.epochs - 1
            if tracker is not None and tracker.epoch_done(epoch, metrics, state, last):
                log.info("epoch %d: %s, checkpointed", epoch, metrics)
            barrier(t.world)
    finally:
        gc.unfreeze()
    if tracker is not None:
        tracker.close()


def _epoch(
    epoch: int, t: Trainee, b: Batches, data: TrainingSet, evaluate: bool
) -> dict[str, float]:
    """One epoch; its mean training loss (over every rank) and, if `evaluate`, held-out AUC."""
    b.sampler.set_epoch(epoch)
    t.model.train()
    losses, sizes = [], []
    for features, labels in b.loader:
        beat()
        features, labels = features.to(t.device), labels.to(t.device)
        t.optimizer.zero_grad()
        loss = b.loss_fn(t.model(features), labels)
        loss.backward()
        t.optimizer.step()
        losses.append(loss.detach())
        sizes.append(len(labels))
    weights = torch.tensor(sizes, dtype=torch.float32, device=t.device)
    totals = torch.stack([torch.stack(losses) @ weights, weights.sum()])
    if t.world > 1:
        dist.all_reduce(totals)
    metrics = {"train_loss": float(totals[0] / totals[1])}
    if evaluate:
        t.net.eval()
        with torch.no_grad():
            scores = t.net(b.holdout_x).cpu().numpy()  # logits: AUC depends on order only
        metrics["holdout_roc_auc"] = progress.roc_auc(scores, data.y_holdout)
    return metrics


def train(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.from_env()
    result_path = args.work_dir / RESULT
    if result_path.exists():
        return json.loads(result_path.read_text())
    rank, world, device = init_distributed()
    args.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    data = training_set(args, settings, rank, world)

    hidden = tuple(int(size) for size in args.hidden.split(","))
    net = RiskNet(data.x_train.shape[1], hidden)
    net.fit_scaling(torch.from_numpy(data.x_train))
    optimizer = torch.optim.Adam(net.parameters(), lr=args.learning_rate)
    start_epoch, run_id = 0, None
    saved = checkpoint.load(args.work_dir)
    if saved is not None and saved["fingerprint"] == data.fingerprint:
        net.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        start_epoch, run_id = saved["epoch"] + 1, saved["run_id"]
        if rank == 0:
            log.info("resuming from the checkpoint of epoch %d (run %s)", saved["epoch"], run_id)
    else:
        saved = None
    net.to(device)
    model = DistributedDataParallel(net) if world > 1 else net

    tracker = None
    if rank == 0:
        run_id = start_tracking(args, settings, data, world, run_id, saved)
        tracker = progress.Progress(
            args.work_dir, run_id, data.fingerprint, args.checkpoint_seconds, MlflowClient()
        )
    trainee = Trainee(net, model, optimizer, device, rank, world)
    run_epochs(args, trainee, data, start_epoch, tracker)

    result: dict[str, Any] = {}
    if rank == 0:
        result = finish(args, settings, net.cpu(), data, run_id, start_epoch, world)
        result_path.write_text(json.dumps(result))
    if world > 1:
        dist.destroy_process_group()
    return result


def finish(
    args: argparse.Namespace,
    settings: Settings,
    net: RiskNet,
    data: TrainingSet,
    run_id: str | None,
    start_epoch: int,
    world: int,
) -> dict[str, Any]:
    scorer = RiskScorer(net).eval()
    with torch.no_grad():
        scores = scorer(torch.from_numpy(data.x_holdout)).numpy()
    metrics = registry.evaluate(scores, data.y_holdout)
    mlflow.log_metrics({f"holdout_{name}": value for name, value in metrics.items()})
    version = registry.log_and_register(scorer, data.x_holdout, settings.model_name)
    decision = registry.gate(
        settings.model_name,
        version,
        data.x_holdout,
        data.y_holdout,
        metrics["roc_auc"],
        args.min_delta,
    )
    reference = args.work_dir / "reference.parquet"
    reference_frame(data.holdout, scores.tolist(), version).to_parquet(reference, index=False)
    mlflow.log_artifact(str(reference), artifact_path=os.path.dirname(REFERENCE_ARTIFACT))
    mlflow.end_run()
    return {
        "run_id": run_id,
        "model_name": settings.model_name,
        "version": version,
        "holdout_roc_auc": metrics["roc_auc"],
        "holdout_average_precision": metrics["average_precision"],
        "gate": asdict(decision),
        "epochs": args.epochs,
        "resumed_at_epoch": start_epoch,
        "training_rows": len(data.y_train),
        "holdout_rows": len(data.y_holdout),
        "holdout_positives": int(np.sum(data.y_holdout)),
        "world_size": world,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING,
        format=f"%(asctime)s rank{rank} %(levelname)s %(name)s %(message)s",
    )
    result = train(args)
    if rank == 0:
        print(json.dumps(result))
    return 0
