"""Batch scoring as an Indexed Job: several indexes over file:// URIs cover the input exactly once,
agree with one whole-input run, and re-run harmlessly; the partition comes from the Job's env."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import PYTHON, Dataset, Workspace, run_json

from workloads.serving.batch import Partition, score_file, score_partition

pytestmark = pytest.mark.slow
Trained = tuple[Workspace, dict[str, Any]]
COUNT = 3


def write_input(directory: Path, dataset: Dataset) -> tuple[Path, set[str], set[str]]:
    """Three parquet files of small row groups (more units than indexes), two broken rows."""
    rows = [dict(r) for r in dataset.rows[-240:]]
    rows[7]["amount_aed"] = -5.0
    rows[130]["channel"] = "carrier pigeon"
    broken = {rows[7]["transaction_id"], rows[130]["transaction_id"]}
    directory.mkdir()
    for number, start in enumerate(range(0, len(rows), 80)):
        frame = pd.DataFrame(rows[start : start + 80])
        frame.to_parquet(directory / f"day-{number}.parquet", index=False, row_group_size=20)
    (directory / "_SUCCESS").write_text("")  # a marker some writers leave: not an input
    return directory, {r["transaction_id"] for r in rows} - broken, broken


def test_indexes_score_the_input_exactly_once_and_rerun_harmlessly(
    trained: Trained, dataset: Dataset
) -> None:
    ws, result = trained
    source, valid_ids, broken_ids = write_input(ws.root / "batch-input", dataset)
    prefix = (ws.root / "batch-output").as_uri()
    summaries = [
        score_partition(ws.settings, source.as_uri(), prefix, Partition(i, COUNT))
        for i in range(COUNT)
    ]
    assert [s["units"] for s in summaries] == [4, 4, 4]  # 12 row groups, 4 each
    parts = [
        pd.read_parquet(ws.root / "batch-output" / f"part-0000{i}-of-00003.parquet")
        for i in range(COUNT)
    ]
    ids = [tid for part in parts for tid in part["transaction_id"]]
    assert len(ids) == len(set(ids)) == len(valid_ids)  # disjoint shares
    assert set(ids) == valid_ids  # covering every valid row
    assert all(set(p["model_version"]) == {result["version"]} for p in parts)
    rejected = [
        json.loads(line)
        for i in range(COUNT)
        for line in (ws.root / "batch-output" / f"part-0000{i}-of-00003.rejected.jsonl")
        .read_text()
        .splitlines()
    ]
    assert {r["record"]["transaction_id"] for r in rejected} == broken_ids
    assert all(r["source"].endswith(".parquet") and r["reason"] for r in rejected)

    # The same scores as one process scoring the whole input.
    whole = ws.root / "whole.parquet"
    score_file(ws.settings, source / "day-0.parquet", whole)
    joined = pd.concat(parts).merge(pd.read_parquet(whole), on="transaction_id")
    assert len(joined) == 79
    assert (joined["risk_score_x"] - joined["risk_score_y"]).abs().max() < 1e-6

    # A retried index rewrites its own file with the same content, leaving nothing beside it.
    first = (ws.root / "batch-output" / "part-00001-of-00003.parquet").read_bytes()
    score_partition(ws.settings, source.as_uri(), prefix, Partition(1, COUNT))
    assert (ws.root / "batch-output" / "part-00001-of-00003.parquet").read_bytes() == first
    assert sorted(p.name for p in (ws.root / "batch-output").iterdir()) == sorted(
        f"part-0000{i}-of-00003.{kind}"
        for i in range(COUNT)
        for kind in ("parquet", "rejected.jsonl")
    )


def test_an_index_without_work_writes_an_empty_part(trained: Trained, dataset: Dataset) -> None:
    ws, _ = trained
    source = ws.root / "one-group.parquet"
    pd.DataFrame(dataset.rows[-10:]).to_parquet(source, index=False)
    summary = score_partition(ws.settings, str(source), str(ws.root / "sparse"), Partition(1, 2))
    assert summary["units"] == 0 and summary["scored"] == 0
    empty = pd.read_parquet(ws.root / "sparse" / "part-00001-of-00002.parquet")
    assert list(empty.columns) == ["transaction_id", "customer_id", "risk_score", "model_version"]
    assert empty.empty


def test_the_indexed_job_entrypoint_takes_its_partition_from_the_environment(
    trained: Trained, dataset: Dataset
) -> None:
    ws, result = trained
    source, valid_ids, _ = write_input(ws.root / "job-input", dataset)
    prefix = (ws.root / "job-output").as_uri()
    env = {**ws.env, "JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}
    summary = run_json(
        [
            PYTHON,
            "-m",
            "workloads.serving.batch",
            "--input",
            source.as_uri(),
            "--output-prefix",
            prefix,
        ],
        env,
        ws.root,
        timeout=300,
    )
    assert summary["partition"] == "part-00002-of-00003"
    assert summary["model_version"] == result["version"]
    assert summary["output"] == f"{prefix}/part-00002-of-00003.parquet"
    scored = pd.read_parquet(ws.root / "job-output" / "part-00002-of-00003.parquet")
    assert 0 < len(scored) < len(valid_ids)


@pytest.mark.parametrize(
    ("index", "count", "env", "message"),
    [
        (None, None, {"JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "3"}, "0..count-1"),
        (None, None, {"JOB_COMPLETION_INDEX": "1"}, "go together"),
        (
            None,
            None,
            {"JOB_COMPLETION_INDEX": "one", "JOB_COMPLETIONS": "3"},
            "JOB_COMPLETION_INDEX must be an integer",
        ),
        (0, 0, {}, "at least 1"),
    ],
)
def test_a_bad_partition_is_refused_naming_the_variable(
    index: int | None, count: int | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        Partition.resolve(index, count, env)


def test_no_partition_means_the_whole_input() -> None:
    assert Partition.resolve(None, None, {}) == Partition(0, 1)
    assert Partition.resolve(
        None, None, {"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "4"}
    ) == Partition(0, 4)
