"""Every Helm release rendered with its real chart, and what the cluster would receive, checked.

At plan time each `helm.v3.Release` the program declares is rendered with its chart at the
version the catalogue pins and exactly the values the program passes (Helm's own template engine,
`helm-python-sdk`, offline). The rendered objects join the program's own manifests as the objects
the cluster would receive (`objects.cluster_objects`, the seam the simulation and the mirror list
use), and the checks run over them.

| module | owns |
|---|---|
| `cache` | the chart cache (`--charts DIR`, `MLP_CHARTS`, the reference charts); `ChartMissing` |
| `releases` | the releases a plan declares (`ReleaseSpec`), the file that declares each |
| `rendering` | one release rendered (`RenderedRelease`): objects, CRDs, duplicate keys, defaults |
| `strict_yaml` | YAML parsing that finds duplicate keys instead of keeping the last |
| `objects` | `cluster_objects` / `render_plan`: every object, tagged with its `Origin` |
| `crds` | the CRDs custom resources are validated against (reference first, then charts') |
| `images` | every image the cluster would pull, operator-injected ones included |
| `checks` | the RENDER-00n checks (id, severity, remediation), findings, waivers, the report |
| `evaluate` | `check_plan`: every check over a plan's rendering → `RenderReport` |
| `values` | RENDER-002: values keys the chart reads (`UNDECLARED`, `FREE_FORM` with reasons) |
| `labels` | RENDER-005: governance labels; `LABEL_GAPS` where a chart cannot label |
| `schemas` | RENDER-007: Kubernetes schemas and CRDs, strict |
| `pack` | RENDER-008: the policy pack's Kubernetes rules over rendered objects (`ACCEPTED`) |
| `views` | rendered objects as the pack's `ResourceView`s and as checkov names them |
| `write` | `releases/<release>/` (CRDs under `crds/`) and render-report.json |

Imports: `infra.synth` (the recorded resources and the program's manifests) and `policies`;
`infra.plan` and `infra.cli` import this package, never the other way.
"""

from __future__ import annotations

from infra.render.cache import CHARTS_ENV, ChartCache, ChartMissing, NoChartCache
from infra.render.objects import (
    ClusterObject,
    Origin,
    PlanObjects,
    cluster_objects,
    program_objects,
    render_plan,
)
from infra.render.releases import ReleaseSpec, release_specs
from infra.render.rendering import RenderedObject, RenderedRelease, render_release

__all__ = [
    "CHARTS_ENV",
    "ChartCache",
    "ChartMissing",
    "ClusterObject",
    "NoChartCache",
    "Origin",
    "PlanObjects",
    "ReleaseSpec",
    "RenderedObject",
    "RenderedRelease",
    "cluster_objects",
    "program_objects",
    "release_specs",
    "render_plan",
    "render_release",
]
