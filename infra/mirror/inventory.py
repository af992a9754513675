"""What a plan needs in its mirror: every chart its releases pin and every image it pulls.

Charts come from the plan's `helm.v3.Release` resources (name and pinned version; the catalogue
says where upstream serves each). Images come from everything the cluster would receive — the
program's own manifests, every rendered release and the images operators inject
(`infra.render.images`) — so the list is never kept by hand. Each image reference must be on the
stack's mirror (`<mirror>/<path>:<tag>[@digest]`, the plan's RENDER-004 check); its upstream is
the catalogue entry with that path and tag. The workload images' base images
(`version_catalogue.BUILD_IMAGES`) are added: builds pull them from the mirror too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.render import PlanObjects, release_specs
from infra.render.images import ImageUse, images
from version_catalogue import BUILD_IMAGES, CHARTS, IMAGES, Chart, Image
from version_catalogue.lock import image_key

BUILT_HERE = "built by this repository"
GPU_DRIVER_PATH = IMAGES["gpu-driver"].path


@dataclass(frozen=True)
class ChartNeed:
    chart: Chart
    releases: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.chart.name}:{self.chart.version}"


@dataclass(frozen=True)
class ImageNeed:
    image: Image  # path and tag under the mirror; upstream from the catalogue
    uses: tuple[str, ...]  # where the plan pulls it (object and field), or "build base"

    @property
    def key(self) -> str:
        return image_key(self.image)

    @property
    def built_here(self) -> bool:
        return self.image.upstream == BUILT_HERE


@dataclass
class Inventory:
    mirror: str
    charts: list[ChartNeed] = field(default_factory=list)
    images: list[ImageNeed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # images that cannot be mirrored
    offered: list[ImageNeed] = field(default_factory=list)  # named by operators, not pulled

    def as_json(self) -> dict[str, Any]:
        return {
            "mirror": self.mirror,
            "charts": [
                {"chart": n.key, "upstream": n.chart.upstream, "releases": list(n.releases)}
                for n in self.charts
            ],
            "images": [
                {"image": n.key, "upstream": n.image.upstream, "uses": list(n.uses)}
                for n in self.images
            ],
            "offered": [{"image": n.key, "uses": list(n.uses)} for n in self.offered],
            "problems": self.problems,
        }


def needed_charts(resources: Iterable[Mapping[str, Any]]) -> list[ChartNeed]:
    """Every chart the plan's releases pin, with the catalogue entry (upstream) for each."""
    by_chart: dict[tuple[str, str], list[str]] = {}
    for spec in release_specs(resources):
        by_chart.setdefault((spec.chart, spec.version), []).append(spec.release)
    catalogue = {(c.name, c.version): c for c in CHARTS.values()}
    needs = []
    for (name, version), releases in sorted(by_chart.items()):
        chart = catalogue.get((name, version)) or Chart(name, version, "(not in the catalogue)")
        needs.append(ChartNeed(chart, tuple(releases)))
    return needs


def split_ref(ref: str, mirror: str) -> tuple[str, str | None, str | None] | None:
    """`<mirror>/<path>[:<tag>][@<digest>]` → (path, tag, digest); None when the reference is
    not on the mirror or names neither a tag nor a digest. A digest alone is how an operator
    pins what it composes (the GPU driver, Strimzi's Kafka images)."""
    if not ref.startswith(f"{mirror}/"):
        return None
    rest, _, digest = ref[len(mirror) + 1 :].partition("@")
    path, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        path, tag = rest, ""
    if not tag and not digest:
        return None
    return path, tag or None, digest or None


def needed_images(
    objects: PlanObjects,
    mirror: str,
    driver_os: tuple[str, ...] = (),
    locked: Mapping[str, str] | None = None,
) -> Inventory:
    """Every image the plan pulls (and the build bases), those operators only offer, and why
    an image cannot be mirrored. An image only an operator's settings name and the catalogue
    does not list is offered, not pulled: Strimzi's images for every Kafka version it supports,
    its bridge and build images, which run only for custom resources the plan does not create.
    `locked` (lock key → digest) names what a digest-only reference is."""
    catalogue = {image_key(i): i for i in [*IMAGES.values(), *BUILD_IMAGES.values()]}
    uses: dict[str, list[str]] = {}
    pulled: set[str] = set()
    found = Inventory(mirror)
    for use in images(objects.objects):
        for key in _keys(use, mirror, driver_os, locked or {}, found.problems):
            uses.setdefault(key, []).append(use.where())
            if not use.injected or key in catalogue or key.startswith(f"{GPU_DRIVER_PATH}:"):
                pulled.add(key)
    for base in BUILD_IMAGES.values():
        uses.setdefault(image_key(base), []).append("build base of the workload images")
        pulled.add(image_key(base))
    for key, where in sorted(uses.items()):
        path, _, tag = key.rpartition(":")
        image = catalogue.get(key) or Image(path, tag, _upstream_of(path, tag))
        need = ImageNeed(Image(image.path, image.tag, image.upstream), tuple(sorted(where)))
        (found.images if key in pulled else found.offered).append(need)
    return found


def _upstream_of(path: str, tag: str) -> str:
    driver = IMAGES["gpu-driver"]
    if path == driver.path and tag.startswith(f"{driver.tag}-"):
        return driver.upstream  # the OS-specific tags of the catalogue's driver
    return "(not in the catalogue)"


def _keys(
    use: ImageUse,
    mirror: str,
    driver_os: tuple[str, ...],
    locked: Mapping[str, str],
    problems: list[str],
) -> list[str]:
    parts = split_ref(use.ref, mirror)
    if parts is None:
        problems.append(
            f"{use.where()}: image '{use.ref}' is not on the stack's mirror {mirror} "
            "(RENDER-004): point it at <mirror>/<path>:<tag> before mirroring"
        )
        return []
    path, tag, digest = parts
    if tag is None:  # pinned by digest alone: the lock says which path:tag that is
        keys = [k for k, d in locked.items() if k.rpartition(":")[0] == path and d == digest]
        if not keys:
            problems.append(
                f"{use.where()}: image '{use.ref}' names a digest the lock does not have: "
                "mirror from a lock that has it, or remove the lock to start afresh"
            )
        return keys
    if path != GPU_DRIVER_PATH:
        return [f"{path}:{tag}"]
    # The GPU operator pulls the driver as <version>-<os of the node>: one image per OS.
    if not driver_os:
        problems.append(
            f"{use.where()}: the GPU operator pulls {path}:{tag}-<os> for the GPU nodes' OS; "
            "name it with --gpu-driver-os (e.g. ubuntu22.04, ubuntu24.04, rhel9.6)"
        )
        return []
    return [f"{path}:{tag}-{os}" for os in driver_os]


def inventory(
    resources: Iterable[Mapping[str, Any]],
    objects: PlanObjects,
    mirror: str,
    driver_os: tuple[str, ...] = (),
    locked: Mapping[str, str] | None = None,
) -> Inventory:
    """Charts and images a plan needs in `mirror` (`objects`: the plan rendered; `locked`:
    the stack's lock, image key → digest, for references pinned by a digest alone)."""
    found = needed_images(objects, mirror, driver_os, locked)
    found.charts = needed_charts(resources)
    return found
