"""The tenancy step of a plan, after the simulation: the cross-tenant access matrix.

Every channel (`infra.tenancy`) over every object the render step returns (the program's and
every rendered release's), with the recorded resources (cloud identities and their policies)
and the contract's `stack` block (the on-prem cluster's CNI). Writes tenancy.json into the plan
directory; a path from one tenant to another fails the plan (UAE-TEN-001, mandatory).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.plan.synthesis import PlanResult, dump_json
from infra.render import PlanObjects
from infra.tenancy import AccessMatrix, access_matrix

TENANCY_FILE = "tenancy.json"


@dataclass
class TenancyStep:
    matrix: AccessMatrix
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.matrix.passed

    def report(self) -> dict[str, Any]:
        return self.matrix.to_dict()


def tenancy_plan(result: PlanResult, objects: PlanObjects) -> TenancyStep:
    """The matrix of a synthesized plan; tenancy.json when the plan has been written."""
    resources = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
    stack = result.synthesis.outputs.get("stack") or {}
    step = TenancyStep(access_matrix(objects.objects, resources, stack))
    if result.out_dir is not None:
        path = result.out_dir / TENANCY_FILE
        dump_json(path, step.report())
        step.files.append(path)
        result.files.append(path)
    return step


def tenancy_recorded(
    resources: Sequence[Mapping[str, Any]], objects: PlanObjects, outputs: Path | None
) -> TenancyStep:
    """The matrix of a recorded plan (resources.json, with outputs.json beside it if there)."""
    stack: Mapping[str, Any] = {}
    if outputs is not None and outputs.is_file():
        stack = json.loads(outputs.read_text()).get("stack") or {}
    return TenancyStep(access_matrix(objects.objects, resources, stack))
