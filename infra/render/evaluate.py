"""Every check over a plan's rendering → `RenderReport` (see `checks` for the catalogue).

`check_plan(plan, cfg, kubernetes_version)` runs, over the rendered releases and every object
the cluster would receive: the chart rendered (RENDER-001), values keys known (-002) and valid
against values.schema.json (-003), every image from the mirror and pinned, operator-injected
ones included (-004), governance labels (-005), no duplicate keys (-006), objects valid
against the Kubernetes schemas and the CRDs (-007), the pack's Kubernetes rules (-008).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from infra.render.checks import (
    MIRROR_IMAGES,
    NO_DUPLICATE_KEYS,
    RENDERS,
    VALUES_KNOWN,
    VALUES_SCHEMA,
    Finding,
    RenderReport,
    Waiver,
)
from infra.render.crds import CrdIndex
from infra.render.images import images
from infra.render.labels import label_findings
from infra.render.objects import ClusterObject, PlanObjects
from infra.render.pack import pack_findings
from infra.render.rendering import RenderedRelease
from infra.render.schemas import schema_findings
from infra.render.values import unknown_keys
from policies.k8s import registry_host, tag_of
from policies.pack_config import PackConfig


def check_plan(
    plan: PlanObjects, cfg: PackConfig, kubernetes_version: str, charts: str = ""
) -> RenderReport:
    report = RenderReport(charts=charts, releases=[_summary(r, plan) for r in plan.releases])
    for rendered in plan.releases:
        report.findings += release_findings(rendered)
    report.findings += image_findings(plan.objects, cfg)
    crds = CrdIndex.build(
        (o.body, o.origin.describe()) for o in plan.objects if o.kind == "CustomResourceDefinition"
    )
    report.findings += schema_findings(plan.objects, crds, kubernetes_version)
    _add(report, label_findings(plan.objects, cfg))
    _add(report, pack_findings(plan.objects, cfg))
    return report


def _add(report: RenderReport, items: Iterable[Finding | Waiver]) -> None:
    for item in items:
        if isinstance(item, Finding):
            report.findings.append(item)
        else:
            report.waivers.append(item)


def _summary(rendered: RenderedRelease, plan: PlanObjects) -> dict[str, object]:
    spec = rendered.spec
    objects = plan.from_release(spec.release)
    return {
        "release": spec.release,
        "namespace": spec.namespace,
        "chart": spec.chart,
        "version": spec.version,
        "source": spec.source,
        "objects": sum(1 for o in objects if not o.origin.crd),
        "crds": sum(1 for o in objects if o.origin.crd),
        "rendered": rendered.error is None,
    }


def release_findings(rendered: RenderedRelease) -> Iterator[Finding]:
    """RENDER-001/002/003/006 for one release."""
    spec = rendered.spec
    if rendered.error is not None:
        yield Finding(
            RENDERS.id, True, spec.release, spec.label,
            f"release {spec.label} does not render: {rendered.error} (values from "
            f"{spec.source})",
            RENDERS.remediation,
        )  # fmt: skip
    for key in unknown_keys(spec.chart, spec.values, rendered.defaults, rendered.schema):
        yield Finding(
            VALUES_KNOWN.id, True, spec.release, key,
            f"release {spec.label}: values key '{key}' is not one the chart reads "
            f"(neither its values.yaml nor its values.schema.json declares it); "
            f"set in {spec.source}",
            VALUES_KNOWN.remediation,
        )  # fmt: skip
    if rendered.schema_error is not None:
        yield Finding(
            VALUES_SCHEMA.id, True, spec.release, spec.label,
            f"release {spec.label}: values refused by values.schema.json: "
            f"{rendered.schema_error} (set in {spec.source})",
            VALUES_SCHEMA.remediation,
        )  # fmt: skip
    for duplicate in rendered.duplicates:
        yield Finding(
            NO_DUPLICATE_KEYS.id, True, spec.release, duplicate.template,
            f"release {spec.label}: {duplicate.template} line {duplicate.key.line} repeats "
            f"the key '{duplicate.key.key}'",
            NO_DUPLICATE_KEYS.remediation,
        )  # fmt: skip


def image_findings(objects: list[ClusterObject], cfg: PackConfig) -> Iterator[Finding]:
    """RENDER-004: every image (pods' and operator-injected) on the mirror, with a tag."""
    allowed = ", ".join(cfg.allowed_registries)
    for use in images(objects):
        origin = use.obj.origin
        what = "injects" if use.injected else "runs"
        where = f"{use.where()} ({origin.describe()})"
        problem = None
        if registry_host(use.ref) == "docker.io" or not cfg.registry_allowed(use.ref):
            problem = f"is not on the stack's mirror (allowed: {allowed})"
        elif tag_of(use.ref) in (None, "latest") and "@sha256:" not in use.ref:
            problem = "has no pinned tag or digest"
        if problem is not None:
            yield Finding(
                MIRROR_IMAGES.id, True, origin.release, use.where(),
                f"{where} {what} image '{use.ref}', which {problem}",
                MIRROR_IMAGES.remediation,
            )  # fmt: skip
