"""The model's input vector: a transaction's own fields plus its customer's features, as numbers.

Shared by training (a whole training set at once) and serving (one request's rows), so that
the two can never disagree about the order or the encoding of an input. `FEATURE_NAMES` is
logged with every model version; the server reads it back from the model rather than assuming
its own copy is the one the model was trained with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import numpy as np

from workloads.data.events import CHANNELS, MERCHANT_CATEGORIES
from workloads.features import schema

GST_MINUTES = 4 * 60  # Gulf Standard Time is UTC+4 all year
HIGH_RISK_CATEGORIES = frozenset(
    {"electronics", "jewellery_gold", "money_transfer", "online_gaming", "travel_airlines"}
)

_NUMERIC_CUSTOMER = [
    "credit_limit_aed",
    "tenure_months",
    "typical_amount_aed",
    *schema.ACTIVITY_FEATURES,
]

FEATURE_NAMES: list[str] = [
    "log_amount",
    "amount_to_typical",
    "amount_to_limit",
    "is_foreign",
    "is_high_risk_category",
    "hour_sin",
    "hour_cos",
    "is_night",
    *(f"channel_{name}" for name in CHANNELS),
    *(f"category_{name}" for name in MERCHANT_CATEGORIES),
    *(f"log1p_{name}" for name in _NUMERIC_CUSTOMER),
    "amount_to_max_24h",
]


def _gulf_hour(when: object) -> float:
    """Hour of the day in the UAE (UTC+4, no daylight saving), as a fraction. Computed from the
    clock fields, not by adding four hours: a datetime near year 1 or 9999 would overflow."""
    if not isinstance(when, datetime) or when.utcoffset() is None:
        raise TypeError("transaction timestamp must be a timezone-aware datetime")
    offset = when.utcoffset() or timedelta(0)
    minutes = when.hour * 60 + when.minute - offset // timedelta(minutes=1) + GST_MINUTES
    return (minutes % (24 * 60)) / 60.0


def encode(transaction: Mapping[str, object], customer: Mapping[str, object]) -> list[float]:
    """One transaction (validated fields) and its customer's features (defaults filled)."""
    amount = float(transaction["amount_aed"])  # type: ignore[arg-type]
    local_hour = _gulf_hour(transaction["timestamp"])
    typical = max(float(customer["typical_amount_aed"]), 1.0)  # type: ignore[arg-type]
    limit = max(float(customer["credit_limit_aed"]), 1.0)  # type: ignore[arg-type]
    max_24h = float(customer["amount_max_24h"])  # type: ignore[arg-type]
    values = [
        math.log1p(amount),
        min(amount / typical, 100.0),
        min(amount / limit, 10.0),
        float(transaction["merchant_country"] != "AE"),
        float(transaction["merchant_category"] in HIGH_RISK_CATEGORIES),
        math.sin(2 * math.pi * local_hour / 24),
        math.cos(2 * math.pi * local_hour / 24),
        float(local_hour < 6),
        *(float(transaction["channel"] == name) for name in CHANNELS),
        *(float(transaction["merchant_category"] == name) for name in MERCHANT_CATEGORIES),
        *(math.log1p(max(float(customer[name]), 0.0)) for name in _NUMERIC_CUSTOMER),  # type: ignore[arg-type]
        min(amount / max_24h, 100.0) if max_24h > 0 else 0.0,
    ]
    return values


def encode_many(
    transactions: Iterable[Mapping[str, object]], customers: Iterable[Mapping[str, object]]
) -> np.ndarray:
    rows = [encode(t, c) for t, c in zip(transactions, customers, strict=True)]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))
