"""PSI and KS: near zero for the same distribution, over the thresholds for a shifted one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.monitoring import drift


def test_psi_is_small_for_samples_of_one_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.lognormal(5, 0.6, 5000)
    same = rng.lognormal(5, 0.6, 2000)
    shifted = rng.lognormal(5.8, 0.6, 2000)
    assert drift.psi_numeric(reference, same) < 0.02
    assert drift.psi_numeric(reference, shifted) > 0.5


def test_psi_handles_a_constant_reference_and_unseen_categories() -> None:
    assert drift.psi_numeric(np.zeros(100), np.zeros(50)) < 1e-9
    assert drift.psi_numeric(np.zeros(100), np.ones(50)) > 1
    reference = pd.Series(["pos"] * 80 + ["ecommerce"] * 20)
    assert drift.psi_categorical(reference, reference.sample(frac=1, random_state=1)) < 1e-9
    assert drift.psi_categorical(reference, pd.Series(["atm"] * 50)) > 1


def test_compare_flags_only_the_shifted_features() -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(
        {
            "amount": rng.normal(100, 10, 3000),
            "count": rng.poisson(3, 3000),
            "channel": rng.choice(["pos", "web"], 3000, p=[0.8, 0.2]),
        }
    )
    current = pd.DataFrame(
        {
            "amount": rng.normal(130, 10, 800),
            "count": rng.poisson(3, 800),
            "channel": rng.choice(["pos", "web"], 800, p=[0.3, 0.7]),
        }
    )
    report = drift.compare(reference, current, ["amount", "count"], ["channel"])
    assert report["amount"]["drifted"] and report["channel"]["drifted"]
    assert not report["count"]["drifted"]
    assert report["amount"]["ks_pvalue"] < 1e-6
    assert 0 <= report["count"]["ks_statistic"] < 0.1
