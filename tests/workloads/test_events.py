"""The transaction validator that the stream and the model server share: reasons name the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workloads.data.events import InvalidTransaction, parse_transaction

GOOD = {
    "transaction_id": "TXN-1",
    "customer_id": "CUST-000001",
    "amount_aed": 120.5,
    "currency": "AED",
    "merchant_category": "grocery",
    "channel": "contactless",
    "merchant_country": "AE",
    "timestamp": "2026-11-20T08:30:00.250Z",
}


def test_a_valid_event_parses_to_utc() -> None:
    txn = parse_transaction(GOOD)
    assert txn.amount_aed == 120.5
    assert txn.timestamp == datetime(2026, 11, 20, 8, 30, 0, 250000, tzinfo=UTC)
    gulf_time = parse_transaction({**GOOD, "timestamp": "2026-11-20T12:30:00+04:00"})
    assert gulf_time.timestamp == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount_aed": -1}, "amount_aed"),
        ({"amount_aed": 0}, "amount_aed"),
        ({"amount_aed": float("inf")}, "amount_aed"),
        ({"amount_aed": "12"}, "amount_aed"),
        ({"amount_aed": True}, "amount_aed"),
        ({"amount_aed": 10_000_000}, "amount_aed"),
        ({"currency": "USD"}, "currency"),
        ({"merchant_category": "casino"}, "merchant_category"),
        ({"channel": "fax"}, "channel"),
        ({"merchant_country": "UAE"}, "merchant_country"),
        ({"timestamp": "2026-11-20 08:30"}, "time zone"),
        ({"timestamp": 1732000000}, "timestamp"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": "x" * 100}, "customer_id"),
        ({"customer_id": None}, "missing field 'customer_id'"),
    ],
)
def test_invalid_fields_are_named(change: dict, reason: str) -> None:
    with pytest.raises(InvalidTransaction, match=reason):
        parse_transaction({**GOOD, **change})


def test_missing_transaction_id_is_allowed_only_when_not_required() -> None:
    record = {k: v for k, v in GOOD.items() if k != "transaction_id"}
    assert parse_transaction(record, require_id=False).transaction_id is None
    with pytest.raises(InvalidTransaction, match="transaction_id"):
        parse_transaction(record)


def test_non_objects_are_rejected() -> None:
    for value in ([GOOD], "text", 3, None):
        with pytest.raises(InvalidTransaction, match="JSON object"):
            parse_transaction(value)
