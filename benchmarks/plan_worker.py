"""One process of the plan benchmark: `mlplatform plan --all`'s steps, timed, with and without
rendering, the cluster simulation and the access matrix, variant by variant (ABBA order), or one
stack's plan with N generated tenants; one JSON line out.

    python -m benchmarks.plan_worker OUT_DIR [--skip-checkov] [--no-preview]
    python -m benchmarks.plan_worker OUT_DIR --stack NAME --tenants N

Per variant, `A` is the plan without rendering (synthesis and files, the policy pack, the
preview step, checkov over manifests/ and the compliance report) and `B` the same plan with the
render step (every release rendered from the reference charts and checked, releases/ written),
the mirror-lock check over the rendered images, the cluster simulated over what the cluster
would receive, the cross-tenant access matrix, and checkov also over releases/. Both run the
steps in the CLI's order, checkov under way while the steps after it run, after one untimed
synthesis of every variant (what a process pays once, whichever arm comes first).
--no-preview leaves the preview step out of both (the arms before it joined `plan`). Both write
their own directory; the chart-YAML cache is whatever MLP_CACHE names (a fresh directory gives
the cold figure, where the first `B` starts the CLI's parsing of the charts' CRDs beside it).

With --tenants, the stack's tenants are replaced by N generated ones (as the synthesis
benchmark generates them) and plan `B`'s steps run once, checkov and the preview left out (they
are measured per variant above): how a plan with rendering, simulation and the access matrix
grows with tenants.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from infra import plan as planning
from infra.plan import tenancy_step
from infra.render import ChartCache, warmup


def _timed_plan(
    variant: planning.Variant,
    out: Path,
    cache: ChartCache | None,
    checkov: bool,
    preview: bool = True,
) -> dict[str, float]:
    """One variant planned in `mlplatform plan`'s order (infra/cli/plan.py): checkov starts once
    manifests/ (and releases/) are written and reads them while the later steps run; its
    `checkov_and_report` is what is left to wait for, then the report. `cache` None: plan A."""
    times: dict[str, float] = {}
    began = time.perf_counter()
    if checkov:
        planning.prepare_checkov()
    result = planning.synthesize_stack(variant.stack, variant.overrides, variant.name)
    planning.write_plan(result, out)
    times["synthesis"] = time.perf_counter() - began
    mark = time.perf_counter()
    report = planning.evaluate_policies(result)
    planning.write_policy_files(result, report)
    times["policies"] = time.perf_counter() - mark
    rendering = simulation = tenancy = None
    step = None
    if cache is not None:
        mark = time.perf_counter()
        step = planning.render_and_check(result, cache)
        rendering = step.report.to_dict()
        times["render"] = time.perf_counter() - mark
    scan = planning.start_checkov(result) if checkov else None
    try:
        if preview:
            mark = time.perf_counter()
            previewed = planning.preview_summary(planning.preview_plan(result, report))
            times["preview"] = time.perf_counter() - mark
        if step is not None:
            mark = time.perf_counter()
            planning.pin_plan(result, step.objects)
            times["pins"] = time.perf_counter() - mark
            mark = time.perf_counter()
            simulation = planning.simulate_plan(result, step.objects).report()
            times["simulate"] = time.perf_counter() - mark
            mark = time.perf_counter()
            tenancy = tenancy_step.tenancy_plan(result, step.objects).report()
            times["tenancy"] = time.perf_counter() - mark
        mark = time.perf_counter()
        planning.check_and_report(
            result,
            report,
            skip_checkov=not checkov,
            rendering=rendering,
            simulation=simulation,
            tenancy=tenancy,
            preview=previewed if preview else None,
            checkov=scan,
        )
        times["checkov_and_report"] = time.perf_counter() - mark
    finally:
        if scan is not None:
            scan.stop()
    times["total"] = time.perf_counter() - began
    return times


def tenants_plan(out: Path, stack: str, tenants: int) -> dict[str, Any]:
    """Plan `B` of `stack` with `tenants` generated tenants, checkov left out; its steps timed."""
    from benchmarks.synth_worker import SAMPLE_TENANT, generated_tenants
    from stacks.config.loader import stack_config

    base, _ = stack_config(stack)
    overrides = (
        f"tenants={json.dumps(generated_tenants(tenants, base))}",
        f"sampleWorkloads.tenant={SAMPLE_TENANT}",
        "sampleWorkloads.gpus=1",
    )
    variant = planning.Variant(f"{stack}-{tenants}", stack, overrides)
    times = _timed_plan(variant, out, ChartCache.resolve(None), checkov=False, preview=False)
    times["report"] = times.pop("checkov_and_report")  # compliance.json/md only
    return {"stack": stack, "tenants": tenants, **{k: round(v, 3) for k, v in times.items()}}


def main(argv: list[str]) -> int:
    out, checkov, preview = Path(argv[0]), "--skip-checkov" not in argv, "--no-preview" not in argv
    if "--tenants" in argv:
        stack, tenants = argv[argv.index("--stack") + 1], int(argv[argv.index("--tenants") + 1])
        print(json.dumps(tenants_plan(out, stack, tenants)))
        return 0
    cache = ChartCache.resolve(None)
    for variant in planning.VARIANTS:
        # Untimed: the first synthesis of a provider's stack imports its SDK (pulumi_aws,
        # azure-native: 1-1.5 s, once per process). ABBA would charge it to whichever arm came
        # first, and that is B for the first AWS and the first Azure variant both.
        planning.synthesize_stack(variant.stack, variant.overrides, variant.name)
    rows: list[dict[str, Any]] = []
    with ExitStack() as later:
        for i, variant in enumerate(planning.VARIANTS):
            order = ("A", "B") if i % 2 == 0 else ("B", "A")
            row: dict[str, Any] = {"variant": variant.name}
            for which in order:
                if (i, which) == (0, "B"):  # the first B
                    # As `mlplatform plan` does before its first synthesis: the charts' CRDs
                    # parsed on the spare core (a cold cache only). Here it overlaps a synthesis
                    # whose SDK imports the untimed pass above already paid: less than the CLI.
                    later.enter_context(warmup.running(cache))
                arm = cache if which == "B" else None
                row[which] = _timed_plan(variant, out / which, arm, checkov, preview)
            rows.append(row)
    print(json.dumps({"variants": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
