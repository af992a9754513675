"""The local offline store: Feast's file (dask) offline store with crash-safe writes.

Feast 0.67's file store appends a push by rewriting the parquet file in place. A process killed
during that rewrite (the stream consumer gets SIGKILLed in our failure tests, and laptops get
closed) leaves a truncated file and loses the whole history. This store writes the new file
next to the old one and renames it over, which is atomic on POSIX. Selected in
`feature_store.yaml` as
`offline_store: {type: workloads.features.atomic_file_store.AtomicFileOfflineStore}`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal

import pyarrow
import pyarrow.parquet as pq
from feast.feature_view import FeatureView
from feast.infra.offline_stores.dask import DaskOfflineStore, DaskOfflineStoreConfig
from feast.infra.offline_stores.file_source import FileSource
from feast.repo_config import RepoConfig

STORE_TYPE = "workloads.features.atomic_file_store.AtomicFileOfflineStore"


class AtomicFileOfflineStoreConfig(DaskOfflineStoreConfig):
    type: Literal["workloads.features.atomic_file_store.AtomicFileOfflineStore"] = STORE_TYPE  # type: ignore[assignment]


class AtomicFileOfflineStore(DaskOfflineStore):
    @staticmethod
    def offline_write_batch(
        config: RepoConfig,
        feature_view: FeatureView,
        table: pyarrow.Table,
        progress: Callable[[int], Any] | None,
    ) -> None:
        source = feature_view.batch_source
        assert isinstance(source, FileSource)
        path = FileSource.get_uri_for_file_path(
            repo_path=config.repo_path, uri=source.file_options.uri
        )
        if "://" in str(path):
            # Object stores replace whole objects already; keep Feast's behaviour there.
            return DaskOfflineStore.offline_write_batch(config, feature_view, table, progress)
        previous = pq.read_table(path)
        if table.column_names != previous.column_names:
            raise ValueError(
                f"columns {table.column_names} do not match the offline table "
                f"{path} ({previous.column_names})"
            )
        combined = pyarrow.concat_tables([previous, table.cast(previous.schema)])
        write_table_atomically(combined, str(path))
        if progress:
            progress(table.num_rows)
        return None


def write_table_atomically(table: pyarrow.Table, path: str) -> None:
    """Write a parquet file so that readers and crashes only ever see the old or the new one."""
    temporary = f"{path}.{os.getpid()}.tmp"
    pq.write_table(table, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
