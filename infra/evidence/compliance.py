"""Compliance evidence per plan: `compliance.json` and a readable `compliance.md`.

For every ISO/IEC 27001:2022 Annex A control and every UAE reference the policy catalogue maps,
the report lists the tests of it — CrossGuard policies (`UAE-…`, evaluated offline over
resources.json) and checkov checks (`CKV…`, over the rendered manifests and the Dockerfiles) —
with their result, the resources involved, the findings, and the exemptions and skips with their
justification; then a summary of counts and the stack's residency statement
(`infra.evidence.residency`).

The body is deterministic (sorted keys and lists, no timestamps, no absolute paths), so the
reports of two releases diff cleanly and two runs of one release are byte-identical.
Where a UAE requirement is an expectation rather than the letter of a law (`[U]` in the
catalogue, `Policy.expectation` in the pack) the report says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.evidence import mirror as mirror_evidence
from infra.evidence import residency
from infra.evidence.checkov import ADVISORY, GATED, CheckovResult, CheckSummary, Gate
from infra.evidence.markdown import render
from policies.registry import ALL_POLICIES
from policies.rules.network import EGRESS_EXCEPTION
from stacks.config import StackConfig

SCHEMA = "mlplatform/compliance-report/v1"
ISO = "ISO/IEC 27001:2022 Annex A"

# Titles of the Annex A (2022) controls the catalogue maps. Annex A has 93 controls; the others
# are organisational, people or physical controls no configuration check can evidence.
ISO_TITLES: dict[str, str] = {
    "5.9": "Inventory of information and other associated assets",
    "5.12": "Classification of information",
    "5.13": "Labelling of information",
    "5.15": "Access control",
    "5.17": "Authentication information",
    "5.21": "Managing information security in the ICT supply chain",
    "5.23": "Information security for use of cloud services",
    "5.28": "Collection of evidence",
    "5.30": "ICT readiness for business continuity",
    "5.33": "Protection of records",
    "5.34": "Privacy and protection of PII",
    "8.2": "Privileged access rights",
    "8.5": "Secure authentication",
    "8.6": "Capacity management",
    "8.8": "Management of technical vulnerabilities",
    "8.9": "Configuration management",
    "8.12": "Data leakage prevention",
    "8.13": "Information backup",
    "8.14": "Redundancy of information processing facilities",
    "8.15": "Logging",
    "8.16": "Monitoring activities",
    "8.20": "Networks security",
    "8.22": "Segregation of networks",
    "8.24": "Use of cryptography",
    "8.25": "Secure development life cycle",
    "8.28": "Secure coding",
    "8.32": "Change management",
}

# UAE instruments, recognised in the pack's free-text references by these markers.
UAE_INSTRUMENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("PDPL", "Federal Decree-Law 45/2021 on the Protection of Personal Data (PDPL)", ("PDPL",)),
    ("CBUAE", "CBUAE Outsourcing Regulation C 14/2021", ("CBUAE",)),
    ("HEALTH", "Federal Law 2/2019 (ICT in health fields)", ("2/2019", "Health Law")),
    ("ADHICS", "Abu Dhabi Healthcare Information and Cyber Security Standard", ("ADHICS",)),
    ("IAR", "UAE Information Assurance Regulation (TDRA)", ("IAR",)),
    ("DESC", "Dubai Electronic Security Center ISR", ("DESC",)),
    ("DIFC", "DIFC Data Protection Law 2020", ("DIFC",)),
    ("ADGM", "ADGM Data Protection Regulations 2021", ("ADGM",)),
    ("CSP", "UAE Cloud Security Policy", ("Cloud Security Policy",)),
)

PASS, FAIL, ADVISORY_FINDINGS, NOT_APPLICABLE = (
    "pass",
    "fail",
    "advisory-findings",
    "not-applicable",
)
EXPECTATION_NOTE = "[U] an expectation of the regulator, not the letter of a law"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class PolicyMeta:
    id: str
    name: str
    severity: str  # critical | high | medium
    iso_controls: tuple[str, ...]
    uae_refs: tuple[str, ...] = ()
    expectation: bool = False
    enforcement: str | None = None  # as evaluated (a config may override); else by severity

    @property
    def mandatory(self) -> bool:
        if self.enforcement is not None:
            return self.enforcement == "mandatory"
        return self.severity in ("critical", "high")


@dataclass(frozen=True)
class Finding:
    resource: str
    message: str
    remediation: str = ""


@dataclass(frozen=True)
class ExemptionUse:
    resource: str
    reason: str


@dataclass(frozen=True)
class PolicyOutcome:
    """One CrossGuard policy's offline result for a stack (or `evaluated=False`)."""

    meta: PolicyMeta
    examined: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    exemptions: tuple[ExemptionUse, ...] = ()
    evaluated: bool = True
    disabled: bool = False

    @property
    def status(self) -> str:
        if self.disabled:
            return "disabled"
        if not self.evaluated:
            return "not-evaluated"
        if self.findings:
            return FAIL if self.meta.mandatory else ADVISORY_FINDINGS
        return PASS if self.examined or self.exemptions else NOT_APPLICABLE


