"""Helm charts into the mirror as OCI artifacts (`oci://<mirror>/charts/<name>:<version>`).

With Helm's own registry client (`helm-python-sdk`, no helm binary): a chart archive is fetched
from its source — the upstream repository the catalogue names (an `oci://` reference or an HTTP
chart repository), another registry laid out like the mirror (`--from-registry`), or the
`charts/` folder of an exported directory (`--from-oci-layout`) — then pushed. Helm builds the
OCI manifest from the archive and the archive file's modification time (its
`org.opencontainers.image.created`); `fetch` sets that time to the newest entry in the archive,
so the same archive gets the same digest in every mirror, on either side of an air gap.

Credentials: Helm's (`helm registry login <mirror>`, its registry config file) or
`MLP_REGISTRY_USERNAME` / `MLP_REGISTRY_PASSWORD` for the mirror.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from version_catalogue import Chart

if TYPE_CHECKING:
    import helm_python

USERNAME_ENV, PASSWORD_ENV = "MLP_REGISTRY_USERNAME", "MLP_REGISTRY_PASSWORD"


class ChartCopyError(RuntimeError):
    """A chart could not be fetched or pushed: the message names chart, version and where."""


def archive_name(chart: Chart) -> str:
    return f"{chart.name}-{chart.version}.tgz"


def settle(archive: Path) -> Path:
    """Give the archive file the time of its newest entry (Helm's `created` annotation)."""
    with tarfile.open(archive, "r:gz") as tar:
        newest = max((member.mtime for member in tar.getmembers()), default=0)
    os.utime(archive, (newest, newest))
    return archive


@dataclass(frozen=True)
class ChartRegistry:
    """Helm's registry client for one mirror host (logged in from MLP_REGISTRY_* if set)."""

    plain_http: bool = False

    @contextmanager
    def client(self, host: str | None = None) -> Iterator[helm_python.RegistryClient]:
        """Helm's client; logged in to `host` from MLP_REGISTRY_* into a throw-away credentials
        file (Helm's own file, what `helm registry login` wrote, is used but never written)."""
        import helm_python

        user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
        login = bool(host and user and password)
        with tempfile.TemporaryDirectory(prefix="mlp-helm-") as tmp:
            credentials = Path(tmp) / "config.json" if login else None
            client = helm_python.RegistryClient(
                plain_http=self.plain_http, credentials_file=credentials
            )
            try:
                if login and host and user and password:
                    client.login(host, user, password, plain_http=self.plain_http)
                yield client
            except helm_python.HelmError as error:
                raise ChartCopyError(" ".join(str(error).split())) from None
            finally:
                client.close()

    def fetch(self, chart: Chart, source: str, into: Path, on_mirror: bool = False) -> Path:
        """`chart`'s archive from `source` into `into`: an `oci://` repository root or chart
        reference, an `https://` chart repository, or a directory holding the archive
        (`on_mirror`: `source` is the mirror, MLP_REGISTRY_* apply)."""
        import helm_python

        into.mkdir(parents=True, exist_ok=True)
        target = into / archive_name(chart)
        if "://" not in source:
            found = Path(source) / archive_name(chart)
            if not found.is_file():
                raise ChartCopyError(f"{chart.name} {chart.version}: {found} does not exist")
            shutil.copyfile(found, target)
            return settle(target)
        what = f"pull {chart.name} {chart.version} from {source}"
        try:
            host = source.removeprefix("oci://").split("/", 1)[0] if on_mirror else None
            with self.client(host) as client:
                if source.startswith("oci://"):
                    ref = source if source.endswith(f"/{chart.name}") else f"{source}/{chart.name}"
                    client.pull(ref, version=chart.version, destination=into,
                                plain_http=self.plain_http)  # fmt: skip
                else:
                    helm_python.pull(chart.name, repo_url=source, version=chart.version,
                                     destination=into)  # fmt: skip
        except ChartCopyError as error:
            raise ChartCopyError(f"{what}: {error}") from None
        if not target.is_file():
            raise ChartCopyError(f"{what}: no {target.name} was written")
        return settle(target)

    def digest(self, mirror: str, chart: Chart) -> str | None:
        """The digest `oci://<mirror>/charts/<name>:<version>` has, None when absent."""
        import helm_python

        ref = f"{chart.oci(mirror).removeprefix('oci://')}:{chart.version}"
        with self.client(mirror.split("/", 1)[0]) as client:
            try:
                return str(client.resolve(f"oci://{ref}")["digest"])
            except helm_python.HelmError as error:
                if "not found" in str(error).lower():
                    return None
                raise

    def push(self, archive: Path, mirror: str, chart: Chart) -> str:
        """Push the archive to `oci://<mirror>/charts`; the digest the mirror then serves.

        An existing version (tags are immutable) is kept when it holds the same archive and
        refused when it holds another one."""
        existing = self.digest(mirror, chart)
        if existing is not None:
            self._same_archive(archive, mirror, chart)
            return existing
        with self.client(mirror.split("/", 1)[0]) as client:
            client.push(archive, f"oci://{mirror}/charts", plain_http=self.plain_http)
        pushed = self.digest(mirror, chart)
        if pushed is None:
            raise ChartCopyError(f"push {chart.name} {chart.version} to {mirror}: not found after")
        return pushed

    def _same_archive(self, archive: Path, mirror: str, chart: Chart) -> None:
        with tempfile.TemporaryDirectory(prefix="mlp-chart-") as tmp:
            there = self.fetch(chart, f"oci://{mirror}/charts", Path(tmp), on_mirror=True)
            if not filecmp.cmp(there, archive, shallow=False):
                raise ChartCopyError(
                    f"{chart.name} {chart.version} is already in {mirror} with other content; "
                    "chart versions are immutable: remove it there or investigate the source"
                )
