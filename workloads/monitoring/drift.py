"""Drift statistics: Population Stability Index and two-sample Kolmogorov-Smirnov, per feature.

PSI compares binned distributions: numeric features use the reference's deciles as bin edges
(so each reference bin holds ~10%), categorical features use their categories. Conventional
reading: < 0.1 stable, 0.1-0.25 moderate shift, >= 0.25 significant shift. KS (scipy) compares
the empirical CDFs of numeric features; with the sample sizes of a monitoring window, its
p-value alone flags shifts too small to matter, so a feature drifts on KS only when the
statistic is also large (a fifth of the distribution moved). Scores served live differ a little
from held-out scores even without drift (live transactions are scored before the stream has
seen them), which is why the score is held to the same, not a tighter, standard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

EPSILON = 1e-4  # stands in for an empty bin so that the logarithm stays finite


@dataclass(frozen=True)
class Thresholds:
    psi: float = 0.25
    ks_statistic: float = 0.2
    ks_pvalue: float = 0.001


def psi_numeric(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        # A constant reference: one bin for its value, one either side for anything else.
        value = float(edges[0])
        edges = np.array([-np.inf, value - 1e-9, value + 1e-9, np.inf])
    else:
        edges[0], edges[-1] = -np.inf, np.inf
    ref_share = np.histogram(reference, edges)[0] / len(reference)
    cur_share = np.histogram(current, edges)[0] / len(current)
    return _psi(ref_share, cur_share)


def psi_categorical(reference: pd.Series, current: pd.Series) -> float:
    categories = sorted(set(reference.astype(str)) | set(current.astype(str)))
    ref_share = reference.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    cur_share = current.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    return _psi(ref_share.to_numpy(), cur_share.to_numpy())


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    thresholds: Thresholds = Thresholds(),
) -> dict[str, dict[str, float | bool]]:
    """Per feature: psi, and for numeric ones ks_statistic and ks_pvalue; plus `drifted`."""
    report: dict[str, dict[str, float | bool]] = {}
    for name in numeric:
        ref = reference[name].to_numpy(dtype=float)
        cur = current[name].to_numpy(dtype=float)
        psi = psi_numeric(ref, cur)
        ks = stats.ks_2samp(ref, cur)
        drifted = psi >= thresholds.psi or (
            ks.statistic >= thresholds.ks_statistic and ks.pvalue < thresholds.ks_pvalue
        )
        report[name] = {
            "psi": round(psi, 4),
            "ks_statistic": round(float(ks.statistic), 4),
            "ks_pvalue": float(ks.pvalue),
            "drifted": bool(drifted),
        }
    for name in categorical:
        psi = psi_categorical(reference[name], current[name])
        report[name] = {"psi": round(psi, 4), "drifted": psi >= thresholds.psi}
    return report
