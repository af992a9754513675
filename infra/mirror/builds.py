"""The platform's own images: what to build, from which base, and recording what was pushed.

Each image the catalogue marks "built by this repository" has `workloads/Dockerfile.<path>`.
A build takes its base from the stack's mirror at the digest the mirror lock records (build
arguments `MIRROR` and `BASE_DIGEST`: the Dockerfiles declare `FROM ${MIRROR}/<base
path>:<tag>@${BASE_DIGEST}`, so nothing is pulled from Docker Hub and the base cannot drift),
and is pushed to `<mirror>/<path>:<tag>`. `record` then reads the digest the mirror serves for
it and writes that into the lock, as `mlplatform mirror` does for copied images.
scripts/build-images.sh drives this with buildah or kaniko.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.mirror.inventory import BUILT_HERE
from version_catalogue import BUILD_IMAGES, IMAGES, Image
from version_catalogue.lock import LockError, MirrorLock, image_key

BASE = BUILD_IMAGES["python"]


@dataclass(frozen=True)
class Build:
    key: str  # <path>:<tag> in the mirror (and in the lock)
    dockerfile: str  # repository-relative
    ref: str  # <mirror>/<path>:<tag>, where the build pushes
    mirror: str
    base_digest: str

    def line(self) -> str:
        """One line for scripts/build-images.sh: key, Dockerfile, ref, MIRROR, BASE_DIGEST."""
        return " ".join((self.key, self.dockerfile, self.ref, self.mirror, self.base_digest))


def built_images() -> list[Image]:
    return sorted((i for i in IMAGES.values() if i.upstream == BUILT_HERE), key=lambda i: i.path)


def builds(mirror: str, lock: MirrorLock | None, root: Path) -> list[Build]:
    """Every platform image's build for `mirror`; LockError when the base is not locked yet."""
    base = lock.images.get(image_key(BASE)) if lock is not None else None
    if lock is None or lock.mirror != mirror or base is None:
        raise LockError(
            f"the base image {image_key(BASE)} has no digest in the lock of {mirror}: run "
            "`mlplatform mirror --stack <stack>` first (it copies the base into the mirror)"
        )
    found = []
    for image in built_images():
        dockerfile = Path("workloads") / f"Dockerfile.{image.path}"
        if not (root / dockerfile).is_file():
            raise LockError(f"{image_key(image)} is built here, but {dockerfile} does not exist")
        key = image_key(image)
        found.append(Build(key, dockerfile.as_posix(), f"{mirror}/{key}", mirror, base.digest))
    return found
