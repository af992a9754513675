"""`compliance.md`: the compliance report (`infra.evidence.compliance.build`) rendered for people.

Everything shown comes from the report data, in its order, so the Markdown is as stable as the
JSON. Long resource lists are counted here and listed in full in compliance.json.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from infra.evidence import mirror, preview, simulation, tenancy

MARK = {
    "pass": "pass",
    "fail": "**FAIL**",
    "advisory-findings": "advisory findings",
    "not-applicable": "not applicable",
    "not-evaluated": "not evaluated",
    "disabled": "disabled",
}


def _cell(value: Any) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "**NO**", None: "by declaration (see where)"}[value]


def _summary(report: Mapping[str, Any]) -> list[str]:
    s = report["summary"]
    rows = []
    for label, key in (
        ("ISO/IEC 27001:2022 Annex A controls", "controls"),
        ("UAE references", "uaeReferences"),
        ("CrossGuard policies", "policies"),
        ("checkov checks (catalogue)", "checks"),
    ):
        counts = s[key]
        rows.append(
            [
                label,
                counts.get("total", 0),
                counts.get("pass", 0),
                counts.get("fail", 0),
                counts.get("advisory-findings", 0),
                counts.get("not-applicable", 0) + counts.get("not-evaluated", 0),
            ]
        )
    lines = ["## Summary", ""]
    lines += _table(["", "total", "pass", "fail", "advisory findings", "not applicable"], rows)
    lines.append(
        f"Mandatory policy violations: **{s['mandatoryViolations']}** · gated checkov failures: "
        f"**{s['gatedCheckovFailures']}** · checkov parsing errors: {s['checkovParsingErrors']} · "
        f"advisory findings: {s['advisoryFindings']} · exemptions: {s['exemptions']} · "
        f"checkov skips: {s['checkovSkips']} · informational checkov failures: "
        f"{s['otherCheckovFailures']}"
    )
    lines.append("")
    checkov = report["tools"]["checkov"]
    scanned = (
        f"{s['manifestsScanned']} manifests and {s['dockerfilesScanned']} Dockerfiles "
        f"(checkov {checkov}, gate `{report['tools']['checkovGate']}`)"
        if s["checkovRan"]
        else "checkov **not run** (`--skip-checkov`): this report is incomplete"
    )
    lines += [f"Evidence: {s['resources']} resources (resources.json); {scanned}.", ""]
    return lines


def _residency(r: Mapping[str, Any]) -> list[str]:
    lines = ["## Residency statement", "", r["text"], ""]
    rows = [
        [
            loc["location"],
            loc["where"],
            "not a data location" if loc["kind"] == "azure-global" else _yes(loc["inCountry"]),
            loc["resources"],
            loc["referencesInInputs"],
        ]
        for loc in r["locations"]
    ]
    cluster = r["cluster"]
    rows.append(
        [
            cluster["location"],
            cluster["where"],
            _yes(cluster["inCountry"]),
            f"{cluster['kubernetesObjects']} Kubernetes objects",
            "",
        ]
    )
    lines += _table(["location", "where", "in the UAE", "resources", "referenced in inputs"], rows)
    lines += _table(
        ["", "URL", "where", "in the UAE"],
        [
            [
                "Pulumi state backend",
                f"`{r['stateBackend']['url']}`",
                r["stateBackend"]["where"],
                _yes(r["stateBackend"]["inCountry"]),
            ],
            [
                "secrets provider",
                f"`{r['secretsProvider']['url']}`",
                r["secretsProvider"]["where"],
                _yes(r["secretsProvider"]["inCountry"]),
            ],
        ],
    )
    if r["byReference"]:
        lines += ["Referenced, not created by the stack (location as declared in the config):", ""]
        lines += _table(
            ["service", "reference", "where"],
            ([x["service"], f"`{x['reference']}`", x["where"]] for x in r["byReference"]),
        )
    other = r["noLocationOfTheirOwn"]
    lines += [
        f"Without a location of their own: {other['engineComputed']} engine-computed values "
        f"(random, TLS; kept only in the state backend), {other['inheritParent']} child resources "
        f"that live where their parent does, {other['components']} logical components.",
        "",
    ]
    return lines


def _controls(report: Mapping[str, Any]) -> list[str]:
    lines = ["## ISO/IEC 27001:2022 Annex A controls", ""]
    lines += _table(
        ["control", "title", "result", "catalogue rows", "CrossGuard", "checkov", "resources"],
        (
            [
                c["id"],
                c["title"],
                MARK[c["status"]],
                c["catalogueRows"],
                c["policies"],
                c["checks"],
                c["resourcesInvolved"],
            ]
            for c in report["controls"]
        ),
    )
    lines += [
        "Annex A's other controls are organisational, people and physical controls that no "
        "configuration check can evidence; they are outside this report.",
        "",
    ]
    return lines


def _references(report: Mapping[str, Any]) -> list[str]:
    lines = ["## UAE references", ""]
    lines += _table(
        ["instrument", "citations", "catalogue rows", "checkov", "result", "note"],
        (
            [
                r["title"],
                r["citations"],
                r["catalogueRows"],
                r["checks"],
                MARK[r["status"]],
                r.get("note", ""),
            ]
            for r in report["uaeReferences"]
        ),
    )
    return lines


def _tests(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Tests", "", "### CrossGuard policies (over resources.json)", ""]
    lines += _table(
        ["policy", "name", "severity", "result", "examined", "findings", "exemptions", "note"],
        (
            [
                p["id"],
                p["name"],
                p["severity"],
                MARK[p["status"]],
                len(p["examined"]),
                len(p["findings"]),
                len(p["exemptions"]),
                p.get("note", ""),
            ]
            for p in report["policies"]
        ),
    )
    lines += ["### checkov checks (over manifests/ and the workload Dockerfiles)", ""]
    lines += _table(
        ["check", "name", "row", "enforcement", "result", "passed", "failed", "skipped"],
        (
            [
                c["id"],
                c["name"],
                c["policy"],
                c["enforcement"],
                MARK[c["status"]],
                len(c["passed"]),
                len(c["failed"]),
                len(c["skipped"]),
            ]
            for c in report["checks"]
        ),
    )
    return lines


def _short(urn: str) -> str:
    """`urn:pulumi:stack::project::parent$type::name` → `type name`."""
    if not urn.startswith("urn:pulumi:"):
        return urn
    head, _, name = urn.rpartition("::")
    return f"{head.rsplit('$', 1)[-1].rsplit('::', 1)[-1]} {name}"


def _findings(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Findings", ""]
    found = False
    for p in report["policies"]:
        if p["findings"]:
            found = True
            lines += [f"### {p['id']} {p['name']} ({p['enforcement']})", ""]
            lines += [f"- {f['message']} (`{_short(f['resource'])}`)" for f in p["findings"]]
            fixes = sorted({f["remediation"] for f in p["findings"] if f.get("remediation")})
            lines += [f"  - Fix: {fix}" for fix in fixes[:1]]
            lines.append("")
    for c in report["checks"]:
        if c["failed"]:
            found = True
            lines += [f"### {c['id']} {c['name']} ({c['enforcement']}, {c['policy']})", ""]
            lines += [f"- `{resource}`" for resource in c["failed"]]
            lines.append("")
    if not found:
        lines += ["None.", ""]
    return lines


def _exceptions(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Exemptions and skips", ""]
    rows = [[e["test"], f"`{_short(e['resource'])}`", e["reason"]] for e in report["exemptions"]]
    for skip in report["checkovSkips"]:
        scope = ", ".join(skip["resources"])
        if skip.get("annotation"):
            scope += f" carrying annotation `{skip['annotation']}`"
        if skip["when"]:
            scope += f" (when {skip['when']})"
        rows.append([skip["test"], f"{scope}; accepted {skip['accepted']}", skip["reason"]])
        if skip.get("annotation"):  # each object states its own reason: list them
            rows += [
                [
                    skip["test"],
                    f"`{item['resource']}`",
                    item["reason"][len(skip["reason"]) :].strip(),
                ]
                for item in skip.get("acceptedResources", [])
            ]
    lines += _table(["test", "scope", "justification"], rows) if rows else ["None.", ""]
    declared = report.get("declaredExceptions") or []
    lines += ["### Exceptions the stack declares", ""]
    lines += (
        _table(
            ["control", "policy", "what", "why", "remedy"],
            ([e["control"], e["policy"], e["what"], e["why"], e["remedy"]] for e in declared),
        )
        if declared
        else ["None.", ""]
    )
    return lines


def _other(report: Mapping[str, Any]) -> list[str]:
    if not report["otherChecks"]:
        return []
    lines = ["## Other checkov results (not in the catalogue; informational, never gated)", ""]
    lines += _table(
        ["check", "name", "failed", "passed"],
        ([c["id"], c["name"], c["failed"], c["passedCount"]] for c in report["otherChecks"]),
    )
    return lines


def _rendering(rendering: Mapping[str, Any] | None) -> list[str]:
    """The Helm releases rendered with their charts, and the checks over what they create."""
    if rendering is None:
        return ["## Rendered Helm releases", "", "Not rendered.", ""]
    lines = ["## Rendered Helm releases", "", f"Charts from `{rendering['charts']}`.", ""]
    lines += _table(
        ["release", "chart", "version", "objects", "CRDs", "values from"],
        (
            [r["release"], r["chart"], r["version"], r["objects"], r["crds"], r["source"]]
            for r in rendering["releases"]
        ),
    )
    lines.append("")
    lines += _table(
        ["check", "name", "enforcement", "status", "findings", "gaps/accepted"],
        (
            [c["id"], c["name"], c["enforcement"], c["status"], c["findings"], c["waivers"]]
            for c in rendering["checks"]
        ),
    )
    if rendering["findings"]:
        lines += ["", "### Findings", ""]
        lines += [
            f"- **{f['check']}** ({'mandatory' if f['mandatory'] else 'advisory'}) {f['message']}"
            for f in rendering["findings"]
        ]
    lines += ["", "### Declared gaps and accepted findings", ""]
    grouped: dict[tuple[str, str, str], int] = {}
    for w in rendering["waivers"]:
        key = (w["check"], w["release"] or "", w["reason"])
        grouped[key] = grouped.get(key, 0) + 1
    lines += _table(
        ["check", "release", "objects", "reason"],
        ([c, r, n, reason] for (c, r, reason), n in sorted(grouped.items())),
    )
    return [*lines, ""]


def render(report: Mapping[str, Any]) -> str:
    lines = [
        f"# Compliance report: {report['variant']}",
        "",
        f"Stack `{report['stack']}` · platform `{report['platform']}` · result "
        f"**{report['result'].upper()}**",
        "",
        "Written by `mlplatform plan` from this plan's files. Deterministic (no timestamps): diff "
        "two releases' reports to see what changed. Full resource lists are in compliance.json.",
        "",
    ]
    if report["warnings"]:
        lines += ["**Warnings:**", "", *[f"- {w}" for w in report["warnings"]], ""]
    for part in (_summary, _controls, _references, _findings, _exceptions, _tests, _other):
        lines += part(report)
    lines += _rendering(report.get("rendering"))
    lines += simulation.markdown(report.get("simulation"))
    lines += tenancy.markdown(report.get("tenancy"))
    lines += preview.markdown(report.get("preview"))
    lines += mirror.markdown(report.get("mirror"))
    lines += _residency(report["residency"])
    return "\n".join(lines).rstrip() + "\n"
