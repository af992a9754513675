"""Names, types and defaults of the card-risk features: what stream, training and serving share.

The activity features of a customer describe the windows ending at that customer's most recent
transaction, that transaction included. A transaction is scored (and, in the training set,
joined point-in-time) against the row written *before* it, so training and serving see the same
thing. A customer the feature store does not know (new card, or no activity within the view's
TTL) gets `DEFAULTS`: an empty history and a conservative profile.
"""

from __future__ import annotations

from datetime import timedelta

ENTITY_NAME = "customer"
JOIN_KEY = "customer_id"
TIMESTAMP_FIELD = "event_timestamp"

PROFILE_VIEW = "customer_profile"
ACTIVITY_VIEW = "customer_activity"
ACTIVITY_PUSH_SOURCE = "customer_activity_push"
FEATURE_SERVICE = "card_risk_v1"

ACTIVITY_TTL = timedelta(days=7)
PROFILE_TTL = timedelta(days=400)

# Feature name -> Python type; float features are float64 end to end, counts int64.
PROFILE_FEATURES: dict[str, type] = {
    "home_emirate": str,
    "segment": str,
    "credit_limit_aed": float,
    "tenure_months": int,
    "typical_amount_aed": float,
}
ACTIVITY_FEATURES: dict[str, type] = {
    "txn_count_1h": int,
    "txn_count_24h": int,
    "amount_sum_1h": float,
    "amount_sum_24h": float,
    "amount_max_24h": float,
    "distinct_categories_24h": int,
    "ecommerce_share_24h": float,
    "foreign_count_24h": int,
    "seconds_since_previous": float,
}

# Cap for "time since the previous transaction": also the value for "no previous transaction".
NO_PREVIOUS_SECONDS = ACTIVITY_TTL.total_seconds()

DEFAULTS: dict[str, object] = {
    "home_emirate": "unknown",
    "segment": "unknown",
    "credit_limit_aed": 10_000.0,
    "tenure_months": 0,
    "typical_amount_aed": 150.0,
    "txn_count_1h": 0,
    "txn_count_24h": 0,
    "amount_sum_1h": 0.0,
    "amount_sum_24h": 0.0,
    "amount_max_24h": 0.0,
    "distinct_categories_24h": 0,
    "ecommerce_share_24h": 0.0,
    "foreign_count_24h": 0,
    "seconds_since_previous": NO_PREVIOUS_SECONDS,
}

ALL_FEATURES: dict[str, type] = {**PROFILE_FEATURES, **ACTIVITY_FEATURES}


def fill_defaults(values: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """Replace missing (None / NaN) features by their defaults; return the names replaced."""
    filled: dict[str, object] = {}
    missing: list[str] = []
    for name in ALL_FEATURES:
        value = values.get(name)
        if value is None or (isinstance(value, float) and value != value):
            filled[name] = DEFAULTS[name]
            missing.append(name)
        else:
            filled[name] = value
    return filled, missing
