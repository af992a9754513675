"""The simulation step of a plan, after rendering: what the cluster would do with it.

Admission, scheduling, references and network flows (`infra.simulate`) over every object the
render step returns (the program's and every rendered release's), with the recorded resources
(node pools, networks) and the contract's `stack` block (on-prem site facts, declared site
prerequisites). Writes simulation.json into the plan directory; a mandatory finding fails the
plan like a mandatory policy violation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.plan.synthesis import PlanResult, dump_json
from infra.render import PlanObjects
from infra.simulate import Simulation, simulate

SIMULATION_FILE = "simulation.json"
OUTPUTS_FILE = "outputs.json"


@dataclass
class SimulationStep:
    simulation: Simulation
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.simulation.passed

    def report(self) -> dict[str, Any]:
        return self.simulation.to_dict()


def simulate_plan(result: PlanResult, objects: PlanObjects) -> SimulationStep:
    """Simulate a synthesized plan; write simulation.json when the plan has been written."""
    resources = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
    stack = result.synthesis.outputs.get("stack") or {}
    step = SimulationStep(simulate(objects.objects, resources, stack))
    if result.out_dir is not None:
        path = result.out_dir / SIMULATION_FILE
        dump_json(path, step.report())
        step.files.append(path)
        result.files.append(path)
    return step


def simulate_recorded(
    resources: Sequence[Mapping[str, Any]], objects: PlanObjects, outputs: Path | None
) -> SimulationStep:
    """Simulate a recorded plan (resources.json), with the contract beside it when there is one
    (outputs.json: the site facts and prerequisites an on-prem stack declares)."""
    stack: Mapping[str, Any] = {}
    if outputs is not None and outputs.is_file():
        stack = json.loads(outputs.read_text()).get("stack") or {}
    return SimulationStep(simulate(objects.objects, resources, stack))
