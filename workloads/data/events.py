"""The card-transaction event: its fields, its vocabulary and the one validator everyone uses.

The stream consumer validates every Kafka event with it (a failure sends the event to the
dead-letter topic with the reason), the model server every scoring request and training its
input rows, so a transaction the stream would reject is never scored or learnt from, and the
reasons read the same everywhere.

The validator's domain (everything outside it is an `InvalidTransaction`, never another error):
- raw event (`decode_event`): at most `MAX_EVENT_BYTES` of strict UTF-8 holding one JSON object;
- JSON (`loads_json`): no NaN / Infinity, integers of at most `MAX_INTEGER_DIGITS` digits,
  nesting within Python's recursion limit;
- `transaction_id`, `customer_id`: 1-64 ASCII letters, digits and `_ . : -`, starting with a
  letter or digit;
- `amount_aed`: a finite number, 0 < amount <= `EventLimits.max_amount_aed` (5,000,000);
- `currency`: `AED` (optional); `merchant_category`, `channel`: the vocabulary below;
- `merchant_country`: two upper-case letters (ISO 3166-1 alpha-2);
- `timestamp`: ISO 8601 with a time zone, at most `MAX_TIMESTAMP_CHARS` characters, from
  `EventLimits.earliest` (2000-01-01) to now + `EventLimits.max_future_skew` (5 minutes).

The bounds are configurable (`EventLimits.from_env`: `MLP_EVENTS_EARLIEST`,
`MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS`, `MLP_EVENTS_MAX_AMOUNT_AED`); a workload resolves them once
at start-up, so a bad setting stops it with a message instead of rejecting every event.
Unknown extra fields are ignored (they are neither stored nor scored).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from workloads.data.generator import CHANNELS as _CHANNEL_SHARES
from workloads.data.generator import MERCHANT_CATEGORIES as _CATEGORY_SHARES

CHANNELS = tuple(_CHANNEL_SHARES)
MERCHANT_CATEGORIES = tuple(_CATEGORY_SHARES)
CURRENCY = "AED"
MAX_AMOUNT_AED = 5_000_000.0  # above any card limit the bank issues; larger is a unit error
MAX_EVENT_BYTES = 64 * 1024
MAX_INTEGER_DIGITS = 32
MAX_TIMESTAMP_CHARS = 40
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_COUNTRY = re.compile(r"[A-Z]{2}")


class InvalidTransaction(ValueError):
    """The event or request is not a valid transaction; `str()` says which field and why."""


@dataclass(frozen=True)
class EventLimits:
    """The configurable bounds of the validator's domain."""

    earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    max_future_skew: timedelta = timedelta(minutes=5)
    max_amount_aed: float = MAX_AMOUNT_AED

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EventLimits:
        """Bounds from `MLP_EVENTS_*`; ValueError naming the variable if one is unusable."""
        env = os.environ if environ is None else environ
        defaults = cls()
        earliest, skew, amount = (
            defaults.earliest,
            defaults.max_future_skew,
            defaults.max_amount_aed,
        )
        if env.get("MLP_EVENTS_EARLIEST"):
            earliest = _setting_time("MLP_EVENTS_EARLIEST", env["MLP_EVENTS_EARLIEST"])
        if env.get("MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS"):
            name = "MLP_EVENTS_MAX_FUTURE_SKEW_SECONDS"
            skew = timedelta(seconds=_setting_number(name, env[name], 0, 86_400))
        if env.get("MLP_EVENTS_MAX_AMOUNT_AED"):
            name = "MLP_EVENTS_MAX_AMOUNT_AED"
            amount = _setting_number(name, env[name], 1, 1e12)
        return cls(earliest=earliest, max_future_skew=skew, max_amount_aed=amount)


DEFAULT_LIMITS = EventLimits()


def _setting_time(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}={_show(value)}: expected an ISO 8601 date or time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not datetime(1970, 1, 1, tzinfo=UTC) <= moment <= datetime(2200, 1, 1, tzinfo=UTC):
        raise ValueError(f"{name}={_show(value)}: must lie between 1970 and 2200")
    return moment.astimezone(UTC)


