"""Figures, the printed table and build/bench/results.json.

A figure is one measured number next to the baseline(s) measured in the same run, the ratio
to each, and the target when the issue sets one. `met` is informational: a benchmark never
fails because a machine was slow; only a benchmark that could not run makes `make bench` fail.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.stats import ratio

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Baseline:
    name: str
    value: float
    ratio: float | None  # measured / baseline


@dataclass(frozen=True)
class Target:
    op: str  # "<=" or ">="
    value: float

    def met(self, measured: float) -> bool:
        return measured <= self.value if self.op == "<=" else measured >= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: float
    unit: str
    baselines: list[Baseline] = field(default_factory=list)
    target: Target | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["met"] = self.met
        return data


def figure(
    benchmark: str,
    name: str,
    value: float,
    unit: str,
    baselines: dict[str, float] | None = None,
    target: tuple[str, float] | None = None,
    note: str = "",
) -> Figure:
    return Figure(
        benchmark,
        name,
        round(value, 4),
        unit,
        [Baseline(n, round(v, 4), ratio(value, v)) for n, v in (baselines or {}).items()],
        Target(*target) if target else None,
        note,
    )


def _number(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("benchmark", "figure", "measured", "baseline (same run)", "ratio", "target", "met")]
    for f in figures:
        baselines: list[Baseline | None] = [*f.baselines] or [None]
        for i, b in enumerate(baselines):
            first = i == 0
            rows.append(
                (
                    f.benchmark if first else "",
                    f.name if first else "",
                    _number(f.value, f.unit) if first else "",
                    f"{b.name}: {_number(b.value, f.unit)}" if b else "-",
                    f"{b.ratio:.2f}x" if b and b.ratio is not None else "-",
                    (str(f.target) if f.target else "-") if first else "",
                    ({True: "yes", False: "NO", None: "-"}[f.met]) if first else "",
                )
            )
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, default=str) + "\n")
    os.replace(temporary, path)
    return path


def results_document(
    mode: str,
    machine: dict[str, Any],
    figures: list[Figure],
    details: dict[str, Any],
    errors: dict[str, str],
    timing: dict[str, Any],
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "mode": mode,
        **timing,
        "machine": machine,
        "figures": [f.to_json() for f in figures],
        "details": details,
        "errors": errors,
    }
