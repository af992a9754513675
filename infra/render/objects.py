"""Every object the cluster would receive from a plan, each tagged with where it comes from.

This is the seam other checks build on (the cluster simulation, the mirror list, the access
matrix): `cluster_objects(resources, cache)` returns the program's own Kubernetes objects (from
the recorded resources, as `pulumi up` would send them) and every object of every Helm release
rendered with its chart, as `ClusterObject`s with an `Origin`.

Rendered objects get the namespace Helm installs them into: a namespaced object whose template
sets no `metadata.namespace` lands in the release's namespace. Which kinds are cluster-scoped is
known for the built-in kinds and read from every CRD in sight (the charts' CRDs, CRDs rendered
as templates, the program's own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.render.cache import ChartCache
from infra.render.releases import ReleaseSpec, release_specs
from infra.render.rendering import RenderedRelease, render_release
from infra.synth import manifests
from infra.synth.recording import Resource

# Built-in kinds that are not namespaced (kubectl api-resources --namespaced=false).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)


@dataclass(frozen=True)
class Origin:
    """Where an object comes from.

    `source` is "program" (a Kubernetes resource the Pulumi program declares: `urn` is its URN)
    or "release" (rendered from a Helm release: `urn` is the release's URN, `release`, `chart`,
    `version` and `template` say which template of which chart made it). `patch` marks a
    server-side apply patch (e.g. a NodePatch), `crd` an object from a chart's crds/ directory.
    """

    source: Literal["program", "release"]
    urn: str
    release: str | None = None
    chart: str | None = None
    version: str | None = None
    template: str | None = None
    crd: bool = False
    patch: bool = False

    def describe(self) -> str:
        if self.source == "release":
            return f"release {self.release} ({self.chart} {self.version}) {self.template}"
        return f"program {self.urn}"


@dataclass(frozen=True)
class ClusterObject:
    origin: Origin
    body: Mapping[str, Any]
    text: str | None = None  # a rendered object's YAML as Helm rendered it, when `body` is it

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "")

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) and ns else None

    @property
    def labels(self) -> Mapping[str, Any]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, Mapping) else {}

    def describe(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass
class PlanObjects:
    """A plan's rendering: the releases (with what the checks need) and every object."""

    releases: list[RenderedRelease]
    objects: list[ClusterObject] = field(default_factory=list)

    def from_release(self, release: str) -> list[ClusterObject]:
        return [o for o in self.objects if o.origin.release == release]

    def program(self) -> list[ClusterObject]:
        return [o for o in self.objects if o.origin.source == "program"]

    def rendered(self) -> list[ClusterObject]:
        return [o for o in self.objects if o.origin.source == "release"]


def _resource(entry: Mapping[str, Any] | Resource) -> Resource:
    if isinstance(entry, Resource):
        return entry
    return Resource(
        urn=entry["urn"],
        type=entry["type"],
        name=entry["name"],
        parent=entry.get("parent"),
        provider=entry.get("provider"),
        custom=bool(entry.get("custom")),
        inputs=dict(entry.get("inputs") or {}),
    )


def program_objects(resources: Iterable[Mapping[str, Any] | Resource]) -> list[ClusterObject]:
    """The program's own Kubernetes objects and patches, as `pulumi up` sends them."""
    found = []
    for r in map(_resource, resources):
        if manifests.is_kubernetes_object(r):
            origin = Origin("program", r.urn, patch=manifests.is_patch(r))
            found.append(ClusterObject(origin, manifests.to_object(r)))
    return found


def cluster_scoped_kinds(bodies: Iterable[Mapping[str, Any]]) -> set[str]:
    """Built-in cluster-scoped kinds plus every CRD among `bodies` with `scope: Cluster`."""
    kinds = set(CLUSTER_SCOPED_KINDS)
    for body in bodies:
        if body.get("kind") == "CustomResourceDefinition":
            spec = body.get("spec") or {}
            if spec.get("scope") == "Cluster":
                kind = (spec.get("names") or {}).get("kind")
                if isinstance(kind, str):
                    kinds.add(kind)
    return kinds


def release_objects(rendered: RenderedRelease, cluster_scoped: set[str]) -> list[ClusterObject]:
    """A rendered release's objects, namespaced into the release namespace where Helm would."""
    spec: ReleaseSpec = rendered.spec
    found = []
    for item in rendered.objects:
        body = dict(item.body)
        kind = str(body.get("kind") or "")
        meta = dict(body.get("metadata") or {})
        text = item.text
        if kind not in cluster_scoped and not meta.get("namespace"):
            meta["namespace"] = spec.namespace
            body["metadata"] = meta
            text = None  # no longer what the template says
        origin = Origin(
            "release",
            spec.urn,
            release=spec.release,
            chart=spec.chart,
            version=spec.version,
            template=item.template,
            crd=item.crd,
        )
        found.append(ClusterObject(origin, body, text))
    return found


def render_plan(
    resources: Iterable[Mapping[str, Any] | Resource], cache: ChartCache
) -> PlanObjects:
    """Render every release of a plan; the program's objects and the rendered ones, tagged.

    Raises `infra.render.cache.ChartMissing` when a release's chart is not in the cache.
    """
    items = list(resources)
    as_json = [r.to_json() if isinstance(r, Resource) else r for r in items]
    releases = [render_release(spec, cache) for spec in release_specs(as_json)]
    program = program_objects(items)
    bodies = [o.body for o in program] + [o.body for rel in releases for o in rel.objects]
    scoped = cluster_scoped_kinds([*bodies, *(_reference_crds() if releases else [])])
    plan = PlanObjects(releases, list(program))
    for rendered in releases:
        plan.objects += release_objects(rendered, scoped)
    return plan


def cluster_objects(
    resources: Iterable[Mapping[str, Any] | Resource], cache: ChartCache
) -> list[ClusterObject]:
    """Every object the cluster would receive from these resources (see the module docstring)."""
    return render_plan(resources, cache).objects


def _reference_crds() -> list[Mapping[str, Any]]:
    from infra.render.crds import reference_crds  # the reference CRDs, when present

    return reference_crds()
