"""`mlplatform plan`: synthesize a stack offline and write everything a reviewer needs.

For one stack (and optional `--set` overrides) this validates the config, runs the real program
under mocks, and writes to `<out>/<name>/`: resources.json, manifests/, outputs.json (secrets
redacted) and the summary. Nothing is written when the config is refused.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.synth import manifests
from infra.synth.computed import CloudIdentity
from infra.synth.recording import Synthesis, redact, synthesize
from stacks.config import StackConfig
from stacks.loader import from_runtime, stack_config


@dataclass(frozen=True)
class Variant:
    """A stack plus overrides that CI plans and checks (every shipped combination)."""

    name: str
    stack: str
    overrides: tuple[str, ...] = ()


VARIANTS: tuple[Variant, ...] = (
    Variant("uae-onprem", "uae-onprem"),
    Variant("uae-cloud", "uae-cloud"),
    Variant("uae-cloud-msk", "uae-cloud", ("kafka.mode=managed",)),
    Variant("uae-cloud-azure", "uae-cloud", ("cloud=azure",)),
    Variant("uae-cloud-azure-eventhubs", "uae-cloud", ("cloud=azure", "kafka.mode=managed")),
)


@dataclass
class PlanResult:
    name: str
    config: StackConfig
    synthesis: Synthesis
    out_dir: Path | None = None
    files: list[Path] = field(default_factory=list)

    def type_counts(self) -> list[tuple[str, int]]:
        counts = Counter(r.type for r in self.synthesis.resources)
        return sorted(counts.items())


def identity_for(config: StackConfig) -> CloudIdentity:
    """Account facts the mocks return, taken from the stack's own config."""
    ident = CloudIdentity()
    if config.aws is not None:
        ident = CloudIdentity(
            aws_account_id=config.aws.account_id,
            aws_region=config.aws.region,
            azure_subscription_id=ident.azure_subscription_id,
            azure_location=ident.azure_location,
        )
    if config.azure is not None:
        ident = CloudIdentity(
            aws_account_id=ident.aws_account_id,
            aws_region=ident.aws_region,
            azure_subscription_id=config.azure.subscription_id,
            azure_location=config.azure.location,
        )
    return ident


def synthesize_stack(
    stack: str, overrides: tuple[str, ...] = (), name: str | None = None
) -> PlanResult:
    """Validate config (raises ConfigError) and run the program under mocks."""
    from stacks.build import build  # the program; imported here so config errors come first

    config, flat = stack_config(stack, overrides)

    def program() -> None:
        build(from_runtime(stack))

    synthesis = synthesize(stack, flat, program, identity_for(config))
    return PlanResult(name or stack, config, synthesis)


def write_plan(result: PlanResult, out: Path) -> PlanResult:
    directory = out / result.name
    if directory.exists():
        shutil.rmtree(directory)  # a plan directory never mixes two runs
    directory.mkdir(parents=True)
    resources = sorted(result.synthesis.resources, key=lambda r: r.urn)
    _dump(directory / "resources.json", [r.to_json() for r in resources])
    _dump(directory / "outputs.json", redact(result.synthesis.outputs))
    files = [directory / "resources.json", directory / "outputs.json"]
    files += manifests.write(resources, directory / "manifests")
    _dump(
        directory / "summary.json",
        {
            "stack": result.synthesis.stack,
            "variant": result.name,
            "platform": result.config.platform,
            "resources": len(resources),
            "byType": dict(result.type_counts()),
        },
    )
    files.append(directory / "summary.json")
    result.out_dir, result.files = directory, files
    return result


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


# --------------------------------------------------------------------------- checkov + compliance
# After the policy pack's step: checkov over the written manifests and the workload Dockerfiles
# (infra/checkov.py), then the compliance evidence (infra/compliance.py). A gated checkov
# failure fails the plan like a mandatory policy violation.


@dataclass
class ComplianceStep:
    checkov: Any | None  # infra.checkov.CheckovResult; None with --skip-checkov
    report: dict[str, Any]
    files: list[Path]

    @property
    def gated_failures(self) -> list[Any]:
        return self.checkov.gated_failures if self.checkov is not None else []

    @property
    def ok(self) -> bool:
        return self.checkov is None or self.checkov.ok


def check_and_report(
    result: PlanResult,
    policy_report: Any | None = None,
    *,
    skip_checkov: bool = False,
    progress: Any | None = None,
) -> ComplianceStep:
    """checkov + compliance.json/md for a written plan (`write_plan` first).

    `policy_report` is the pack's `policies.evaluate.Report` for this plan, when it ran.
    Raises `infra.checkov.CheckovUnavailable` when checkov's environment is missing.
    """
    from infra import checkov, compliance

    if result.out_dir is None:
        raise ValueError("write the plan before checking it")
    ran = (
        None
        if skip_checkov
        else checkov.scan_plan(result.out_dir, result.config, progress=progress)
    )
    inputs = compliance.Inputs(
        stack=result.synthesis.stack,
        name=result.name,
        config=result.config,
        resources=[r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)],
        policy_report=policy_report,
        checkov=ran,
    )
    report = compliance.build(inputs)
    files = compliance.write(report, result.out_dir)
    if ran is not None:
        files = [*ran.files.values(), *files]
    result.files += files
    return ComplianceStep(ran, report, files)
