"""IaC-side synthesis measurements, one size per process: `python -m benchmarks.synth_worker`.

stack  the offline plan of a shipped stack with its tenants replaced by N generated tenants
       (a `--set tenants=[...]` override, as a platform engineer would pass it): validate +
       synthesize under the mocks (`infra.plan.synthesize_stack`), then write the plan
       (resources.json, manifests) and evaluate the policy pack, each phase timed. checkov is
       not part of it (a separate tool in its own environment).
       With --replay, the same process then registers exactly the resources the program
       registered (same types, names and inputs) as plain CustomResources and
       ComponentResources with no Outputs between them: what those inputs cost the SDK and
       the mocks, without the program's own work. Timed only (the process is not fresh).
plain  the baseline: the same number of plain resources registered through the same
       `infra.synth.recording.synthesize` (RecordingMonitor + PlatformMocks): `typed` are
       Kubernetes ConfigMaps with an explicit provider (the SDK's own per-resource cost, as
       our resources pay it), `bare` are `pulumi.CustomResource`s with two inputs (the
       engine's floor).

Both import the same modules before timing, so the peak RSS (ru_maxrss) of the fresh process
compares like with like. One JSON line out.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

IMPORT_STARTED = time.perf_counter()

from infra import plan as planning  # noqa: E402
from infra.synth.recording import synthesize  # noqa: E402
from stacks import build as _program  # noqa: E402,F401  (the program's import cost, both modes)

if TYPE_CHECKING:
    from stacks.config import StackConfig

IMPORTS_SECONDS = time.perf_counter() - IMPORT_STARTED
SAMPLE_TENANT = "risk"


def generated_tenants(count: int, base: StackConfig) -> list[dict[str, Any]]:
    """`count` tenants with unique names; the sample workloads' tenant comes first.

    Each tenant asks for one GPU while the sum stays within the pools' capacity (the rest get
    none), so no reading of "quota within capacity" is violated, per tenant or in total. Each
    signs in as the target's cluster sees it: on AWS its own IAM role in the stack's account,
    on Azure its own Entra group object ID (a GUID derived from its name).
    """
    gpu_capacity = base.gpu_capacity()
    tenants = []
    for index in range(count):
        name = SAMPLE_TENANT if index == 0 else f"team-{index:03d}"
        tenant: dict[str, Any] = {
            "name": name,
            "idpGroup": f"ml-{name}",
            "quota": {"cpu": "16", "memory": "64Gi", "gpu": 1 if index < gpu_capacity else 0},
            "dataClassification": "confidential",
            "topics": ["events"],
        }
        if base.platform == "azure":
            tenant["idpGroup"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mlplatform-bench/{name}"))
        if base.platform == "aws" and base.aws is not None:
            tenant["awsRoleArn"] = f"arn:aws:iam::{base.aws.account_id}:role/ml-{name}"
        tenants.append(tenant)
    return tenants


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def stack(args: argparse.Namespace) -> dict[str, Any]:
    from stacks.config.loader import stack_config

    base, _ = stack_config(args.stack)
    overrides = (
        f"tenants={json.dumps(generated_tenants(args.tenants, base))}",
        f"sampleWorkloads.tenant={SAMPLE_TENANT}",
        "sampleWorkloads.gpus=1",
    )
    rss_before = _rss_mb()
    began = time.perf_counter()
    result = planning.synthesize_stack(args.stack, overrides, f"bench-{args.stack}-{args.tenants}")
    synth = time.perf_counter() - began
    peak_synth = _peak_mb()
    out = args.write_dir
    began = time.perf_counter()
    planning.write_plan(result, out)
    write = time.perf_counter() - began
    began = time.perf_counter()
    report = planning.evaluate_policies(result)
    policies = time.perf_counter() - began
    shutil.rmtree(out, ignore_errors=True)
    replay = _replay(args.stack, result) if args.replay else None
    return {
        "replay_seconds": None if replay is None else round(replay, 3),
        "stack": args.stack,
        "tenants": args.tenants,
        "resources": len(result.synthesis.resources),
        "imports_seconds": round(IMPORTS_SECONDS, 3),
        "synth_seconds": round(synth, 3),
        "write_seconds": round(write, 3),
        "policies_seconds": round(policies, 3),
        "plan_seconds": round(synth + write + policies, 3),
        "policies_passed": report.passed,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_after_synth_mb": round(peak_synth, 1),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def _replay(stack_name: str, result: planning.PlanResult) -> float:
    import pulumi

    from infra.synth.recording import unwrap
    from stacks.config.loader import stack_config

    recorded = [(r.type, r.name, unwrap(r.inputs), r.custom) for r in result.synthesis.resources]
    config, flat = stack_config(stack_name)

    def program() -> None:
        for typ, name, inputs, custom in recorded:
            if custom:
                pulumi.CustomResource(typ, name, inputs)
            else:
                pulumi.ComponentResource(typ, name)

    began = time.perf_counter()
    synthesize(stack_name, flat, program, planning.identity_for(config))
    return time.perf_counter() - began


def plain(args: argparse.Namespace) -> dict[str, Any]:
    import pulumi

    from stacks.config.loader import stack_config

    config, flat = stack_config(args.stack)
    identity = planning.identity_for(config)

    def typed_program() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider(f"{args.stack}-k8s", kubeconfig="{}")
        opts = pulumi.ResourceOptions(provider=provider)
        for i in range(args.resources - 1):
            name = f"plain-{i}"
            k8s.core.v1.ConfigMap(
                name,
                metadata={"name": name, "namespace": "bench", "labels": {"app": "bench"}},
                data={"index": str(i)},
                opts=opts,
            )

    def bare_program() -> None:
        for i in range(args.resources):
            pulumi.CustomResource(
                "mlplatform:bench:Plain", f"plain-{i}", {"index": i, "name": f"plain-{i}"}
            )

    rss_before = _rss_mb()
    began = time.perf_counter()
    synthesis = synthesize(
        args.stack, flat, typed_program if args.kind == "typed" else bare_program, identity
    )
    seconds = time.perf_counter() - began
    return {
        "stack": args.stack,
        "kind": args.kind,
        "resources": len(synthesis.resources),
        "imports_seconds": round(IMPORTS_SECONDS, 3),
        "synth_seconds": round(seconds, 3),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth_worker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    st = commands.add_parser("stack")
    st.add_argument("--stack", required=True)
    st.add_argument("--tenants", type=int, required=True)
    st.add_argument("--write-dir", type=Path, required=True)
    st.add_argument("--replay", action="store_true")
    pl = commands.add_parser("plain")
    pl.add_argument("--stack", required=True)
    pl.add_argument("--resources", type=int, required=True)
    pl.add_argument("--kind", choices=("typed", "bare"), default="typed")
    args = parser.parse_args(argv)
    result = stack(args) if args.command == "stack" else plain(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
