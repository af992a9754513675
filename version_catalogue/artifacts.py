"""What a pinned artifact is: a Helm chart or a container image, and where a mirror serves it.

The only part of the catalogue components may import (their Args carry these types).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    upstream: str  # the repository the mirror copies from (reference for the mirror job)

    def oci(self, mirror: str) -> str:
        return f"oci://{mirror}/charts/{self.name}"


@dataclass(frozen=True)
class Image:
    path: str  # repository path under the registry, e.g. "strimzi/kafka"
    tag: str
    upstream: str  # upstream registry host the mirror copies from
    digest: str | None = None

    def ref(self, mirror: str) -> str:
        return f"{mirror}/{self.path}:{self.pinned_tag}"

    @property
    def pinned_tag(self) -> str:
        """`tag@digest` when the image is pinned, else the tag: what a chart that composes
        `<repository>:<tag>` takes as its tag to pull exactly this digest."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag
