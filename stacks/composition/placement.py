"""Where the platform's own pods run, per target (`components.placement.Placement`).

On AKS the system pool is tainted `CriticalAddonsOnly=true:NoSchedule` and runs the platform's
operators and services (they tolerate the taint and select the pool); tenants, Kafka brokers
and GPU work run on the user pools. Elsewhere the platform runs wherever it fits.
"""

from __future__ import annotations

from components.placement import CRITICAL_ADDONS_ONLY, Placement
from stacks.config import StackConfig

AKS_SYSTEM_POOL = {"kubernetes.azure.com/mode": "system"}


def platform_placement(config: StackConfig) -> Placement:
    if config.platform == "azure":
        return Placement(dict(AKS_SYSTEM_POOL), (dict(CRITICAL_ADDONS_ONLY),))
    return Placement()
