"""One process of the plan benchmark: `mlplatform plan --all`'s steps, timed, with and without
rendering, the cluster simulation and the access matrix, variant by variant (ABBA order), or one
stack's plan with N generated tenants; one JSON line out.

    python -m benchmarks.plan_worker OUT_DIR [--skip-checkov]
    python -m benchmarks.plan_worker OUT_DIR --stack NAME --tenants N

Per variant, `A` is the plan without rendering (synthesis and files, the policy pack, checkov
over manifests/ and the compliance report) and `B` the same plan with the render step
(every release rendered from the reference charts and checked, releases/ written), the cluster
simulated over what the cluster would receive, the cross-tenant access matrix, and checkov
also over releases/. Both write their own directory; the chart-YAML cache is whatever
MLP_CACHE names (a fresh directory gives the cold figure).

With --tenants, the stack's tenants are replaced by N generated ones (as the synthesis
benchmark generates them) and plan `B`'s steps run once, checkov left out (its own process,
measured per variant above): how a plan with rendering, simulation and the access matrix
grows with tenants.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from infra import plan as planning
from infra.plan import tenancy_step
from infra.render import ChartCache


def _timed_plan(
    variant: planning.Variant, out: Path, cache: ChartCache | None, checkov: bool
) -> dict[str, float]:
    times: dict[str, float] = {}
    began = time.perf_counter()
    result = planning.synthesize_stack(variant.stack, variant.overrides, variant.name)
    planning.write_plan(result, out)
    times["synthesis"] = time.perf_counter() - began
    mark = time.perf_counter()
    report = planning.evaluate_policies(result)
    planning.write_policy_files(result, report)
    times["policies"] = time.perf_counter() - mark
    rendering = simulation = tenancy = None
    if cache is not None:
        mark = time.perf_counter()
        step = planning.render_and_check(result, cache)
        rendering = step.report.to_dict()
        times["render"] = time.perf_counter() - mark
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
    )
    times["checkov_and_report"] = time.perf_counter() - mark
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
    times = _timed_plan(variant, out, ChartCache.resolve(None), checkov=False)
    times["report"] = times.pop("checkov_and_report")  # compliance.json/md only
    return {"stack": stack, "tenants": tenants, **{k: round(v, 3) for k, v in times.items()}}


def main(argv: list[str]) -> int:
    out, checkov = Path(argv[0]), "--skip-checkov" not in argv
    if "--tenants" in argv:
        stack, tenants = argv[argv.index("--stack") + 1], int(argv[argv.index("--tenants") + 1])
        print(json.dumps(tenants_plan(out, stack, tenants)))
        return 0
    cache = ChartCache.resolve(None)
    rows: list[dict[str, Any]] = []
    for i, variant in enumerate(planning.VARIANTS):
        order = ("A", "B") if i % 2 == 0 else ("B", "A")
        row: dict[str, Any] = {"variant": variant.name}
        for which in order:
            row[which] = _timed_plan(variant, out / which, cache if which == "B" else None, checkov)
        rows.append(row)
    print(json.dumps({"variants": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
