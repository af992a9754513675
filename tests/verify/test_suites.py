"""The packaged suites themselves: the local one passes on a healthy platform, the deployed one
skips every case unconfigured and says how to configure it (and `run_suite` calls that 1).

The local suite, run without MLP_VERIFY_LOCAL_STATE_DIR, starts broker, MLflow and the Feast
feature server in a scratch state directory on free ports and always stops them
(infra/verify/suites/local/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infra.verify.discovery import VerifySettings
from infra.verify.suite import EXIT_FAILED, run_suite, suite_path
from infra.verify.suites.deployed.conftest import UNCONFIGURED

pytestmark = pytest.mark.verify


def _pytest(suite: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLP_VERIFY_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(suite_path(suite)), "-v", "-rs", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=timeout,
    )


@pytest.mark.integration
def test_the_local_suite_passes_on_a_platform_it_starts() -> None:
    done = _pytest("local", "-p", "no:cacheprovider", timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for service in ("broker", "mlflow", "feature-server"):
        assert f"test_service_listens_on_loopback_only[{service}] PASSED" in out, out
    assert "test_state_directory_is_owner_only PASSED" in out


def test_the_deployed_suite_unconfigured_skips_every_case_and_says_how() -> None:
    done = _pytest("deployed", "-p", "no:cacheprovider", timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert " PASSED" not in out and " FAILED" not in out
    assert out.count("SKIPPED") >= 10 and UNCONFIGURED in out


def test_run_suite_calls_a_run_that_verified_nothing_a_failure(capfd) -> None:
    assert run_suite("deployed", VerifySettings()) == EXIT_FAILED
    assert "nothing was verified" in capfd.readouterr().err


def test_an_unknown_suite_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown verification suite 'cloud'; one of deployed"):
        suite_path("cloud")
