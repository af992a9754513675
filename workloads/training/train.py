"""The training entrypoint: Feast training set → DDP training → MLflow (registered, gated).

Run under torchrun (`torchrun --standalone --nproc_per_node=N -m workloads.training ...`) or as
a plain process (one worker). DistributedDataParallel uses NCCL when CUDA is present, gloo on CPU.

Fault tolerance: rank 0 builds the training set once into the work directory and checkpoints
atomically after every epoch (weights, optimiser, epoch, MLflow run id). A restarted job (a
killed pod, a preempted node) resumes from the last checkpoint in the same MLflow run. A job
whose work directory already holds `result.json` has finished and only reprints it, so a Job
controller's retry after success does not register a second version.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from workloads import storage
from workloads.features import vectors
from workloads.health import beat
from workloads.monitoring.records import REFERENCE_ARTIFACT, reference_frame
from workloads.settings import Settings
from workloads.training import checkpoint, registry
from workloads.training.dataset import TrainingSet
from workloads.training.model import RiskNet, RiskScorer

log = logging.getLogger("workloads.training")

DATASET = "training_set.npz"
RESULT = "result.json"


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
    net.to(device)
    model = DistributedDataParallel(net) if world > 1 else net

    if rank == 0:
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
        mlflow.set_experiment(args.experiment)
        run = mlflow.start_run(run_id=run_id)
        run_id = run.info.run_id
        if start_epoch == 0:
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
        else:
            mlflow.set_tag("resumed_from_epoch", str(start_epoch - 1))
            # The checkpointed epoch's metrics may not have reached MLflow before the kill
            # (they are logged asynchronously, see below): log them again (same step, same
            # values, so a duplicate point changes no curve).
            if saved is not None and saved.get("metrics"):
                mlflow.log_metrics(saved["metrics"], step=saved["epoch"])

    positives = float(data.y_train.sum())
    pos_weight = torch.tensor((len(data.y_train) - positives) / max(positives, 1.0), device=device)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    train_set = TensorDataset(torch.from_numpy(data.x_train), torch.from_numpy(data.y_train))
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    holdout_x = torch.from_numpy(data.x_holdout).to(device)

    # Per-epoch metrics go to MLflow asynchronously (a synchronous call costs a round trip per
    # epoch). Before the checkpoint of epoch N is written, epoch N-1's metrics are known to be
    # logged, and epoch N's travel in the checkpoint: a kill at any instant loses none of them.
    pending: Any = None
    for epoch in range(start_epoch, args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        totals = torch.zeros(2, device=device)
        for features, labels in loader:
            beat()
            features, labels = features.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(features), labels)
            loss.backward()
            optimizer.step()
            totals += torch.stack([loss.detach() * len(labels), torch.tensor(float(len(labels)))])
        if world > 1:
            dist.all_reduce(totals)
        if rank == 0:
            net.eval()
            with torch.no_grad():
                scores = torch.sigmoid(net(holdout_x)).cpu().numpy()
            metrics = registry.evaluate(scores, data.y_holdout)
            epoch_metrics = {
                "train_loss": float(totals[0] / totals[1]),
                "holdout_roc_auc": metrics["roc_auc"],
            }
            logged = mlflow.log_metrics(epoch_metrics, step=epoch, synchronous=False)
            if pending is not None:
                pending.wait()  # raises if MLflow refused the previous epoch's metrics
            pending = logged
            checkpoint.save(
                args.work_dir,
                {
                    "epoch": epoch,
                    "model": net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "run_id": run_id,
                    "fingerprint": data.fingerprint,
                    "metrics": epoch_metrics,
                },
            )
            log.info(
                "epoch %d: loss %.4f, held-out AUC %.4f",
                epoch,
                float(totals[0] / totals[1]),
                metrics["roc_auc"],
            )
        barrier(world)
    if pending is not None:
        pending.wait()

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
