"""What checkov found, one `Record` per check and resource, and the words records use.

The bottom of the checkov package: the gate (`gate`) matches skips against records and the
results (`results`) summarise them, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GATED, ADVISORY, INFORMATIONAL = "gated", "advisory", "informational"
KUBERNETES, DOCKERFILE = "kubernetes", "dockerfile"
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Record:
    """One check evaluated on one resource, after the gate."""

    check_id: str
    check_name: str
    framework: str
    resource: str
    file: str  # relative: `manifests/...` for Kubernetes, repo-relative for Dockerfiles
    lines: tuple[int, int]
    status: str  # passed | failed | skipped
    gate: str  # gated | advisory | informational
    policy: str | None
    skip_reason: str | None = None
    evaluated_keys: tuple[str, ...] = ()
    guideline: str | None = None

    @property
    def gated_failure(self) -> bool:
        return self.status == FAILED and self.gate == GATED

    def sort_key(self) -> tuple[str, str, str, str, int]:
        return (self.framework, self.check_id, self.file, self.resource, self.lines[0])

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "checkId": self.check_id,
            "checkName": self.check_name,
            "framework": self.framework,
            "resource": self.resource,
            "file": self.file,
            "lines": list(self.lines),
            "status": self.status,
            "gate": self.gate,
            "policy": self.policy,
        }
        if self.skip_reason:
            data["skipReason"] = self.skip_reason
        if self.evaluated_keys:
            data["evaluatedKeys"] = list(self.evaluated_keys)
        return data
