"""One process of the plan benchmark: `mlplatform plan --all`'s steps, timed, with and without
rendering (and the cluster simulation after it), variant by variant (ABBA order), printing one
JSON line.

    python -m benchmarks.plan_worker OUT_DIR [--skip-checkov]

Per variant, `A` is the plan without rendering (synthesis and files, the policy pack, checkov
over manifests/ and the compliance report) and `B` the same plan with the render step
(every release rendered from the reference charts and checked, releases/ written, the cluster
simulated over what the cluster would receive, checkov also over releases/). Both write their
own directory; the chart-YAML cache is whatever MLP_CACHE names (a fresh directory gives the
cold figure).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from infra import plan as planning
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
    rendering = simulation = None
    if cache is not None:
        mark = time.perf_counter()
        step = planning.render_and_check(result, cache)
        rendering = step.report.to_dict()
        times["render"] = time.perf_counter() - mark
        mark = time.perf_counter()
        simulation = planning.simulate_plan(result, step.objects).report()
        times["simulate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    planning.check_and_report(
        result, report, skip_checkov=not checkov, rendering=rendering, simulation=simulation
    )
    times["checkov_and_report"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - began
    return times


def main(argv: list[str]) -> int:
    out, checkov = Path(argv[0]), "--skip-checkov" not in argv
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
