"""Images between registries and OCI layouts, with skopeo (Debian package `skopeo`).

Every copy is `skopeo copy --all --preserve-digests`: every platform of a multi-arch image, and
a refusal rather than a conversion, so the digest the mirror serves is the digest upstream
published. `digest` reads the manifest a reference serves (`skopeo inspect --raw`) and hashes it,
which is how a registry names it (the Docker-Content-Digest header).

Credentials: skopeo's own (`skopeo login`, `REGISTRY_AUTH_FILE`, ~/.docker/config.json), or
`MLP_REGISTRY_USERNAME` / `MLP_REGISTRY_PASSWORD` for the mirror, the same variables
`mlplatform charts pull` reads; those go to skopeo in a private auth file (never on its command
line, where `ps` would show them). `plain_http` (a local test registry only) turns TLS
verification off.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USERNAME_ENV, PASSWORD_ENV = "MLP_REGISTRY_USERNAME", "MLP_REGISTRY_PASSWORD"
TIMEOUT_S = 1800  # one image, every platform: a CUDA base image is several GB
_MISSING = ("manifest unknown", "not found", "no such image", "does not exist", "name unknown")


class SkopeoError(RuntimeError):
    """skopeo is missing or a copy/inspect failed: the message names the reference."""


class NotFound(SkopeoError):
    """The reference does not exist (manifest unknown)."""


def _host(ref: str) -> str:
    return ref.removeprefix("docker://").split("/", 1)[0]


@contextlib.contextmanager
def mirror_auth(ref: str) -> Iterator[Path | None]:
    """A private auth file for `ref`'s host from MLP_REGISTRY_*; None when they are unset."""
    user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
    if not (user and password and ref.startswith("docker://")):
        yield None
        return
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    with tempfile.TemporaryDirectory(prefix="mlp-auth-") as tmp:
        path = Path(tmp) / "auth.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps({"auths": {_host(ref): {"auth": token}}}))
        yield path


@dataclass(frozen=True)
class Skopeo:
    plain_http: bool = False
    binary: str = "skopeo"

    def _run(self, args: list[str], what: str) -> bytes:
        exe = shutil.which(self.binary)
        if exe is None:
            raise SkopeoError(
                f"{what}: skopeo is not installed (Debian/Ubuntu: apt-get install skopeo)"
            )
        try:
            done = subprocess.run([exe, *args], capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise SkopeoError(f"{what}: skopeo did not finish within {TIMEOUT_S}s") from None
        if done.returncode != 0:
            detail = " ".join((done.stderr or done.stdout).decode(errors="replace").split())
            kind = NotFound if any(m in detail.lower() for m in _MISSING) else SkopeoError
            raise kind(f"{what}: {detail or f'skopeo exited {done.returncode}'}")
        return done.stdout

    def _tls(self, flag: str, ref: str) -> list[str]:
        return [f"--{flag}=false"] if self.plain_http and ref.startswith("docker://") else []

    def digest(self, ref: str, mirror: bool = False) -> str:
        """The digest of the manifest `ref` serves (`docker://…` or `oci:DIR:name`); `mirror`:
        `ref` is on the mirror (MLP_REGISTRY_* apply)."""
        with mirror_auth(ref if mirror else "") as auth:
            flags = self._tls("tls-verify", ref) + (["--authfile", str(auth)] if auth else [])
            raw = self._run(["inspect", "--raw", *flags, ref], f"inspect {ref}")
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def exists(self, ref: str, mirror: bool = False) -> str | None:
        """The digest at `ref`, None when nothing is there."""
        try:
            return self.digest(ref, mirror)
        except NotFound:
            return None

    def copy(self, source: str, destination: str, to_mirror: bool = True) -> str:
        """Copy every platform, digests preserved; the digest written at the destination."""
        with (
            tempfile.TemporaryDirectory(prefix="mlp-skopeo-") as tmp,
            mirror_auth(destination if to_mirror else "") as auth,
        ):
            digest_file = Path(tmp) / "digest"
            args = ["copy", "--all", "--preserve-digests", "--digestfile", str(digest_file)]
            args += self._tls("src-tls-verify", source) + self._tls("dest-tls-verify", destination)
            args += ["--dest-authfile", str(auth)] if auth else []
            self._run([*args, source, destination], f"copy {source} → {destination}")
            return digest_file.read_text().strip()
