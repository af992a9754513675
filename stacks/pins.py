"""The stack's mirror lock, as the program pins its images with it.

`mlplatform mirror` records the digest of every artifact it copies into the stack's mirror in
`locks/mirror/<stack>.lock.json` (`version_catalogue.lock`). The program reads that lock under
the engine and under the plan's mocks alike and hands the components catalogue images carrying
the lock's digest (`pinned`), so every image reference the cluster receives is
`<mirror>/<path>:<tag>@sha256:...`. A lock recorded for another mirror pins nothing (the plan's
MIRROR-002 says so); an image the lock lacks stays tag-only (MIRROR-001).

The GPU driver is the one image the lock keys differently: the GPU operator pulls
`driver:<version>-<node OS>`, so `mlplatform mirror --gpu-driver-os` locks one entry per OS; the
driver is pinned when the lock has exactly one (a digest names one OS's image), else it stays
unpinned and MIRROR-001 says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from stacks.config import StackConfig
from stacks.config.loader import ROOT
from version_catalogue import IMAGES, Image
from version_catalogue.lock import MirrorLock, lock_path, read_lock

# The repository whose locks/mirror/ the program reads (tests point it at a temporary one).
LOCK_ROOT: Path = ROOT


def lock_file(stack: str, root: Path | None = None) -> Path:
    """The stack's lock: locks/mirror/<stack>.lock.json in the repository."""
    return lock_path(stack, root or LOCK_ROOT)


@lru_cache(maxsize=16)
def _read(path: Path, version: tuple[int, int, int]) -> MirrorLock | None:
    del version  # part of the cache key only: a rewritten lock (a new inode) is read again
    return read_lock(path)


def stack_lock(config: StackConfig, stack: str, root: Path | None = None) -> MirrorLock | None:
    """The stack's lock when it records the stack's mirror; None otherwise.

    Raises `version_catalogue.lock.LockError` (naming the file and field) for a broken lock."""
    path = lock_file(stack, root)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    lock = _read(path, (stat.st_ino, stat.st_mtime_ns, stat.st_size))
    return lock if lock is not None and lock.mirror == config.image_registry else None


def pinned(config: StackConfig, stack: str, image: Image, root: Path | None = None) -> Image:
    """`image` with the digest the stack's lock records for it (unchanged without one)."""
    lock = stack_lock(config, stack, root)
    if lock is None:
        return image
    if image.path == IMAGES["gpu-driver"].path:
        per_os = [e for k, e in lock.images.items() if k.startswith(f"{image.path}:{image.tag}-")]
        digest = per_os[0].digest if len(per_os) == 1 else None
        return Image(image.path, image.tag, image.upstream, digest) if digest else image
    return lock.pin(image)