def _setting_number(name: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not low <= number <= high:  # also refuses NaN
        raise ValueError(f"{name}={_show(value)}: expected a number from {low:g} to {high:g}")
    return number


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


# ------------------------------------------------------------------ raw bytes and JSON


def _refuse_constant(name: str) -> object:
    raise InvalidTransaction(f"JSON {name} is not a number this platform accepts")


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise InvalidTransaction(
            f"JSON integer of {digits} digits; at most {MAX_INTEGER_DIGITS} are accepted"
        )
    return int(text)


# One decoder for every event: `json.loads` with hooks builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_bounded_int)


def loads_json(text: str | bytes) -> object:
    """Strict JSON: no NaN/Infinity, bounded integers and nesting; InvalidTransaction otherwise."""
    try:
        if isinstance(text, str):
            return _DECODER.decode(text)
        return json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int)
    except InvalidTransaction:
        raise
    except RecursionError:
        raise InvalidTransaction("JSON nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and UnicodeDecodeError of bytes input
        raise InvalidTransaction(f"event is not JSON: {str(error)[:200]}") from None


def decode_event(value: bytes | None, limits: EventLimits = DEFAULT_LIMITS) -> Transaction:
    """Bytes from Kafka to a valid Transaction, or InvalidTransaction with the reason."""
    if value is None:
        raise InvalidTransaction("empty message (no value)")
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidTransaction(f"event of {len(value)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidTransaction(f"event is not UTF-8: {error}") from None
    return parse_transaction(loads_json(text), limits=limits)


# ------------------------------------------------------------------ fields


def _show(value: object) -> str:
    """A short, safe rendering of a rejected value for a message (never raises)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        bits = int(value).bit_length()
        if bits > 100:
            return f"an integer of about {int(bits * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else f"{text[:77]}..."


def _text(record: Mapping[str, object], name: str, pattern: re.Pattern[str]) -> str:
    value = record.get(name)
    if value is None:
        raise InvalidTransaction(f"missing field '{name}'")
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidTransaction(f"field '{name}' must match {pattern.pattern}, got {_show(value)}")
    return value


def _choice(record: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str:
    value = record.get(name)
    if value is None:
        raise InvalidTransaction(f"missing field '{name}'")
    if not isinstance(value, str) or value not in allowed:
        raise InvalidTransaction(
            f"field '{name}' must be one of {', '.join(allowed)}; got {_show(value)}"
        )
    return value


def _amount(value: object, limits: EventLimits) -> float:
    if value is None:
        raise InvalidTransaction("missing field 'amount_aed'")
    if type(value) is float:  # the usual case, without the ABC checks below
        if not (math.isfinite(value) and 0 < value <= limits.max_amount_aed):
            raise InvalidTransaction(
                f"field 'amount_aed' must be > 0 and <= {limits.max_amount_aed:.0f}, "
                f"got {_show(value)}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTransaction(f"field 'amount_aed' must be a number, got {_show(value)}")
    # Integers compare exactly (no float conversion that a 400-digit integer would overflow).
    try:
        if isinstance(value, numbers.Integral):
            valid = 0 < int(value) <= limits.max_amount_aed
        else:
            number = float(value)
            valid = math.isfinite(number) and 0 < number <= limits.max_amount_aed
    except (OverflowError, ValueError, TypeError):  # e.g. a Fraction too large for a float
        valid = False
    if not valid:
        raise InvalidTransaction(
            f"field 'amount_aed' must be > 0 and <= {limits.max_amount_aed:.0f}, got {_show(value)}"
        )
    return float(value)


def parse_timestamp(
    value: object, limits: EventLimits = DEFAULT_LIMITS, now: datetime | None = None
) -> datetime:
    """An ISO 8601 time with a zone, in UTC, inside the limits' window."""
    if not isinstance(value, str):
        raise InvalidTransaction(
            f"field 'timestamp' must be an ISO 8601 string, got {_show(value)}"
        )
    if len(value) > MAX_TIMESTAMP_CHARS:
        raise InvalidTransaction(
            f"field 'timestamp' is longer than {MAX_TIMESTAMP_CHARS} characters: {_show(value)}"
        )
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidTransaction(
            f"field 'timestamp' is not ISO 8601 with a time zone: {_show(value)}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidTransaction(f"field 'timestamp' has no time zone: {_show(value)}")
    latest = (now or datetime.now(UTC)) + limits.max_future_skew
    try:
        utc: datetime | None = moment.astimezone(UTC)  # years 1 and 9999 with an offset overflow
    except OverflowError:
        utc = None
    if utc is None or not limits.earliest <= utc <= latest:
        raise InvalidTransaction(
            f"field 'timestamp' must lie between {limits.earliest.isoformat()} and now + "
            f"{limits.max_future_skew.total_seconds():.0f} s, got {_show(value)}"
        )
    return utc


def parse_transaction(
    record: object,
    require_id: bool = True,
    *,
    limits: EventLimits = DEFAULT_LIMITS,
    now: datetime | None = None,
) -> Transaction:
    """Validate a decoded JSON object; raise InvalidTransaction naming the first problem.

    Raises nothing but InvalidTransaction, whatever `record` holds.
    """
    if type(record) is not dict and not isinstance(record, Mapping):  # dict: no ABC check
        kind = type(record).__name__
        raise InvalidTransaction(f"a transaction must be a JSON object, got {kind}")
    transaction_id = None
    if require_id or record.get("transaction_id") is not None:
        transaction_id = _text(record, "transaction_id", _ID)
    amount = _amount(record.get("amount_aed"), limits)
    currency = record.get("currency", CURRENCY)
    if not isinstance(currency, str) or currency != CURRENCY:
        raise InvalidTransaction(f"field 'currency' must be {CURRENCY}, got {_show(currency)}")
    if "timestamp" not in record:
        raise InvalidTransaction("missing field 'timestamp'")
    return Transaction(
        transaction_id=transaction_id,
        customer_id=_text(record, "customer_id", _ID),
        amount_aed=amount,
        merchant_category=_choice(record, "merchant_category", MERCHANT_CATEGORIES),
        channel=_choice(record, "channel", CHANNELS),
        merchant_country=_text(record, "merchant_country", _COUNTRY),
        timestamp=parse_timestamp(record["timestamp"], limits, now),
    )
