"""Atomic training checkpoints: a kill at any instant leaves the previous checkpoint intact.

The file is written beside its final name, flushed to disk and renamed over it; rename is
atomic on POSIX filesystems (and on the shared volume a TrainJob mounts), so a reader sees the
old or the new checkpoint, never half of one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

CHECKPOINT = "checkpoint.pt"


def save(directory: Path, state: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = directory / CHECKPOINT
    temporary = directory / f".{CHECKPOINT}.{os.getpid()}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        torch.save(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    return final


def load(directory: Path) -> dict[str, Any] | None:
    path = directory / CHECKPOINT
    if not path.exists():
        return None
    # Our own file, but weights_only keeps a tampered checkpoint from running code.
    return torch.load(path, map_location="cpu", weights_only=True)
