"""The mirror lock: the digest each catalogue artifact has in a stack's in-country mirror.

`mlplatform mirror` copies every chart and image a plan needs into the stack's mirror and
records here what the mirror serves (`locks/mirror/<stack>.lock.json`, committed beside the
stack file); the workload image builds record theirs the same way. The program reads the lock
and pins every image it deploys by digest (`repo:tag@sha256:...`, `pin`), and the plan fails
an image the lock does not cover (MIRROR-001). Copies keep the upstream digest (skopeo
`--preserve-digests`), so a digest is a property of the artifact, not of one mirror.

A lock may say it is `pending` (with the reason): the stack's mirror has not been filled yet,
so nothing can be pinned; every plan shows that as an exception until `mlplatform mirror`
writes the digests (which drops `pending`).

Neutral like the rest of the catalogue: it imports nothing of the program.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from version_catalogue.artifacts import Chart, Image

LOCK_DIR = Path("locks") / "mirror"
DIGEST = r"^sha256:[0-9a-f]{64}$"
Digest = Annotated[str, Field(pattern=DIGEST)]

__all__ = [
    "LOCK_DIR",
    "LockError",
    "Locked",
    "MirrorLock",
    "chart_key",
    "image_key",
    "lock_path",
    "read_lock",
    "write_lock",
]


class LockError(ValueError):
    """A lock file that cannot be read: the message names the file and the field."""


class Locked(BaseModel):
    """One artifact in the mirror: its digest and where the copy came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    digest: Digest
    source: str = Field(min_length=1)


class MirrorLock(BaseModel):
    """The digests one stack's mirror serves: images by `path:tag`, charts by `name:version`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    stack: str = Field(min_length=1)
    mirror: str = Field(min_length=1)
    pending: str | None = None
    images: dict[str, Locked] = {}
    charts: dict[str, Locked] = {}

    @field_validator("images", "charts")
    @classmethod
    def _keys(cls, value: dict[str, Locked]) -> dict[str, Locked]:
        for key in value:
            name, sep, tag = key.rpartition(":")
            if not sep or not name or not tag or "@" in key or "/" in tag:
                raise ValueError(f"key {key!r} must be <path>:<tag> (no registry, no digest)")
        return value

    def image_digest(self, image: Image) -> str | None:
        entry = self.images.get(image_key(image))
        return entry.digest if entry else None

    def pin(self, image: Image) -> Image:
        """The image with the lock's digest; unchanged when the lock has none for it."""
        digest = self.image_digest(image)
        if digest is None:
            return image
        return Image(image.path, image.tag, image.upstream, digest)

    def with_image(self, key: str, entry: Locked) -> MirrorLock:
        return self.model_copy(update={"images": {**self.images, key: entry}, "pending": None})

    def with_chart(self, key: str, entry: Locked) -> MirrorLock:
        return self.model_copy(update={"charts": {**self.charts, key: entry}, "pending": None})


def image_key(image: Image) -> str:
    return f"{image.path}:{image.tag}"


def chart_key(chart: Chart) -> str:
    return f"{chart.name}:{chart.version}"


def lock_path(stack: str, root: Path) -> Path:
    """Where a stack's lock lives in a repository: locks/mirror/<stack>.lock.json."""
    return root / LOCK_DIR / f"{stack}.lock.json"


def read_lock(path: Path) -> MirrorLock | None:
    """The lock at `path`, None when there is no file; LockError naming file and field."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return MirrorLock.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise LockError(f"{path}: not JSON ({error})") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
        )
        raise LockError(f"{path}: {problems}") from None


def write_lock(lock: MirrorLock, path: Path) -> Path:
    """Write atomically (a reader sees the old lock or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = lock.model_dump(mode="json", exclude_none=False)
    for section in ("images", "charts"):
        body[section] = dict(sorted(body[section].items()))
    text = json.dumps(body, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
