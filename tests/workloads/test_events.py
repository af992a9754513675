"""The transaction validator that the stream and the model server share: reasons name the field."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from workloads.data.events import (
    MAX_EVENT_BYTES,
    EventLimits,
    InvalidTransaction,
    decode_event,
    parse_transaction,
)
from workloads.data.generator import POISON

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


# ------------------------------------------------------------------ the validator's domain

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # issue 14's crash-loopers, each now a reason naming the field
        ({"timestamp": "2300-01-01T00:00:00Z"}, "field 'timestamp' must lie between"),
        ({"timestamp": "0001-01-01T00:00:00+14:00"}, "field 'timestamp' must lie between"),
        ({"timestamp": "9999-12-31T23:59:59-14:00"}, "field 'timestamp' must lie between"),
        ({"amount_aed": 10**400}, "an integer of about 401 digits"),
        ({"amount_aed": 10**5000}, "an integer of about 5001 digits"),
        ({"customer_id": 10**5000}, "field 'customer_id' must match"),
        # the window, the bounds, the formats
        ({"timestamp": "1999-12-31T23:59:59Z"}, "must lie between 2000-01-01"),
        ({"timestamp": "2026-12-01T12:06:00Z"}, "now \\+ 300 s"),
        ({"timestamp": "2026-11-20T08:30:00" + "0" * 30 + "Z"}, "longer than 40"),
        ({"amount_aed": float("nan")}, "amount_aed"),
        ({"amount_aed": Fraction(10**400, 3)}, "amount_aed"),
        ({"amount_aed": [1]}, "must be a number"),
        ({"transaction_id": "TXN-1\n"}, "transaction_id"),
        ({"customer_id": "CUST\u00e9"}, "customer_id"),
        ({"customer_id": "CUST-\ud800"}, "customer_id"),
        ({"merchant_country": "ae"}, "merchant_country"),
        ({"channel": ["ecommerce"]}, "channel"),
        ({"currency": ["AED"]}, "currency"),
    ],
)
def test_the_domain_is_bounded_and_every_refusal_names_the_field(change: dict, reason: str) -> None:
    with pytest.raises(InvalidTransaction, match=reason):
        parse_transaction({**GOOD, **change}, now=NOW)


def test_the_time_window_and_the_amount_bound_are_configurable() -> None:
    limits = EventLimits.from_env(
        {
            "MLP_EVENTS_EARLIEST": "2026-11-01",
            "MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS": "3600",
            "MLP_EVENTS_MAX_AMOUNT_AED": "100",
        }
    )
    assert limits.earliest == datetime(2026, 11, 1, tzinfo=UTC)
    in_an_hour = {**GOOD, "amount_aed": 50, "timestamp": "2026-12-01T12:59:00Z"}
    assert parse_transaction(in_an_hour, limits=limits, now=NOW).amount_aed == 50.0
    with pytest.raises(InvalidTransaction, match="2026-11-01"):
        parse_transaction(
            {**GOOD, "amount_aed": 50, "timestamp": "2026-10-31T23:00:00Z"}, limits=limits, now=NOW
        )
    with pytest.raises(InvalidTransaction, match="<= 100"):
        parse_transaction({**GOOD, "amount_aed": 100.5}, limits=limits, now=NOW)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"MLP_EVENTS_EARLIEST": "last year"}, "MLP_EVENTS_EARLIEST"),
        ({"MLP_EVENTS_EARLIEST": "1900-01-01"}, "MLP_EVENTS_EARLIEST"),
        ({"MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS": "-5"}, "MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS"),
        ({"MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS": "nan"}, "MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS"),
        ({"MLP_EVENTS_MAX_AMOUNT_AED": "lots"}, "MLP_EVENTS_MAX_AMOUNT_AED"),
    ],
)
def test_unusable_bounds_are_refused_naming_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ValueError, match=variable):
        EventLimits.from_env(environ)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty message"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[" * 50_000, "nested too deeply"),
        (b'{"amount_aed": NaN}', "JSON NaN"),
        (b'{"amount_aed": -Infinity}', "JSON -Infinity"),
        (b'{"amount_aed": ' + b"7" * 5000 + b"}", "JSON integer of 5000 digits"),
        (b"x" * (MAX_EVENT_BYTES + 1), "exceeds"),
        (b'"just a string"', "JSON object"),
    ],
)
def test_raw_events_outside_the_domain_are_refused_with_the_reason(
    raw: bytes | None, reason: str
) -> None:
    with pytest.raises(InvalidTransaction, match=reason):
        decode_event(raw)


def test_every_poison_event_is_refused_with_its_documented_reason() -> None:
    for reason, raw in POISON:
        with pytest.raises(InvalidTransaction) as refused:
            decode_event(raw)
        assert reason in str(refused.value), (raw[:60], str(refused.value))


def _weird_values(rng: random.Random) -> list[object]:
    return [
        None,
        True,
        rng.randint(-(10**6), 10**6),
        10 ** rng.randint(20, 6000),
        -(10 ** rng.randint(20, 6000)),
        rng.uniform(-1e308, 1e308),
        float("nan"),
        float("-inf"),
        Decimal("1e999999"),
        Fraction(10**500, 7),
        "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 40))),
        "\ud800\udfff",
        "x" * rng.randint(0, 200_000),
        rng.choice(
            ["2026-11-20T08:30:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
        ),
        [1, [2, [3]]],
        {"nested": {"deeper": [None]}},
        b"bytes",
        datetime.max,
        object(),
    ]


def test_no_input_raises_anything_but_invalid_transaction() -> None:
    """A fuzz of 3,000 records: field values of every JSON (and Python) kind, at the limits."""
    rng = random.Random(14)
    for _ in range(3000):
        record = dict(GOOD)
        for name in rng.sample(sorted(GOOD), rng.randint(1, 4)):
            record[name] = rng.choice(_weird_values(rng))
        try:
            parse_transaction(record, require_id=rng.random() < 0.5)
        except InvalidTransaction as refusal:
            assert len(str(refusal)) < 400
