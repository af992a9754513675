"""Offline evaluation of the pack over a recorded plan (resources.json) → `Report`.

`evaluate(resources, config)` runs every policy's resource and stack checks over the
resources.json form that `mlplatform plan` writes (a list of `{urn, type, name, parent,
provider, custom, id, options, inputs}`; `provider` is `"<provider urn>::<provider id>"`,
resolved here to the provider resource in the same list). The rules are the same functions
CrossGuard runs (`policies.crossguard`).

The result, JSON-serialisable with stable ordering (`Report.to_dict()`):

- `Report`: `pack`, `version`, `config` (the PackConfig used, as a dict), `results` (one
  `PolicyResult` per policy, catalogue order), `unused_exemptions` (configured, matched
  nothing), `not_in_pack` (catalogue ids checked elsewhere, and where); properties `findings`,
  `mandatory`, `advisory`, `passed` (no mandatory finding); `summary()`, `to_dict()` (camelCase).
- `PolicyResult`: `id`, `name`, `description`, `domain`, `kind` (resource / stack /
  resource+stack), `severity` (critical/high/medium), `enforcement` (mandatory/advisory after
  overrides, or disabled), `iso_controls`, `uae_refs`, `expectation` (catalogue [U]),
  `remediation`, `status` (pass/fail/not-applicable/disabled), `examined` (URNs, sorted),
  `findings`, `exemptions`.
- `Finding`: `policy_id`, `severity`, `enforcement`, `urn`, `resource_type`, `resource_name`,
  `message` (names the resource and what is wrong), `remediation` (how to fix it).
- `AppliedExemption`: `policy_id`, `urn`, `resource_type`, `match`, `reason`, `message` (the
  finding it suppressed).

Status: `fail` when a finding remains after exemptions; `pass` when the policy examined at
least one resource and found nothing (or only exempted findings); `not-applicable` when no
resource of its kinds exists; `disabled` when the config file disables it. A rule that raises
is reported as a finding (fail closed), never skipped.

Preview mode: when the resources hold unknown values (a preview-mode plan, `policies.preview`),
the report is a preview's (`mode: preview`): a check that read an unknown value and found
nothing is listed in its policy's `undecided` (`Undecided`: the resource and the unknown paths
it read) and the policy's status is `undecided` — advisory, it decides on the update — unless a
finding makes it `fail`. Nothing unknown is ever passed silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from policies.core import (
    Policy,
    ProviderView,
    ResourceView,
    StackView,
    Violation,
    run_resource_check,
)
from policies.pack_config import Exemption, PackConfig
from policies.preview import UnknownRead, from_plan, has_unknown, reading, tracked
from policies.registry import ALL_POLICIES, CHECKOV_ONLY

PACK_NAME = "uae-mlplatform"
PACK_VERSION = "0.1.0"


@dataclass(frozen=True)
class Finding:
    policy_id: str
    severity: str
    enforcement: str
    urn: str
    resource_type: str
    resource_name: str
    message: str
    remediation: str


@dataclass(frozen=True)
class AppliedExemption:
    policy_id: str
    urn: str
    resource_type: str
    match: str
    reason: str
    message: str


@dataclass(frozen=True)
class Undecided:
    """A check that could not decide during a preview: it read values known only on the update.

    `urn` is the resource (empty for a stack check); `unknown` the first unknown paths it read
    (`<resource name>:<path>` for a stack check); `reason` says why it waits for the update."""

    urn: str
    resource_type: str
    resource_name: str
    unknown: tuple[str, ...]
    reason: str = "reads values a preview cannot know; decides on the update"


@dataclass
class PolicyResult:
    id: str
    name: str
    description: str
    domain: str
    kind: str
    severity: str
    enforcement: str
    iso_controls: list[str]
    uae_refs: list[str]
    expectation: bool
    remediation: str
    status: str
    examined: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exemptions: list[AppliedExemption] = field(default_factory=list)
    undecided: list[Undecided] = field(default_factory=list)


@dataclass
class Report:
    pack: str
    version: str
    config: dict[str, Any]
    results: list[PolicyResult]
    unused_exemptions: list[dict[str, str]] = field(default_factory=list)
    not_in_pack: dict[str, str] = field(default_factory=dict)
    preview: bool = False  # the resources held unknown values (see the module docstring)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement == "advisory"]

    @property
    def passed(self) -> bool:
        """No mandatory violation (advisory findings do not fail a plan)."""
        return not self.mandatory

    def result(self, policy_id: str) -> PolicyResult:
        return next(r for r in self.results if r.id == policy_id)

    def failed_ids(self) -> list[str]:
        return [r.id for r in self.results if r.status == "fail"]

    @property
    def undecided(self) -> list[PolicyResult]:
        return [r for r in self.results if r.status == "undecided"]

    def summary(self) -> dict[str, int]:
        counts = {s: 0 for s in ("pass", "fail", "not-applicable", "disabled", "undecided")}
        for r in self.results:
            counts[r.status] += 1
        preview = {"undecided": counts["undecided"]} if self.preview else {}
        return {
            "policies": len(self.results),
            "passed": counts["pass"],
            "failed": counts["fail"],
            "notApplicable": counts["not-applicable"],
            "disabled": counts["disabled"],
            "mandatoryViolations": len(self.mandatory),
            "advisoryViolations": len(self.advisory),
            "exemptionsApplied": sum(len(r.exemptions) for r in self.results),
            **preview,
        }

    def to_dict(self) -> dict[str, Any]:
        policies = [_camel(asdict(r)) for r in self.results]
        if not self.preview:  # an update's report has no undecided check: keep its shape
            for entry in policies:
                del entry["undecided"]
        return {
            "pack": self.pack,
            "version": self.version,
            **({"mode": "preview"} if self.preview else {}),
            "passed": self.passed,
            "summary": self.summary(),
            "config": self.config,
            "policies": policies,
            "unusedExemptions": self.unused_exemptions,
            "notInPack": self.not_in_pack,
        }


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.capitalize() for p in rest)


# --------------------------------------------------------------------------- views


def provider_urn(reference: str | None) -> str | None:
    """`"<provider urn>::<id>"` → the provider's URN."""
    if not reference:
        return None
    return reference.rsplit("::", 1)[0]


