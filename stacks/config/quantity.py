"""Kubernetes resource quantities ("500m", "16", "64Gi") parsed to numbers for validation."""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(r"^(?P<num>[0-9]+(\.[0-9]+)?)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def parse_quantity(value: str | int | float) -> Decimal:
    """Return the quantity in base units (cores or bytes); raise ValueError if malformed."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(
            "is not a Kubernetes quantity; use e.g. '500m' or '8' (CPU), '64Gi' (memory)"
        )
    return Decimal(match["num"]) * _FACTORS[match["suffix"]]


def is_quantity(value: str | int | float) -> bool:
    try:
        parse_quantity(value)
    except ValueError:
        return False
    return True