def pack_catalogue() -> dict[str, PolicyMeta]:
    """Metadata of every policy in the pack (catalogue order), from `policies.registry`."""
    return {
        p.id: PolicyMeta(
            p.id, p.name, p.severity.value, tuple(p.iso_controls), tuple(p.uae_refs), p.expectation
        )
        for p in ALL_POLICIES
    }


def outcomes(report: Any) -> list[PolicyOutcome]:
    """The pack's offline `policies.evaluate.Report` as outcomes."""
    found = []
    for r in report.results:
        meta = PolicyMeta(
            r.id,
            r.name,
            r.severity,
            tuple(r.iso_controls),
            tuple(r.uae_refs),
            bool(r.expectation),
            r.enforcement if r.enforcement in ("mandatory", "advisory") else None,
        )
        found.append(
            PolicyOutcome(
                meta=meta,
                examined=tuple(r.examined),
                findings=tuple(
                    Finding(f.urn or "(stack)", f.message, f.remediation) for f in r.findings
                ),
                exemptions=tuple(ExemptionUse(e.urn, e.reason) for e in r.exemptions),
                disabled=r.status == "disabled",
            )
        )
    return found


@dataclass
class Inputs:
    stack: str
    name: str  # the variant (uae-cloud-azure...)
    config: StackConfig
    resources: list[Mapping[str, Any]]  # resources.json
    policy_report: Any | None  # policies.evaluate.Report, None when the pack did not run
    checkov: CheckovResult | None
    # Deliberate deviations the stack declares (outputs.stack.exceptions)
    declared_exceptions: list[Mapping[str, Any]] = field(default_factory=list)
    # The rendered releases' checks (infra.render RenderReport.to_dict()), None when not run
    rendering: Mapping[str, Any] | None = None
    # The cluster simulation (infra.simulate Simulation.to_dict()), None when not run
    simulation: Mapping[str, Any] | None = None
    # The cross-tenant access matrix (infra.tenancy AccessMatrix.to_dict()), None when not run
    tenancy: Mapping[str, Any] | None = None
    # The pack over the preview-mode synthesis (infra.plan.preview_step.preview_summary)
    preview: Mapping[str, Any] | None = None
    # Every image pinned by the stack's mirror lock (infra.mirror PinReport.to_dict())
    mirror: Mapping[str, Any] | None = None
    gate: Gate = field(default_factory=Gate.load)
    catalogue: Mapping[str, PolicyMeta] = field(default_factory=pack_catalogue)

    def policy_outcomes(self) -> list[PolicyOutcome]:
        evaluated = (
            {o.meta.id: o for o in outcomes(self.policy_report)} if self.policy_report else {}
        )
        listed = [
            evaluated.get(pid) or PolicyOutcome(meta, evaluated=False)
            for pid, meta in self.catalogue.items()
        ]
        return listed + [o for pid, o in evaluated.items() if pid not in self.catalogue]


# --------------------------------------------------------------------------- building


