"""The checks a plan runs over its rendered releases: ids, severities, remediations, findings.

Each check has an id (`RENDER-00n`), a severity (critical and high ones are mandatory: a finding
fails the plan, exit 1; medium ones are advisory), the ISO/IEC 27001:2022 Annex A controls it
evidences and a remediation. `RenderReport` holds the findings, the declared gaps (objects a
chart cannot label, with the reason) and the accepted findings (with the reason), and is what
compliance.json/md and `mlplatform plan --json` show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    severity: str  # critical | high | medium
    iso_controls: tuple[str, ...]
    remediation: str

    @property
    def mandatory(self) -> bool:
        return self.severity in ("critical", "high")


RENDERS = Check(
    "RENDER-001",
    "Every release renders with its pinned chart",
    "critical",
    ("8.9", "8.32"),
    "Fix the values the component passes (the message names the template and the value) or "
    "pin the chart version the values were written for.",
)
VALUES_KNOWN = Check(
    "RENDER-002",
    "Every values key is one the chart reads",
    "high",
    ("8.9",),
    "Use the key the chart's templates read (see its values.yaml); a key charts read without "
    "declaring goes into infra.render.values.UNDECLARED with the template that reads it.",
)
VALUES_SCHEMA = Check(
    "RENDER-003",
    "Values valid against the chart's values.schema.json",
    "high",
    ("8.9",),
    "Give the value the type and form the chart's values.schema.json requires.",
)
MIRROR_IMAGES = Check(
    "RENDER-004",
    "Every image that would run comes from the stack's mirror, pinned",
    "high",
    ("5.21", "8.9", "8.32"),
    "Point the chart value (or the operator's image setting) at <mirror>/<path>:<tag> from the "
    "version catalogue; add the image to the catalogue so the mirror job copies it.",
)
GOVERNANCE_LABELS = Check(
    "RENDER-005",
    "Governance labels on every rendered object",
    "high",
    ("5.9", "5.12", "5.13"),
    "Pass the governance labels (without app.kubernetes.io/managed-by, which Helm owns) to "
    "every labelling value the chart offers; where a chart cannot label an object, declare "
    "the gap in infra.render.labels.LABEL_GAPS with the reason.",
)
NO_DUPLICATE_KEYS = Check(
    "RENDER-006",
    "No duplicate keys in rendered YAML",
    "high",
    ("8.9",),
    "Do not pass a label or key the chart already sets (app.kubernetes.io/managed-by is "
    "Helm's): strict decoders and server-side apply reject duplicate keys.",
)
OBJECT_SCHEMA = Check(
    "RENDER-007",
    "Objects valid against the Kubernetes schemas and the CRDs",
    "high",
    ("8.9",),
    "Fix the field the message names; custom resources validate against the reference CRDs "
    "(../shared/reference/crds) or the chart's own.",
)
PACK_RULES = Check(
    "RENDER-008",
    "The policy pack's Kubernetes rules over rendered objects",
    "high",
    ("8.9", "5.15"),
    "See the pack policy the finding names (its remediation is in the finding); a finding "
    "that is a false positive on an upstream chart goes into infra.render.pack.ACCEPTED.",
)
CHECKS: tuple[Check, ...] = (
    RENDERS,
    VALUES_KNOWN,
    VALUES_SCHEMA,
    MIRROR_IMAGES,
    GOVERNANCE_LABELS,
    NO_DUPLICATE_KEYS,
    OBJECT_SCHEMA,
    PACK_RULES,
)


@dataclass(frozen=True)
class Finding:
    check: str
    mandatory: bool
    release: str | None
    subject: str  # the object, value or template
    message: str
    remediation: str
    policy: str | None = None  # the pack policy behind a RENDER-008 finding


@dataclass(frozen=True)
class Waiver:
    """A declared gap or an accepted finding: not a failure, reported with its reason.

    `objects` names the objects it covers as checkov does (`Kind.namespace.name`), so checkov's
    counterpart checks accept the same objects for the same reason (`policy`: the pack policy
    behind a RENDER-008 waiver, whose checkov checks the gate maps to it).
    """

    check: str
    release: str | None
    subject: str
    reason: str
    objects: tuple[str, ...] = ()
    policy: str | None = None


@dataclass
class RenderReport:
    charts: str  # the chart cache used
    releases: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.mandatory]

    @property
    def passed(self) -> bool:
        return not self.mandatory

    def status(self, check: Check) -> str:
        if any(f.check == check.id and f.mandatory for f in self.findings):
            return "fail"
        if any(f.check == check.id for f in self.findings):
            return "warn"
        return "pass"

    def to_dict(self) -> dict[str, Any]:
        findings = sorted(self.findings, key=lambda f: (f.check, f.release or "", f.subject))
        waivers = sorted(self.waivers, key=lambda w: (w.check, w.release or "", w.subject))
        return {
            "passed": self.passed,
            "charts": self.charts,
            "checks": [
                {
                    **asdict(c),
                    "iso_controls": list(c.iso_controls),
                    "enforcement": "mandatory" if c.mandatory else "advisory",
                    "status": self.status(c),
                    "findings": sum(1 for f in findings if f.check == c.id),
                    "waivers": sum(1 for w in waivers if w.check == c.id),
                }
                for c in CHECKS
            ],
            "releases": self.releases,
            "findings": [asdict(f) for f in findings],
            "waivers": [asdict(w) for w in waivers],
        }
