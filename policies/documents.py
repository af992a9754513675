"""Reading AWS IAM/KMS policy documents (JSON strings or objects) as rules need them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from policies.core import UNKNOWN, as_list


def statements(document: Any) -> Iterator[Mapping[str, Any]]:
    """Each statement of a policy document; nothing for unknown or unparsable documents."""
    if document is None or document is UNKNOWN:
        return
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    if not isinstance(document, Mapping):
        return
    for statement in as_list(document.get("Statement")):
        if isinstance(statement, Mapping):
            yield statement


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal a statement names (`*` for a bare wildcard)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    found: list[str] = []
    if isinstance(principal, Mapping):
        for value in principal.values():
            found.extend(str(v) for v in as_list(value))
    return found


def allows(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect", "Allow") == "Allow"


def wildcard(values: Any) -> bool:
    return any(v in ("*", "*:*") for v in as_list(values))


def condition_values(statement: Mapping[str, Any], *keys: str) -> list[str]:
    """Values of the named condition keys under any operator (StringEquals, ArnLike...)."""
    found: list[str] = []
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return found
    wanted = {k.lower() for k in keys}
    for block in condition.values():
        if isinstance(block, Mapping):
            for key, value in block.items():
                if key.lower() in wanted:
                    found.extend(str(v) for v in as_list(value))
    return found
