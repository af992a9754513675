"""The training loop's per-epoch bookkeeping: rank AUC, carried metrics (no services needed)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from workloads.training import progress


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_auc_is_scikit_learns_including_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = (rng.random(3000) < 0.05).astype(np.float32)
    scores = np.round(rng.normal(labels * 1.5, 1.0), 1)  # rounded: many ties
    assert progress.roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_rank_auc_of_one_class_is_undefined_not_an_error() -> None:
    assert np.isnan(progress.roc_auc(np.array([0.1, 0.2]), np.array([0.0, 0.0])))


def test_checkpoint_metrics_of_both_formats_are_relogged() -> None:
    new = {"epoch": 4, "metrics": [(3, {"train_loss": 0.5}), (4, {"train_loss": 0.4})]}
    assert progress.carried_metrics(new) == [(3, {"train_loss": 0.5}), (4, {"train_loss": 0.4})]
    old = {"epoch": 4, "metrics": {"train_loss": 0.4}}  # written before metrics were batched
    assert progress.carried_metrics(old) == [(4, {"train_loss": 0.4})]