def views(resources: Iterable[Mapping[str, Any]]) -> list[ResourceView]:
    """resources.json entries → `ResourceView`s with their providers resolved."""
    items = list(resources)
    providers = {
        r["urn"]: ProviderView(r["type"], r["urn"], r["name"], _props(r))
        for r in items
        if str(r.get("type", "")).startswith("pulumi:providers:")
    }
    out = []
    for r in items:
        options = r.get("options") or {}
        out.append(
            ResourceView(
                urn=r["urn"],
                type=r["type"],
                name=r["name"],
                props=_props(r),
                provider=providers.get(provider_urn(r.get("provider")) or ""),
                parent=r.get("parent"),
                id=r.get("id"),
                protect=bool(options.get("protect")),
                retain_on_delete=bool(options.get("retainOnDelete")),
                delete_before_replace=bool(options.get("deleteBeforeReplace")),
                secrets_visible=True,
            )
        )
    return out


def _props(resource: Mapping[str, Any]) -> Any:
    """A resource's inputs with unknown markers as UNKNOWN, recording reads of them."""
    return tracked(from_plan(resource.get("inputs") or {}), resource["urn"])


# --------------------------------------------------------------------------- evaluation


def _safe_resource_check(policy: Policy, r: ResourceView, cfg: PackConfig) -> list[Violation]:
    try:
        return run_resource_check(policy, r, cfg)
    except Exception as error:
        return [
            Violation(
                f"{r.describe()}: the rule failed to evaluate ({type(error).__name__}: {error}).",
                r.urn,
            )
        ]


def _safe_stack_check(policy: Policy, stack: StackView, cfg: PackConfig) -> list[Violation]:
    if policy.stack_check is None:
        return []
    try:
        return list(policy.stack_check(stack, cfg))
    except Exception as error:
        return [Violation(f"the stack check failed to evaluate ({type(error).__name__}: {error}).")]


def evaluate_policy(
    policy: Policy, stack: StackView, cfg: PackConfig, enforcement: str | None = None
) -> tuple[PolicyResult, set[Exemption]]:
    level = enforcement or policy.enforcement.value
    result = PolicyResult(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        domain=policy.domain,
        kind=policy.kind,
        severity=policy.severity.value,
        enforcement=level,
        iso_controls=list(policy.iso_controls),
        uae_refs=list(policy.uae_refs),
        expectation=policy.expectation,
        remediation=policy.remediation,
        status="disabled" if level == "disabled" else "not-applicable",
    )
    if level == "disabled":
        return result, set()
    examined = {r.urn for r in stack.resources if policy.applies(r)}
    violations, result.undecided = _run_checks(policy, stack, cfg, examined)
    used: set[Exemption] = set()
    findings: set[Finding] = set()
    exempted: set[AppliedExemption] = set()
    for v in violations:
        urn = v.urn or ""
        resource = stack.by_urn(urn)
        rtype = resource.type if resource else ""
        exemption = cfg.exemption_for(
            policy.id, urn, rtype, resource.namespace if resource else None
        )
        if urn:
            examined.add(urn)
        if exemption is not None:
            used.add(exemption)
            exempted.add(
                AppliedExemption(
                    policy.id, urn, rtype, exemption.match, exemption.reason, v.message
                )
            )
            continue
        findings.add(
            Finding(
                policy_id=policy.id,
                severity=policy.severity.value,
                enforcement=level,
                urn=urn,
                resource_type=rtype,
                resource_name=resource.name if resource else "",
                message=v.message,
                remediation=v.remediation or policy.remediation,
            )
        )
    result.examined = sorted(examined)
    result.findings = sorted(findings, key=lambda f: (f.urn, f.message))
    result.exemptions = sorted(exempted, key=lambda e: (e.urn, e.message))
    if result.findings:
        result.status = "fail"
    elif result.undecided:
        result.status = "undecided"
    elif examined:
        result.status = "pass"
    return result, used


