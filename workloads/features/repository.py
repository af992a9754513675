"""Applying the feature repository and loading its batch source: what `mlplatform local up` and the
platform's bootstrap job run once, and what the demo runs to load the customer profiles.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureStore

from workloads.features import definitions, schema
from workloads.features.atomic_file_store import PartitionedTable, write_table_atomically

log = logging.getLogger(__name__)

OFFLINE_ROOT = "offline"
_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64()}


def open_store(feature_store_yaml: Path) -> FeatureStore:
    """A FeatureStore whose repository is the directory of the given `feature_store.yaml`."""
    feature_store_yaml = feature_store_yaml.resolve()
    return FeatureStore(repo_path=str(feature_store_yaml.parent), fs_yaml_file=feature_store_yaml)


def offline_schema(features: dict[str, type]) -> pa.Schema:
    return pa.schema(
        [(schema.JOIN_KEY, pa.string())]
        + [(name, _ARROW_TYPES[kind]) for name, kind in features.items()]
        + [(schema.TIMESTAMP_FIELD, pa.timestamp("us", tz="UTC"))]
    )


def offline_table_path(store: FeatureStore, view: str) -> Path:
    return Path(store.repo_path) / definitions.offline_path(OFFLINE_ROOT, view)


def apply(store: FeatureStore) -> list[str]:
    """Create the empty offline tables if missing, then register every definition.

    The profile table is one file (a daily snapshot, rewritten by `load_profiles`); the
    activity history, appended to by every stream push, is a directory of parts
    (`atomic_file_store.PartitionedTable`), so an append costs the same at any size.
    """
    profiles = offline_table_path(store, schema.PROFILE_VIEW)
    if not profiles.exists():
        profiles.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_table_atomically(offline_schema(schema.PROFILE_FEATURES).empty_table(), profiles)
    activity = offline_table_path(store, schema.ACTIVITY_VIEW)
    if not activity.exists():
        PartitionedTable.create(activity, offline_schema(schema.ACTIVITY_FEATURES))
    objects = definitions.build(OFFLINE_ROOT)
    store.apply(objects)
    _write_ahead_log(store)
    return [obj.name for obj in objects]


def _write_ahead_log(store: FeatureStore) -> None:
    """A local sqlite online store in WAL mode (kept in the database file): the model server's
    and the probes' reads no longer block the stream's writes, nor the writes the reads."""
    online = store.config.online_store
    if getattr(online, "type", "") != "sqlite":
        return
    path = Path(online.path)
    if not path.is_absolute():
        path = Path(store.repo_path) / path
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def load_profiles(store: FeatureStore, rows: pd.DataFrame) -> int:
    """Append a customer-profile snapshot to the offline table and materialise it online."""
    path = offline_table_path(store, schema.PROFILE_VIEW)
    table_schema = offline_schema(schema.PROFILE_FEATURES)
    frame = rows[table_schema.names].copy()
    frame[schema.TIMESTAMP_FIELD] = pd.to_datetime(frame[schema.TIMESTAMP_FIELD], utc=True)
    snapshot = pa.Table.from_pandas(frame, schema=table_schema, preserve_index=False)
    previous = pq.read_table(path)
    write_table_atomically(pa.concat_tables([previous, snapshot]), str(path))
    timestamps = frame[schema.TIMESTAMP_FIELD]
    store.materialize(
        start_date=timestamps.min().to_pydatetime() - timedelta(seconds=1),
        end_date=max(datetime.now(UTC), timestamps.max().to_pydatetime() + timedelta(seconds=1)),
        feature_views=[schema.PROFILE_VIEW],
    )
    log.info("loaded %d customer profiles into %s and the online store", len(frame), path)
    return len(frame)
