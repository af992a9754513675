"""`mlplatform charts pull` against a real OCI registry (the CNCF distribution registry, Debian's
`docker-registry`) on 127.0.0.1: the catalogue's charts pushed there are pulled into a chart
cache, and a plan's releases render from that cache."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import helm_python
import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.render import ChartCache, render_release
from infra.render.cache import REFERENCE_CHARTS
from infra.render.releases import ReleaseSpec
from tests.support.charts import requires_reference_charts
from version_catalogue import CHARTS

REGISTRY = shutil.which("docker-registry")
pytestmark = [
    pytest.mark.skipif(
        REGISTRY is None,
        reason="docker-registry (Debian package) is not installed: `apt-get install "
        "docker-registry` (make setup does it where it runs as root)",
    ),
    requires_reference_charts,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry on 127.0.0.1 holding every catalogue chart under <host>/mlplatform/charts."""
    root = tmp_path_factory.mktemp("registry")
    port = _free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    assert REGISTRY is not None
    process = subprocess.Popen(
        [REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        host = f"127.0.0.1:{port}/mlplatform"
        packages = tmp_path_factory.mktemp("packages")
        for chart in CHARTS.values():
            # saved from the loaded tree: `helm package` refuses cloudnative-pg, whose optional
            # sub-chart the reference tree leaves out
            with helm_python.Chart.load(REFERENCE_CHARTS / chart.name) as loaded:
                archive = loaded.save(packages)
            helm_python.push(archive, f"oci://{host}/charts", plain_http=True)
        yield host
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_charts_pull_fills_a_cache_plans_render_from(registry: str, tmp_path: Path) -> None:
    cache_dir = tmp_path / "charts"
    result = CliRunner().invoke(
        app,
        ["charts", "pull", "--stack", "uae-onprem", "--charts", str(cache_dir),
         "--mirror", registry, "--plain-http"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pulled = sorted(p.name for p in cache_dir.glob("*.tgz"))
    assert len(pulled) == len(CHARTS)
    assert "kueue-0.19.2.tgz" in pulled
    cache = ChartCache.resolve(cache_dir)
    spec = ReleaseSpec("urn:t", "kueue", "kueue-system", "kueue", "0.19.2", {}, "x.py")
    rendered = render_release(spec, cache)
    assert rendered.error is None
    assert any(o.body.get("kind") == "Deployment" for o in rendered.objects)


def test_charts_pull_from_an_unreachable_mirror_exits_2_naming_the_chart(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["charts", "pull", "--stack", "uae-onprem", "--charts", str(tmp_path),
         "--mirror", f"127.0.0.1:{_free_port()}/nothing", "--plain-http"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "charts pull oci://127.0.0.1:" in result.output and "/charts/" in result.output
