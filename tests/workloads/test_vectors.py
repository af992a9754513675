"""The model input vector: one place decides its order and encoding, for training and serving."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from workloads.features import schema, vectors

TXN = {
    "amount_aed": 500.0,
    "merchant_category": "electronics",
    "channel": "ecommerce",
    "merchant_country": "NG",
    "timestamp": datetime(2026, 11, 20, 22, 0, tzinfo=UTC),  # 02:00 in the UAE
}


def test_vector_matches_the_feature_names() -> None:
    customer, _ = schema.fill_defaults({})
    row = dict(zip(vectors.FEATURE_NAMES, vectors.encode(TXN, customer), strict=True))
    assert row["channel_ecommerce"] == 1.0 and row["channel_pos_chip"] == 0.0
    assert row["category_electronics"] == 1.0
    assert sum(v for k, v in row.items() if k.startswith("category_")) == 1.0
    assert row["is_foreign"] == 1.0 and row["is_high_risk_category"] == 1.0
    assert row["is_night"] == 1.0  # local (Gulf) time, not UTC
    assert row["log_amount"] == math.log1p(500.0)
    assert row["amount_to_typical"] == 500.0 / schema.DEFAULTS["typical_amount_aed"]
    assert row["amount_to_max_24h"] == 0.0  # no history: no ratio to a maximum


def test_defaults_fill_missing_and_nan_features_and_say_which() -> None:
    filled, missing = schema.fill_defaults({"txn_count_1h": 2, "typical_amount_aed": float("nan")})
    assert filled["txn_count_1h"] == 2
    assert filled["typical_amount_aed"] == schema.DEFAULTS["typical_amount_aed"]
    assert "typical_amount_aed" in missing and "txn_count_1h" not in missing
    assert set(filled) == set(schema.ALL_FEATURES)


def test_encode_many_is_float32_rows() -> None:
    customer, _ = schema.fill_defaults({})
    matrix = vectors.encode_many([TXN, TXN], [customer, customer])
    assert matrix.shape == (2, len(vectors.FEATURE_NAMES))
    assert matrix.dtype == np.float32
    assert np.isfinite(matrix).all()


def test_the_gulf_hour_is_right_at_any_offset_and_never_overflows() -> None:
    customer, _ = schema.fill_defaults({})
    index = vectors.FEATURE_NAMES.index("is_night")
    plus_one = timezone(timedelta(hours=1))
    for when, night in [
        (datetime(2026, 11, 20, 22, 0, tzinfo=UTC), 1.0),  # 02:00 in the UAE
        (datetime(2026, 11, 20, 23, 0, tzinfo=plus_one), 1.0),  # the same moment
        (datetime(2026, 11, 20, 6, 0, tzinfo=UTC), 0.0),  # 10:00 in the UAE
        (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), 1.0),  # 03:59; + 4 h would overflow
        (datetime(1, 1, 1, 0, 0, tzinfo=plus_one), 1.0),  # 22:59 UTC the day before
    ]:
        row = vectors.encode({**TXN, "timestamp": when}, customer)
        assert row[index] == night, when
    for hour in range(24):
        when = datetime(2026, 11, 20, hour, 30, tzinfo=UTC)
        local = when + timedelta(hours=4)
        expected = math.sin(2 * math.pi * (local.hour + local.minute / 60) / 24)
        row = vectors.encode({**TXN, "timestamp": when}, customer)
        assert row[vectors.FEATURE_NAMES.index("hour_sin")] == pytest.approx(expected)


def test_a_naive_timestamp_is_refused() -> None:
    customer, _ = schema.fill_defaults({})
    with pytest.raises(TypeError, match="timezone-aware"):
        vectors.encode({**TXN, "timestamp": datetime(2026, 11, 20, 8, 0)}, customer)
