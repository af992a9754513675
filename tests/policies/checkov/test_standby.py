"""checkov started ahead of its scan (infra.evidence.checkov.standby, the launcher's --stand-by):
a prepared process reports exactly what a new one does, with the scan's own registries; it is
used only where its environment is the scan's; unused, it ends."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.evidence import checkov
from infra.evidence.checkov import runner, standby
from tests.policies.checkov.conftest import FIXTURES, MIRROR

ELSEWHERE = "registry.elsewhere.ae/ml"


@pytest.fixture(autouse=True)
def no_prepared() -> Iterator[None]:
    standby.discard()
    yield
    standby.discard()


def _scan(manifests: Path, out: Path, registry: str) -> list[tuple[str, str, str]]:
    checkov.clear_cache()
    result = checkov.scan(
        manifests,
        [],
        out,
        allowed_registries=[registry],
        config={"registry": {"immutableTags": True}},
    )
    return sorted((r.check_id, r.resource, r.status) for r in result.records)


def test_a_prepared_process_reports_what_a_new_one_does(checkov_bin: Path, tmp_path: Path) -> None:
    manifests = tmp_path / "plan" / "manifests"
    shutil.copytree(FIXTURES / "k8s", manifests)
    found = {}
    for registry in (MIRROR, ELSEWHERE):
        fresh = _scan(manifests, tmp_path / "plan", registry)
        runner.prepare()
        [prepared] = standby._prepared
        ahead = _scan(manifests, tmp_path / "plan", registry)
        assert standby._prepared == [] and prepared.process.returncode in (0, 1)  # it ran the scan
        assert ahead == fresh
        found[registry] = ahead
    # the scan's registries reached the prepared process: the registry check tells them apart
    assert found[MIRROR] != found[ELSEWHERE]


def test_another_environment_gets_a_new_process(
    checkov_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.prepare()
    runner.prepare()  # one is waiting already
    [prepared] = standby._prepared
    monkeypatch.setenv("CHECKOV_STANDBY_TEST", "changed after it started")
    manifests = tmp_path / "plan" / "manifests"
    shutil.copytree(FIXTURES / "k8s", manifests)
    _scan(manifests, tmp_path / "plan", MIRROR)
    assert standby._prepared == [prepared] and prepared.process.poll() is None  # not used
    runner.prepare()  # for the environment as it is now: the one that no longer fits ends
    [now] = standby._prepared
    assert now is not prepared and prepared.process.returncode is not None
    standby.discard()
    assert now.process.returncode is not None


def test_an_unused_prepared_process_ends_when_its_input_closes(checkov_bin: Path) -> None:
    runner.prepare()
    [prepared] = standby._prepared
    assert prepared.process.stdin is not None
    prepared.process.stdin.close()
    assert prepared.process.wait(timeout=60) == 0


def test_a_prepared_process_that_ended_is_replaced(tmp_path: Path) -> None:
    program = [sys.executable, "-c", "import sys; print(sys.argv[1:])"]
    standby.prepare(program, {}, tmp_path)
    [prepared] = standby._prepared
    prepared.process.wait(timeout=30)  # it printed ['--stand-by'] and ended without a scan
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    process = standby.launch(program, ["scan"], {}, {"X": "1"}, tmp_path, out, err)
    assert process.wait(timeout=30) == 0
    assert process.pid != prepared.process.pid and standby._prepared == []
    assert out.read_text().strip() == "['scan']"


def test_the_launcher_runs_the_scan_it_is_given(checkov_bin: Path, tmp_path: Path) -> None:
    """The stand-by protocol end to end: arguments, environment, directory and log files."""
    python = checkov_bin.parent / "python"
    job = (
        '{"argv": ["--version"], "env": {"PATH": "/usr/bin:/bin"}, '
        f'"cwd": "{tmp_path}", "stdout": "{tmp_path / "o"}", "stderr": "{tmp_path / "e"}"}}\n'
    )
    done = subprocess.run(
        [str(python), str(checkov.LAUNCHER), "--stand-by"],
        input=job.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (tmp_path / "e").read_text()
    assert done.stdout == b""
    assert (tmp_path / "o").read_text().strip().startswith("3.")  # checkov's version


def test_a_prepared_process_that_ends_before_its_scan_leaves_its_log_files(tmp_path: Path) -> None:
    """Its end is the scan's failure, reported from the (empty) logs like any other."""
    program = [sys.executable, "-c", "import time, sys; time.sleep(1); sys.exit(3)"]
    standby.prepare(program, {}, tmp_path)
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    process = standby.launch(program, ["scan"], {}, {}, tmp_path, out, err)
    assert process.wait(timeout=30) == 3
    assert out.read_bytes() == b"" and err.read_bytes() == b""
