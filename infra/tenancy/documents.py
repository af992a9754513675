"""IAM policy documents and object paths, as the object-store and key channels read them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from infra.simulate.kube import mapping


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a policy document (a JSON string or a mapping)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    found = mapping(document).get("Statement")
    return [mapping(s) for s in (found if isinstance(found, list) else [found]) if s]


def listed(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]


def allows(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def condition_values(statement: Mapping[str, Any], key: str) -> list[str] | None:
    """Every value any operator of the statement's Condition gives `key` (None: no condition)."""
    found: list[str] | None = None
    for operator in mapping(statement.get("Condition")).values():
        for name, value in mapping(operator).items():
            if str(name).lower() == key.lower():
                found = (found or []) + listed(value)
    return found


def reach(path: str, tenant: str, tenants: Iterable[str]) -> set[str] | None:
    """Whose areas an object path (glob) of `tenant`'s identity may touch, by its fixed part.

    A tenant's area is any key with its name as a whole path segment (`feast/offline/risk/…`).
    The fixed part (before the first wildcard) decides: naming another tenant's segment reaches
    that tenant; naming the tenant's own segment confines it; a wildcard before either reaches
    every tenant; an exact key outside every area touches no tenant's data (None).
    """
    cut = min((i for i, ch in enumerate(path) if ch in "*?"), default=-1)
    fixed = path if cut < 0 else path[:cut]
    whole = fixed.split("/") if cut < 0 else fixed.split("/")[:-1]
    others = {t for t in tenants if t != tenant}
    named = others & set(whole)
    if named:
        return named
    if tenant in whole:
        return set()
    return others if cut >= 0 else None
