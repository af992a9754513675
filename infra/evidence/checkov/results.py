"""checkov's results after the gate: the `Record`s of one scan (`findings`) and their summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.evidence.checkov.findings import FAILED, PASSED, SKIPPED, Record
from infra.evidence.checkov.gate import Skip


@dataclass(frozen=True)
class CheckSummary:
    check_id: str
    check_name: str
    framework: str
    gate: str
    policy: str | None
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    skipped: tuple[str, ...]

    @property
    def status(self) -> str:
        if self.failed:
            return "fail"
        if self.passed:
            return "pass"
        return "skipped" if self.skipped else "not-applicable"


@dataclass
class CheckovResult:
    version: str
    records: list[Record]
    skips: list[Skip]  # the skips active for this stack
    errors: list[str] = field(default_factory=list)  # parsing errors: unchecked files
    files: dict[str, Path] = field(default_factory=dict)
    scanned: dict[str, list[str]] = field(default_factory=dict)  # framework -> files
    seconds: float = 0.0

    @property
    def gated_failures(self) -> list[Record]:
        return [r for r in self.records if r.gated_failure]

    @property
    def ok(self) -> bool:
        return not self.gated_failures and not self.errors

    def by_check(self) -> dict[str, CheckSummary]:
        grouped: dict[str, list[Record]] = {}
        for record in self.records:
            grouped.setdefault(record.check_id, []).append(record)
        summaries = {}
        for check_id in sorted(grouped):
            records = grouped[check_id]
            first = records[0]

            def of(status: str, records: list[Record] = records) -> tuple[str, ...]:
                return tuple(sorted({r.resource for r in records if r.status == status}))

            summaries[check_id] = CheckSummary(
                check_id,
                first.check_name,
                first.framework,
                first.gate,
                first.policy,
                of(PASSED),
                of(FAILED),
                of(SKIPPED),
            )
        return summaries

    def skip_usage(self) -> list[tuple[Skip, int]]:
        """Each active skip with how many results it accepted (0: the skip may be stale)."""
        return [
            (
                skip,
                sum(
                    1
                    for r in self.records
                    if r.status == SKIPPED
                    and r.check_id == skip.check_id
                    and (r.skip_reason or "").startswith(skip.reason)
                ),
            )
            for skip in self.skips
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "checkovVersion": self.version,
            "ok": self.ok,
            "errors": list(self.errors),
            "scanned": {k: list(v) for k, v in sorted(self.scanned.items())},
            "gatedFailures": [r.to_json() for r in self.gated_failures],
            "skips": [
                {
                    "checkId": skip.check_id,
                    "reason": skip.reason,
                    "resources": list(skip.resources),
                    "when": skip.when,
                    "annotation": skip.annotation,
                    "accepted": used,
                }
                for skip, used in self.skip_usage()
            ],
        }
