"""Settings every suite needs wherever it runs (a checkout or an installed package)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too: an installed package has no pyproject.toml to declare them.
    config.addinivalue_line("markers", "verify: post-deploy verification suite (pytest-testinfra)")
    config.addinivalue_line(
        "markers", "integration: starts real local services (broker, MLflow, Feast, model server)"
    )
