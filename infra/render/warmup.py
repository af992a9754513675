"""The charts' CRDs parsed into the chart-YAML cache beside a plan, on a core the plan leaves idle.

A machine's first plan parses megabytes of CustomResourceDefinition YAML (`strict_yaml` keeps
each large text as JSON under `$MLP_CACHE` for every later plan). Most of it is known before the
plan has rendered anything: the CRDs in the crds/ directories of the pinned charts (sub-charts
included) and the reference CRDs. `start` parses those in a separate process while the plan
synthesizes its stack; the plan reads from the cache what the process has finished and parses
the rest itself. Nothing waits for it and nothing depends on it: the cache is keyed by each
text's content, so a text parsed here is exactly the one the plan would have parsed.

It starts only where it helps: on a machine with more than one core the process may use, and
when the cache has no stamp for these inputs (their paths, sizes and modification times), which
the process writes once it has parsed them all: a machine that has planned before starts
nothing. `Warmup.stop` ends it (a text being written is left out, never half-written);
`running` is `start` for the length of a `with` block.

    python -m infra.render.warmup STAMP chart:PATH... file:PATH...
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.render.cache import ChartCache, ChartMissing, NoChartCache
from infra.render.crds import REFERENCE_CRDS
from infra.render.strict_yaml import cache_root, cache_text, split_documents
from version_catalogue import CHARTS

_STAMP_FORMAT = "1"


@dataclass
class Warmup:
    """The parsing process under way."""

    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """End the process if it is still parsing (what it finished stays in the cache)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def inputs(cache: ChartCache, reference: Path = REFERENCE_CRDS) -> list[str]:
    """What there is to parse: every pinned chart the cache holds, then the reference CRDs."""
    found: list[str] = []
    for chart in CHARTS.values():
        try:
            found.append(f"chart:{cache.path(chart.name, chart.version)}")
        except (ChartMissing, NoChartCache):
            continue  # the plan reports it if it needs it
    if reference.is_dir():
        found += [f"file:{path}" for path in sorted(reference.glob("*.yaml"))]
    return found


def stamp(items: list[str]) -> Path:
    """The cache's mark that `items`, as they are on disk now, have all been parsed."""
    digest = hashlib.sha256(_STAMP_FORMAT.encode())
    for item in items:
        for path in _files(Path(item.split(":", 1)[1])):
            info = path.stat()
            digest.update(f"\0{path}\0{info.st_size}\0{info.st_mtime_ns}".encode())
    return cache_root() / f"warm-{digest.hexdigest()}"


def start(cache: ChartCache, reference: Path = REFERENCE_CRDS) -> Warmup | None:
    """The parsing process, started; None where it would not help (one core, a warm cache)."""
    if _cores() < 2 or cache.root is None:
        return None
    items = inputs(cache, reference)
    mark = stamp(items)
    if not items or mark.exists():
        return None
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.render.warmup", str(mark), *items],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Warmup(process)


@contextmanager
def running(cache: ChartCache, reference: Path = REFERENCE_CRDS) -> Iterator[Warmup | None]:
    """`start`, stopped when the body ends (what it finished stays in the cache)."""
    warming = start(cache, reference)
    try:
        yield warming
    finally:
        if warming is not None:
            warming.stop()


def parse(items: list[str]) -> int:
    """Parse every large text of `items` into the cache; how many were parsed now."""
    parsed = 0
    for text in _texts(items):
        try:
            parsed += cache_text(text)
        except Exception:  # not YAML: the plan reports it where it renders the chart
            continue
    return parsed


def _texts(items: list[str]) -> Iterator[str]:
    import helm_python  # the Helm SDK loads only in the process that needs it

    for item in items:
        kind, _, where = item.partition(":")
        if kind == "file":
            yield Path(where).read_text()
            continue
        chart = helm_python.Chart.load(where)
        try:
            crds = chart.crds
        finally:
            chart.close()
        for crd in crds:  # as `rendering.render_release` parses them: document by document
            yield from split_documents(crd["data"])


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for directory, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            yield Path(directory) / name


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stopped)
    mark, items = Path(argv[0]), argv[1:]
    parse(items)
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
