"""The supply chain's part of compliance.md: the stack's mirror lock, each check's verdict
(MIRROR-001 every image pinned by the lock's digest, MIRROR-002 a lock for the stack's mirror),
every image not pinned and why, and a pending lock's reason.

Input is `PinReport.to_dict()` (`infra.mirror.pins`), as compliance.json carries it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ") or "—"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def mandatory_findings(report: Mapping[str, Any] | None) -> int:
    return sum(1 for f in report["findings"] if f["mandatory"]) if report is not None else 0


def markdown(report: Mapping[str, Any] | None) -> list[str]:
    title = "## Supply chain: images pinned by the mirror lock"
    if report is None:
        return [title, "", "Not run.", ""]
    lines = [
        title,
        "",
        f"Lock `{report['lock']}` for mirror `{report['mirror']}`: {report['pinned']} of "
        f"{report['images']} images the plan pulls are pinned by the lock's digest.",
        "",
    ]
    if report["pending"]:
        lines += [f"**Exception:** the lock is pending: {report['pending']}", ""]
    lines += _table(
        ["check", "name", "enforcement", "status", "fix"],
        (
            [c["id"], c["name"], c["enforcement"], c["status"], c["remediation"]]
            for c in report["checks"]
        ),
    )
    if report["findings"]:
        lines += _table(
            ["check", "enforcement", "what"],
            (
                [f["check"], "mandatory" if f["mandatory"] else "advisory", f["message"]]
                for f in report["findings"]
            ),
        )
    return lines
