"""The cross-tenant access matrix's part of compliance.md: the policy, the matrix (one row per
ordered pair of tenants, one column per channel), each channel's verdict and what it examined,
and every path with what opens it and how to close it.

Input is `AccessMatrix.to_dict()` (`infra.tenancy`), as compliance.json carries it.
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


def markdown(matrix: Mapping[str, Any] | None) -> list[str]:
    title = "## Cross-tenant access matrix"
    if matrix is None:
        return [title, "", "Not run.", ""]
    policy = matrix["policy"]
    verdict = "PASS: no path between tenants" if matrix["passed"] else "FAIL"
    lines = [
        title,
        "",
        f"`{policy['id']}` {policy['name']} ({policy['severity']}, {policy['enforcement']}; "
        f"ISO/IEC 27001:2022 {', '.join(policy['isoControls'])}; "
        f"{'; '.join(policy['uaeReferences'])}): **{verdict}**.",
        "",
        f"Tenants: {', '.join(matrix['tenants']) or 'none'}. A cell counts the paths from the "
        "row's tenant to the column's data on that channel (0 = none found).",
        "",
    ]
    channels = [c["channel"] for c in matrix["channels"]]
    lines += _table(
        ["from → to", *channels],
        (
            [f"{r['source']} → {r['target']}", *[r["channels"][c] for c in channels]]
            for r in matrix["matrix"]
        ),
    )
    lines += ["### Channels", ""]
    lines += _table(
        ["channel", "what it reads", "status", "examined", "paths", "notes"],
        (
            [
                c["channel"],
                c["description"],
                c["status"],
                c["examined"],
                c["paths"],
                "; ".join(c["notes"]),
            ]
            for c in matrix["channels"]
        ),
    )
    return lines + _findings(matrix["findings"])


def _findings(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    if not findings:
        return []
    lines = ["### Paths between tenants", ""]
    for channel in sorted({f["channel"] for f in findings}):
        mine = [f for f in findings if f["channel"] == channel]
        lines += [f"#### {channel}", "", f"Remediation: {mine[0]['remediation']}", ""]
        lines += [
            f"- **{f['source']} → {f['target']}**: {f['what']} (via {f['via']})" for f in mine
        ]
        lines.append("")
    return lines
