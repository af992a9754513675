"""Whether the tests can render Helm releases: the chart cache they use, and the markers that skip.

Rendering needs every pinned chart. The charts are never vendored into the project: a clone
without a cache skips the tests that render, naming the path looked at and how to give one;
with a cache (CI, the workspace) every one of them runs.

- `requires_charts`: the test renders through the cache `mlplatform plan` uses without
  `--charts` (`default_charts_dir()`: `MLP_CHARTS`, else ../shared/reference/charts).
- `requires_reference_charts`: the test reads the upstream chart trees at
  ../shared/reference/charts by path (a cache filled by `mlplatform charts pull` is not those).
"""

from __future__ import annotations

import pytest

from infra.render.cache import CHARTS_ENV, REFERENCE_CHARTS, default_charts_dir

CHARTS = default_charts_dir()

requires_charts = pytest.mark.skipif(
    CHARTS is None,
    reason=f"no chart cache: {CHARTS_ENV} is not set and {REFERENCE_CHARTS} does not exist; "
    f"place the reference charts there, or set {CHARTS_ENV}=DIR filled by "
    "`mlplatform charts pull --stack NAME --charts DIR` (charts are not vendored)",
)
requires_reference_charts = pytest.mark.skipif(
    not REFERENCE_CHARTS.is_dir(),
    reason=f"the upstream chart trees are read at {REFERENCE_CHARTS}, which does not exist: "
    "place shared/reference/charts beside the repository (charts are not vendored)",
)
