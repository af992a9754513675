"""The CrossGuard entry point: `pulumi preview --policy-pack policies [--policy-pack-config F]`.

Builds the PolicyPack and nothing else: PolicyPack starts the analyzer's gRPC server and blocks,
so nothing may import this module (tests use `policies.crossguard` directly). Pulumi runs the
pack from this directory; the repository root goes on sys.path so the rules import as
`policies.…`, the same modules `mlplatform plan` evaluates offline.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.crossguard import crossguard_policies
from policies.evaluate import PACK_NAME

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=crossguard_policies(),
    description=(
        "UAE data residency and security controls for the ML platform "
        "(ISO/IEC 27001:2022, PDPL, CBUAE, IAR)."
    ),
    display_name="UAE ML platform",
    tags=["uae", "residency", "iso27001"],
    readme=(Path(__file__).resolve().parent / "README.md").read_text(),
)
