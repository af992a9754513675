"""MLflow side of training: log, register as `challenger`, gate the promotion to `champion`.

The gate judges the challenger and the current champion on the same held-out set (the one the
challenger was just evaluated on), by ROC AUC. The challenger becomes champion only if it beats
the champion by more than `min_delta`, or if there is no champion yet. The decision and both
numbers are logged to the training run (metrics `gate_*`, tags `gate.*`) and tagged on the new
model version, so the registry shows why a version was or was not promoted.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import mlflow
import numpy as np
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.metrics import average_precision_score, roc_auc_score

from workloads.features import vectors
from workloads.training.model import RiskScorer

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
CHAMPION = "champion"


@dataclass(frozen=True)
class GateDecision:
    promoted: bool
    reason: str
    challenger_version: str
    challenger_auc: float
    champion_version: str | None
    champion_auc: float | None


def evaluate(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
    }


def log_and_register(scorer: RiskScorer, example: np.ndarray, model_name: str) -> str:
    """Log the scorer to the active run, register a new version, alias it `challenger`."""
    scorer.eval()
    with torch.no_grad():
        outputs = scorer(torch.from_numpy(example)).numpy()
    info = mlflow.pytorch.log_model(
        scorer,
        name="model",
        # MLflow 3 exports torch models with torch.export: a batch-1 example would freeze the
        # batch dimension at 1. Eight rows keep it dynamic.
        input_example=example[:8],
        signature=infer_signature(example[:8], outputs[:8]),
        registered_model_name=model_name,
        metadata={"feature_names": vectors.FEATURE_NAMES},
        # The serving image pins these already; naming them skips MLflow's requirement
        # inference, which reloads the model in a subprocess for every version logged.
        pip_requirements=[
            f"torch=={torch.__version__.split('+')[0]}",
            f"mlflow=={mlflow.__version__}",
            f"numpy=={np.__version__}",
        ],
    )
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version)
    log.info("registered %s version %s as %s", model_name, version, CHALLENGER)
    return version


def current_champion(client: MlflowClient, model_name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(error).lower():
            return None
        raise


def gate(
    model_name: str,
    challenger_version: str,
    x_holdout: np.ndarray,
    y_holdout: np.ndarray,
    challenger_auc: float,
    min_delta: float = 0.0,
) -> GateDecision:
    client = MlflowClient()
    champion_version = current_champion(client, model_name)
    champion_auc: float | None = None
    if champion_version is None:
        promoted, reason = True, "no champion yet"
    elif champion_version == challenger_version:
        promoted, reason = True, "challenger is already champion"
    else:
        uri = f"models:/{model_name}/{champion_version}"
        champion = mlflow.pyfunc.load_model(uri)
        champion_features = (champion.metadata.metadata or {}).get("feature_names")
        if champion_features != vectors.FEATURE_NAMES:
            promoted = False
            reason = "champion uses a different feature vector; compare and promote by hand"
        else:
            scores = np.asarray(champion.predict(x_holdout)).reshape(-1)
            champion_auc = evaluate(scores, y_holdout)["roc_auc"]
            promoted = challenger_auc > champion_auc + min_delta
            reason = (
                f"challenger AUC {challenger_auc:.4f} vs champion {champion_auc:.4f} "
                f"(min delta {min_delta})"
            )
    if promoted:
        client.set_registered_model_alias(model_name, CHAMPION, challenger_version)
    decision = GateDecision(
        promoted, reason, challenger_version, challenger_auc, champion_version, champion_auc
    )
    _record(client, model_name, decision)
    log.info("gate: %s (%s)", "promoted" if promoted else "not promoted", reason)
    return decision


def _record(client: MlflowClient, model_name: str, decision: GateDecision) -> None:
    metrics = {"gate_challenger_auc": decision.challenger_auc}
    if decision.champion_auc is not None:
        metrics["gate_champion_auc"] = decision.champion_auc
    mlflow.log_metrics(metrics)
    tags = {
        "gate.decision": "promoted" if decision.promoted else "rejected",
        "gate.reason": decision.reason,
        "gate.champion_version": decision.champion_version or "none",
    }
    mlflow.set_tags(tags)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, decision.challenger_version, key, value)
    mlflow.log_dict(asdict(decision), "gate/decision.json")