def _check_entry(summary: CheckSummary, result: CheckovResult) -> dict[str, Any]:
    skipped = sorted(
        {
            (r.resource, r.skip_reason or "")
            for r in result.records
            if r.check_id == summary.check_id and r.status == "skipped"
        }
    )
    status = {
        "fail": FAIL if summary.gate == GATED else ADVISORY_FINDINGS,
        "pass": PASS,
        "skipped": PASS,
        "not-applicable": NOT_APPLICABLE,
    }[summary.status]
    return {
        "id": summary.check_id,
        "name": summary.check_name,
        "engine": f"checkov/{summary.framework}",
        "policy": summary.policy,
        "enforcement": {GATED: "gated", ADVISORY: "advisory"}.get(summary.gate, "informational"),
        "status": status,
        "passed": list(summary.passed),
        "failed": list(summary.failed),
        "skipped": [{"resource": r, "reason": why} for r, why in skipped],
    }


def _policy_entry(outcome: PolicyOutcome) -> dict[str, Any]:
    meta = outcome.meta
    entry: dict[str, Any] = {
        "id": meta.id,
        "name": meta.name,
        "engine": "crossguard",
        "severity": meta.severity,
        "enforcement": "mandatory" if meta.mandatory else "advisory",
        "status": outcome.status,
        "isoControls": sorted(meta.iso_controls, key=_control_key),
        "uaeReferences": sorted(meta.uae_refs),
        "examined": sorted(set(outcome.examined)),
        "findings": sorted(
            (
                {"resource": f.resource, "message": f.message, "remediation": f.remediation}
                for f in outcome.findings
            ),
            key=lambda f: (f["resource"], f["message"]),
        ),
        "exemptions": sorted(
            ({"resource": e.resource, "reason": e.reason} for e in outcome.exemptions),
            key=lambda e: (e["resource"], e["reason"]),
        ),
    }
    if meta.expectation:
        entry["note"] = EXPECTATION_NOTE
    return entry


def _control_key(control: str) -> tuple[int, ...]:
    return tuple(int(part) for part in control.split(".") if part.isdigit())


def check_key(check_id: str) -> tuple[str, int, str]:
    """CKV_K8S_8 < CKV_K8S_16 < CKV2_K8S_1: framework prefix, then the number."""
    head, _, number = check_id.rpartition("_")
    return (head, int(number), "") if number.isdigit() else (check_id, 0, check_id)


def _combine(statuses: Iterable[str]) -> str:
    found = set(statuses)
    for status in (FAIL, ADVISORY_FINDINGS, "not-evaluated", PASS, "disabled"):
        if status in found:
            return status
    return NOT_APPLICABLE


def _row_meta(inputs: Inputs, policy: str) -> PolicyMeta | None:
    row = inputs.gate.rows.get(policy)
    if row is None:
        return None
    return PolicyMeta(
        row.policy, row.name, row.severity, row.iso_controls, row.uae_refs, row.expectation
    )


EGRESS_DECLARERS = {
    "kubernetes:core/v1:Namespace": "Namespace",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": "NetworkPolicy",
}


