"""The local offline store: appends that do not rewrite history, compaction that survives kill -9,
and Feast reading the result (point-in-time joins through dask) as before."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workloads.features import repository, schema, store_config
from workloads.features.atomic_file_store import (
    FANIN,
    JOURNAL,
    PartitionedTable,
    part_level,
    part_name,
)
from workloads.streaming.feast_writer import ARROW_SCHEMA, ActivityWriter

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def rows(count: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            schema.JOIN_KEY: f"CUST-{n % 7:06d}",
            **{name: kind(n % 5 + 1) for name, kind in schema.ACTIVITY_FEATURES.items()},
            schema.TIMESTAMP_FIELD: T0 + timedelta(seconds=n),
        }
        for n in range(start, start + count)
    ]


def arrow(batch: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(batch, schema=ARROW_SCHEMA)


@pytest.fixture
def table(tmp_path: Path) -> PartitionedTable:
    return PartitionedTable.create(tmp_path / "activity.parquet", ARROW_SCHEMA)


def test_an_append_writes_one_part_of_its_own_rows_and_tiers_stay_bounded(
    table: PartitionedTable,
) -> None:
    for batch in range(FANIN * FANIN + 3):
        name = table.append(arrow(rows(10, start=batch * 10)))
        if name in table.parts():  # not merged away at once
            assert pq.read_metadata(table.directory / name).num_rows == 10
    levels = [part_level(name) for name in table.parts()]
    # 259 appends: one level-2 part, three level-0 parts, the empty schema part; no level-1 left
    assert sorted(levels) == [0, 0, 0, 2, 4]
    everything = pd.read_parquet(table.directory)
    assert len(everything) == (FANIN * FANIN + 3) * 10
    assert not [n for n in os.listdir(table.directory) if n.endswith(".tmp")]


def test_a_compaction_killed_after_its_rename_is_finished_by_the_next_writer(
    table: PartitionedTable,
) -> None:
    inputs = [table.append(arrow(rows(5, start=n * 5))) for n in range(3)]
    merged = pa.concat_tables([pq.read_table(table.directory / name) for name in inputs])
    output = part_name(1)
    pq.write_table(merged, table.directory / output)  # renamed into place, then kill -9
    (table.directory / JOURNAL).write_text(
        json.dumps({"output": output, "temporary": f".{output}.tmp", "inputs": inputs})
    )
    assert len(pd.read_parquet(table.directory)) == 30  # readers may see duplicates meanwhile
    table.append(arrow(rows(5, start=100)))
    assert not (table.directory / JOURNAL).exists()
    assert not set(inputs) & set(table.parts())
    assert len(pd.read_parquet(table.directory)) == 20  # 15 once, and the new 5


def test_a_compaction_killed_before_its_rename_is_undone(table: PartitionedTable) -> None:
    inputs = [table.append(arrow(rows(5, start=n * 5))) for n in range(2)]
    output = part_name(1)
    (table.directory / f".{output}.tmp").write_bytes(b"PAR1 half written")
    (table.directory / JOURNAL).write_text(
        json.dumps({"output": output, "temporary": f".{output}.tmp", "inputs": inputs})
    )
    table.append(arrow(rows(5, start=100)))
    assert set(inputs) <= set(table.parts())
    assert not (table.directory / f".{output}.tmp").exists()
    assert len(pd.read_parquet(table.directory)) == 15


def test_columns_that_do_not_match_are_refused(table: PartitionedTable) -> None:
    wrong = arrow(rows(3)).drop_columns(["foreign_count_24h"])
    with pytest.raises(ValueError, match="do not match the offline table"):
        table.append(wrong)


def test_feast_joins_point_in_time_over_the_parts(tmp_path: Path) -> None:
    yaml_path = tmp_path / "feast" / "feature_store.yaml"
    store_config.write(store_config.local_config(yaml_path.parent), yaml_path)
    store = repository.open_store(yaml_path)
    repository.apply(store)
    writer = ActivityWriter(store)
    for batch in range(FANIN + 2):  # one compaction on the way
        writer.write_offline(rows(7, start=batch * 7))
    directory = repository.offline_table_path(store, schema.ACTIVITY_VIEW)
    assert directory.is_dir() and (directory / ".compaction.lock").exists()
    entity = pd.DataFrame(
        {
            schema.JOIN_KEY: ["CUST-000003"],
            schema.TIMESTAMP_FIELD: [T0 + timedelta(seconds=60.5)],
        }
    )
    joined = store.get_historical_features(
        entity_df=entity, features=[f"{schema.ACTIVITY_VIEW}:txn_count_1h"]
    ).to_df()
    # the customer's last row at or before 60.5 s is row 59 (59 % 7 == 3): 59 % 5 + 1
    assert joined["txn_count_1h"].tolist() == [59 % 5 + 1]
