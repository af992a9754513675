"""One process of the preview benchmark: per shipped variant, synthesis + the pack in update
mode (A) and in preview mode (B), ABBA, printing one JSON line with each side's minimum.

    python -m benchmarks.preview_worker ROUNDS
"""

from __future__ import annotations

import json
import sys
import time

from infra import plan as planning


def _timed(variant: planning.Variant, preview: bool) -> float:
    began = time.perf_counter()
    result = planning.synthesize_stack(variant.stack, variant.overrides, variant.name, preview)
    planning.evaluate_policies(result)
    return time.perf_counter() - began


def main(argv: list[str]) -> int:
    rounds = max(1, int(argv[0])) if argv else 2
    rows = []
    for variant in planning.VARIANTS:
        times: dict[bool, list[float]] = {False: [], True: []}
        for index in range(rounds):
            order = (False, True) if index % 2 == 0 else (True, False)
            for preview in order:
                times[preview].append(_timed(variant, preview))
        rows.append(
            {
                "variant": variant.name,
                "update_s": round(min(times[False]), 3),
                "preview_s": round(min(times[True]), 3),
            }
        )
    print(json.dumps({"variants": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
