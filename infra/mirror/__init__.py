"""The stack's in-country mirror: what a plan needs in it, copying it there, the digest lock.

| module | owns |
|---|---|
| `inventory` | every chart and image a plan needs: releases, rendered and injected images |
| `sources` | where a copy comes from: upstream, another registry, an exported directory |
| `skopeo` | images between registries and OCI layouts, digests preserved |
| `charts` | charts fetched and pushed as OCI artifacts with Helm's registry client |
| `copying` | the mirror run and the export: each artifact copied, read back, its digest locked |
| `builds` | the platform's own images: what to build from which locked base |
| `ping` | whether the stack's mirror answers as an OCI registry (before anything is copied) |
| `pins` | the plan's check that every image is pinned by the lock's digest (MIRROR-001/002) |

The lock itself (`locks/mirror/<stack>.lock.json`) is `version_catalogue.lock`: the program
reads it too. Imports: `infra.render` (the rendered plan) and `version_catalogue`; `infra.cli`
and `infra.plan` import this package.
"""

from __future__ import annotations

from infra.mirror.charts import ChartCopyError, ChartRegistry
from infra.mirror.copying import LockFile, Outcome, copy_charts, copy_images, export, fetch_charts
from infra.mirror.inventory import ChartNeed, ImageNeed, Inventory, inventory, needed_charts
from infra.mirror.skopeo import Skopeo, SkopeoError
from infra.mirror.sources import EXPORT_CHARTS, EXPORT_IMAGES, Source

__all__ = [
    "EXPORT_CHARTS",
    "EXPORT_IMAGES",
    "ChartCopyError",
    "ChartNeed",
    "ChartRegistry",
    "ImageNeed",
    "Inventory",
    "LockFile",
    "Outcome",
    "Skopeo",
    "SkopeoError",
    "Source",
    "copy_charts",
    "copy_images",
    "export",
    "fetch_charts",
    "inventory",
    "needed_charts",
]
