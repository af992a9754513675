"""Values a preview cannot know, and which of them a rule read.

During a first `pulumi preview` (and a preview-mode plan, `infra.plan.preview`) every value a
provider computes — IDs, ARNs, generated names, anything derived from them — is unknown
(`core.UNKNOWN`). A rule treats an unknown as "cannot decide" and reports nothing for it, which on
its own would let a policy pass a preview silently. So a resource's inputs that hold an unknown are
wrapped (`tracked`) to record each unknown a rule reads, and `reading()` collects the reads of one
check. A check that read an unknown and found nothing is *undecided*: the offline report
(`policies.evaluate`) lists it as advisory, "decides on the update"; under CrossGuard the adapter
raises pulumi_policy's `UnknownValueError`, and the engine reports "can't run policy ... during
preview" as an advisory diagnostic.

Plan files hold `MARKER` where a value is unknown; `from_plan` turns it (and the engine's own
unknown sentinel) back into `core.UNKNOWN`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from policies.core import UNKNOWN

MARKER = "[unknown]"
# The string the Pulumi engine sends for an unknown value (pulumi.runtime.rpc.UNKNOWN).
ENGINE_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True, order=True)
class UnknownRead:
    """A rule read the value at `path` of resource `urn`'s inputs, and it was unknown."""

    urn: str
    path: str


_READS: ContextVar[list[UnknownRead] | None] = ContextVar("policies_unknown_reads", default=None)


@contextmanager
def reading() -> Iterator[list[UnknownRead]]:
    """Collect the unknown values read inside the block (a fresh list; nested blocks own theirs)."""
    reads: list[UnknownRead] = []
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _seen(urn: str, path: str, value: Any, cache: dict[Any, Any], key: Any) -> Any:
    if value is UNKNOWN:
        reads = _READS.get()
        if reads is not None:
            reads.append(UnknownRead(urn, path))
        return value
    if key in cache:
        return cache[key]
    if type(value) is dict:
        cache[key] = TrackedDict(value, urn, path)
        return cache[key]
    if type(value) is list:
        cache[key] = TrackedList(value, urn, path)
        return cache[key]
    return value


class TrackedDict(dict[Any, Any]):
    """A resource's inputs (or part of them) that records reads of unknown values."""

    def __init__(self, data: dict[Any, Any], urn: str, path: str = "") -> None:
        super().__init__(data)
        self._urn, self._path = urn, path
        self._children: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        return _seen(self._urn, _join(self._path, key), value, self._children, key)

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (self.get is this)

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return [(k, self[k]) for k in self]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[k] for k in self]


class TrackedList(list[Any]):
    """A list inside a resource's inputs that records reads of unknown values."""

    def __init__(self, data: list[Any], urn: str, path: str) -> None:
        super().__init__(data)
        self._urn, self._path = urn, path
        self._children: dict[Any, Any] = {}

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        value = super().__getitem__(index)
        position = index if index >= 0 else len(self) + index
        return _seen(self._urn, _join(self._path, position), value, self._children, position)

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_unknown(v) for v in value)
    return False


def tracked(props: Any, urn: str) -> Any:
    """`props` wrapped to record unknown reads when it holds an unknown; else `props` itself."""
    if isinstance(props, dict) and not isinstance(props, TrackedDict) and has_unknown(props):
        return TrackedDict(props, urn)
    return props


def from_plan(value: Any) -> Any:
    """Plan-file data with `MARKER` (or the engine's sentinel) turned into `core.UNKNOWN`."""
    if isinstance(value, str):
        return UNKNOWN if value in (MARKER, ENGINE_SENTINEL) else value
    if isinstance(value, dict):
        return {k: from_plan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_plan(v) for v in value]
    return value
