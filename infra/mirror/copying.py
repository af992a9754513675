"""Copy what a plan needs into the mirror (or an exported directory), recording each digest.

Charts first: each is fetched from the source into a chart cache (which the plan is then
rendered from, to list its images) and pushed. Then images: each source digest is read, compared
with the lock (an upstream tag that moved is refused, not followed) and with what the mirror
already holds (tags are immutable: the same digest is kept, another one refused), copied with
digests preserved, and read back. The lock is rewritten after every artifact, so an interrupted
run loses nothing and a rerun continues; only digests read back from the mirror are recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from infra.mirror.charts import ChartCopyError, ChartRegistry, archive_name
from infra.mirror.inventory import ChartNeed, ImageNeed, Inventory
from infra.mirror.skopeo import Skopeo, SkopeoError
from infra.mirror.sources import EXPORT_CHARTS, EXPORT_IMAGES, EXPORT_INDEX, Source
from version_catalogue.lock import Locked, LockError, MirrorLock, read_lock, write_lock

Status = Literal["copied", "present", "failed", "skipped"]
Kind = Literal["chart", "image"]
Report = Callable[["Outcome"], None]


@dataclass(frozen=True)
class Outcome:
    kind: Literal["chart", "image"]
    key: str
    status: Status
    digest: str | None = None
    detail: str = ""

    def line(self) -> str:
        digest = f" {self.digest}" if self.digest else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.status:>7} {self.kind} {self.key}{digest}{detail}"


@dataclass
class LockFile:
    """The stack's lock, rewritten (atomically) after every recorded artifact."""

    path: Path
    lock: MirrorLock

    @classmethod
    def open(cls, path: Path, stack: str, mirror: str) -> LockFile:
        lock = read_lock(path)
        if lock is not None and lock.mirror != mirror:
            raise LockError(
                f"{path} records mirror {lock.mirror}, but the stack's mirror is {mirror}: "
                "pass --lock FILE for a lock of this mirror"
            )
        return cls(path, lock or MirrorLock(stack=stack, mirror=mirror))

    def record(self, kind: Literal["chart", "image"], key: str, digest: str, source: str) -> None:
        entry = Locked(digest=digest, source=source)
        if kind == "chart":
            self.lock = self.lock.with_chart(key, entry)
        else:
            self.lock = self.lock.with_image(key, entry)
        write_lock(self.lock, self.path)


Need = TypeVar("Need", ChartNeed, ImageNeed)


def _each(
    needs: Iterable[Need], kind: Kind, act: Callable[[Need], Outcome], report: Report
) -> list[Outcome]:
    """`act` on every artifact; a failure is that artifact's outcome, the others go on."""
    outcomes = []
    for need in needs:
        try:
            outcome = act(need)
        except (ChartCopyError, SkopeoError, LockError) as error:
            outcome = Outcome(kind, need.key, "failed", detail=str(error))
        report(outcome)
        outcomes.append(outcome)
    return outcomes


def _origin(source: Source, need: ChartNeed) -> str:
    origin = source.chart(need)
    if origin is None:
        raise ChartCopyError(f"no source for {need.key}: add it to the catalogue")
    return origin


def copy_charts(
    needs: Iterable[ChartNeed],
    source: Source,
    mirror: str,
    lock: LockFile,
    cache: Path,
    registry: ChartRegistry,
    report: Report,
) -> list[Outcome]:
    """Every chart into the chart cache `cache` and the mirror; its digest into the lock."""

    def copy(need: ChartNeed) -> Outcome:
        origin = _origin(source, need)
        archive = registry.fetch(need.chart, origin, cache)
        present = registry.digest(mirror, need.chart)
        digest = registry.push(archive, mirror, need.chart)
        lock.record("chart", need.key, digest, f"{origin} {need.chart.version}")
        return Outcome("chart", need.key, "present" if present else "copied", digest)

    return _each(needs, "chart", copy, report)


def fetch_charts(
    needs: Iterable[ChartNeed], source: Source, cache: Path, registry: ChartRegistry, report: Report
) -> list[Outcome]:
    """Every chart's archive into `cache` only (`mirror export`: the directory's charts/)."""

    def fetch(need: ChartNeed) -> Outcome:
        origin = _origin(source, need)
        registry.fetch(need.chart, origin, cache)
        return Outcome("chart", need.key, "copied", detail=f"from {origin}")

    return _each(needs, "chart", fetch, report)


def copy_images(
    needs: Iterable[ImageNeed],
    source: Source,
    mirror: str,
    lock: LockFile,
    skopeo: Skopeo,
    report: Report,
) -> list[Outcome]:
    """Every image into the mirror, digests preserved; each digest read back into the lock."""
    return _each(needs, "image", lambda n: _copy_image(n, source, mirror, lock, skopeo), report)


def _copy_image(
    need: ImageNeed, source: Source, mirror: str, lock: LockFile, skopeo: Skopeo
) -> Outcome:
    target = f"docker://{mirror}/{need.key}"
    origin = source.image(need)
    there = skopeo.exists(target, mirror=True)
    if origin is None:  # the platform's own images: the workload build pushes them
        if there is None:
            why = "built by this repository: run scripts/build-images.sh (it pushes and locks it)"
            return Outcome("image", need.key, "skipped", detail=why)
        lock.record("image", need.key, there, "built by this repository")
        return Outcome("image", need.key, "present", there)
    wanted = skopeo.digest(origin)
    locked = lock.lock.images.get(need.key)
    if locked is not None and locked.digest != wanted:
        raise LockError(
            f"{origin} is now {wanted}, the lock has {locked.digest}: the tag moved upstream; "
            f"review the new image, then remove {need.key} from {lock.path} to accept it"
        )
    if there is not None and there != wanted:
        raise LockError(
            f"{target} holds {there}, the source has {wanted}: tags are immutable; "
            "investigate before removing the tag from the mirror"
        )
    status: Status = "present"
    if there is None:
        skopeo.copy(origin, target)
        there, status = skopeo.digest(target, mirror=True), "copied"
        if there != wanted:
            raise SkopeoError(f"{target} serves {there} after the copy, the source {wanted}")
    lock.record("image", need.key, there, origin.removeprefix("docker://"))
    return Outcome("image", need.key, status, there)


def export(
    inventory: Inventory, source: Source, directory: Path, skopeo: Skopeo, report: Report
) -> list[Outcome]:
    """Images into the OCI layout `directory/images` (charts are already in `directory/charts`)
    and `directory/inventory.json` (every artifact and its digest) for the other side."""

    def carry(need: ImageNeed) -> Outcome:
        origin = source.image(need)
        if origin is None:
            why = "no upstream: export it --from-registry the build's staging registry"
            return Outcome("image", need.key, "skipped", detail=why)
        layout = f"oci:{directory / EXPORT_IMAGES}:{need.key}"
        skopeo.copy(origin, layout, to_mirror=False)
        return Outcome("image", need.key, "copied", skopeo.digest(layout))

    outcomes = _each(inventory.images, "image", carry, report)
    charts = {n.key: f"{EXPORT_CHARTS}/{archive_name(n.chart)}" for n in inventory.charts}
    index = {"charts": charts, "images": {o.key: o.digest for o in outcomes if o.digest}}
    (directory / EXPORT_INDEX).write_text(json.dumps(index, indent=2) + "\n")
    return outcomes
