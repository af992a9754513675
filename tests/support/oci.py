"""A real OCI registry on 127.0.0.1 for tests, and tiny OCI images built without a container
runtime.

`LocalRegistry` runs Debian's `docker-registry` (the CNCF distribution registry) on a free
loopback port with its storage in a temporary directory, optionally behind htpasswd basic auth,
and stops it by PID. `write_layout` writes an OCI image layout holding one small, distinct image
per reference name (a one-file layer naming the reference), which skopeo copies like any image.
`served_digest` asks the registry itself which digest a tag has (its Docker-Content-Digest
header), independently of the tools under test.
"""

from __future__ import annotations

import base64
import crypt  # deprecated (removed in 3.13): bcrypt for the htpasswd file is all we use
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = shutil.which("docker-registry")
SKOPEO = shutil.which("skopeo")
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
MISSING_TOOLS = (
    "docker-registry and skopeo (Debian packages) are not installed: `apt-get install "
    "docker-registry skopeo` (make setup does it where it runs as root)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalRegistry:
    """docker-registry on 127.0.0.1:<free port>; `with` starts it and stops it by PID."""

    root: Path
    user: str | None = None
    password: str | None = None
    port: int = field(default_factory=_free_port)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _config(self) -> Path:
        auth = ""
        if self.user and self.password:
            salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)  # cost 4: checked per request
            hashed = crypt.crypt(self.password, salt)
            (self.root / "htpasswd").write_text(f"{self.user}:{hashed}\n")
            auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {self.root / 'htpasswd'}\n"
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.root / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n{auth}"
        )
        return config

    def __enter__(self) -> LocalRegistry:
        assert REGISTRY is not None, MISSING_TOOLS
        self.root.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [REGISTRY, "serve", str(self._config())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"docker-registry did not listen on {self.host} within 20s")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def served_digest(self, repository: str, tag: str) -> str | None:
        """The digest the registry serves for repository:tag (None when it has none)."""
        url = f"http://{self.host}/v2/{repository}/manifests/{tag}"
        request = urllib.request.Request(url, method="HEAD", headers={"Accept": MANIFEST_TYPES})
        if self.user and self.password:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return str(response.headers["Docker-Content-Digest"])
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise


def _blob(root: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layer(text: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = text.encode()
        info = tarfile.TarInfo("image.txt")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_layout(root: Path, refs: list[str], salt: str = "") -> dict[str, str]:
    """An OCI layout at `root` with one distinct tiny image per ref name; ref → manifest digest."""
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    manifests, digests = [], {}
    for ref in refs:
        layer = _blob(root, _layer(f"{ref}{salt}\n"))
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
                "config": {"User": "10001"},
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    **_blob(root, config),
                },
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
            }
        ).encode()
        entry = _blob(root, manifest)
        manifests.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **entry,
                "annotations": {"org.opencontainers.image.ref.name": ref},
            }
        )
        digests[ref] = str(entry["digest"])
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": manifests}))
    return digests


def push_layout(layout: Path, refs: list[str], registry: str) -> None:
    """skopeo copy each ref of the layout to docker://<registry>/<ref> (plain HTTP)."""
    assert SKOPEO is not None, MISSING_TOOLS
    for ref in refs:
        subprocess.run(
            [SKOPEO, "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
             f"oci:{layout}:{ref}", f"docker://{registry}/{ref}"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
