"""The metric names a PromQL expression reads (enough PromQL to check queries against exporters).

Not a parser: strings, label matchers (`{...}`), range/subquery brackets (`[...]`) and label
lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right` are removed; what remains
that is an identifier, not a function call, keyword or number, is a metric name. The
expressions themselves are checked for syntax by `promtool check rules` (tests).
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
KEYWORDS = frozenset(
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
        "offset", "bool", "atan2", "inf", "nan",
    }
)  # fmt: skip
AGGREGATIONS = frozenset(
    {
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
        "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    }
)  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Metric names `expr` selects (`{__name__=...}` selectors are not supported)."""
    text = _STRING.sub(" ", expr)
    while _MATCHERS.search(text):
        text = _MATCHERS.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names: set[str] = set()
    for match in _IDENTIFIER.finditer(text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS or word in AGGREGATIONS:
            continue
        names.add(word)
    return names


def unknown_metrics(exprs: list[str], known: frozenset[str]) -> dict[str, set[str]]:
    """Per expression, the metric names it reads that are not in `known` (empty: all known)."""
    found = {expr: metric_names(expr) - known for expr in exprs}
    return {expr: names for expr, names in found.items() if names}
