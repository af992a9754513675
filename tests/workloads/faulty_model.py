"""A deliberately bad model version for the rollout tests, logged to MLflow as code.

It takes the server's feature vector like the real scorer and passes the predictor's trial row
(all zeros), so the predictor swaps it in; on real traffic it then fails or is slow, as its
`model_config` says: `fail` (raise for every row with a positive log-amount, i.e. every real
transaction) and `delay_seconds` (sleep before answering). That is what the canary guard must
catch from the server's own metrics.
"""

from __future__ import annotations

import time

import numpy as np
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel, PythonModelContext


class FaultyScorer(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        config = context.model_config or {}
        self.fail = bool(config.get("fail", False))
        self.delay = float(config.get("delay_seconds", 0.0))

    def predict(self, context, model_input, params=None):  # untyped: MLflow infers no schema
        rows = np.asarray(model_input, dtype=np.float32)
        if self.fail and (rows[:, 0] > 0).any():
            raise RuntimeError("faulty model version: cannot score real transactions")
        if self.delay and (rows[:, 0] > 0).any():
            time.sleep(self.delay)
        return np.full(rows.shape[0], 0.5, dtype=np.float32)


set_model(FaultyScorer())
