"""The plan's supply-chain check: every image it pulls is pinned by the digest the lock records.

Over every image the plan makes the cluster pull (`infra.render.images`: pods, rendered
releases, operator-injected images; those an operator only offers are left out, as in the
inventory), with the stack's mirror lock (`version_catalogue.lock`):

| id | check (mandatory) |
|---|---|
| MIRROR-001 | each image is pinned by exactly the digest the lock records for it |
| MIRROR-002 | the stack has a lock, and it records the stack's mirror |

Pinned means `<mirror>/<path>:<tag>@sha256:…`, or `<mirror>/<path>@sha256:…` where an operator
composes the reference from a digest alone (the GPU operator's driver, Strimzi's Kafka image).

A lock that declares itself `pending` (its mirror not filled yet: the shipped example stacks,
whose registries do not exist) turns MIRROR-001 advisory, and the plan shows that as a waiver
with the lock's reason; `mlplatform mirror` drops `pending` with the first digest it records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.mirror.inventory import GPU_DRIVER_PATH, split_ref
from infra.render import ClusterObject
from infra.render.checks import Check, Finding, Waiver
from infra.render.images import ImageUse, images
from version_catalogue import BUILD_IMAGES, IMAGES
from version_catalogue.lock import MirrorLock, image_key

PINNED = Check(
    "MIRROR-001",
    "Every image pinned by the digest the stack's mirror lock records",
    "high",
    ("5.21", "8.19", "8.32"),
    "Run `mlplatform mirror --stack <stack>` (it copies the image into the mirror and records "
    "its digest in locks/mirror/<stack>.lock.json), commit the lock, and plan again: the "
    "program pins every catalogue image by the lock's digest.",
)
LOCKED = Check(
    "MIRROR-002",
    "The stack has a mirror lock for its mirror",
    "high",
    ("5.21", "8.32"),
    "Run `mlplatform mirror --stack <stack>` against the stack's mirror and commit the lock it "
    "writes (locks/mirror/<stack>.lock.json).",
)
CHECKS = (PINNED, LOCKED)


@dataclass
class PinReport:
    lock: str  # the lock file the plan was checked against
    mirror: str
    pending: str | None = None
    images: int = 0  # distinct images the plan pulls from the mirror
    pinned: int = 0  # of which pinned by the lock's digest
    findings: list[Finding] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(f.mandatory for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        def status(check: Check) -> str:
            mine = [f for f in self.findings if f.check == check.id]
            return "fail" if any(f.mandatory for f in mine) else "warn" if mine else "pass"

        return {
            "passed": self.passed,
            "lock": self.lock,
            "mirror": self.mirror,
            "pending": self.pending,
            "images": self.images,
            "pinned": self.pinned,
            "checks": [
                {
                    **asdict(c),
                    "iso_controls": list(c.iso_controls),
                    "status": status(c),
                    "enforcement": "mandatory" if c.mandatory else "advisory",
                }
                for c in CHECKS
            ],
            "findings": [asdict(f) for f in self.findings],
            "waivers": [asdict(w) for w in self.waivers],
        }


_CATALOGUE = frozenset(image_key(i) for i in [*IMAGES.values(), *BUILD_IMAGES.values()])


def _pulled(use: ImageUse, path: str, tag: str | None) -> bool:
    """Not an image an operator only offers (see infra.mirror.inventory)."""
    if not use.injected or tag is None or path == GPU_DRIVER_PATH:
        return True
    return f"{path}:{tag}" in _CATALOGUE


def _problem(path: str, tag: str | None, digest: str | None, lock: MirrorLock) -> str | None:
    """Why this reference is not pinned by the lock's digest, None when it is."""
    if digest is None:
        return "has no digest"
    if tag is None:  # an operator composes the reference from a digest alone
        known = {e.digest for k, e in lock.images.items() if k.rpartition(":")[0] == path}
        return None if digest in known else f"is pinned to {digest}, which the lock has not"
    entry = lock.images.get(f"{path}:{tag}")
    if entry is None:
        return "is not in the lock"
    return None if entry.digest == digest else f"is pinned to {digest}, the lock has {entry.digest}"


def check_pins(
    objects: Iterable[ClusterObject], mirror: str, lock: MirrorLock | None, lock_file: Path
) -> PinReport:
    """MIRROR-001/002 over a plan's objects (`lock`: the stack's lock, None when it has none)."""
    report = PinReport(str(lock_file), mirror, lock.pending if lock else None)
    uses: dict[tuple[str, str | None, str | None], list[str]] = defaultdict(list)
    for use in images(objects):
        parts = split_ref(use.ref, mirror)
        if parts is not None and _pulled(use, parts[0], parts[1]):
            uses[parts].append(use.where())
    report.images = len({(path, tag) for path, tag, _ in uses})
    if lock is None or lock.mirror != mirror:
        found = "no lock" if lock is None else f"a lock of mirror {lock.mirror}"
        report.findings.append(
            Finding(LOCKED.id, True, None, str(lock_file),
                    f"{lock_file} is {found}: none of the plan's {report.images} images on "
                    f"{mirror} can be pinned by digest", LOCKED.remediation)
        )  # fmt: skip
        return report
    for (path, tag, digest), where in sorted(uses.items(), key=lambda kv: str(kv[0])):
        problem = _problem(path, tag, digest, lock)
        if problem is None:
            report.pinned += 1
            continue
        shown = f"{mirror}/{path}{f':{tag}' if tag else ''}"
        report.findings.append(
            Finding(PINNED.id, lock.pending is None, None, shown,
                    f"{shown} {problem} ({len(where)} uses, e.g. {min(where)})", PINNED.remediation)
        )  # fmt: skip
    if lock.pending is not None:
        report.waivers.append(
            Waiver(PINNED.id, None, str(lock_file), f"the lock is pending: {lock.pending}")
        )
    return report
