"""Fixtures for the checkov tests: they call the real checkov binary from .venv-checkov."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.evidence import checkov

FIXTURES = Path(__file__).parent / "fixtures"
MIRROR = "harbor.dc1.example.ae/mlplatform"


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    if not checkov.CHECKOV_BIN.exists():
        pytest.skip(
            f"checkov environment absent ({checkov.CHECKOV_BIN}); "
            "create it with `make .venv-checkov/.installed`"
        )
    return checkov.CHECKOV_BIN


@pytest.fixture(scope="session")
def run_checkov(
    checkov_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., checkov.CheckovResult]:
    """checkov.scan over a copy of a fixture folder as `<plan>/manifests` and/or Dockerfiles."""

    def run(
        manifests: Path | None = None,
        dockerfiles: tuple[Path, ...] = (),
        registries: tuple[str, ...] = (MIRROR,),
        config: dict | None = None,
    ) -> checkov.CheckovResult:
        checkov.clear_cache()
        out = tmp_path_factory.mktemp("plan")
        if manifests is not None:  # the layout of a plan directory: <plan>/manifests/...
            shutil.copytree(manifests, out / "manifests")
        return checkov.scan(
            out / "manifests" if manifests is not None else None,
            list(dockerfiles),
            out,
            allowed_registries=list(registries),
            config=config if config is not None else {"registry": {"immutableTags": True}},
        )

    return run
