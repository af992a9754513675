"""Run one packaged verification suite (`infra/verify/suites/<name>`) and map its outcome.

The suites ship inside the package, so this works from a source checkout and from an installed
`mlplatform` alike: pytest runs them from a scratch directory, with the settings in the
environment (`VerifySettings.env()`) and the results read back from its JUnit XML.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from infra.verify.discovery import VerifySettings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SUITES = Path(__file__).resolve().parent / "suites"
NAMES = ("deployed", "local")


def suite_path(name: str) -> Path:
    """The directory of a packaged suite; ValueError for an unknown name."""
    if name not in NAMES:
        raise ValueError(f"unknown verification suite {name!r}; one of {', '.join(NAMES)}")
    return SUITES / name


def run_suite(name: str, settings: VerifySettings, junit_xml: Path | None = None) -> int:
    """Run a packaged suite under pytest (output streams through); return the exit code.

    pytest's own exit codes map to ours: 0 → 0, 1 (failures) → 1, anything else (interrupted,
    internal or usage error, nothing collected) → 2. A run in which every check was skipped
    verified nothing: that is 1, never a silent 0.
    """
    suite = suite_path(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLP_VERIFY_")}
    env.update(settings.env())
    with tempfile.TemporaryDirectory() as scratch:
        junit = junit_xml or Path(scratch) / "junit.xml"
        argv = [sys.executable, "-m", "pytest", str(suite), "-m", "verify", "-v"]
        argv += ["-rfEs", "--tb=line", "-p", "no:cacheprovider", f"--junit-xml={junit}"]
        code = subprocess.run(argv, cwd=scratch, env=env, check=False).returncode
        if code not in (0, 1) or not junit.exists():
            return EXIT_USAGE
        totals = ElementTree.parse(junit).getroot().find("testsuite")
    counts = {
        k: int(totals.get(k, 0)) if totals is not None else 0
        for k in ("tests", "failures", "errors", "skipped")
    }
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    if code == 0 and passed == 0:
        sys.stderr.write(
            "error: nothing was verified (every check was skipped; the reasons are above)\n"
        )
        return EXIT_FAILED
    return EXIT_OK if code == 0 else EXIT_FAILED
