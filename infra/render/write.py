"""Rendered releases on disk: `<plan>/releases/<release>/`, one YAML per object, CRDs apart.

`releases/<release>/<kind>-<namespace>-<name>.yaml` for the chart's objects and
`releases/<release>/crds/<name>.yaml` for the CustomResourceDefinitions (its crds/ directory and
CRDs it renders as templates), plus `render-report.json` beside compliance.json. What
checkov scans is the releases' objects without the CRDs (a CRD holds no workload).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from infra.render.checks import RenderReport
from infra.render.objects import ClusterObject, PlanObjects
from infra.synth import manifests

RELEASES_DIR = "releases"
REPORT_FILE = "render-report.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def object_file(obj: ClusterObject) -> str:
    parts = [obj.kind.lower(), obj.namespace or "", obj.name]
    return _UNSAFE.sub("_", "-".join(p for p in parts if p)) + ".yaml"


def write_releases(plan: PlanObjects, directory: Path) -> list[Path]:
    """Write every rendered object under directory/releases/; returns the files written."""
    root = directory / RELEASES_DIR
    if root.exists():
        shutil.rmtree(root)
    written: list[Path] = []
    for obj in plan.rendered():
        folder = root / str(obj.origin.release)
        if obj.kind == "CustomResourceDefinition":
            folder = folder / "crds"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / object_file(obj)
        text = obj.text  # as the chart rendered it; a CRD's megabytes need no re-emitting
        if text is None:
            text = manifests.yaml_text(dict(obj.body))
        path.write_text(text)
        written.append(path)
    return written


def write_report(report: RenderReport, directory: Path) -> Path:
    path = directory / REPORT_FILE
    path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return path
