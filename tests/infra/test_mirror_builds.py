"""The workload image builds: scripts/build-images.sh with `mlplatform mirror builds/record`.

No container runtime here, so `buildah` is a stand-in on PATH that logs each build's arguments
and, on push, puts a tiny distinct image at the destination (with skopeo, in the real registry
on 127.0.0.1) and writes its digest where buildah would. Everything else is real: the build list
from the catalogue and the lock, the base taken from the mirror at its locked digest, the pushed
digests read back from the registry into the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.mirror import LockFile
from infra.mirror.builds import built_images
from tests.support.oci import (
    MISSING_TOOLS,
    REGISTRY,
    SKOPEO,
    LocalRegistry,
    push_layout,
    write_layout,
)
from version_catalogue.lock import image_key, read_lock

ROOT = Path(__file__).resolve().parents[2]
BASE = "library/python:3.11-slim-bookworm"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REGISTRY is None or SKOPEO is None, reason=MISSING_TOOLS),
]

FAKE_BUILDAH = """#!/usr/bin/env bash
# buildah stand-in: `bud` logs its arguments; `push --digestfile F SRC docker://REF` pushes a
# tiny image named after REF and writes its digest to F.
set -euo pipefail
echo "$*" >> "$FAKE_LOG"
[ "$1" = push ] || exit 0
while [ "$1" != --digestfile ]; do shift; done
digest_file="$2"; dest="${4#docker://}"
"$FAKE_PYTHON" - "$dest" "$digest_file" <<'PY'
import sys, tempfile
from pathlib import Path
sys.path.insert(0, "ROOT")
from tests.support.oci import push_layout, write_layout
dest, digest_file = sys.argv[1], sys.argv[2]
host, _, name = dest.partition("/mlp/")
layout = Path(tempfile.mkdtemp())
digest = write_layout(layout, [name], salt="built")[name]
push_layout(layout, [name], f"{host}/mlp")
Path(digest_file).write_text(digest)
PY
""".replace("ROOT", str(ROOT))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "registry") as running:
        yield running


def _lock_with_base(registry: LocalRegistry, tmp_path: Path) -> tuple[Path, str]:
    """The lock as `mlplatform mirror` leaves it: the base copied into the mirror, recorded."""
    digest = write_layout(tmp_path / "base", [BASE])[BASE]
    push_layout(tmp_path / "base", [BASE], f"{registry.host}/mlp")
    lock = tmp_path / "lock.json"
    LockFile.open(lock, "uae-onprem", f"{registry.host}/mlp").record(
        "image", BASE, digest, f"docker.io/{BASE}"
    )
    return lock, digest


def _script(
    registry: LocalRegistry, tmp_path: Path, lock: Path
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "buildah").write_text(FAKE_BUILDAH)
    (bin_dir / "buildah").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "buildah.log"),
        "FAKE_PYTHON": sys.executable,
        "MLPLATFORM": str(Path(sys.executable).parent / "mlplatform"),
        "MLP_PLAIN_HTTP": "1",
        "MIRROR_ARGS": f"--set registry.mirror={registry.host}/mlp --lock {lock}",
    }
    return subprocess.run(
        ["bash", "scripts/build-images.sh", "uae-onprem", "buildah"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_every_platform_image_is_built_from_the_locked_base_and_its_digest_locked(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    lock, base = _lock_with_base(registry, tmp_path)
    done = _script(registry, tmp_path, lock)
    assert done.returncode == 0, done.stderr
    mirror = f"{registry.host}/mlp"
    builds = [
        line
        for line in (tmp_path / "buildah.log").read_text().splitlines()
        if line.startswith("bud")
    ]
    assert len(builds) == len(built_images()) == 6
    for image, line in zip(built_images(), builds, strict=True):
        assert f"--file workloads/Dockerfile.{image.path} " in line
        assert f"--build-arg MIRROR={mirror} --build-arg BASE_DIGEST={base} " in line
        assert f"--tag {mirror}/{image_key(image)} " in line
    recorded = read_lock(lock)
    assert recorded is not None
    for image in built_images():
        entry = recorded.images[image_key(image)]
        assert entry.digest == registry.served_digest(f"mlp/{image.path}", image.tag)
        assert entry.source == f"built by this repository (workloads/Dockerfile.{image.path})"


def test_no_build_starts_before_the_base_is_in_the_lock(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    lock = tmp_path / "lock.json"
    LockFile.open(lock, "uae-onprem", f"{registry.host}/mlp")  # an empty lock: nothing mirrored
    done = _script(registry, tmp_path, lock)
    assert done.returncode == 2
    assert f"the base image {BASE} has no digest in the lock" in " ".join(done.stderr.split())
    assert not (tmp_path / "buildah.log").exists()


def test_record_refuses_a_digest_the_mirror_does_not_serve(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    lock, _ = _lock_with_base(registry, tmp_path)
    mirror = f"registry.mirror={registry.host}/mlp"
    served = write_layout(tmp_path / "built", ["serving:0.1.0"])["serving:0.1.0"]
    push_layout(tmp_path / "built", ["serving:0.1.0"], f"{registry.host}/mlp")
    other = "sha256:" + "0" * 64
    common = ["mirror", "record", "--stack", "uae-onprem", "--set", mirror, "--lock", str(lock),
              "--plain-http"]  # fmt: skip
    args = [*common, "--image", "serving:0.1.0"]
    refused = CliRunner().invoke(app, [*args, "--digest", other])
    assert refused.exit_code == 1 and f"serves {served}, not {other}" in refused.output
    not_ours = CliRunner().invoke(
        app, [*common, "--image", "kueue/kueue:v0.19.2", "--digest", other]
    )
    assert not_ours.exit_code == 2 and "is not built by this repository" in not_ours.output
    recorded = read_lock(lock)
    assert recorded is not None and "serving:0.1.0" not in recorded.images
    assert CliRunner().invoke(app, [*args, "--digest", served]).exit_code == 0
    recorded = read_lock(lock)
    assert recorded is not None and recorded.images["serving:0.1.0"].digest == served
