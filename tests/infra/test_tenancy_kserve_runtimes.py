"""KServe pulls nothing public into tenant namespaces (issue 13 item 4): rendered with its real
chart (kserve-resources at the pinned version), the release declares no serving runtime of its
own (0.20 ships its default runtimes in a separate chart the platform does not install), the
only runtime is the platform's, and the storage container KServe injects into every predictor
comes from the mirror. At admission, `components.tenant_admission` refuses anything else.
"""

from __future__ import annotations

import pytest

from components import conventions as c
from infra.render import ChartCache, render_plan
from tests.support.charts import requires_charts

pytestmark = [
    pytest.mark.slow,
    requires_charts,  # renders with the default chart cache (ChartCache.resolve(None))
]
RUNTIME_KINDS = {"ServingRuntime", "ClusterServingRuntime"}


@pytest.mark.parametrize("variant", [("uae-onprem",), ("uae-cloud",), ("uae-cloud-azure",)])
def test_every_kserve_runtime_and_storage_container_comes_from_the_mirror(
    stack_plan, variant
) -> None:
    result = stack_plan(*variant)
    mirror = result.config.image_registry.rstrip("/") + "/"
    objects = render_plan(result.synthesis.resources, ChartCache.resolve(None)).objects
    runtimes = [o for o in objects if o.kind in RUNTIME_KINDS]
    assert [o.name for o in runtimes] == [c.SERVING_RUNTIME]
    assert all(o.origin.source == "program" for o in runtimes)
    images = [ct["image"] for o in runtimes for ct in o.body["spec"]["containers"]]
    storage = [o for o in objects if o.kind == "ClusterStorageContainer"]
    assert storage, "the chart's storage container is expected (KServe injects it into predictors)"
    images += [o.body["spec"]["container"]["image"] for o in storage]
    assert images and all(image.startswith(mirror) for image in images), images
