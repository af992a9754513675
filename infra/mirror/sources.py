"""Where `mlplatform mirror` copies from: upstream, another registry, or an exported directory.

| source | images | charts |
|---|---|---|
| upstream (default) | `<catalogue upstream>/<path>:<tag>` | the catalogue's oci:// or https:// |
| `--from-registry H` | `H/<path>:<tag>` | `oci://H/charts/<name>` |
| `--from-oci-layout D` | OCI layout `D/images`, ref `<path>:<tag>` | `D/charts/<name>-<v>.tgz` |

A registry source is laid out like a mirror (a staging registry, another site's mirror, the
connected side of an air gap); an exported directory is what `mlplatform mirror export` writes
(`EXPORT_IMAGES`, `EXPORT_CHARTS`). The platform's own images (upstream "built by this
repository") have no upstream: the workload build pushes them (scripts/build-images.sh).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infra.mirror.inventory import ChartNeed, ImageNeed

EXPORT_IMAGES, EXPORT_CHARTS, EXPORT_INDEX = "images", "charts", "inventory.json"
NOT_IN_CATALOGUE = "(not in the catalogue)"


@dataclass(frozen=True)
class Source:
    kind: Literal["upstream", "registry", "layout"]
    location: str = ""  # registry host[/path], or the exported directory

    @classmethod
    def of(cls, registry: str | None, layout: Path | None) -> Source:
        if registry:
            return cls("registry", registry.removeprefix("oci://").rstrip("/"))
        if layout is not None:
            return cls("layout", str(layout))
        return cls("upstream")

    def describe(self) -> str:
        if self.kind == "upstream":
            return "upstream registries (the catalogue)"
        return f"{'registry' if self.kind == 'registry' else 'directory'} {self.location}"

    def image(self, need: ImageNeed) -> str | None:
        """skopeo's reference for the image, None when this source cannot have it."""
        name = f"{need.image.path}:{need.image.tag}"
        if self.kind == "registry":
            return f"docker://{self.location}/{name}"
        if self.kind == "layout":
            return f"oci:{Path(self.location) / EXPORT_IMAGES}:{name}"
        if need.built_here or need.image.upstream == NOT_IN_CATALOGUE:
            return None
        return f"docker://{need.image.upstream}/{name}"

    def chart(self, need: ChartNeed) -> str | None:
        """Where `ChartRegistry.fetch` finds the chart, None when this source cannot have it."""
        if self.kind == "registry":
            return f"oci://{self.location}/charts"
        if self.kind == "layout":
            return str(Path(self.location) / EXPORT_CHARTS)
        upstream = need.chart.upstream
        return upstream if upstream.startswith(("oci://", "https://")) else None
