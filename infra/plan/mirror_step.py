"""The supply-chain step of a plan: every image pinned by the stack's mirror lock.

After rendering: read the stack's lock (`stacks.pins`: locks/mirror/<stack>.lock.json) and
check every image the cluster would pull against it (`infra.mirror.pins`, MIRROR-001/002), then
write mirror-report.json into the plan directory. A broken lock raises
`version_catalogue.lock.LockError` (the CLI's exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

from infra.mirror.pins import PinReport, check_pins
from infra.plan.synthesis import PlanResult
from infra.render import PlanObjects
from stacks.pins import lock_file
from version_catalogue.lock import read_lock

MIRROR_REPORT_FILE = "mirror-report.json"


def pin_plan(result: PlanResult, objects: PlanObjects, root: Path | None = None) -> PinReport:
    """MIRROR-001/002 over a synthesized, rendered plan; mirror-report.json when written."""
    path = lock_file(result.synthesis.stack, root)
    shown = path.relative_to(path.parents[2])  # locks/mirror/<stack>.lock.json
    report = check_pins(objects.objects, result.config.image_registry, read_lock(path), shown)
    if result.out_dir is not None:
        target = result.out_dir / MIRROR_REPORT_FILE
        target.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        result.files.append(target)
    return report
