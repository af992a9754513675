"""Per-epoch bookkeeping off the training path: metrics batched to MLflow, checkpoints by time.

The instrumentation of a run must cost a small, fixed share of it (issue 17: at most 10 % of a
run of two minutes), whatever the epoch length. So nothing here runs per step, and per epoch
only what is cheap:
- the held-out ROC AUC is computed from ranks (`roc_auc`, a fraction of a millisecond on the
  held-out set; scikit-learn's, with its input validation, took 4-20 ms an epoch);
- epoch metrics are buffered and sent to MLflow in one asynchronous batch per checkpoint;
- a checkpoint is written at most every `checkpoint_seconds` (and after the last epoch).

No metric is lost to a kill: before a checkpoint is written, the previous batch is confirmed
logged, and the checkpoint carries every epoch's metrics since then (sent just after it is
saved). A resumed run re-logs those (same steps, same values: a duplicate point changes no
curve); the epochs after the checkpoint are trained again and logged then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from scipy.stats import rankdata

from workloads.training import checkpoint

EpochMetrics = tuple[int, dict[str, float]]  # (epoch, {name: value})


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties share their average rank)."""
    positive = labels > 0.5
    n_pos = int(positive.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def carried_metrics(saved: dict[str, Any]) -> list[EpochMetrics]:
    """The metrics a checkpoint carries (older checkpoints: one dict for its own epoch)."""
    carried = saved.get("metrics") or []
    if isinstance(carried, dict):
        return [(int(saved["epoch"]), carried)]
    return [(int(epoch), dict(values)) for epoch, values in carried]


def log_now(client: MlflowClient, run_id: str, metrics: list[EpochMetrics]) -> None:
    if metrics:
        client.log_batch(run_id, metrics=_entities(metrics), synchronous=True)


def _entities(metrics: list[EpochMetrics]) -> list[Metric]:
    now = int(time.time() * 1000)
    return [
        Metric(name, float(value), now, epoch)
        for epoch, values in metrics
        for name, value in values.items()
    ]


class Progress:
    """Rank 0's epoch bookkeeping: call `epoch_done` after every epoch, `close` at the end."""

    def __init__(
        self,
        work_dir: Path,
        run_id: str,
        fingerprint: str,
        checkpoint_seconds: float,
        client: MlflowClient,
    ) -> None:
        self.work_dir = work_dir
        self.run_id = run_id
        self.fingerprint = fingerprint
        self.checkpoint_seconds = checkpoint_seconds
        self.client = client
        self.unsent: list[EpochMetrics] = []
        self.pending: Any = None
        self.last_checkpoint = time.monotonic()
        self.checkpoints = 0

    def epoch_done(
        self,
        epoch: int,
        metrics: dict[str, float],
        state: Callable[[], dict[str, Any]],
        last: bool,
    ) -> bool:
        """Buffer the epoch's metrics; checkpoint when it is time. True if it checkpointed.
        `state` gives the model's and optimiser's state dicts (asked only for a checkpoint)."""
        self.unsent.append((epoch, metrics))
        due = time.monotonic() - self.last_checkpoint >= self.checkpoint_seconds
        if not (last or due):
            return False
        if self.pending is not None:
            self.pending.wait()  # raises if MLflow refused the previous batch
        checkpoint.save(
            self.work_dir,
            {
                **state(),
                "epoch": epoch,
                "run_id": self.run_id,
                "fingerprint": self.fingerprint,
                "metrics": self.unsent,
            },
        )
        self.pending = self.client.log_batch(
            self.run_id, metrics=_entities(self.unsent), synchronous=False
        )
        self.unsent = []
        self.last_checkpoint = time.monotonic()
        self.checkpoints += 1
        return True

    def close(self) -> None:
        if self.pending is not None:
            self.pending.wait()
            self.pending = None
