"""The `--policy-pack-config` file a stack's plan writes (`policy-config.json`).

CrossGuard configures each policy separately: the file maps every CrossGuard policy name to
the properties its schema declares. `policy_config_file(PackConfig)` builds it; `crossguard_names`
says which names a catalogue policy registers (its id, plus `<id>-stack` for a whole-graph check).
This module does not import pulumi_policy, so the plan can write the file anywhere.
"""

from __future__ import annotations

from typing import Any

from policies.core import Policy
from policies.pack_config import PackConfig
from policies.registry import ALL_POLICIES


def crossguard_names(policy: Policy) -> list[str]:
    names = []
    if policy.check is not None:
        names.append(policy.id)
    if policy.stack_check is not None:
        names.append(f"{policy.id}-stack" if policy.check is not None else policy.id)
    return names


def policy_config_file(
    cfg: PackConfig, policies: tuple[Policy, ...] = ALL_POLICIES
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for policy in policies:
        values = cfg.for_policy(policy.config_keys, policy.id)
        for name in crossguard_names(policy):
            out[name] = values
    return out
