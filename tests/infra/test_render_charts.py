"""The shipped plans rendered with the real charts: every chart defect issue 11 found, fixed.

Each test renders a shipped variant's releases (the reference charts at the pinned versions) and
asserts what the cluster would receive — what a user would notice on a real cluster: an image
pulled from Docker Hub or nvcr.io in an air-gapped site, objects without governance labels,
duplicate keys strict decoders reject, pods Pod Security refuses.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.plan import PlanResult, policy_config
from infra.render import ChartCache, PlanObjects, render_plan
from infra.render.cache import REFERENCE_CHARTS
from infra.render.checks import RenderReport
from infra.render.evaluate import check_plan
from infra.render.images import images
from tests.support.charts import requires_reference_charts

pytestmark = requires_reference_charts
VARIANTS = {
    "uae-onprem": ("uae-onprem", ()),
    "uae-cloud": ("uae-cloud", ()),
    "uae-cloud-azure": ("uae-cloud-azure", ()),
}
_RENDERED: dict[str, tuple[PlanResult, PlanObjects, RenderReport]] = {}


@pytest.fixture(scope="module")
def rendered(stack_plan: Callable[..., PlanResult]) -> Callable[[str], tuple]:
    def get(variant: str) -> tuple[PlanResult, PlanObjects, RenderReport]:
        if variant not in _RENDERED:
            stack, overrides = VARIANTS[variant]
            plan = stack_plan(stack, *overrides)
            objects = render_plan(plan.synthesis.resources, ChartCache.resolve(REFERENCE_CHARTS))
            report = check_plan(objects, policy_config(plan.config), plan.config.kubernetes.version)
            _RENDERED[variant] = (plan, objects, report)
        return _RENDERED[variant]

    return get


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_release_renders_with_no_mandatory_finding(rendered, variant: str) -> None:
    _, objects, report = rendered(variant)
    assert objects.releases and all(r.error is None for r in objects.releases)
    assert [f.message for f in report.mandatory] == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_image_that_would_run_is_on_the_mirror(rendered, variant: str) -> None:
    plan, objects, _ = rendered(variant)
    mirror = plan.config.image_registry
    public = sorted({(u.where(), u.ref) for u in images(objects.objects)
                     if not u.ref.startswith(f"{mirror}/")})  # fmt: skip
    assert public == []


def test_jobset_controller_image_comes_from_the_mirror(rendered) -> None:
    plan, objects, report = rendered("uae-onprem")
    (deployment,) = [
        o
        for o in objects.from_release("kubeflow-trainer")
        if o.name == "jobset-controller" and o.kind == "Deployment"
    ]
    image = deployment.body["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith(f"{plan.config.image_registry}/jobset/jobset:v0.12.0")
    assert not [f for f in report.findings if f.check == "RENDER-002"]


def test_trainer_labels_what_its_chart_can_and_declares_the_rest(rendered) -> None:
    _, objects, report = rendered("uae-onprem")
    trainer = objects.from_release("kubeflow-trainer")
    sub_chart = "kubeflow-trainer/charts/jobset/"
    jobset = [
        o for o in trainer if (o.origin.template or "").startswith(sub_chart) and not o.origin.crd
    ]
    unlabelled = [o.describe() for o in jobset if o.labels.get("residency") != "uae"]
    # jobset 0.12.0's metrics Service template ignores jobset.commonLabels
    assert jobset and unlabelled == ["Service kubeflow-system/jobset-metrics-service"]
    gaps = [w for w in report.waivers if w.release == "kubeflow-trainer"]
    missing = [o.describe() for o in trainer if o.labels.get("residency") != "uae"]
    assert sorted(w.subject for w in gaps) == sorted(missing)  # every unlabelled one declared
    own = [w.reason for w in gaps if "crds/" not in w.reason and "jobset" not in w.subject]
    assert own and all("reads no labelling value for its own objects" in r for r in own)


def test_gpu_operator_driver_manager_and_every_operand_from_the_mirror(rendered) -> None:
    plan, objects, _ = rendered("uae-onprem")
    mirror = plan.config.image_registry
    used = {u.path: u.ref for u in images(objects.from_release("gpu-operator"))}
    assert used["spec.driver.manager"] == f"{mirror}/nvidia/cloud-native/k8s-driver-manager:v0.9.1"
    assert all(ref.startswith(f"{mirror}/") for ref in used.values()), used


def test_kserve_art_explainer_and_local_model_job_images_from_the_mirror(rendered) -> None:
    plan, objects, _ = rendered("uae-cloud")
    mirror = plan.config.image_registry
    used = {u.path: u.ref for u in images(objects.from_release("kserve"))}
    assert used["data.explainers.art.image"] == f"{mirror}/kserve/art-explainer:v0.20.0"
    assert used["data.localModel.defaultJobImage"] == (
        f"{mirror}/kserve/storage-initializer:v0.20.0"
    )


@pytest.mark.parametrize("variant", ["uae-onprem", "uae-cloud"])
def test_no_rendered_yaml_repeats_a_key(rendered, variant: str) -> None:
    _, objects, _ = rendered(variant)
    repeated = [(r.spec.release, d.template, d.key.key) for r in objects.releases
                for d in r.duplicates]  # fmt: skip
    assert repeated == []


def test_redis_operator_passes_pod_security_restricted(rendered) -> None:
    _, objects, report = rendered("uae-onprem")
    (deployment,) = [o for o in objects.from_release("redis-operator") if o.kind == "Deployment"]
    pod = deployment.body["spec"]["template"]["spec"]
    container = pod["containers"][0]["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert not [f for f in report.findings if f.release == "redis-operator" and f.mandatory]


def test_the_pack_reads_kserves_local_model_job_image_with_its_tag(rendered) -> None:
    # values.kserve.localmodel.defaultJobImage is `<mirror>/kserve/storage-initializer` and its
    # tag sits beside it in defaultJobTag: UAE-K8S-003 must see the pinned reference, not an
    # untagged one (the chart joins the two with a colon, as the rendered ConfigMap shows)
    from infra.plan import evaluate_policies

    plan, _, _ = rendered("uae-onprem")
    report = evaluate_policies(plan)
    assert not [f.message for f in report.result("UAE-K8S-003").findings
                if "defaultJobImage" in f.message]  # fmt: skip
