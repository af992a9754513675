"""The local offline store: Feast's file (dask) offline store with crash-safe appends that cost
the same however much history is already written.

Feast 0.67's file store appends a push by reading the whole parquet file and rewriting it in
place: every push costs as much as the history (the stream slowed down as it grew), and a
process killed during the rewrite leaves a truncated file. Here a table is a directory of
parquet parts (`repository.apply` creates it with one empty part that carries the schema):

- a push writes one new part: a hidden temporary file (readers skip names starting with `.`),
  fsync, then an atomic rename to `part-0-<time ns>-<pid>.parquet`. A killed writer leaves
  only a hidden temporary file, removed later;
- parts are compacted by tiers so that reads stay fast: when `FANIN` parts of level L exist,
  they are merged into one part of level L+1 (up to `MAX_LEVEL`, and while the merged part
  stays within `MAX_PART_ROWS`, so no append ever waits for a huge merge), under a lock (several
  processes may append to one local store). The merge is journalled: the journal names the
  new part and the parts it replaces, so a compaction killed half-way is finished (or undone,
  if its new part was never renamed into place) by the next writer. Between the rename and the
  removal of the old parts a reader may see their rows twice; rows are idempotent by
  (customer, event time), as after a replayed push.

Each row is rewritten at most `MAX_LEVEL` times, so an append costs O(rows pushed) amortised.
A table that is still a single file (a repository created before this layout) is appended to
the old way, atomically. Object-store paths keep Feast's own behaviour (their objects are
replaced whole). Selected in `feature_store.yaml` as
`offline_store: {type: workloads.features.atomic_file_store.AtomicFileOfflineStore}`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow
import pyarrow.parquet as pq
from feast.feature_view import FeatureView
from feast.infra.offline_stores.dask import DaskOfflineStore, DaskOfflineStoreConfig
from feast.infra.offline_stores.file_source import FileSource
from feast.repo_config import RepoConfig

STORE_TYPE = "workloads.features.atomic_file_store.AtomicFileOfflineStore"
FANIN = 16
MAX_LEVEL = 4
MAX_PART_ROWS = 2_000_000  # a tier whose parts hold more together is left as it is
JOURNAL = ".compaction.json"
LOCK = ".compaction.lock"
STALE_TEMPORARY_SECONDS = 600


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
        if Path(path).is_dir():
            PartitionedTable(Path(path)).append(table)
        else:
            _rewrite_file(Path(path), table)
        if progress:
            progress(table.num_rows)
        return None


def _rewrite_file(path: Path, table: pyarrow.Table) -> None:
    """A single-file table: read, append, write atomically (cost grows with the file)."""
    previous = pq.read_table(path)
    _check_columns(table, previous.schema, path)
    write_table_atomically(pyarrow.concat_tables([previous, table.cast(previous.schema)]), path)


def _check_columns(table: pyarrow.Table, schema: pyarrow.Schema, where: Path) -> None:
    if table.column_names != schema.names:
        raise ValueError(
            f"columns {table.column_names} do not match the offline table {where} ({schema.names})"
        )


def write_table_atomically(table: pyarrow.Table, path: str | Path) -> None:
    """Write a parquet file so that readers and crashes only ever see the old or the new one."""
    path = Path(path)
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    pq.write_table(table, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def part_name(level: int) -> str:
    return f"part-{level}-{time.time_ns():020d}-{os.getpid()}.parquet"


def part_level(name: str) -> int:
    return int(name.split("-")[1])


class PartitionedTable:
    """A parquet table stored as a directory of parts (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def create(cls, directory: Path, schema: pyarrow.Schema) -> PartitionedTable:
        """A new table with one empty part (Feast and dask read the schema from it)."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        table = cls(directory)
        if not table.parts():
            write_table_atomically(schema.empty_table(), directory / part_name(MAX_LEVEL))
        return table

    def parts(self) -> list[str]:
        """Visible part names, oldest first within each level."""
        return sorted(n for n in os.listdir(self.directory) if n.startswith("part-"))

    def schema(self) -> pyarrow.Schema:
        parts = self.parts()
        if not parts:
            raise ValueError(f"offline table {self.directory} has no part to take a schema from")
        return pq.read_schema(self.directory / parts[0])

    def append(self, table: pyarrow.Table) -> str:
        schema = self.schema()
        _check_columns(table, schema, self.directory)
        name = part_name(0)
        write_table_atomically(table.cast(schema), self.directory / name)
        self.compact()
        return name

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """The compaction lock, if free (False: another process is compacting)."""
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def compact(self) -> int:
        """Finish an interrupted compaction, then merge full tiers; return the parts merged."""
        merged = 0
        with self._locked() as owner:
            if not owner:
                return 0
            self._recover()
            for level in range(MAX_LEVEL):
                tier = [n for n in self.parts() if part_level(n) == level][:FANIN]
                if len(tier) == FANIN and self._rows(tier) <= MAX_PART_ROWS:
                    self._merge(tier, level + 1)
                    merged += FANIN
        return merged

    def _rows(self, names: list[str]) -> int:
        return sum(pq.read_metadata(self.directory / name).num_rows for name in names)

    def _merge(self, inputs: list[str], level: int) -> None:
        output = part_name(level)
        temporary = self.directory / f".{output}.tmp"
        tables = [pq.read_table(self.directory / name) for name in inputs]
        pq.write_table(pyarrow.concat_tables(tables), temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        journal = {"output": output, "temporary": temporary.name, "inputs": inputs}
        _write_json_atomically(self.directory / JOURNAL, journal)
        os.replace(temporary, self.directory / output)
        _fsync_directory(self.directory)
        self._finish(journal)

    def _finish(self, journal: dict[str, Any]) -> None:
        if (self.directory / journal["output"]).exists():
            for name in journal["inputs"]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.directory / name)
        else:  # killed before the new part was in place: the inputs are still the truth
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.directory / journal["temporary"])
        _fsync_directory(self.directory)
        os.unlink(self.directory / JOURNAL)

    def _recover(self) -> None:
        journal = self.directory / JOURNAL
        if journal.exists():
            self._finish(json.loads(journal.read_text()))
        cutoff = time.time() - STALE_TEMPORARY_SECONDS
        for name in os.listdir(self.directory):
            path = self.directory / name
            if name.startswith(".") and name.endswith(".tmp") and path.stat().st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def _write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_directory(path.parent)
