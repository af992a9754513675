"""The synthetic data: reproducible, realistic enough to learn from, and drift that shows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from workloads.data import generator
from workloads.data.events import InvalidTransaction, parse_transaction
from workloads.streaming.consumer import decode_event

END = datetime(2026, 11, 20, tzinfo=UTC)


def test_same_seed_same_data_and_another_seed_differs() -> None:
    customers = generator.make_customers(50, seed=3)
    first = generator.generate_transactions(customers, 400, seed=3, end=END)
    again = generator.generate_transactions(generator.make_customers(50, seed=3), 400, 3, END)
    other = generator.generate_transactions(customers, 400, seed=4, end=END)
    assert first == again
    assert first != other


def test_transactions_lie_in_the_window_sorted_with_some_fraud() -> None:
    customers = generator.make_customers(200, seed=1)
    rows = generator.generate_transactions(customers, 2000, seed=1, end=END)
    times = [row["timestamp"] for row in rows]
    assert times == sorted(times)
    assert END - timedelta(days=3) < times[0] and times[-1] <= END
    fraud_share = sum(row["is_fraud"] for row in rows) / len(rows)
    assert 0.01 < fraud_share < 0.08
    assert len({row["transaction_id"] for row in rows}) == len(rows)


def test_every_generated_event_is_valid_and_every_poison_event_is_not() -> None:
    customers = generator.make_customers(30, seed=2)
    for row in generator.generate_transactions(customers, 300, seed=2, end=END):
        parse_transaction(generator.to_event(row))
    poison = generator.poison_events(seed=2, count=24)
    assert len(poison) == 24
    for value in poison:
        try:
            decode_event(value)
        except InvalidTransaction:
            continue
        raise AssertionError(f"poison event accepted: {value!r}")


def test_drift_mode_shifts_amounts_channels_and_countries() -> None:
    customers = generator.make_customers(300, seed=5)
    normal = generator.generate_transactions(customers, 3000, seed=5, end=END)
    drifted = generator.generate_transactions(
        customers, 3000, seed=5, end=END, drift=generator.DriftProfile()
    )

    def mean_amount(rows: list[dict]) -> float:
        return sum(row["amount_aed"] for row in rows) / len(rows)

    def share(rows: list[dict], key: str, value: str, negate: bool = False) -> float:
        return sum((row[key] == value) != negate for row in rows) / len(rows)

    assert mean_amount(drifted) > 1.8 * mean_amount(normal)
    assert share(drifted, "channel", "ecommerce") > 2 * share(normal, "channel", "ecommerce")
    assert share(drifted, "merchant_country", "AE", negate=True) > 3 * share(
        normal, "merchant_country", "AE", negate=True
    )
    assert all(row["transaction_id"].startswith("DRF-") for row in drifted)


def test_drift_mode_brings_a_fraud_pattern_the_history_never_shows() -> None:
    """Concept drift: small domestic wallet top-ups are fraud only in the drifted period (what a
    model trained on the history cannot know, and one retrained on the period's outcomes can)."""
    customers = generator.make_customers(300, seed=5)
    normal = generator.generate_transactions(customers, 3000, seed=5, end=END)
    profile = generator.DriftProfile()
    drifted = generator.generate_transactions(customers, 3000, seed=5, end=END, drift=profile)
    low, high = generator.TOPUP_FRAUD_AMOUNT_AED

    def topups(rows: list[dict]) -> list[dict]:
        return [
            row
            for row in rows
            if row["merchant_category"] == generator.TOPUP_FRAUD["merchant_category"]
            and row["channel"] == generator.TOPUP_FRAUD["channel"]
            and row["merchant_country"] == "AE"
            and low <= row["amount_aed"] <= high
        ]

    assert not any(row["is_fraud"] for row in topups(normal))
    new_fraud = [row for row in topups(drifted) if row["is_fraud"]]
    assert len(new_fraud) == round(3000 * profile.topup_fraud_share)
    assert len(new_fraud) > 5 * len(topups(normal))  # the pattern stands out once labelled
    assert 0.9 * 3000 < len(drifted) < 1.1 * 3000  # it replaces everyday spend, not adds to it
    no_pattern = generator.DriftProfile(topup_fraud_share=0.0)
    assert not any(
        row["is_fraud"]
        for row in topups(
            generator.generate_transactions(customers, 3000, seed=5, end=END, drift=no_pattern)
        )
    )


def test_customers_spread_over_the_emirates_and_segments() -> None:
    customers = generator.make_customers(1000, seed=9)
    emirates = Counter(c.home_emirate for c in customers)
    segments = Counter(c.segment for c in customers)
    assert set(emirates) == set(generator.EMIRATES)
    assert emirates["Dubai"] > emirates["Fujairah"]
    assert segments["mass"] > segments["affluent"] > segments["private"]
