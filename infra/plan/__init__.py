"""`mlplatform plan`: synthesize a stack offline and write everything a reviewer needs.

For one stack (and optional `--set` overrides): validate the config, run the real program under
mocks (`infra.synth`) and write `<out>/<name>/` (`synthesis`); evaluate the policy pack over the
written resources and write policy-config.json / policy-report.json (`policy_step`); synthesize
it again as a first `pulumi preview` sees it and run the pack over that (`preview_step`); render
every Helm release with its chart and check what the cluster would receive (`render_step`,
`infra.render`); check every image it pulls is pinned by the stack's mirror lock (`mirror_step`,
`infra.mirror`); run checkov and write the compliance evidence (`compliance_step`, built on
`infra.evidence`). `variants` lists every shipped stack and variant (`--all`, CI). Nothing is
written when the config is refused. The names below are the package's interface (the CLI, CI
and the tests use them).
"""

from __future__ import annotations

from infra.evidence.checkov import prepare as prepare_checkov  # before a variant's synthesis
from infra.plan.compliance_step import ComplianceStep, check_and_report, start_checkov
from infra.plan.mirror_step import MIRROR_REPORT_FILE, pin_plan
from infra.plan.policy_step import (
    POLICY_CONFIG_FILE,
    POLICY_REPORT_FILE,
    evaluate_policies,
    policy_config,
    write_policy_files,
)
from infra.plan.preview_step import PREVIEW_REPORT_FILE, PreviewStep, preview_plan, preview_summary
from infra.plan.render_step import RenderStep, render_and_check, render_recorded
from infra.plan.simulation_step import SimulationStep, simulate_plan, simulate_recorded
from infra.plan.synthesis import PlanResult, identity_for, synthesize_stack, write_plan
from infra.plan.variants import VARIANTS, Variant

__all__ = [
    "MIRROR_REPORT_FILE",
    "POLICY_CONFIG_FILE",
    "POLICY_REPORT_FILE",
    "PREVIEW_REPORT_FILE",
    "VARIANTS",
    "ComplianceStep",
    "PlanResult",
    "PreviewStep",
    "RenderStep",
    "SimulationStep",
    "Variant",
    "check_and_report",
    "evaluate_policies",
    "identity_for",
    "pin_plan",
    "policy_config",
    "prepare_checkov",
    "preview_plan",
    "preview_summary",
    "render_and_check",
    "render_recorded",
    "simulate_plan",
    "simulate_recorded",
    "start_checkov",
    "synthesize_stack",
    "write_plan",
    "write_policy_files",
]