def _run_checks(
    policy: Policy, stack: StackView, cfg: PackConfig, examined: set[str]
) -> tuple[list[Violation], list[Undecided]]:
    """The policy's checks over the stack; a check that read an unknown value and found nothing
    is undecided (a preview's), never a pass."""
    violations: list[Violation] = []
    undecided: list[Undecided] = []
    if policy.check is not None:
        for r in stack.resources:
            if r.urn not in examined:
                continue
            with reading() as reads:
                found = _safe_resource_check(policy, r, cfg)
            violations += found
            if reads and not found:
                paths = tuple(sorted({read.path for read in reads}))[:3]
                undecided.append(Undecided(r.urn, r.type, r.name, paths))
    with reading() as reads:
        found = _safe_stack_check(policy, stack, cfg)
    violations += found
    if reads and not found:
        undecided.append(Undecided("", "", "(stack check)", _stack_paths(stack, reads)))
    return violations, undecided


def _stack_paths(stack: StackView, reads: list[UnknownRead]) -> tuple[str, ...]:
    named = set()
    for read in reads:
        resource = stack.by_urn(read.urn)
        named.add(f"{resource.name if resource else read.urn}:{read.path}")
    return tuple(sorted(named))[:3]


def evaluate(
    resources: Iterable[Mapping[str, Any]],
    config: PackConfig | Mapping[str, Any] | None = None,
    enforcement: Mapping[str, str] | None = None,
    policies: Iterable[Policy] = ALL_POLICIES,
) -> Report:
    """Evaluate the pack over resources.json entries.

    `config`: a PackConfig or its mapping form; `enforcement`: per-policy overrides
    (`mandatory`/`advisory`/`disabled`, e.g. from a CrossGuard config file).
    """
    cfg = config if isinstance(config, PackConfig) else PackConfig.from_mapping(config)
    stack = StackView(views(resources))
    levels = dict(enforcement or {})
    results: list[PolicyResult] = []
    used: set[Exemption] = set()
    for policy in policies:
        level = levels.get(policy.id) or levels.get("all")
        result, applied = evaluate_policy(policy, stack, cfg, level)
        results.append(result)
        used |= applied
    unused = [asdict(e) for e in cfg.exemptions if e not in used]
    preview = any(has_unknown(r.props) for r in stack.resources)
    return Report(
        PACK_NAME, PACK_VERSION, cfg.to_dict(), results, unused, dict(CHECKOV_ONLY), preview
    )


# --------------------------------------------------------------------------- files


def load_resources(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of resources (the resources.json of a plan)")
    return data


def load_config(path: Path) -> tuple[PackConfig, dict[str, str]]:
    """A pack config file: either the flat PackConfig form or a CrossGuard policy-config.json
    (`{"<policy>": {"enforcementLevel": ..., <properties>}}`). Returns (config, enforcement)."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    if not any(k == "all" or k.startswith("UAE-") for k in data):
        return PackConfig.from_mapping(data), {}
    flat: dict[str, Any] = {}
    exemptions: list[dict[str, Any]] = []
    levels: dict[str, str] = {}
    has_exemptions = False
    for name, entry in data.items():
        policy_id = name.removesuffix("-stack")
        if isinstance(entry, str):
            levels[policy_id] = entry
            continue
        if not isinstance(entry, dict):
            continue
        for key, value in entry.items():
            if key == "enforcementLevel":
                levels[policy_id] = str(value)
            elif key == "exemptions":
                has_exemptions = True
                exemptions.extend(e for e in value if e not in exemptions)
            else:
                flat.setdefault(key, value)
    if has_exemptions:
        flat["exemptions"] = exemptions
    return PackConfig.from_mapping(flat), levels
