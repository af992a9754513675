"""The charts' CRDs parsed beside a plan (infra.render.warmup): the texts it parses are the ones
rendering and the reference CRDs would parse, it starts only where it helps, and a stopped
process leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.render import ChartCache, strict_yaml, warmup
from infra.render import crds as crd_module
from infra.render.cache import REFERENCE_CHARTS
from infra.render.releases import ReleaseSpec
from infra.render.rendering import render_release
from tests.support.charts import requires_reference_charts


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "yaml"
    monkeypatch.setenv(strict_yaml.CACHE_ENV, str(root))
    strict_yaml._load_all.cache_clear()
    crd_module._load_reference.cache_clear()
    yield root
    strict_yaml._load_all.cache_clear()
    crd_module._load_reference.cache_clear()


def _large_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the large texts parsed from here on (the ones the disk cache keeps)."""
    parsed: list[int] = []
    real = strict_yaml._parse

    def recording(text: str) -> tuple[tuple[object, ...], tuple[strict_yaml.DuplicateKey, ...]]:
        if len(text) >= strict_yaml._DISK_MIN:
            parsed.append(len(text))
        return real(text)

    monkeypatch.setattr(strict_yaml, "_parse", recording)
    return parsed


def _render_gpu_operator() -> None:
    spec = ReleaseSpec("urn:test", "gpu", "ns", "gpu-operator", "v25.10.1", {}, "components/x.py")
    render_release(spec, ChartCache.resolve(REFERENCE_CHARTS))


@requires_reference_charts
def test_what_it_parses_is_what_rendering_and_the_reference_crds_read(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _large_parses(monkeypatch)
    _render_gpu_operator()  # a cold cache: its CRD (119 kB) is parsed by the render
    assert parsed, "the chart's CRD must be large enough for the disk cache"

    cold = cache_dir.parent / "cold"
    monkeypatch.setenv(strict_yaml.CACHE_ENV, str(cold))
    strict_yaml._load_all.cache_clear()
    items = warmup.inputs(ChartCache.resolve(REFERENCE_CHARTS))
    assert any(i.startswith("chart:") for i in items) and any(i.startswith("file:") for i in items)
    assert warmup.parse(items) > 0
    parsed.clear()
    strict_yaml._load_all.cache_clear()
    _render_gpu_operator()
    crd_module.reference_crds()
    assert parsed == [], "every large text rendering and the reference CRDs read was warm"
    assert warmup.parse(items) == 0  # nothing left to parse


@requires_reference_charts
def test_it_starts_where_it_helps_and_marks_the_cache_when_done(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ChartCache.resolve(REFERENCE_CHARTS)
    monkeypatch.setattr(warmup, "_cores", lambda: 1)
    assert warmup.start(cache) is None  # one core: the plan would wait for it
    monkeypatch.setattr(warmup, "_cores", lambda: 2)
    assert warmup.start(ChartCache(None)) is None  # no chart cache: nothing to parse

    started = warmup.start(cache)
    assert started is not None
    assert started.process.wait(timeout=300) == 0
    assert warmup.stamp(warmup.inputs(cache)).exists()
    assert len(list(cache_dir.glob("*.json"))) >= 20
    assert warmup.start(cache) is None  # warm: nothing starts


def test_the_stamp_follows_its_inputs(tmp_path: Path, cache_dir: Path) -> None:
    crd = tmp_path / "crds" / "a.yaml"
    crd.parent.mkdir()
    crd.write_text("kind: CustomResourceDefinition\n")
    items = [f"file:{crd}", f"chart:{crd.parent}"]
    first = warmup.stamp(items)
    assert first.parent == cache_dir and first == warmup.stamp(items)
    crd.write_text("kind: CustomResourceDefinition\nspec: {}\n")
    assert warmup.stamp(items) != first


@requires_reference_charts
def test_a_stopped_process_leaves_no_partial_file(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = warmup.start(ChartCache.resolve(REFERENCE_CHARTS))
    assert started is not None
    started.stop()
    assert started.process.returncode is not None
    assert list(cache_dir.glob("*.tmp")) == []
    assert not list(cache_dir.glob("warm-*"))

    # stopped in the middle of writing a text: the partial file goes, the stop goes on
    def interrupted(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        strict_yaml.cache_text("kind: A\nitems: [" + "1, " * 40_000 + "1]\n")
    assert list(cache_dir.glob("*.tmp")) == []
