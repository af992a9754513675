"""Where the platform's own pods run: the node selector and tolerations of the pool meant for
them, from the foundation (AKS: the system pool, tainted `CriticalAddonsOnly=true:NoSchedule`
so that only what tolerates it lands there; elsewhere: anywhere, `Placement()`).

`pod()` is for the program's own pod specs; `chart()` for the `nodeSelector`/`tolerations`
pair every platform chart takes per workload (cert-manager's webhook, Kueue's controller...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CRITICAL_ADDONS_ONLY = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class Placement:
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, str], ...] = ()

    def pod(self) -> dict[str, Any]:
        """PodSpec fields (none when the pods may run anywhere)."""
        found: dict[str, Any] = {}
        if self.node_selector:
            found["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            found["tolerations"] = [dict(t) for t in self.tolerations]
        return found

    def chart(self) -> dict[str, Any]:
        """A chart workload's `nodeSelector` and `tolerations` values (none: the chart's own)."""
        return self.pod()
