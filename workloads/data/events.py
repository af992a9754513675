"""The card-transaction event: its fields, its vocabulary and the one validator everyone uses.

The stream consumer validates every Kafka event with it (a failure sends the event to the
dead-letter topic with the reason) and the model server validates every scoring request with
it (a failure is a 400 naming the field), so a transaction the stream would reject is never
scored, and the reasons read the same in both places.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from workloads.data.generator import CHANNELS as _CHANNEL_SHARES
from workloads.data.generator import MERCHANT_CATEGORIES as _CATEGORY_SHARES

CHANNELS = tuple(_CHANNEL_SHARES)
MERCHANT_CATEGORIES = tuple(_CATEGORY_SHARES)
CURRENCY = "AED"
MAX_AMOUNT_AED = 5_000_000.0  # above any card limit the bank issues; larger is a unit error
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class InvalidTransaction(ValueError):
    """The event or request is not a valid transaction; `str()` says which field and why."""


@dataclass(frozen=True)
class Transaction:
    transaction_id: str | None
    customer_id: str
    amount_aed: float
    merchant_category: str
    channel: str
    merchant_country: str
    timestamp: datetime

    def as_features(self) -> dict[str, object]:
        return {
            "amount_aed": self.amount_aed,
            "merchant_category": self.merchant_category,
            "channel": self.channel,
            "merchant_country": self.merchant_country,
            "timestamp": self.timestamp,
        }


def _text(record: Mapping[str, object], name: str, pattern: re.Pattern[str]) -> str:
    value = record.get(name)
    if value is None:
        raise InvalidTransaction(f"missing field '{name}'")
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidTransaction(f"field '{name}' must match {pattern.pattern}, got {value!r:.80}")
    return value


def _choice(record: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str:
    value = record.get(name)
    if value is None:
        raise InvalidTransaction(f"missing field '{name}'")
    if value not in allowed:
        raise InvalidTransaction(
            f"field '{name}' must be one of {', '.join(allowed)}; got {value!r:.80}"
        )
    return str(value)


def parse_timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidTransaction(f"field 'timestamp' must be an ISO 8601 string, got {value!r:.80}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidTransaction(
            f"field 'timestamp' is not ISO 8601 with a time zone: {value!r:.80}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidTransaction(f"field 'timestamp' has no time zone: {value!r:.80}")
    return moment.astimezone(UTC)


def parse_transaction(record: object, require_id: bool = True) -> Transaction:
    """Validate a decoded JSON object; raise InvalidTransaction naming the first problem."""
    if not isinstance(record, Mapping):
        kind = type(record).__name__
        raise InvalidTransaction(f"a transaction must be a JSON object, got {kind}")
    transaction_id = None
    if require_id or record.get("transaction_id") is not None:
        transaction_id = _text(record, "transaction_id", _ID)
    amount = record.get("amount_aed")
    if amount is None:
        raise InvalidTransaction("missing field 'amount_aed'")
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise InvalidTransaction(f"field 'amount_aed' must be a number, got {amount!r:.80}")
    if not math.isfinite(amount) or not 0 < amount <= MAX_AMOUNT_AED:
        raise InvalidTransaction(
            f"field 'amount_aed' must be > 0 and <= {MAX_AMOUNT_AED:.0f}, got {amount!r}"
        )
    currency = record.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise InvalidTransaction(f"field 'currency' must be {CURRENCY}, got {currency!r:.80}")
    if "timestamp" not in record:
        raise InvalidTransaction("missing field 'timestamp'")
    return Transaction(
        transaction_id=transaction_id,
        customer_id=_text(record, "customer_id", _ID),
        amount_aed=float(amount),
        merchant_category=_choice(record, "merchant_category", MERCHANT_CATEGORIES),
        channel=_choice(record, "channel", CHANNELS),
        merchant_country=_text(record, "merchant_country", _COUNTRY),
        timestamp=parse_timestamp(record["timestamp"]),
    )
