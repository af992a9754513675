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
        reference = f"{mirror}/{self.path}:{self.tag}"
        return f"{reference}@{self.digest}" if self.digest else reference
