"""The checkov gate (`policies/checkov/gate.yaml`): which FAILED results fail the plan.

checkov evaluates every check; the gate then classes each check as gated (a failure fails the
plan), advisory (reported) or informational, and lists the accepted skips, each with its reason
and the resources (and stack config) it applies to. Severity plays no part: offline every
severity is None.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.evidence.checkov.findings import ADVISORY, GATED, INFORMATIONAL, Record
from infra.evidence.checkov.paths import GATE_FILE


@dataclass(frozen=True)
class GateEntry:
    check_id: str
    policy: str  # the catalogue policy (UAE-...) the check implements
    why: str = ""


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    resources: tuple[str, ...] = ()  # globs over checkov's resource id; empty = every resource
    when: str | None = None  # camelCase config key that must be true for the skip to apply
    # Applies only to objects (or their pod templates) carrying this annotation; its value is
    # the object's own stated reason and is reported with the skip.
    annotation: str | None = None

    def applies_to(
        self, record: Record, annotations: Mapping[str, Any] | None = None
    ) -> str | None:
        """The reason to report when this skip accepts the failed record, else None."""
        if record.check_id != self.check_id:
            return None
        if self.resources and not any(
            fnmatch.fnmatchcase(record.resource, pattern) for pattern in self.resources
        ):
            return None
        if self.annotation is None:
            return self.reason
        stated = (annotations or {}).get(self.annotation)
        if not isinstance(stated, str) or not stated.strip():
            return None
        return f"{self.reason} Stated reason: {' '.join(stated.split())}"


@dataclass(frozen=True)
class RowMeta:
    """Catalogue metadata for a row only checkov implements (gate.yaml `catalogue`)."""

    policy: str
    name: str
    severity: str
    iso_controls: tuple[str, ...]
    uae_refs: tuple[str, ...] = ()
    expectation: bool = False


@dataclass(frozen=True)
class Gate:
    gated: Mapping[str, GateEntry]
    advisory: Mapping[str, GateEntry]
    skips: tuple[Skip, ...]
    rows: Mapping[str, RowMeta] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = GATE_FILE) -> Gate:
        data = yaml.safe_load(path.read_text()) or {}

        def entries(section: str) -> dict[str, GateEntry]:
            raw = data.get(section) or {}
            return {
                check_id: GateEntry(check_id, str(spec["policy"]), str(spec.get("why", "")))
                for check_id, spec in raw.items()
            }

        gated, advisory = entries("gated"), entries("advisory")
        both = sorted(set(gated) & set(advisory))
        if both:
            raise ValueError(f"{path}: checks both gated and advisory: {', '.join(both)}")
        skips = []
        for spec in data.get("skips") or []:
            reason = " ".join(str(spec.get("reason", "")).split())
            if not reason:
                raise ValueError(f"{path}: skip of {spec.get('id')} has no reason")
            skips.append(
                Skip(
                    check_id=str(spec["id"]),
                    reason=reason,
                    resources=tuple(spec.get("resources") or ()),
                    when=spec.get("when"),
                    annotation=spec.get("annotation"),
                )
            )
        rows = {
            policy: RowMeta(
                policy=policy,
                name=str(spec["name"]),
                severity=str(spec["severity"]),
                iso_controls=tuple(str(c) for c in spec.get("iso_controls") or ()),
                uae_refs=tuple(str(u) for u in spec.get("uae_refs") or ()),
                expectation=bool(spec.get("expectation", False)),
            )
            for policy, spec in (data.get("catalogue") or {}).items()
        }
        return cls(gated, advisory, tuple(skips), rows)

    def policies(self) -> set[str]:
        """Every catalogue row a gated or advisory check implements."""
        return {e.policy for e in (*self.gated.values(), *self.advisory.values())}

    def mentioned(self) -> set[str]:
        return set(self.gated) | set(self.advisory) | {s.check_id for s in self.skips}

    def gate_class(self, check_id: str) -> str:
        if check_id in self.gated:
            return GATED
        return ADVISORY if check_id in self.advisory else INFORMATIONAL

    def checks_of(self, policy: str) -> set[str]:
        """The gated and advisory checks that implement a catalogue row."""
        entries = (*self.gated.values(), *self.advisory.values())
        return {e.check_id for e in entries if e.policy == policy}

    def policy(self, check_id: str) -> str | None:
        entry = self.gated.get(check_id) or self.advisory.get(check_id)
        return entry.policy if entry else None

    def active_skips(self, config: Mapping[str, Any] | None) -> list[Skip]:
        """The skips that apply to a stack: unconditional ones, and those whose key is true."""
        return [s for s in self.skips if s.when is None or _config_flag(config, s.when)]


def _config_flag(config: Mapping[str, Any] | None, dotted: str) -> bool:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False  # unknown key: the skip does not apply (fail closed)
        node = node[part]
    return node is True
