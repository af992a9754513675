"""The simulation's checks: each with an id, severity, enforcement and remediation, and what
one run of it found.

| id | check | mandatory |
|---|---|---|
| SIM-ADM-001 | every pod template passes the Pod Security level its namespace enforces | yes |
| SIM-SCH-001 | every pod template fits at least one declared node pool of its target | yes |
| SIM-REF-001 | what pods and custom resources reference exists, or is a site prerequisite | yes |
| SIM-FLW-001 | every flow the platform declares is allowed by the NetworkPolicies | yes |
| SIM-FLW-002 | no tenant namespace can reach another tenant's pods | yes |

A mandatory check with a finding fails the plan (exit 1), like a mandatory policy violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: str  # critical | high | medium
    iso_controls: tuple[str, ...]
    remediation: str
    mandatory: bool = True


ADMISSION = Check(
    "SIM-ADM-001",
    "Pod Security admission: every pod template passes its namespace's enforced level",
    "critical",
    ("8.9", "5.15"),
    "Give the pod and its containers the securityContext the namespace's Pod Security level "
    "requires (components.security_context for platform pods; the chart's podSecurityContext/"
    "securityContext values for releases), or record a reviewed exemption in "
    "components.namespace.PSS_EXEMPTIONS.",
)
SCHEDULING = Check(
    "SIM-SCH-001",
    "Scheduling: every pod template fits at least one declared node pool",
    "high",
    ("8.6", "8.14"),
    "Tolerate the pool's taints (e.g. AKS system pool CriticalAddonsOnly=true:NoSchedule), "
    "select labels the pool carries, keep requests within its allocatable, and request "
    "nvidia.com/gpu only where a GPU pool can take it; or declare a pool that fits.",
)
REFERENCES = Check(
    "SIM-REF-001",
    "References: every Secret, ConfigMap, ServiceAccount, StorageClass, PriorityClass and "
    "issuer a pod or custom resource references exists or is a declared site prerequisite",
    "high",
    ("8.9", "8.32"),
    "Create the object in the program, fix the name, or declare it as a site prerequisite "
    "(stack.prerequisites in the contract) with how to create it; `mlplatform verify "
    "--preflight` then checks it on the cluster before `pulumi up`.",
)
FLOWS = Check(
    "SIM-FLW-001",
    "Network flows: every flow the platform declares is allowed at both ends",
    "high",
    ("8.20", "8.22"),
    "Allow the flow in the source's egress and the destination's ingress NetworkPolicies "
    "(and, on Cilium, the API server by its kube-apiserver entity), or remove a policy that "
    "cuts it.",
)
TENANT_ISOLATION = Check(
    "SIM-FLW-002",
    "Tenant isolation: no tenant namespace can reach another tenant's pods",
    "critical",
    ("8.22", "5.15"),
    "Admit tenant traffic only from the tenant's own namespace (podSelector within it) or "
    "from named platform namespaces, never a selector that matches other tenants' namespaces.",
)

CHECKS: tuple[Check, ...] = (ADMISSION, SCHEDULING, REFERENCES, FLOWS, TENANT_ISOLATION)
BY_ID = {c.id: c for c in CHECKS}


@dataclass(frozen=True)
class Finding:
    """One thing a check found: the object (or flow) concerned, where it comes from, why."""

    check: str
    subject: str  # e.g. "Deployment mlflow/mlflow" or "flow mlflow→postgres"
    message: str
    origin: str = ""  # the program URN or the release/template that made the object


@dataclass(frozen=True)
class Exemption:
    """Something a check accepted deliberately, and the recorded reason."""

    check: str
    subject: str
    reason: str


@dataclass
class CheckRun:
    """A check's result over one plan."""

    check: Check
    examined: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exemptions: list[Exemption] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.findings:
            return "fail" if self.check.mandatory else "advisory-findings"
        return "pass" if self.examined or self.exemptions else "not-applicable"

    def fail(self, subject: str, message: str, origin: str = "") -> None:
        self.findings.append(Finding(self.check.id, subject, message, origin))

    def exempt(self, subject: str, reason: str) -> None:
        self.exemptions.append(Exemption(self.check.id, subject, reason))
