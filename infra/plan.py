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
from typing import TYPE_CHECKING, Any

from infra.synth import manifests
from infra.synth.computed import CloudIdentity
from infra.synth.recording import Synthesis, redact, synthesize
from policies.pack_config import PackConfig
from stacks.config import StackConfig
from stacks.config.loader import from_runtime, stack_config

if TYPE_CHECKING:
    from policies.evaluate import Report


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


# --------------------------------------------------------------------------- policy pack
# The CrossGuard pack's rules (policies/), evaluated offline over the very resources.json the
# plan wrote, with the pack config derived from the stack config. policy-config.json is the
# file `pulumi preview --policy-pack policies --policy-pack-config <it>` takes for this stack.

POLICY_CONFIG_FILE = "policy-config.json"
POLICY_REPORT_FILE = "policy-report.json"


def policy_config(config: StackConfig) -> PackConfig:
    """The pack's `PackConfig` for a stack: its registry, log retention, accounts, site stores,
    and the Pod Security exemptions the components record (components.namespace)."""
    from components.namespace import PSS_EXEMPTIONS
    from policies.pack_config import Exemption

    stores: list[str] = []
    if config.onprem is not None:
        site = config.onprem
        store = site.object_store
        stores += [
            store.endpoint,
            *(
                f"s3://{b}"
                for b in (store.artifact_bucket, store.offline_store_bucket, store.audit_bucket)
            ),
        ]
        for existing in (site.postgres.existing, site.redis.existing):
            if existing is not None:
                stores.append(existing.host)
    return PackConfig(
        allowed_registries=(config.image_registry,),
        log_retention_days=config.logging.retention_days,
        exemptions=tuple(Exemption(e.control, e.namespace, e.reason) for e in PSS_EXEMPTIONS),
        require_protect=not config.ephemeral,
        immutable_tags=config.registry.immutable_tags,
        aws_account_ids=(config.aws.account_id,) if config.platform == "aws" and config.aws else (),
        azure_tenant_ids=(
            (config.azure.tenant_id,) if config.platform == "azure" and config.azure else ()
        ),
        data_stores=tuple(stores),
    )


def evaluate_policies(result: PlanResult) -> Report:
    """Every policy of the pack over the plan's resources → `policies.evaluate.Report`."""
    from policies.evaluate import evaluate

    resources = sorted(result.synthesis.resources, key=lambda r: r.urn)
    return evaluate([r.to_json() for r in resources], policy_config(result.config))


def write_policy_files(result: PlanResult, report: Report) -> list[Path]:
    """policy-config.json (for `pulumi preview --policy-pack`) and policy-report.json."""
    from policies.config_file import policy_config_file

    if result.out_dir is None:
        raise ValueError("write the plan before its policy files")
    config = PackConfig.from_mapping(report.config)
    files = [result.out_dir / POLICY_CONFIG_FILE, result.out_dir / POLICY_REPORT_FILE]
    _dump(files[0], policy_config_file(config))
    _dump(files[1], report.to_dict())
    result.files += files
    return files


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
        declared_exceptions=list(
            (result.synthesis.outputs.get("stack") or {}).get("exceptions", [])
        ),
    )
    report = compliance.build(inputs)
    files = compliance.write(report, result.out_dir)
    if ran is not None:
        files = [*ran.files.values(), *files]
    result.files += files
    return ComplianceStep(ran, report, files)
