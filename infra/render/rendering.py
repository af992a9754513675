"""Rendering one Helm release with its real chart and exactly the values the program passes.

`render_release` loads the chart from the cache (afresh for every render: processing a chart's
dependencies mutates the loaded chart), renders it with Helm's own template engine (the Helm Go
SDK embedded in `helm-python-sdk`, offline: `lookup` returns nothing), parses every rendered
template strictly (duplicate keys recorded, `strict_yaml`) and keeps what the checks need from
the chart: its defaults (sub-charts included) and its values schema.

A template that fails to render (a required value missing, a type Helm cannot use) is not an
exception here: it is recorded in `RenderedRelease.error` and reported as a failed check, like
the install failure it would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import helm_python

from infra.render.cache import ChartCache
from infra.render.releases import ReleaseSpec
from infra.render.strict_yaml import DuplicateKey, load_all, split_documents

NOTES = "NOTES.txt"


@dataclass(frozen=True)
class RenderedObject:
    template: str  # the template that produced it, e.g. kueue/templates/manager/deployment.yaml
    body: dict[str, Any]
    crd: bool = False  # from the chart's crds/ directory (installed before the templates)
    text: str | None = None  # the document as Helm rendered it (when it is this one object)


@dataclass(frozen=True)
class Duplicate:
    template: str
    key: DuplicateKey


@dataclass
class RenderedRelease:
    spec: ReleaseSpec
    chart_path: str
    objects: list[RenderedObject] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)  # chart + sub-chart values
    schema: dict[str, Any] | None = None
    schema_error: str | None = None  # values.schema.json refused the values
    error: str | None = None  # the chart did not render

    @property
    def crds(self) -> list[RenderedObject]:
        return [o for o in self.objects if o.crd]


def render_release(spec: ReleaseSpec, cache: ChartCache) -> RenderedRelease:
    """Render `spec` with its pinned chart (raises `ChartMissing` when the cache lacks it)."""
    path = cache.path(spec.chart, spec.version)
    rendered = RenderedRelease(spec, str(path))
    values = dict(spec.values)
    chart = helm_python.Chart.load(path)
    try:
        # Helm's coalescing drops keys declared as null (`clusterName:  # set me`): put the
        # chart's own declarations back over the coalesced defaults (sub-charts included).
        rendered.defaults = _overlay(chart.merge_values({}), chart.values)
        rendered.schema = chart.schema
        try:
            chart.validate_schema(values)
        except helm_python.HelmError as error:
            rendered.schema_error = _message(error)
        try:
            templates = chart.render(
                values, name=spec.release, namespace=spec.namespace, is_install=True
            )
        except helm_python.HelmError as error:
            rendered.error = _message(error)
            templates = {}
        crds = chart.crds
    finally:
        chart.close()
    for item in crds:
        _parse(rendered, f"{item.get('filename') or item.get('name')}", item["data"], crd=True)
    for template, text in sorted(templates.items()):
        if PurePosixPath(template).name != NOTES:
            _parse(rendered, template, text)
    return rendered


def _parse(rendered: RenderedRelease, template: str, text: str, crd: bool = False) -> None:
    """Each document of a template, parsed strictly (a duplicate's line is its document's)."""
    for part in split_documents(text):
        try:
            documents, duplicates = load_all(part)
        except Exception as error:  # a template that renders to something YAML cannot read
            rendered.error = f"{template}: not valid YAML: {error}"
            return
        rendered.duplicates += [Duplicate(template, d) for d in duplicates]
        for document in documents:
            if isinstance(document, dict) and document.get("kind") == "List":
                items = [i for i in document.get("items") or [] if isinstance(i, dict)]
                rendered.objects += [RenderedObject(template, item, crd) for item in items]
            elif isinstance(document, dict):
                rendered.objects.append(RenderedObject(template, document, crd, part))


def _overlay(merged: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    out = dict(merged)
    for key, value in declared.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _overlay(out[key], value)
        elif key not in out:
            out[key] = value
    return out


def _message(error: Exception) -> str:
    return " ".join(str(error).split())
