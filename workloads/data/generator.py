"""Seeded synthetic card transactions of a UAE retail bank, with fraud outcomes and a drift mode.

What it models, so that the features and the model have something real to find:
- customers in the seven emirates, in mass / affluent / private segments, each with a credit
  limit, a tenure and a typical ticket size (the bank's customer profile);
- everyday spending in AED across merchant categories and channels, with a daytime peak in
  Gulf Standard Time (UTC+4) and a little spending abroad (GCC neighbours, travel);
- card compromise: a few customers' cards are stolen and used in a burst (minutes apart) of
  high-value e-commerce or high-risk purchases, often abroad and at night. Those transactions
  carry `is_fraud = 1` in the settled-transaction file (the label arrives later in real life,
  so the events on Kafka do not carry it);
- drift mode: the same customers in a later period with shifted distributions (bigger tickets,
  spending moved online and abroad), as during a shopping festival or the summer travel season
  (a covariate shift: a model trained before it still ranks the old fraud well), and a new fraud
  pattern (a concept drift the earlier model cannot know): taken-over mobile wallets spent on
  small domestic prepaid top-ups (`utilities_telecom` through `mobile_wallet`, AED 15-90, at
  everyday hours, one at a time rather than in bursts), which look like the safest spend of the
  history. Only a model retrained with the drifted period's outcomes ranks them as fraud.

Everything is a pure function of the seed and the given time window, so tests and the demo are
reproducible.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

GST = timedelta(hours=4)  # Gulf Standard Time, no daylight saving

EMIRATES = {
    "Dubai": 0.40,
    "Abu Dhabi": 0.28,
    "Sharjah": 0.15,
    "Ajman": 0.06,
    "Ras Al Khaimah": 0.05,
    "Fujairah": 0.03,
    "Umm Al Quwain": 0.03,
}

# segment: (share, credit limit range AED, median ticket AED)
SEGMENTS = {
    "mass": (0.65, (5_000, 30_000), 120.0),
    "affluent": (0.28, (30_000, 150_000), 350.0),
    "private": (0.07, (150_000, 750_000), 1_200.0),
}

# category: (share of everyday spend, ticket multiplier, share of fraud spend)
MERCHANT_CATEGORIES: dict[str, tuple[float, float, float]] = {
    "grocery": (0.22, 0.6, 0.02),
    "restaurants": (0.15, 0.7, 0.02),
    "fuel": (0.10, 0.5, 0.01),
    "retail_fashion": (0.10, 1.5, 0.08),
    "utilities_telecom": (0.08, 1.2, 0.02),
    "healthcare": (0.05, 1.0, 0.01),
    "travel_airlines": (0.05, 6.0, 0.10),
    "electronics": (0.06, 3.0, 0.22),
    "hotels": (0.03, 4.0, 0.05),
    "jewellery_gold": (0.03, 5.0, 0.16),
    "government_services": (0.04, 0.8, 0.01),
    "education": (0.03, 3.0, 0.01),
    "money_transfer": (0.03, 2.5, 0.14),
    "online_gaming": (0.03, 0.8, 0.15),
}

# channel: (share of everyday spend, share of fraud spend)
CHANNELS: dict[str, tuple[float, float]] = {
    "pos_chip": (0.25, 0.05),
    "contactless": (0.38, 0.05),
    "mobile_wallet": (0.17, 0.10),
    "ecommerce": (0.15, 0.75),
    "atm": (0.05, 0.05),
}

FOREIGN_COUNTRIES = ["SA", "OM", "BH", "QA", "KW", "GB", "IN", "TR", "US", "NG"]


@dataclass(frozen=True)
class Customer:
    customer_id: str
    home_emirate: str
    segment: str
    credit_limit_aed: float
    tenure_months: int
    typical_amount_aed: float


@dataclass(frozen=True)
class DriftProfile:
    """How a drifted period differs from the reference period."""

    amount_factor: float = 2.5
    ecommerce_share: float = 0.55
    foreign_share: float = 0.25
    # the new fraud pattern (wallet top-up fraud): its share of the period's transactions
    topup_fraud_share: float = 0.03


# The new fraud pattern of the drifted period: where it spends and how much (AED).
TOPUP_FRAUD = {"merchant_category": "utilities_telecom", "channel": "mobile_wallet"}
TOPUP_FRAUD_AMOUNT_AED = (15.0, 90.0)


NO_DRIFT_FOREIGN_SHARE = 0.04


def make_customers(count: int, seed: int) -> list[Customer]:
    rng = np.random.default_rng([seed, 1])
    emirates = list(EMIRATES)
    segments = list(SEGMENTS)
    customers = []
    for index in range(count):
        segment = segments[rng.choice(len(segments), p=[s[0] for s in SEGMENTS.values()])]
        _, (low, high), median_ticket = SEGMENTS[segment]
        customers.append(
            Customer(
                customer_id=f"CUST-{index:06d}",
                home_emirate=emirates[rng.choice(len(emirates), p=list(EMIRATES.values()))],
                segment=segment,
                credit_limit_aed=float(round(rng.uniform(low, high), -2)),
                tenure_months=int(rng.integers(1, 240)),
                typical_amount_aed=round(float(median_ticket * rng.lognormal(0.0, 0.35)), 2),
            )
        )
    return customers


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    probabilities = np.array(list(weights.values()), dtype=float)
    return names[rng.choice(len(names), p=probabilities / probabilities.sum())]


def _daytime_offset(rng: np.random.Generator, day_start_utc: datetime) -> datetime:
    # Spending peaks from late morning to late evening, Gulf time.
    hour_weights = np.array([0.3] * 7 + [1.0] * 3 + [2.0] * 12 + [1.2] * 2)
    local_hour = int(rng.choice(24, p=hour_weights / hour_weights.sum()))
    seconds = local_hour * 3600 + float(rng.uniform(0, 3600))
    return day_start_utc + timedelta(seconds=seconds) - GST


def _round_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def iso_utc(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def generate_transactions(
    customers: list[Customer],
    count: int,
    seed: int,
    end: datetime,
    span: timedelta = timedelta(days=3),
    fraud_rate: float = 0.03,
    drift: DriftProfile | None = None,
) -> list[dict]:
    """About `count` transactions in (end - span, end], sorted by time, each with `is_fraud`.

    Long (98 lines) because it is one seeded story: every random draw happens in one fixed order,
    which is what makes the data reproducible from the seed.
    """
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    rng = np.random.default_rng([seed, 2, int(drift is not None)])
    start = end - span
    prefix = "DRF" if drift else "TXN"
    # Bursts average four transactions: about fraud_rate of all transactions are fraudulent,
    # whatever the period's length or volume.
    burst_count = min(len(customers), max(1, round(count * fraud_rate / 4)))
    topup_count = round(count * drift.topup_fraud_share) if drift else 0
    legit_count = count - 4 * burst_count - topup_count
    rows: list[dict] = []

    def add(
        customer: Customer,
        when: datetime,
        category: str,
        channel: str,
        country: str,
        amount: float,
        is_fraud: int,
    ) -> None:
        rows.append(
            {
                "customer_id": customer.customer_id,
                "amount_aed": round(max(amount, 1.0), 2),
                "currency": "AED",
                "merchant_category": category,
                "channel": channel,
                "merchant_country": country,
                "timestamp": _round_ms(when),
                "is_fraud": is_fraud,
            }
        )

    channel_weights = {name: shares[0] for name, shares in CHANNELS.items()}
    foreign_share = NO_DRIFT_FOREIGN_SHARE
    amount_factor = 1.0
    if drift:
        rest = 1.0 - drift.ecommerce_share
        others = sum(v for k, v in channel_weights.items() if k != "ecommerce")
        channel_weights = {
            k: (drift.ecommerce_share if k == "ecommerce" else v / others * rest)
            for k, v in channel_weights.items()
        }
        foreign_share = drift.foreign_share
        amount_factor = drift.amount_factor
    category_weights = {name: shares[0] for name, shares in MERCHANT_CATEGORIES.items()}

    days = max(1, math.ceil(span / timedelta(days=1)))
    first_day = (start + GST).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(legit_count):
        customer = customers[int(rng.integers(len(customers)))]
        day = first_day + timedelta(days=int(rng.integers(days + 1)))
        when = _daytime_offset(rng, day)
        if not start < when <= end:
            when = start + (end - start) * float(rng.uniform(0.0001, 1.0))
        category = _pick(rng, category_weights)
        channel = _pick(rng, channel_weights)
        if channel == "atm":
            category = "money_transfer" if rng.uniform() < 0.2 else category
        country = "AE"
        if rng.uniform() < foreign_share:
            country = FOREIGN_COUNTRIES[int(rng.integers(len(FOREIGN_COUNTRIES) - 1))]
        ticket = customer.typical_amount_aed * MERCHANT_CATEGORIES[category][1] * amount_factor
        add(customer, when, category, channel, country, ticket * rng.lognormal(0.0, 0.6), 0)

    # Card compromise: bursts of fraudulent spend minutes apart, at any hour.
    fraud_category_weights = {name: shares[2] for name, shares in MERCHANT_CATEGORIES.items()}
    fraud_channel_weights = {name: shares[1] for name, shares in CHANNELS.items()}
    compromised = rng.choice(len(customers), size=burst_count, replace=False)
    for index in compromised:
        customer = customers[int(index)]
        when = start + (end - start) * float(rng.uniform(0.05, 0.95))
        for _ in range(int(rng.integers(2, 7))):
            category = _pick(rng, fraud_category_weights)
            channel = _pick(rng, fraud_channel_weights)
            country = (
                FOREIGN_COUNTRIES[int(rng.integers(len(FOREIGN_COUNTRIES)))]
                if rng.uniform() < 0.6
                else "AE"
            )
            amount = max(customer.typical_amount_aed * 4, 800.0) * rng.lognormal(0.3, 0.5)
            add(customer, min(when, end), category, channel, country, amount * amount_factor, 1)
            when += timedelta(seconds=float(rng.uniform(40, 900)))

    if topup_count:
        rows.extend(_topup_fraud(customers, topup_count, seed, start, end))
    rows.sort(key=lambda row: (row["timestamp"], row["customer_id"]))
    for number, row in enumerate(rows):
        row["transaction_id"] = f"{prefix}-{seed}-{number:07d}"
    return rows


def _topup_fraud(
    customers: list[Customer], count: int, seed: int, start: datetime, end: datetime
) -> list[dict]:
    """The drifted period's new fraud pattern: `count` small domestic daytime top-ups through
    taken-over mobile wallets, spread over the period and the customers (no bursts: the activity
    features look ordinary). Its own random stream, so the rest of the period does not change."""
    rng = np.random.default_rng([seed, 3])
    days = max(1, math.ceil((end - start) / timedelta(days=1)))
    first_day = (start + GST).replace(hour=0, minute=0, second=0, microsecond=0)
    low, high = TOPUP_FRAUD_AMOUNT_AED
    rows = []
    for _ in range(count):
        customer = customers[int(rng.integers(len(customers)))]
        day = first_day + timedelta(days=int(rng.integers(days + 1)))
        when = _daytime_offset(rng, day)
        if not start < when <= end:
            when = start + (end - start) * float(rng.uniform(0.0001, 1.0))
        rows.append(
            {
                "customer_id": customer.customer_id,
                "amount_aed": round(float(rng.uniform(low, high)), 2),
                "currency": "AED",
                **TOPUP_FRAUD,
                "merchant_country": "AE",
                "timestamp": _round_ms(when),
                "is_fraud": 1,
            }
        )
    return rows


def to_event(row: dict) -> dict:
    """The Kafka event for a generated transaction: what the card switch publishes (no label)."""
    return {
        "transaction_id": row["transaction_id"],
        "customer_id": row["customer_id"],
        "amount_aed": row["amount_aed"],
        "currency": row["currency"],
        "merchant_category": row["merchant_category"],
        "channel": row["channel"],
        "merchant_country": row["merchant_country"],
        "timestamp": iso_utc(row["timestamp"]),
    }


def customer_profiles(customers: list[Customer], as_of: datetime) -> list[dict]:
    """Rows of the bank's customer-profile table (the batch feature view's source)."""
    return [{**asdict(c), "event_timestamp": as_of} for c in customers]


_POISON_BASE = {
    "transaction_id": "TXN-poison",
    "customer_id": "CUST-000001",
    "amount_aed": 100.0,
    "currency": "AED",
    "merchant_category": "grocery",
    "channel": "contactless",
    "merchant_country": "AE",
    "timestamp": "2026-01-01T10:00:00.000Z",
}


def _poison(**change: object) -> bytes:
    record = {k: v for k, v in {**_POISON_BASE, **change}.items() if v is not _DROP}
    return json.dumps(record).encode()


_DROP = object()

# (a fragment of the reason the validator gives, the raw event): one per branch of
# `workloads.data.events`, the first ones the kinds a real feed produces.
POISON: tuple[tuple[str, bytes], ...] = (
    ("not JSON", b"{not json"),
    ("not UTF-8", b"\xff\xfe\x00garbage"),
    ("JSON object", b"[1, 2, 3]"),
    ("not JSON", b""),
    ("amount_aed", _poison(amount_aed=-50)),
    ("amount_aed", _poison(amount_aed="NaN")),
    ("currency", _poison(currency="USD")),
    ("merchant_category", _poison(merchant_category="unknown_mcc")),
    ("timestamp", _poison(timestamp="yesterday")),
    ("missing field 'customer_id'", _poison(customer_id=_DROP)),
    ("missing field 'channel'", _poison(channel=None)),
    ("amount_aed", _poison(amount_aed=True)),
    # issue 14's crash-loopers: outside pandas' time range, astimezone overflow, huge integers
    ("field 'timestamp' must lie between", _poison(timestamp="2300-01-01T00:00:00Z")),
    ("field 'timestamp' must lie between", _poison(timestamp="0001-01-01T00:00:00+14:00")),
    ("JSON integer of 400 digits", _poison().replace(b"100.0", b"9" * 400)),
    ("JSON integer of 5000 digits", _poison().replace(b"100.0", b"7" * 5000)),
    # the rest of the domain
    ("JSON NaN", _poison().replace(b"100.0", b"NaN")),
    ("JSON Infinity", _poison().replace(b"100.0", b"Infinity")),
    ("nested too deeply", b"[" * 50_000),
    (f"exceeds {64 * 1024}", _poison(note="x" * (64 * 1024))),
    ("missing field 'transaction_id'", _poison(transaction_id=_DROP)),
    ("field 'transaction_id' must match", _poison(transaction_id="TXN-poison\n")),
    ("field 'customer_id' must match", _poison(customer_id="x" * 65)),
    ("missing field 'amount_aed'", _poison(amount_aed=_DROP)),
    ("field 'amount_aed' must be > 0", _poison(amount_aed=10**20)),
    ("field 'amount_aed' must be a number", _poison(amount_aed=[1])),
    ("field 'channel' must be one of", _poison(channel="fax")),
    ("field 'merchant_country' must match", _poison(merchant_country="UAE")),
    ("missing field 'timestamp'", _poison(timestamp=_DROP)),
    ("must be an ISO 8601 string", _poison(timestamp=1732000000)),
    ("has no time zone", _poison(timestamp="2026-01-01T10:00:00")),
    ("longer than 40 characters", _poison(timestamp="2026-01-01T10:00:00" + "0" * 30 + "Z")),
    ("field 'timestamp' must lie between", _poison(timestamp="1999-12-31T23:59:59Z")),
    ("field 'timestamp' must lie between", _poison(timestamp="2999-01-01T00:00:00+04:00")),
)


def poison_events(seed: int, count: int) -> list[bytes]:
    """Malformed events (`POISON`, cycled): the dead-letter path's input. Any count >= len(POISON)
    exercises every branch of the validator."""
    return [
        POISON[n % len(POISON)][1].replace(b"TXN-poison", f"TXN-poison-{seed}-{n}".encode())
        for n in range(count)
    ]
