"""The preview step of a plan: the stack as a first `pulumi preview` sees it, and the pack over it.

The update-mode plan is synthesized with every computed value known (the mocks return realistic
IDs and ARNs). A real first preview knows none of them. So each plan is also synthesized in the
SDK's preview mode (`synthesize_stack(..., preview=True)`: a created resource echoes its inputs,
every ID, ARN and value derived from one is unknown), written to `<out>/<name>/preview/`
(resources.json with `[unknown]` markers, outputs.json, summary.json), and the policy pack runs
over it → `<out>/<name>/policy-report-preview.json`.

Verdicts, as the engine would give them during that preview:
- a mandatory finding fails the plan: it would block the first `pulumi preview --policy-pack`;
- a policy that cannot decide is `undecided` (advisory, "decides on the update"): one of its
  checks read a value the preview cannot know (`policies.preview`; under CrossGuard the engine
  reports "can't run policy ... during preview"), or a resource it examines on the update is not
  registered during the preview at all (the program creates it once a computed value is known);
- nothing is skipped silently: every policy is pass, fail, undecided, not-applicable or disabled.

`preview_summary` is what compliance.json/md show of it (`infra.evidence.compliance`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.plan.policy_step import evaluate_policies
from infra.plan.synthesis import PlanResult, dump_json, synthesize_stack, write_plan
from policies.evaluate import Report, Undecided
from policies.preview import MARKER

PREVIEW_DIR = "preview"
PREVIEW_REPORT_FILE = "policy-report-preview.json"
ONLY_ON_UPDATE = (
    "not registered during the preview: the program creates it once a computed value is "
    "known; decides on the update"
)


@dataclass
class PreviewStep:
    result: PlanResult  # the preview-mode synthesis, written to <out>/<name>/preview/
    report: Report
    only_on_update: list[str]  # URNs the update registers that the preview does not
    files: list[Path] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.report.passed


def preview_plan(update: PlanResult, update_report: Report) -> PreviewStep:
    """Synthesize `update`'s stack in preview mode, write it and the pack's preview report."""
    if update.out_dir is None:
        raise ValueError("write the update plan before its preview")
    stack, overrides = update.synthesis.stack, update.overrides
    result = synthesize_stack(stack, overrides, update.name, preview=True)
    write_plan(result, update.out_dir.parent, update.out_dir / PREVIEW_DIR)
    report = evaluate_policies(result)
    report.preview = True  # an on-prem preview may know every value; it is a preview all the same
    seen = {r.urn for r in result.synthesis.resources}
    only = sorted({r.urn for r in update.synthesis.resources} - seen)
    _undecided_when_absent(report, update_report, set(only), update)
    path = update.out_dir / PREVIEW_REPORT_FILE
    dump_json(path, report.to_dict())
    files = [*result.files, path]
    update.files += files
    return PreviewStep(result, report, only, files)


def _undecided_when_absent(
    report: Report, update_report: Report, absent: set[str], update: PlanResult
) -> None:
    """A resource the update's check examined but the preview never registered: undecided."""
    by_urn = update.synthesis.by_urn()
    for result in report.results:
        missing = sorted(set(update_report.result(result.id).examined) & absent)
        if not missing or result.status == "disabled":
            continue
        result.undecided += [
            Undecided(u, by_urn[u].type, by_urn[u].name, (), ONLY_ON_UPDATE) for u in missing
        ]
        if result.status in ("pass", "not-applicable"):
            result.status = "undecided"


def preview_summary(step: PreviewStep) -> dict[str, Any]:
    """The preview's verdict for compliance.json: counts, findings and undecided policies."""
    report = step.report
    resources = [r.to_json() for r in step.result.synthesis.resources]
    return {
        "passed": report.passed,
        "report": PREVIEW_REPORT_FILE,
        "resources": len(resources),
        "resourcesOnlyOnUpdate": len(step.only_on_update),
        "unknownValues": json.dumps(resources).count(json.dumps(MARKER)),
        "summary": report.summary(),
        "findings": [
            {
                "policy": f.policy_id,
                "enforcement": f.enforcement,
                "resource": f.urn or "(stack)",
                "message": f.message,
            }
            for f in sorted(report.findings, key=lambda f: (f.policy_id, f.urn, f.message))
        ],
        "undecided": [
            {
                "policy": r.id,
                "name": r.name,
                "enforcement": r.enforcement,
                "resources": len(r.undecided),
                "examples": [_example(u) for u in r.undecided[:3]],
            }
            for r in report.results
            if r.status == "undecided"
        ],
    }


def _example(u: Undecided) -> str:
    if u.reason == ONLY_ON_UPDATE:
        return f"{u.resource_name}: registered only on the update"
    return f"{u.resource_name}: {', '.join(u.unknown)} unknown"
