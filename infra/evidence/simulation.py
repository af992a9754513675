"""The cluster simulation's part of compliance.md: the cluster it assumed, each check's verdict
and findings, the exemptions it honoured, the site prerequisites and the flows it proved.

Input is `Simulation.to_dict()` (`infra.simulate`), as compliance.json carries it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def _cell(value: Any) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(simulation: Mapping[str, Any] | None) -> list[str]:
    title = "## Cluster simulation (admission, scheduling, references, flows)"
    if simulation is None:
        return [title, "", "Not run.", ""]
    cluster = simulation["cluster"]
    lines = [
        title,
        "",
        f"Target `{cluster['target']}`; CNI checked: {', '.join(cluster['cnis'])}; pod "
        f"addresses {', '.join(cluster['podCidrs'])}; API server at "
        f"{', '.join(cluster['apiServer']) or '(not stated)'}; {simulation['pods']} pods.",
        *[f"Note: {n}" for n in cluster["notes"]],
        "",
    ]
    lines += _table(
        ["check", "name", "enforcement", "status", "examined", "findings", "exemptions"],
        (
            [
                c["id"],
                c["name"],
                c["enforcement"],
                c["status"],
                c["examined"],
                len(c["findings"]),
                len(c["exemptions"]),
            ]
            for c in simulation["checks"]
        ),
    )
    lines += _findings(simulation["checks"])
    lines += ["### Node pools", ""]
    lines += _table(
        ["pool", "from", "machine", "GPU", "taints", "allocatable"],
        (
            [
                p["name"],
                p["source"],
                p["machine"],
                "yes" if p["gpu"] else "no",
                p["taints"],
                [f"{k}={v}" for k, v in p["allocatable"].items()],
            ]
            for p in cluster["pools"]
        ),
    )
    lines += _prerequisites(simulation["prerequisites"])
    lines += ["### Declared network flows (each proved allowed at both ends)", ""]
    lines += _table(
        ["namespace", "flow", "ports", "why"],
        (
            [
                f["namespace"],
                f["name"],
                f"{f['protocol']} {', '.join(map(str, f['ports']))}",
                f["why"],
            ]
            for f in simulation["flows"]
        ),
    )
    return lines


def _findings(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for check in checks:
        if check["findings"]:
            lines += [f"### {check['id']} findings", "", f"Remediation: {check['remediation']}", ""]
            lines += [f"- **{f['subject']}**: {f['message']}" for f in check["findings"]]
            lines.append("")
        if check["exemptions"]:
            lines += [f"### {check['id']} exemptions (recorded, reviewed)", ""]
            lines += [f"- **{e['subject']}**: {e['reason']}" for e in check["exemptions"]]
            lines.append("")
    return lines


def _prerequisites(prerequisites: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "### Site prerequisites (create before `pulumi up`; `mlplatform verify --preflight` "
        "checks them)",
        "",
    ]
    if not prerequisites:
        return [*lines, "None: everything the pods reference is created by the plan.", ""]
    return lines + _table(
        ["kind", "name", "namespace", "keys", "purpose", "how to create", "referenced by"],
        (
            [
                p["kind"],
                p["name"],
                p["namespace"] or "(cluster)",
                p["keys"],
                p["purpose"],
                p["howToCreate"],
                len(p["referencedBy"]),
            ]
            for p in prerequisites
        ),
    )
