"""checkov skips for what the render step already accepted, with the same reasons.

The render step (`infra.render`) writes render-report.json into the plan directory; its
waivers are objects of upstream charts that cannot carry the governance labels (declared gaps)
and findings the stack exempts or accepts (the GPU operator's privileged namespace). checkov
checks the same things on the same rendered objects (CKV2_UAE_K8S_2 is UAE-GOV-001; the
checks the gate maps to a pack policy are that policy): each waiver becomes a skip of the
matching checks for exactly its objects, reported with its reason. One declaration, both
engines, as with the service-account-token annotation.
"""

from __future__ import annotations

import json
from pathlib import Path

from infra.evidence.checkov.gate import Gate, Skip

RENDER_REPORT = "render-report.json"
LABEL_CHECK = "CKV2_UAE_K8S_2"  # the governance-labels custom check (UAE-GOV-001)
LABEL_WAIVER = "RENDER-005"


def render_skips(plan_dir: Path, gate: Gate) -> list[Skip]:
    path = plan_dir / RENDER_REPORT
    if not path.is_file():
        return []
    waivers = json.loads(path.read_text()).get("waivers") or []
    skips: list[Skip] = []
    for waiver in waivers:
        objects = tuple(waiver.get("objects") or ())
        if not objects:
            continue
        reason = f"{waiver['check']} ({waiver.get('release')}): {waiver['reason']}"
        if waiver["check"] == LABEL_WAIVER:
            skips.append(Skip(LABEL_CHECK, reason, objects))
        elif waiver.get("policy"):
            skips += [
                Skip(check_id, reason, objects)
                for check_id in sorted(gate.checks_of(waiver["policy"]))
            ]
    return skips
