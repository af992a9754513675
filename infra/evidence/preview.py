"""The first preview's part of compliance.md: the pack's verdict over a preview-mode synthesis.

Input is `infra.plan.preview_step.preview_summary` as compliance.json carries it (`preview`):
the verdict a first `pulumi preview --policy-pack` would give, its findings, and every policy that
cannot decide until the update (advisory), with the unknown values it read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _cell(value: Any) -> str:
    text = "; ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def markdown(preview: Mapping[str, Any] | None) -> list[str]:
    title = "## First preview (the pack over a preview-mode synthesis)"
    if preview is None:
        return [title, "", "Not run.", ""]
    s = preview["summary"]
    verdict = "PASS" if preview["passed"] else "**FAIL** (it would block the first preview)"
    lines = [
        title,
        "",
        f"As a first `pulumi preview` sees the stack: {preview['resources']} resources, "
        f"{preview['unknownValues']} values unknown until the update, "
        f"{preview['resourcesOnlyOnUpdate']} resources registered only on the update "
        f"(`preview/`, `{preview['report']}`). Verdict: {verdict} · mandatory violations: "
        f"**{s['mandatoryViolations']}** · advisory: {s['advisoryViolations']} · pass: "
        f"{s['passed']} · undecided: {s.get('undecided', 0)} · not applicable: "
        f"{s['notApplicable']}.",
        "",
    ]
    if preview["findings"]:
        lines += ["Findings during the preview:", ""]
        lines += [
            f"- {f['policy']} ({f['enforcement']}): {f['message']}" for f in preview["findings"]
        ]
        lines.append("")
    if preview["undecided"]:
        lines += [
            "Undecided during the preview (advisory; each decides on the update, where the "
            "update-mode verdict above applies):",
            "",
            "| policy | name | enforcement on the update | resources | e.g. |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {u['policy']} | {_cell(u['name'])} | {u['enforcement']} | {u['resources']} | "
            f"{_cell(u['examples'])} |"
            for u in preview["undecided"]
        ]
        lines.append("")
    return lines
