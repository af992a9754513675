"""Synthesis and the plan directory: validate the config, run the real program under mocks,
write resources.json, manifests/, outputs.json (secrets redacted) and summary.json.

Nothing is written when the config is refused (`ConfigError` comes before any file).
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
from stacks.config.loader import from_runtime, stack_config


@dataclass
class PlanResult:
    name: str
    config: StackConfig
    synthesis: Synthesis
    out_dir: Path | None = None
    files: list[Path] = field(default_factory=list)
    overrides: tuple[str, ...] = ()  # the --set overrides it was synthesized with

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
    stack: str, overrides: tuple[str, ...] = (), name: str | None = None, preview: bool = False
) -> PlanResult:
    """Validate config (raises ConfigError) and run the program under mocks (as a first
    `pulumi preview` sees it with `preview`: computed values unknown, `infra.synth.recording`)."""
    from stacks.build import build  # the program; imported here so config errors come first

    config, flat = stack_config(stack, overrides)

    def program() -> None:
        build(from_runtime(stack))

    synthesis = synthesize(stack, flat, program, identity_for(config), preview=preview)
    return PlanResult(name or stack, config, synthesis, overrides=tuple(overrides))


def write_plan(result: PlanResult, out: Path, directory: Path | None = None) -> PlanResult:
    """The plan's files in `out/<name>/` (or `directory`, e.g. a preview's `out/<name>/preview`)."""
    directory = directory or out / result.name
    if directory.exists():
        shutil.rmtree(directory)  # a plan directory never mixes two runs
    directory.mkdir(parents=True)
    resources = sorted(result.synthesis.resources, key=lambda r: r.urn)
    dump_json(directory / "resources.json", [r.to_json() for r in resources])
    dump_json(directory / "outputs.json", redact(result.synthesis.outputs))
    files = [directory / "resources.json", directory / "outputs.json"]
    files += manifests.write(resources, directory / "manifests")
    dump_json(
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


def dump_json(path: Path, data: Any) -> None:
    """A plan file: indented JSON, keys in the order given, one trailing newline."""
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
