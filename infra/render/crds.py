"""The CustomResourceDefinitions custom resources are checked against.

The reference CRDs (`../shared/reference/crds`: the published CRDs of the operators at the
pinned releases) come first; CRDs a chart ships (its crds/ directory or templates) and CRDs the
program declares fill in the rest (the GPU operator's ClusterPolicy, trust-manager's Bundle,
CloudNativePG's Cluster...). `CrdIndex` finds the `openAPIV3Schema` of the served version for an
(apiVersion, kind).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infra.render.cache import REPO_ROOT
from infra.render.strict_yaml import load_all

REFERENCE_CRDS = REPO_ROOT.parent / "shared" / "reference" / "crds"


@cache
def _load_reference(directory: Path) -> tuple[Mapping[str, Any], ...]:
    if not directory.is_dir():
        return ()
    found: list[Mapping[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        documents, _ = load_all(path.read_text())
        found += [
            d
            for d in documents
            if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"
        ]
    return tuple(found)


def reference_crds(directory: Path = REFERENCE_CRDS) -> list[Mapping[str, Any]]:
    """The reference CRDs (empty when the directory is absent)."""
    return list(_load_reference(directory))


@dataclass
class CrdIndex:
    """(group, version, kind) → (schema, where the CRD came from).

    The reference CRDs (megabytes of YAML) are read on the first look-up, not before: a plan
    with no custom resources never reads them.
    """

    schemas: dict[tuple[str, str, str], tuple[Mapping[str, Any], str]] = field(default_factory=dict)
    _reference: dict[tuple[str, str, str], tuple[Mapping[str, Any], str]] | None = None

    def add(self, crd: Mapping[str, Any], source: str) -> None:
        spec = crd.get("spec") or {}
        group = spec.get("group")
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            if not version.get("served", True):
                continue
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            key = (str(group), str(version.get("name")), str(kind))
            if isinstance(schema, Mapping) and key not in self.schemas:
                self.schemas[key] = (schema, source)

    def lookup(self, api_version: str, kind: str) -> tuple[Mapping[str, Any], str] | None:
        group, _, version = api_version.rpartition("/")
        key = (group, version, kind)
        if self._reference is None:
            reference = CrdIndex()
            for crd in reference_crds():
                reference.add(crd, "reference CRDs")
            self._reference = reference.schemas
        return self._reference.get(key) or self.schemas.get(key)

    @classmethod
    def build(cls, sources: Iterable[tuple[Mapping[str, Any], str]]) -> CrdIndex:
        """An index of the CRDs in `sources` (the reference CRDs take precedence)."""
        index = cls()
        for crd, source in sources:
            index.add(crd, source)
        return index
