"""Every policy of the pack, in catalogue order (../shared/POLICY-CATALOGUE.md numbering).

A policy id names its module: `UAE-<PREFIX>-NNN` lives in `policies/rules/<RULE_MODULES[PREFIX]>.py`
(RES → residency, K8S → kubernetes, ...), and loading the pack refuses a policy filed elsewhere.

35 of the catalogue's 36 policies are CrossGuard rules here. UAE-DKR-001 (Dockerfile hygiene)
has no Pulumi resource to inspect: checkov checks it over `workloads/Dockerfile.*`
(`policies/checkov`), and `CHECKOV_ONLY` says so for the compliance report.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from policies.core import Policy
from policies.rules import (
    change,
    compute,
    continuity,
    encryption,
    governance,
    identity,
    keys,
    kubernetes,
    logging,
    network,
    residency,
    supply_chain,
)

CATALOGUE_ORDER: tuple[str, ...] = (
    "UAE-RES-001",
    "UAE-RES-002",
    "UAE-RES-003",
    "UAE-RES-004",
    "UAE-RES-005",
    "UAE-LOG-001",
    "UAE-KEY-001",
    "UAE-KEY-002",
    "UAE-KEY-003",
    "UAE-KEY-004",
    "UAE-KEY-005",
    "UAE-ENC-001",
    "UAE-ENC-002",
    "UAE-NET-001",
    "UAE-NET-002",
    "UAE-NET-003",
    "UAE-NET-004",
    "UAE-NET-005",
    "UAE-NET-006",
    "UAE-LOG-002",
    "UAE-LOG-003",
    "UAE-LOG-004",
    "UAE-LOG-005",
    "UAE-LOG-006",
    "UAE-IAM-001",
    "UAE-IAM-002",
    "UAE-IAM-003",
    "UAE-K8S-001",
    "UAE-K8S-002",
    "UAE-K8S-003",
    "UAE-K8S-004",
    "UAE-GOV-001",
    "UAE-BCP-001",
    "UAE-CMP-001",
    "UAE-CHG-001",
    "UAE-SUP-001",
    "UAE-DKR-001",
)

CHECKOV_ONLY: dict[str, str] = {
    "UAE-DKR-001": (
        "Dockerfile hygiene (non-root USER, COPY not ADD, pinned base, HEALTHCHECK) is checked by "
        "checkov over workloads/Dockerfile.* (policies/checkov); no Pulumi resource carries it."
    ),
}

# id prefix → the module under policies/rules/ that holds every policy with that prefix
RULE_MODULES: dict[str, ModuleType] = {
    "RES": residency,
    "LOG": logging,
    "KEY": keys,
    "ENC": encryption,
    "NET": network,
    "IAM": identity,
    "K8S": kubernetes,
    "GOV": governance,
    "BCP": continuity,
    "CMP": compute,
    "CHG": change,
    "SUP": supply_chain,
}


def prefix(policy_id: str) -> str:
    """UAE-RES-004 → RES."""
    return policy_id.split("-")[1]


def collect(modules: Mapping[str, ModuleType]) -> tuple[Policy, ...]:
    """Every module's `POLICIES`, in catalogue order; raises on a misfiled or unknown policy."""
    found: list[Policy] = []
    for key, module in modules.items():
        misfiled = [p.id for p in module.POLICIES if prefix(p.id) != key]
        if misfiled:
            raise RuntimeError(
                f"{module.__name__} holds {misfiled}: UAE-{key}-* policies only; "
                "move each to the module its prefix names in RULE_MODULES"
            )
        found += module.POLICIES
    ids = [p.id for p in found]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"duplicate policy ids: {sorted(i for i in ids if ids.count(i) > 1)}")
    unknown = [i for i in ids if i not in CATALOGUE_ORDER]
    if unknown:
        raise RuntimeError(f"policies not in the catalogue: {unknown}")
    return tuple(sorted(found, key=lambda p: CATALOGUE_ORDER.index(p.id)))


ALL_POLICIES: tuple[Policy, ...] = collect(RULE_MODULES)
BY_ID: dict[str, Policy] = {p.id: p for p in ALL_POLICIES}
