"""The rendering step of a plan: every Helm release rendered with its chart, then checked.

After the policy step and before checkov: render the plan's releases from the chart cache
(`infra.render`), run the render checks (RENDER-001..008) over everything the cluster would
receive, and write `releases/<release>/` and render-report.json into the plan directory. A
chart missing from the cache raises `infra.render.ChartMissing` (the CLI's exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.plan.policy_step import policy_config
from infra.plan.synthesis import PlanResult
from infra.render import ChartCache, PlanObjects, render_plan
from infra.render.checks import RenderReport
from infra.render.evaluate import check_plan
from infra.render.write import write_releases, write_report
from policies.pack_config import PackConfig
from stacks.config.model import Kubernetes

DEFAULT_KUBERNETES = Kubernetes().version


@dataclass
class RenderStep:
    objects: PlanObjects
    report: RenderReport
    files: list[Path]

    @property
    def ok(self) -> bool:
        return self.report.passed


def render_and_check(result: PlanResult, cache: ChartCache) -> RenderStep:
    """Render and check a synthesized plan; write releases/ when the plan has been written."""
    objects = render_plan(result.synthesis.resources, cache)
    report = check_plan(
        objects, policy_config(result.config), result.config.kubernetes.version, cache.describe()
    )
    files: list[Path] = []
    if result.out_dir is not None:
        files = write_releases(objects, result.out_dir)
        files.append(write_report(report, result.out_dir))
        result.files += files
    return RenderStep(objects, report, files)


def render_recorded(
    resources: list[dict[str, Any]],
    cache: ChartCache,
    config: PackConfig,
    kubernetes_version: str = DEFAULT_KUBERNETES,
) -> RenderStep:
    """Render and check a recorded plan (resources.json), writing nothing."""
    objects = render_plan(resources, cache)
    report = check_plan(objects, config, kubernetes_version, cache.describe())
    return RenderStep(objects, report, [])
