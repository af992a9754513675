"""The cross-tenant access matrix of one plan: every ordered pair of tenants, for every channel.

`access_matrix(objects, resources, stack)` runs each channel over what the cluster would receive
(the program's objects and every rendered Helm release, as `infra.render` returns them), the
recorded cloud resources and the contract's `stack` block (the on-prem cluster's CNI), and
returns an `AccessMatrix`. Any path fails UAE-TEN-001; `to_dict()` is what compliance.json and
tenancy.json carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.simulate.kube import SourceObject
from infra.tenancy import feast, kafka, keys, mlflow, network, object_store, rbac
from infra.tenancy.check import CHANNELS, TENANT_ISOLATION, ChannelRun
from infra.tenancy.view import PlanView


@dataclass
class AccessMatrix:
    tenants: list[str]
    runs: list[ChannelRun]

    @property
    def paths(self) -> list[Any]:
        return sorted(p for r in self.runs for p in r.paths)

    @property
    def passed(self) -> bool:
        return not self.paths

    def cell(self, source: str, target: str, channel: str) -> list[Any]:
        key = (source, target, channel)
        return [p for p in self.paths if (p.source, p.target, p.channel) == key]

    def to_dict(self) -> dict[str, Any]:
        policy = TENANT_ISOLATION
        return {
            "policy": {
                "id": policy.id,
                "name": policy.title,
                "severity": policy.severity,
                "enforcement": "mandatory" if policy.mandatory else "advisory",
                "isoControls": list(policy.iso_controls),
                "uaeReferences": list(policy.uae_references),
            },
            "passed": self.passed,
            "tenants": self.tenants,
            "channels": [_channel(r) for r in self.runs],
            "matrix": [
                {
                    "source": s,
                    "target": t,
                    "channels": {r.channel: len(self.cell(s, t, r.channel)) for r in self.runs},
                }
                for s in self.tenants
                for t in self.tenants
                if s != t
            ],
            "findings": [
                {
                    "channel": p.channel,
                    "source": p.source,
                    "target": p.target,
                    "what": p.what,
                    "via": p.via,
                    "remediation": policy.remediation[p.channel],
                }
                for p in self.paths
            ],
        }


def _channel(run: ChannelRun) -> dict[str, Any]:
    return {
        "channel": run.channel,
        "description": CHANNELS[run.channel],
        "status": run.status,
        "examined": len(run.examined),
        "paths": len(run.paths),
        "notes": list(run.notes),
    }


def access_matrix(
    objects: Iterable[SourceObject],
    resources: Sequence[Mapping[str, Any]],
    stack: Mapping[str, Any] | None = None,
) -> AccessMatrix:
    """Every channel over a plan (see the module docstring)."""
    view = PlanView.build(objects, resources)
    stack = stack or {}
    models = network.models(view, stack)
    runs = [
        rbac.run(view),
        network.run(view, stack),
        kafka.run(view),
        feast.run(view, models),
        mlflow.run(view),
        object_store.run(view),
        keys.run(view),
    ]
    for run in runs:
        run.paths = sorted(set(run.paths))
    return AccessMatrix(list(view.tenants), runs)