def egress_exceptions(resources: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The egress UAE-NET-004 lets pass because the plan declares why (the
    `mlplatform.io/egress-exception` annotation on a Namespace left open or on a NetworkPolicy
    reaching any address), one declared exception per reason naming every object that gives it,
    so what the rule accepts is in the report beside the stack's other exceptions."""
    objects: dict[str, list[str]] = {}
    for r in resources:
        kind = EGRESS_DECLARERS.get(r.get("type", ""))
        metadata = (r.get("inputs") or {}).get("metadata") or {}
        reason = (metadata.get("annotations") or {}).get(EGRESS_EXCEPTION)
        if kind is None or not isinstance(reason, str) or not reason.strip():
            continue
        namespace = metadata.get("namespace")
        name = f"{namespace}/{metadata.get('name')}" if namespace else str(metadata.get("name"))
        objects.setdefault(reason.strip(), []).append(f"{kind} {name}")
    declared = []
    for reason, names in objects.items():
        why, _, remedy = reason.partition("Remedy:")
        declared.append(
            {
                "control": "8.22",
                "policy": "UAE-NET-004",
                "what": "egress beyond named addresses: " + ", ".join(sorted(set(names))),
                "why": why.strip(),
                "remedy": remedy.strip()
                or "name the destination's addresses, then allow only those (UAE-NET-004)",
            }
        )
    return declared


def build(inputs: Inputs) -> dict[str, Any]:
    """The report as data (what compliance.json holds)."""
    evaluated = inputs.policy_outcomes()
    policies = {o.meta.id: _policy_entry(o) for o in evaluated}
    checks: dict[str, dict[str, Any]] = {}
    if inputs.checkov is not None:
        for check_id, check in inputs.checkov.by_check().items():
            checks[check_id] = _check_entry(check, inputs.checkov)
    warnings: list[str] = []
    rows = _catalogue_rows(inputs, evaluated, warnings)
    checks_of: dict[str, list[str]] = {}
    for check_id, entry in checks.items():
        if entry["policy"]:
            checks_of.setdefault(entry["policy"], []).append(check_id)
    controls = _controls(rows, policies, checks, checks_of)
    references = _uae_references(rows, policies, checks, checks_of)
    exemptions = sorted(
        (
            {"test": p["id"], "resource": e["resource"], "reason": e["reason"]}
            for p in policies.values()
            for e in p["exemptions"]
        ),
        key=lambda e: (e["test"], e["resource"]),
    )
    skips = _skips(inputs.checkov) if inputs.checkov is not None else []
    mapped = {c for ids in checks_of.values() for c in ids}
    other_checks = {c: e for c, e in checks.items() if c not in mapped}
    summary = _summary(
        controls, references, policies, checks, other_checks, exemptions, skips, inputs
    )
    return {
        "schema": SCHEMA,
        "stack": inputs.stack,
        "variant": inputs.name,
        "platform": inputs.config.platform,
        "result": summary["result"],
        "summary": summary,
        "tools": {
            "checkov": inputs.checkov.version if inputs.checkov else None,
            "checkovGate": "policies/checkov/gate.yaml",
        },
        "controls": controls,
        "uaeReferences": references,
        "policies": [policies[p] for p in sorted(policies)],
        "checks": [checks[c] for c in sorted(checks, key=check_key) if c in mapped],
        "otherChecks": _failing_other_checks(other_checks),
        "exemptions": exemptions,
        "declaredExceptions": sorted(
            (*(dict(e) for e in inputs.declared_exceptions), *egress_exceptions(inputs.resources)),
            key=lambda e: (e["policy"], e["what"]),
        ),
        "checkovSkips": sorted(skips, key=lambda s: (s["test"], s["resources"])),
        "residency": residency.statement(list(inputs.resources), inputs.config),
        "rendering": inputs.rendering,
        "simulation": inputs.simulation,
        "tenancy": inputs.tenancy,
        "preview": inputs.preview,
        "mirror": inputs.mirror,
        "warnings": sorted(warnings),
    }


def _catalogue_rows(
    inputs: Inputs, evaluated: Sequence[PolicyOutcome], warnings: list[str]
) -> dict[str, PolicyMeta]:
    """Every policy the pack evaluated, and every row a gated/advisory check names."""
    rows: dict[str, PolicyMeta] = {o.meta.id: o.meta for o in evaluated}
    for policy in sorted(inputs.gate.policies()):
        if policy not in rows:
            meta = _row_meta(inputs, policy)
            if meta is None:
                warnings.append(f"{policy} (named in gate.yaml) has no catalogue metadata")
                continue
            rows[policy] = meta
    return rows


def _controls(
    rows: Mapping[str, PolicyMeta],
    policies: Mapping[str, dict[str, Any]],
    checks: Mapping[str, dict[str, Any]],
    checks_of: Mapping[str, list[str]],
) -> list[dict[str, Any]]:
    """One entry per ISO/IEC 27001 control a catalogue row maps, with its combined status."""
    controls = []
    for control in sorted({c for m in rows.values() for c in m.iso_controls}, key=_control_key):
        tested_by = sorted(p for p, m in rows.items() if control in m.iso_controls)
        policy_ids = [p for p in tested_by if p in policies]
        check_ids = sorted((c for p in tested_by for c in checks_of.get(p, [])), key=check_key)
        statuses = [policies[p]["status"] for p in policy_ids] + [
            checks[c]["status"] for c in check_ids
        ]
        involved = {r for p in policy_ids for r in policies[p]["examined"]}
        involved |= {r for c in check_ids for r in (*checks[c]["passed"], *checks[c]["failed"])}
        controls.append(
            {
                "framework": ISO,
                "id": control,
                "title": ISO_TITLES.get(control, "(title not recorded)"),
                "status": _combine(statuses),
                "catalogueRows": tested_by,
                "policies": policy_ids,
                "checks": check_ids,
                "resourcesInvolved": len(involved),
            }
        )
    return controls


def _skips(checkov: CheckovResult) -> list[dict[str, Any]]:
    """The gate's skips active for this stack (with what each accepted), then the skips written
    into a manifest (checkov.io/skipN annotations), reported as found."""
    skipped = [r for r in checkov.records if r.status == "skipped"]

    def accepted_by(skip: Any) -> list[dict[str, str]]:
        return sorted(
            (
                {"resource": r.resource, "reason": r.skip_reason or ""}
                for r in skipped
                if r.check_id == skip.check_id and (r.skip_reason or "").startswith(skip.reason)
            ),
            key=lambda item: (item["resource"], item["reason"]),
        )

    skips = [
        {
            "test": skip.check_id,
            "reason": skip.reason,
            "resources": list(skip.resources) or ["*"],
            "when": skip.when,
            "annotation": skip.annotation,
            "accepted": used,
            "acceptedResources": accepted_by(skip),
        }
        for skip, used in checkov.skip_usage()
    ]
    annotated = sorted(
        {
            (r.check_id, r.resource, r.skip_reason or "")
            for r in skipped
            if not any(
                s.check_id == r.check_id and (r.skip_reason or "").startswith(s.reason)
                for s in checkov.skips
            )
        }
    )
    return skips + [
        {
            "test": c,
            "reason": why or "(no reason given)",
            "resources": [res],
            "when": None,
            "annotation": "checkov.io/skip",
            "accepted": 1,
            "acceptedResources": [{"resource": res, "reason": why}],
        }
        for c, res, why in annotated
    ]


def _failing_other_checks(other_checks: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Checks no catalogue row names, listed only where they failed (passes counted)."""
    return [
        {k: v for k, v in other_checks[c].items() if k != "passed"}
        | {"passedCount": len(other_checks[c]["passed"])}
        for c in sorted(other_checks, key=check_key)
        if other_checks[c]["failed"]
    ]


def _instrument(reference: str) -> tuple[int, str, str]:
    for order, (key, title, markers) in enumerate(UAE_INSTRUMENTS):
        if any(marker in reference for marker in markers):
            return order, key, title
    return (
        len(UAE_INSTRUMENTS),
        "OTHER",
        "Other references (benchmarks, organisational expectations)",
    )


def _uae_references(
    rows: Mapping[str, PolicyMeta],
    policies: Mapping[str, Mapping[str, Any]],
    checks: Mapping[str, Mapping[str, Any]],
    checks_of: Mapping[str, list[str]],
) -> list[dict[str, Any]]:
    grouped: dict[tuple[int, str, str], dict[str, set[str]]] = {}
    for policy, meta in rows.items():
        for reference in meta.uae_refs:
            key = _instrument(reference)
            slot = grouped.setdefault(
                key, {"citations": set(), "rows": set(), "expectations": set()}
            )
            slot["citations"].add(reference)
            slot["rows"].add(policy)
            if meta.expectation:
                slot["expectations"].add(policy)
    out = []
    for (_, instrument, title), slot in sorted(grouped.items()):
        rows_ = sorted(slot["rows"])
        statuses = [policies[p]["status"] for p in rows_ if p in policies]
        statuses += [checks[c]["status"] for p in rows_ for c in checks_of.get(p, [])]
        entry: dict[str, Any] = {
            "instrument": instrument,
            "title": title,
            "citations": sorted(slot["citations"]),
            "catalogueRows": rows_,
            "checks": sorted((c for p in rows_ for c in checks_of.get(p, [])), key=check_key),
            "status": _combine(statuses),
        }
        if slot["expectations"]:
            entry["expectationRows"] = sorted(slot["expectations"])
            entry["note"] = f"{EXPECTATION_NOTE}: " + ", ".join(sorted(slot["expectations"]))
        out.append(entry)
    return out


def _count(items: Iterable[Mapping[str, Any]], key: str = "status") -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return dict(sorted(counts.items()))


def _summary(
    controls: Sequence[Mapping[str, Any]],
    references: Sequence[Mapping[str, Any]],
    policies: Mapping[str, Mapping[str, Any]],
    checks: Mapping[str, Mapping[str, Any]],
    other_checks: Mapping[str, Mapping[str, Any]],
    exemptions: Sequence[Any],
    skips: Sequence[Any],
    inputs: Inputs,
) -> dict[str, Any]:
    mandatory_violations = sum(
        len(p["findings"]) for p in policies.values() if p["enforcement"] == "mandatory"
    )
    advisory_findings = sum(
        len(p["findings"]) for p in policies.values() if p["enforcement"] == "advisory"
    )
    gated = len(inputs.checkov.gated_failures) if inputs.checkov else 0
    errors = len(inputs.checkov.errors) if inputs.checkov else 0
    rendering = inputs.rendering
    render_failures = (
        sum(1 for f in rendering["findings"] if f["mandatory"]) if rendering is not None else 0
    )
    simulated = simulation_failures(inputs.simulation)
    preview_failures = inputs.preview["summary"]["mandatoryViolations"] if inputs.preview else 0
    tenancy_paths = len(inputs.tenancy["findings"]) if inputs.tenancy is not None else 0
    failing = mandatory_violations or gated or errors or render_failures or simulated
    unpinned = mirror_evidence.mandatory_findings(inputs.mirror)
    failing = failing or tenancy_paths or unpinned
    return {
        "result": "fail" if failing or preview_failures else "pass",
        "renderingRan": rendering is not None,
        "renderingMandatoryFindings": render_failures,
        "simulationRan": inputs.simulation is not None,
        "simulationMandatoryFindings": simulated,
        "tenancyRan": inputs.tenancy is not None,
        "tenancyPaths": tenancy_paths,
        "mirrorRan": inputs.mirror is not None,
        "mirrorMandatoryFindings": unpinned,
        "previewRan": inputs.preview is not None,
        "previewMandatoryViolations": preview_failures,
        "controls": {"total": len(controls), **_count(controls)},
        "uaeReferences": {"total": len(references), **_count(references)},
        "policies": {"total": len(policies), **_count(policies.values())},
        "checks": {
            "total": len(checks) - len(other_checks),
            **_count(c for k, c in checks.items() if k not in other_checks),
        },
        "mandatoryViolations": mandatory_violations,
        "advisoryFindings": advisory_findings,
        "gatedCheckovFailures": gated,
        "checkovParsingErrors": errors,
        "otherCheckovFailures": sum(len(c["failed"]) for c in other_checks.values()),
        "exemptions": len(exemptions),
        "checkovSkips": len(skips),
        "resources": len(inputs.resources),
        "manifestsScanned": len(inputs.checkov.scanned.get("kubernetes", []))
        if inputs.checkov
        else 0,
        "dockerfilesScanned": len(inputs.checkov.scanned.get("dockerfile", []))
        if inputs.checkov
        else 0,
        "checkovRan": inputs.checkov is not None,
    }


def simulation_failures(simulation: Mapping[str, Any] | None) -> int:
    """Mandatory findings of the cluster simulation (admission, scheduling, references, flows)."""
    if simulation is None:
        return 0
    return sum(len(c["findings"]) for c in simulation["checks"] if c["enforcement"] == "mandatory")


# --------------------------------------------------------------------------- writing


def write(report: Mapping[str, Any], directory: Path) -> list[Path]:
    json_path, md_path = directory / "compliance.json", directory / "compliance.md"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    md_path.write_text(render(report))
    return [json_path, md_path]
