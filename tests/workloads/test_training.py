"""Training against real Feast and MLflow: PIT-correct data, registration, gate, crash recovery."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import mlflow as mlflow_module
import pandas as pd
import pytest
import torch
from conftest import (
    PYTHON,
    Dataset,
    Service,
    Workspace,
    descendants,
    run_json,
    train_champion,
    wait_until,
)
from mlflow.tracking import MlflowClient

from workloads.data.events import parse_transaction
from workloads.features import schema, vectors
from workloads.features.repository import open_store
from workloads.streaming.windows import CustomerWindows
from workloads.training import checkpoint
from workloads.training.dataset import historical_features

pytestmark = pytest.mark.slow
Trained = tuple[Workspace, dict[str, Any]]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def client(ws: Workspace) -> MlflowClient:
    return MlflowClient(tracking_uri=ws.settings.mlflow_tracking_uri)


def test_training_set_is_point_in_time_correct(trained: Trained, dataset: Dataset) -> None:
    ws, _ = trained
    labelled = pd.DataFrame(dataset.rows)
    frame = historical_features(open_store(ws.settings.feature_store_yaml), labelled)
    by_id = frame.set_index("transaction_id")
    # What each customer's windows held after each event, computed independently.
    windows, state_after = CustomerWindows(), {}
    for row in dataset.rows:
        state_after[row["transaction_id"]] = windows.update(
            parse_transaction({**row, "timestamp": row["timestamp"].isoformat()})
        )
    previous: dict[str, dict] = {}
    checked = with_history = 0
    for row in dataset.rows:
        before = previous.get(row["customer_id"])
        joined = by_id.loc[row["transaction_id"]]
        if before is None or row["timestamp"] - before["ts"] > schema.ACTIVITY_TTL:
            assert joined["seconds_since_previous"] == schema.NO_PREVIOUS_SECONDS
        elif row["timestamp"] - before["ts"] > timedelta(milliseconds=1):
            for name in schema.ACTIVITY_FEATURES:
                assert joined[name] == pytest.approx(before["row"][name]), name
            with_history += 1
        checked += 1
        previous[row["customer_id"]] = {
            "ts": row["timestamp"],
            "row": state_after[row["transaction_id"]],
        }
    assert checked == len(dataset.rows) and with_history > len(dataset.rows) / 2


def test_first_model_is_registered_as_champion_with_its_evidence(trained: Trained) -> None:
    ws, result = trained
    mlflow = client(ws)
    name, version = ws.settings.model_name, result["version"]
    assert result["gate"]["promoted"] and result["gate"]["reason"] == "no champion yet"
    assert mlflow.get_model_version_by_alias(name, "champion").version == version
    assert mlflow.get_model_version_by_alias(name, "challenger").version == version
    assert mlflow.get_model_version(name, version).tags["gate.decision"] == "promoted"
    run = mlflow.get_run(result["run_id"])
    assert run.data.params["training_set"] and run.data.params["epochs"] == "6"
    assert run.data.tags["gate.decision"] == "promoted"
    # A model that learned nothing would sit at 0.5.
    assert run.data.metrics["holdout_roc_auc"] > 0.85
    # Epoch metrics are batched: the run's 6 epochs fit in one checkpoint interval, so the
    # final checkpoint carried them all, and all reached MLflow.
    history = mlflow.get_metric_history(result["run_id"], "holdout_roc_auc")
    assert {m.step for m in history} == set(range(6))  # (+ the final value, at step 0)
    final = checkpoint.load(ws.root / "train-champion")
    assert final is not None and final["epoch"] == 5
    assert [epoch for epoch, _ in final["metrics"]] == list(range(6))
    artifacts = {a.path for a in mlflow.list_artifacts(result["run_id"], "reference")}
    assert "reference/reference.parquet" in artifacts
    mlflow_module.set_tracking_uri(ws.settings.mlflow_tracking_uri)
    model = mlflow_module.pyfunc.load_model(f"models:/{name}/{version}")
    assert model.metadata.metadata["feature_names"] == vectors.FEATURE_NAMES
    spec = model.metadata.signature.inputs.to_dict()[0]["tensor-spec"]
    assert list(spec["shape"]) == [-1, len(vectors.FEATURE_NAMES)]  # any batch size


def test_a_killed_ddp_training_resumes_from_its_checkpoint(
    trained: Trained, dataset: Dataset
) -> None:
    ws, _ = trained
    work = ws.root / "train-resume"
    argv = [
        str(PYTHON).replace("/python", "/torchrun"),
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "workloads.training",
        "--labelled",
        str(dataset.labelled_file),
        "--work-dir",
        str(work),
        "--epochs",
        "60",
        "--batch-size",
        "32",
        "--checkpoint-seconds",
        "0",  # a checkpoint after every epoch: the kill lands between two of them
    ]

    def saved_epoch() -> int:
        state = checkpoint.load(work) if (work / checkpoint.CHECKPOINT).exists() else None
        return -1 if state is None else int(state["epoch"])

    # Its own registered model, so that its gate cannot change the champion other tests serve.
    env = {**ws.env, "MLP_MODEL_NAME": "card-risk-resume"}
    job = Service(argv, ws.root / "train-resume.log", env)
    wait_until(lambda: saved_epoch() >= 2, 180, "checkpoint of epoch 2", job.process, job.log)
    tree = [job.process.pid, *descendants(job.process.pid)]
    job.stop(signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in tree), 30, "every training process gone")
    killed_at = checkpoint.load(work)
    assert killed_at is not None and killed_at["epoch"] < 59, "finished before the kill"
    assert not (work / "result.json").exists()

    result = run_json(argv, env, ws.root, timeout=300)
    assert result["resumed_at_epoch"] == killed_at["epoch"] + 1
    assert result["run_id"] == killed_at["run_id"]
    assert result["world_size"] == 2
    history = client(ws).get_metric_history(result["run_id"], "holdout_roc_auc")
    assert {m.step for m in history} == set(range(60))
    assert client(ws).get_run(result["run_id"]).data.tags["resumed_from_epoch"] == str(
        killed_at["epoch"]
    )
    final = checkpoint.load(work)
    assert final is not None and final["epoch"] == 59
    assert all(torch.isfinite(t).all() for t in final["model"].values())


def test_a_worse_challenger_is_registered_but_not_promoted(
    trained: Trained, dataset: Dataset
) -> None:
    ws, _ = trained
    mlflow, name = client(ws), ws.settings.model_name
    champion_before = mlflow.get_model_version_by_alias(name, "champion").version
    # Started by the retraining controller: the run names the requests it answers.
    env = {
        **ws.env,
        "MLP_RETRAINING_RUN": "0a1b2c3d4e",
        "MLP_RETRAINING_REASON": "drift",
        "MLP_RETRAINING_REQUEST_IDS": "req-1,req-2",
    }
    argv = [
        PYTHON, "-m", "workloads.training",
        "--labelled", dataset.labelled_file.as_uri(),  # a URI, as the TrainJob passes
        "--work-dir", str(ws.root / "train-worse"),
        "--epochs", "1", "--learning-rate", "1e-5",
    ]  # fmt: skip
    result = run_json(argv, env, ws.root, timeout=300)
    gate = result["gate"]
    assert not gate["promoted"]
    assert gate["champion_version"] == champion_before
    assert gate["champion_auc"] > gate["challenger_auc"]
    assert mlflow.get_model_version_by_alias(name, "champion").version == champion_before
    assert mlflow.get_model_version_by_alias(name, "challenger").version == result["version"]
    tags = mlflow.get_model_version(name, result["version"]).tags
    assert tags["gate.decision"] == "rejected" and "champion" in tags["gate.reason"]
    run = mlflow.get_run(result["run_id"])
    assert run.data.metrics["gate_champion_auc"] == pytest.approx(gate["champion_auc"])
    assert run.data.tags["retraining.reason"] == "drift"
    assert run.data.tags["retraining.requests"] == "req-1,req-2"
    assert run.data.tags["retraining.run"] == "0a1b2c3d4e"


def test_a_finished_job_rerun_registers_nothing_new(trained: Trained, dataset: Dataset) -> None:
    ws, first = trained
    versions = len(client(ws).search_model_versions(f"name='{ws.settings.model_name}'"))
    again = train_champion(ws, dataset)
    assert again == first
    assert len(client(ws).search_model_versions(f"name='{ws.settings.model_name}'")) == versions
