"""The Feast objects of the card-risk use case: what the features are, not where they are stored.

- entity `customer` (join key `customer_id`);
- `customer_profile`: a batch feature view over the bank's customer-profile table in the
  offline store, materialised to the online store;
- `customer_activity`: a stream feature view fed through the push source
  `customer_activity_push` by the Kafka consumer (`workloads.streaming`), whose pushes land in
  both stores; its batch source is the history used for point-in-time training sets;
- `card_risk_v1`: the feature service the model is trained and served with.

Offline paths are relative to the feature repository (the directory of `feature_store.yaml`),
or absolute URIs (`s3://...`) when `offline_root` says so; the same definitions then serve every
environment.
"""

from __future__ import annotations

import warnings

from feast import Entity, FeatureService, Field, FileSource, PushSource
from feast.batch_feature_view import BatchFeatureView
from feast.stream_feature_view import StreamFeatureView
from feast.types import Float64, Int64, PrimitiveFeastType, String
from feast.value_type import ValueType

from workloads.features import schema

_FEAST_TYPES: dict[type, PrimitiveFeastType] = {str: String, int: Int64, float: Float64}


def _fields(features: dict[str, type]) -> list[Field]:
    return [Field(name=name, dtype=_FEAST_TYPES[kind]) for name, kind in features.items()]


def offline_path(offline_root: str, view: str) -> str:
    return f"{offline_root.rstrip('/')}/{view}.parquet"


def build(offline_root: str = "offline") -> list:
    """Every object to `FeatureStore.apply`, in dependency order."""
    customer = Entity(
        name=schema.ENTITY_NAME,
        join_keys=[schema.JOIN_KEY],
        value_type=ValueType.STRING,
        description="A card-holding customer of the bank",
    )
    profile_source = FileSource(
        name="customer_profile_source",
        path=offline_path(offline_root, schema.PROFILE_VIEW),
        timestamp_field=schema.TIMESTAMP_FIELD,
    )
    activity_history = FileSource(
        name="customer_activity_history",
        path=offline_path(offline_root, schema.ACTIVITY_VIEW),
        timestamp_field=schema.TIMESTAMP_FIELD,
    )
    activity_push = PushSource(name=schema.ACTIVITY_PUSH_SOURCE, batch_source=activity_history)
    # Feast marks batch and stream feature views "experimental"; the API used here is the
    # documented one, so the warning is noise in every workload's log.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        profile = BatchFeatureView(
            name=schema.PROFILE_VIEW,
            entities=[customer],
            ttl=schema.PROFILE_TTL,
            source=profile_source,
            schema=_fields(schema.PROFILE_FEATURES),
            # online: materialised for serving. offline stays False: in Feast 0.67 that flag
            # makes materialisation write its output back into the source table.
            online=True,
            offline=False,
            description="Customer profile from the core-banking system (daily snapshot)",
        )
        activity = StreamFeatureView(
            name=schema.ACTIVITY_VIEW,
            entities=[customer],
            ttl=schema.ACTIVITY_TTL,
            source=activity_push,
            schema=_fields(schema.ACTIVITY_FEATURES),
            timestamp_field=schema.TIMESTAMP_FIELD,
            online=True,
            offline=False,
            description="Windowed card activity, computed from the transaction stream",
        )
    service = FeatureService(
        name=schema.FEATURE_SERVICE,
        features=[profile, activity],
        description="Features of the card-transaction risk model",
    )
    return [customer, profile_source, activity_history, activity_push, profile, activity, service]
