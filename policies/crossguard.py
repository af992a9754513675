"""The pack's rules as `pulumi_policy` policies (what `policies/__main__.py` hands to PolicyPack).

Each catalogue policy becomes a `ResourceValidationPolicy` named by its id (`UAE-KEY-001`);
one with a whole-graph check also becomes a `StackValidationPolicy` (`UAE-KEY-001-stack`, or
just the id when it has no per-resource check). Severity maps to CrossGuard's severity and
enforcement level (critical/high → mandatory, medium → advisory), the ISO/IEC 27001:2022
controls and UAE references travel as the compliance framework, the remediation as
`remediation_steps`, and the config schema lists the `PackConfig` keys the policy reads.

Adapting the engine's arguments: props arrive wrapped in pulumi_policy's unknown-checking
proxies; they are copied into plain data with unknown values turned into `core.UNKNOWN`, so a
rule never raises during preview. A check that read an unknown value (`policies.preview`) and
found nothing cannot decide: the adapter then raises pulumi_policy's `UnknownValueError`, which
the engine reports as an advisory "can't run policy ... during preview" — never a silent pass.
Secrets arrive already unwrapped (CrossGuard cannot tell a secret from a literal), so
`ResourceView.secrets_visible` is False here.

Exemptions: CrossGuard has no notion of an exempted finding, so an exempted violation is not
reported to the engine; `mlplatform plan`/`check` and the compliance report list every
exemption applied, with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import Policy as CrossGuardPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, _is_unknown
from pulumi_policy.secret import Secret

from policies.config_file import crossguard_names
from policies.core import (
    UNKNOWN,
    Policy,
    ProviderView,
    ResourceView,
    StackView,
    Violation,
    run_resource_check,
)
from policies.pack_config import SCHEMA, PackConfig
from policies.preview import UnknownRead, reading, tracked
from policies.registry import ALL_POLICIES

_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
}
_ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


_PROXIES = ("_DictProxy", "_DictSecretsProxy", "_ListProxy", "_ListSecretsProxy")


def plain(value: Any) -> Any:
    """Proxies → plain dicts/lists; unknown sentinels → UNKNOWN; secrets → their value."""
    if type(value).__name__ in _PROXIES:
        value = value["__target"]
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str) and _is_unknown(value):
        return UNKNOWN
    return value


def _provider(provider: Any) -> ProviderView | None:
    if provider is None:
        return None
    return ProviderView(provider.resource_type, provider.urn, provider.name, plain(provider.props))


def view_from_args(args: ResourceValidationArgs) -> ResourceView:
    props = tracked(plain(args.props), args.urn)
    return ResourceView(
        urn=args.urn,
        type=args.resource_type,
        name=args.name,
        props=props,
        provider=_provider(args.provider),
        parent=args.opts.parent if args.opts else None,
        id=props.get("id") if isinstance(props.get("id"), str) else None,
        protect=bool(args.opts.protect) if args.opts else False,
        retain_on_delete=bool(getattr(args.opts, "retain_on_delete", False)),
        delete_before_replace=bool(args.opts.delete_before_replace) if args.opts else False,
    )


def view_from_resource(resource: PolicyResource) -> ResourceView:
    props = tracked(plain(resource.props), resource.urn)
    opts = resource.opts
    return ResourceView(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        props=props,
        provider=_provider(resource.provider),
        parent=resource.parent.urn if resource.parent is not None else None,
        id=props.get("id") if isinstance(props.get("id"), str) else None,
        protect=bool(opts.protect) if opts else False,
        retain_on_delete=bool(getattr(opts, "retain_on_delete", False)),
        delete_before_replace=bool(opts.delete_before_replace) if opts else False,
    )


def _message(policy: Policy, violation: Violation) -> str:
    fix = violation.remediation or policy.remediation
    return f"[{policy.id}] {violation.message}\nRemediation: {fix}"


def resource_validation(
    policy: Policy,
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        r = view_from_args(args)
        if not policy.applies(r):
            return
        cfg = PackConfig.from_mapping(args.get_config())
        with reading() as reads:
            violations = run_resource_check(policy, r, cfg)
        for violation in violations:
            if cfg.exemption_for(policy.id, r.urn, r.type, r.namespace) is None:
                report_violation(_message(policy, violation), None)
        if reads and not violations:
            raise _undecided(reads[0], None)

    return validate


def _undecided(read: UnknownRead, name: str | None) -> UnknownValueError:
    """The engine's "can't run policy during preview" for a check that read `read`."""
    return UnknownValueError(UNKNOWN_STRING_VALUE, [*([name] if name else []), read.path])


def stack_validation(policy: Policy) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = StackView([view_from_resource(r) for r in args.resources])
        cfg = PackConfig.from_mapping(args.get_config())
        assert policy.stack_check is not None
        with reading() as reads:
            violations = list(policy.stack_check(stack, cfg))
        if reads and not violations:
            resource = stack.by_urn(reads[0].urn)
            raise _undecided(reads[0], resource.name if resource else reads[0].urn)
        for violation in violations:
            resource = stack.by_urn(violation.urn or "")
            namespace = resource.namespace if resource else None
            rtype = resource.type if resource else ""
            if cfg.exemption_for(policy.id, violation.urn or "", rtype, namespace) is None:
                report_violation(_message(policy, violation), violation.urn)

    return validate


def _common(policy: Policy) -> dict[str, Any]:
    keys = (*policy.config_keys, "exemptions")
    return {
        "description": policy.description,
        "enforcement_level": _ENFORCEMENT[policy.enforcement.value],
        "config_schema": PolicyConfigSchema(properties={k: SCHEMA[k] for k in keys}),
        "display_name": f"{policy.id}: {policy.name}",
        "severity": _SEVERITY[policy.severity.value],
        "framework": PolicyComplianceFramework(
            name="ISO/IEC 27001:2022",
            version="2022",
            reference=", ".join(f"A.{c}" for c in policy.iso_controls),
            specification="; ".join(policy.uae_refs) or None,
        ),
        "tags": ["uae", policy.domain, *(f"iso27001-a{c}" for c in policy.iso_controls)],
        "remediation_steps": policy.remediation,
    }


def crossguard_policies(policies: tuple[Policy, ...] = ALL_POLICIES) -> list[CrossGuardPolicy]:
    built: list[CrossGuardPolicy] = []
    for policy in policies:
        names = crossguard_names(policy)
        if policy.check is not None:
            built.append(
                ResourceValidationPolicy(
                    name=names[0], validate=resource_validation(policy), **_common(policy)
                )
            )
        if policy.stack_check is not None:
            built.append(
                StackValidationPolicy(
                    name=names[-1], validate=stack_validation(policy), **_common(policy)
                )
            )
    return built
