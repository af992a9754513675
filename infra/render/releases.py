"""The Helm releases a plan declares, read from its recorded resources (resources.json form).

A `ReleaseSpec` is exactly what `helm.v3.Release` hands Helm: release name, namespace, chart
name and pinned version (the chart is `oci://<mirror>/charts/<name>`), and the values, as the
engine would send them (nulls dropped, whole numbers as integers). `source` is the file of the
component that declares the release (found by its type token), so a finding can name the file
that sets a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from infra.render.cache import REPO_ROOT

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_SOURCE_DIRS = ("components", "stacks")


@dataclass(frozen=True)
class ReleaseSpec:
    urn: str
    release: str  # Helm release name
    namespace: str
    chart: str  # chart name
    version: str  # pinned chart version
    values: Mapping[str, Any]
    source: str  # repository-relative file of the component declaring it

    @property
    def label(self) -> str:
        return f"{self.release} ({self.chart} {self.version})"


def engine_values(value: Any) -> Any:
    """Values as Helm receives them: no nulls, whole floats back to integers."""
    if isinstance(value, Mapping):
        return {k: engine_values(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [engine_values(v) for v in value if v is not None]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def owner_type(urn: str) -> str | None:
    """The component type that owns a resource: the last parent type in its URN."""
    qualified = urn.split("::")[2] if urn.count("::") >= 3 else ""
    parents = qualified.split("$")[:-1]
    return parents[-1] if parents else None


@cache
def source_of(type_token: str | None) -> str:
    """The repository file that declares a component type (its type token as a literal)."""
    if not type_token:
        return "stacks/build.py"
    needle = f'"{type_token}"'
    for folder in _SOURCE_DIRS:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if needle in path.read_text():
                return path.relative_to(REPO_ROOT).as_posix()
    return f"(component {type_token})"


def release_specs(resources: Iterable[Mapping[str, Any]]) -> list[ReleaseSpec]:
    """Every `helm.v3.Release` in resources.json entries, in URN order."""
    found = []
    for r in resources:
        if r.get("type") != HELM_RELEASE:
            continue
        inputs = r.get("inputs") or {}
        chart_ref = str(inputs.get("chart") or "")
        found.append(
            ReleaseSpec(
                urn=r["urn"],
                release=str(inputs.get("name") or r.get("name")),
                namespace=str(inputs.get("namespace") or "default"),
                chart=chart_ref.rstrip("/").rsplit("/", 1)[-1],
                version=str(inputs.get("version") or ""),
                values=engine_values(inputs.get("values") or {}),
                source=source_of(owner_type(r["urn"])),
            )
        )
    return sorted(found, key=lambda s: s.urn)
