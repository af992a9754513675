"""Batch scoring: transactions in parquet on the object store, scored by the served alias with
point-in-time features, in parallel partitions (a Kubernetes Indexed Job).

    python -m workloads.serving.batch --input s3://bucket/t/transactions/2026-11-20/ \\
        --output-prefix s3://bucket/t/scores/2026-11-20/

Input: a parquet file or a directory (prefix) of them, at a local path or a `file://`, `s3://`,
`abfss://` or `wasbs://` URI (`workloads.storage`). The work is split into units, one per row
group of each file, listed in path order; index i of n scores units i, i+n, i+2n... So the
indexes' shares are disjoint, cover the input exactly once, and are the same on every run. The
index and the count come from `JOB_COMPLETION_INDEX` (set by Kubernetes for an Indexed Job) and
`JOB_COMPLETIONS` (the Job's `completions`, passed by the template), or `--index`/`--count`.

Scoring: unlike the online path, a batch job scores transactions after the fact, so each one is
joined with the customer's features as they were just before it (Feast historical retrieval,
the same join the training set uses). The model is the one `MLP_MODEL_ALIAS` (champion) names
when the index starts, or `--model-version` (pin it when the indexes must agree across a
promotion); the version is in every output row. Invalid rows are not scored: they are written,
with the reason and where they were (file, row group, line within it), beside the scores, and
the job still succeeds.

Output, per index: `<prefix>/part-<index>-of-<count>.parquet` (transaction_id, customer_id,
risk_score, model_version, in input order) and `<prefix>/part-<index>-of-<count>.rejected.jsonl`.
Each file appears whole or not at all (locally: written beside and renamed; object stores: an
object is visible only once its upload completes), and a re-run index overwrites its own files
with the same content, so a Job's retries are harmless. Use one prefix per run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from mlflow.tracking import MlflowClient
from pyarrow import fs

from workloads import storage
from workloads.data.events import InvalidTransaction, parse_transaction
from workloads.features import vectors
from workloads.settings import Settings

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["transaction_id", "customer_id", "risk_score", "model_version"]


@dataclass(frozen=True)
class Partition:
    index: int
    count: int

    @classmethod
    def resolve(
        cls, index: int | None, count: int | None, environ: Mapping[str, str] | None = None
    ) -> Partition:
        """From the flags, else JOB_COMPLETION_INDEX / JOB_COMPLETIONS, else the whole input."""
        env = os.environ if environ is None else environ
        index = index if index is not None else _int(env, "JOB_COMPLETION_INDEX")
        count = count if count is not None else _int(env, "JOB_COMPLETIONS")
        if index is None and count is None:
            return cls(0, 1)
        if index is None or count is None:
            raise ValueError(
                "partition: JOB_COMPLETION_INDEX (--index) and JOB_COMPLETIONS (--count) go "
                f"together; got index {index}, count {count}"
            )
        if count < 1 or not 0 <= index < count:
            raise ValueError(
                f"partition: JOB_COMPLETION_INDEX (--index) must be in 0..count-1 and "
                f"JOB_COMPLETIONS (--count) at least 1; got index {index}, count {count}"
            )
        return cls(index, count)

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}-of-{self.count:05d}"


def _int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


@dataclass(frozen=True)
class Unit:
    """One row group of one input file: the grain of the partitioning."""

    path: str
    row_group: int


def list_units(filesystem: fs.FileSystem, path: str) -> list[Unit]:
    info = filesystem.get_file_info(path)
    if info.type == fs.FileType.NotFound:
        raise FileNotFoundError(f"batch input {path} does not exist")
    if info.type == fs.FileType.Directory:
        listed = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
        files = sorted(
            f.path
            for f in listed
            if f.type == fs.FileType.File
            and f.base_name.endswith(".parquet")
            and not f.base_name.startswith((".", "_"))
        )
    else:
        files = [path]
    units = []
    for file in files:
        with filesystem.open_input_file(file) as handle:
            groups = pq.ParquetFile(handle).metadata.num_row_groups
        units += [Unit(file, group) for group in range(groups)]
    return units


def read_units(filesystem: fs.FileSystem, units: list[Unit]) -> list[dict]:
    frames = []
    for unit in units:
        with filesystem.open_input_file(unit.path) as handle:
            frames.append(pq.ParquetFile(handle).read_row_group(unit.row_group).to_pandas())
    if not frames:
        return []
    frame = pd.concat(frames, ignore_index=True)
    if "timestamp" in frame and pd.api.types.is_datetime64_any_dtype(frame["timestamp"]):
        frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
    return frame.to_dict("records")


def validate(records: list[dict]) -> tuple[list[dict], list[dict]]:
    valid, rejected = [], []
    for number, record in enumerate(records):
        try:
            txn = parse_transaction(record, require_id=True)
        except InvalidTransaction as reason:
            rejected.append({"line": number + 1, "reason": str(reason), "record": record})
            continue
        valid.append(
            {
                **txn.as_features(),
                "transaction_id": txn.transaction_id,
                "customer_id": txn.customer_id,
            }
        )
    return valid, rejected


def load_model(settings: Settings, version: str | None = None) -> tuple[Any, str]:
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    if version is None:
        alias = MlflowClient().get_model_version_by_alias(settings.model_name, settings.model_alias)
        version = str(alias.version)
    model = mlflow.pyfunc.load_model(f"models:/{settings.model_name}/{version}")
    if (model.metadata.metadata or {}).get("feature_names") != vectors.FEATURE_NAMES:
        raise RuntimeError(f"{settings.model_name} v{version} expects another feature vector")
    return model, version


def score(settings: Settings, model: Any, version: str, valid: list[dict]) -> pd.DataFrame:
    if not valid:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c == "risk_score" else str) for c in SCORE_COLUMNS}
        )
    from workloads.features.repository import open_store
    from workloads.training.dataset import encode_frame, historical_features

    frame = historical_features(open_store(settings.feature_store_yaml), pd.DataFrame(valid))
    scores = np.asarray(model.predict(encode_frame(frame))).reshape(-1)
    return frame[["transaction_id", "customer_id"]].assign(
        risk_score=scores.astype(float), model_version=version
    )[SCORE_COLUMNS]


def write_atomically(filesystem: fs.FileSystem, path: str, data: bytes) -> None:
    """The whole file or nothing at `path`: a local file is written beside and renamed; an
    object store shows an object only once its upload has completed."""
    if isinstance(filesystem, fs.LocalFileSystem):
        filesystem.create_dir(os.path.dirname(path), recursive=True)
        temporary = os.path.join(
            os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp"
        )
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return
    with filesystem.open_output_stream(path) as stream:
        stream.write(data)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def score_partition(
    settings: Settings,
    input_uri: str,
    output_prefix: str,
    partition: Partition,
    model_version: str | None = None,
) -> dict[str, object]:
    source_fs, source = storage.filesystem_for(input_uri)
    units = list_units(source_fs, source)
    mine = units[partition.index :: partition.count]
    valid, rejected = [], []
    for unit in mine:
        ok, refused = validate(read_units(source_fs, [unit]))
        valid += ok
        rejected += [{"source": unit.path, "row_group": unit.row_group, **r} for r in refused]
    model, version = load_model(settings, model_version)
    scored = score(settings, model, version, valid)
    target_fs, target = storage.filesystem_for(output_prefix.rstrip("/") + "/" + partition.name)
    write_atomically(target_fs, f"{target}.parquet", parquet_bytes(scored))
    lines = "".join(json.dumps(row, default=str) + "\n" for row in rejected)
    write_atomically(target_fs, f"{target}.rejected.jsonl", lines.encode())
    log.info(
        "%s: %d units of %d, scored %d with %s v%s, rejected %d",
        partition.name,
        len(mine),
        len(units),
        len(scored),
        settings.model_name,
        version,
        len(rejected),
    )
    return {
        "partition": partition.name,
        "units": len(mine),
        "units_total": len(units),
        "scored": len(scored),
        "rejected": len(rejected),
        "model_version": version,
        "output": f"{output_prefix.rstrip('/')}/{partition.name}.parquet",
    }


def read_transactions(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        return read_units(
            fs.LocalFileSystem(), list_units(fs.LocalFileSystem(), str(path.absolute()))
        )
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def score_file(settings: Settings, source: Path, output: Path) -> dict[str, object]:
    """One local file (JSON lines or parquet) into `output` and `<output>.rejected.jsonl`: the
    `python -m workloads.serving batch` command."""
    valid, rejected = validate(read_transactions(source))
    model, version = load_model(settings)
    scored = score(settings, model, version, valid)
    local = fs.LocalFileSystem()
    write_atomically(local, str(output.absolute()), parquet_bytes(scored))
    rejects = output.with_suffix(".rejected.jsonl")
    lines = "".join(json.dumps(row, default=str) + "\n" for row in rejected)
    write_atomically(local, str(rejects.absolute()), lines.encode())
    log.info(
        "scored %d with %s v%s, rejected %d",
        len(scored),
        settings.model_name,
        version,
        len(rejected),
    )
    return {
        "scored": len(scored),
        "rejected": len(rejected),
        "model_version": version,
        "output": str(output),
        "rejects": str(rejects),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.serving.batch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", required=True, help="parquet file or directory: path or URI")
    parser.add_argument("--output-prefix", required=True, help="where the parts go: path or URI")
    parser.add_argument("--index", type=int, help="default: JOB_COMPLETION_INDEX")
    parser.add_argument("--count", type=int, help="default: JOB_COMPLETIONS")
    parser.add_argument("--model-version", help="default: the version MLP_MODEL_ALIAS names")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        partition = Partition.resolve(args.index, args.count)
    except ValueError as error:
        parser.error(str(error))
    result = score_partition(
        settings, args.input, args.output_prefix, partition, args.model_version
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
