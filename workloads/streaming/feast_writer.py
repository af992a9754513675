"""Writing the stream's feature rows into Feast: the offline history and the online values.

`FeatureStore.push` would do the same through pandas: per push it looks the push source's
feature views up in the registry, reads the batch source's schema, converts the frame to Arrow
and then, for the online store, every value to a protobuf through Feast's generic per-value
type inference. On the stream's path that was over half of the cost of an event. The rows here
have one known schema (`features.schema.ACTIVITY_FEATURES`), so this writer builds the Arrow
table and the protobufs directly and hands them to the same provider methods `push` ends in
(`ingest_df_to_offline_store`, `online_write_batch`): the stores, their formats and their
configuration (sqlite locally, the remote online and offline servers in the cluster) are
Feast's, unchanged. The feature view is looked up again after `REGISTRY_REFRESH_SECONDS`, as
Feast's registry cache would.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa
from feast import FeatureStore
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.stream_feature_view import StreamFeatureView

from workloads.features import schema

REGISTRY_REFRESH_SECONDS = 60.0
_ARROW = {int: pa.int64(), float: pa.float64(), str: pa.string()}
_PROTO_FIELD = {int: "int64_val", float: "double_val", str: "string_val"}
ARROW_SCHEMA = pa.schema(
    [(schema.JOIN_KEY, pa.string())]
    + [(name, _ARROW[kind]) for name, kind in schema.ACTIVITY_FEATURES.items()]
    + [(schema.TIMESTAMP_FIELD, pa.timestamp("us", tz="UTC"))]
)

Row = dict[str, object]


class ActivityWriter:
    """Writes `customer_activity` rows (as `CustomerWindows.update` returns them)."""

    def __init__(self, store: FeatureStore) -> None:
        self.store = store
        self._view: StreamFeatureView | None = None
        self._fetched = 0.0

    def view(self) -> StreamFeatureView:
        if self._view is None or time.monotonic() - self._fetched > REGISTRY_REFRESH_SECONDS:
            self._view = self.store.get_stream_feature_view(schema.ACTIVITY_VIEW)
            self._fetched = time.monotonic()
        return self._view

    def write_offline(self, rows: Sequence[Row]) -> None:
        columns = {name: [row[name] for row in rows] for name in ARROW_SCHEMA.names}
        table = pa.Table.from_pydict(columns, schema=ARROW_SCHEMA)
        self.store._get_provider().ingest_df_to_offline_store(self.view(), table)

    def write_online(self, rows: Sequence[Row]) -> None:
        features = schema.ACTIVITY_FEATURES
        data: list[tuple[EntityKeyProto, dict[str, ValueProto], datetime, None]] = []
        for row in rows:
            key = EntityKeyProto(
                join_keys=[schema.JOIN_KEY],
                entity_values=[ValueProto(string_val=str(row[schema.JOIN_KEY]))],
            )
            values = {
                name: ValueProto(**{_PROTO_FIELD[kind]: kind(row[name])})
                for name, kind in features.items()
            }
            moment = row[schema.TIMESTAMP_FIELD]
            assert isinstance(moment, datetime)
            data.append((key, values, moment, None))
        provider = self.store._get_provider()
        provider.online_write_batch(self.store.config, self.view(), data, None)
