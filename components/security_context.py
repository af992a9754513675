"""The Pod Security `restricted` contexts every platform pod and container runs with.

| helper | what |
|---|---|
| `pod_security` | non-root `UID` (the platform images' user) and GID, fsGroup, seccomp |
| `container_security` | the same; no privilege escalation, read-only root, no capabilities |
| `tmp_volume` | a size-limited writable `/tmp` under the read-only root filesystem |
"""

from __future__ import annotations

from typing import Any

UID = 10001  # the non-root user every platform image runs as (USER in its Dockerfile)


def pod_security(uid: int = UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(uid: int = UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def tmp_volume(size: str = "1Gi") -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) for a writable /tmp under a read-only root filesystem."""
    return {"name": "tmp", "emptyDir": {"sizeLimit": size}}, {"name": "tmp", "mountPath": "/tmp"}
