"""The hashed locks (locks/, scripts/locks.py): current with their sources, every entry hashed,
installed by `make setup` with --require-hashes; a stale lock is refused naming the package."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def locks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("locks_script", ROOT / "scripts/locks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def repo(tmp_path: Path, locks: ModuleType) -> Path:
    """A copy of every lock and its source, to break on purpose."""
    for lock in locks.LOCKS:
        for relative in (lock.source, lock.path):
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


def test_every_shipped_lock_is_current(locks: ModuleType) -> None:
    for lock in locks.LOCKS:
        assert locks.problems(lock, ROOT) == [], lock.path


def test_the_workloads_lock_holds_the_local_torch_cpu_wheel(locks: ModuleType) -> None:
    entries = locks.locked((ROOT / "locks/workloads.txt").read_text())
    version, hashes = entries["torch"]
    assert version == "2.13.0+cpu" and hashes >= 1
    assert not any(name.startswith("nvidia-") for name in entries), "a CUDA build was resolved"


def test_a_changed_pin_makes_the_lock_out_of_date(repo: Path, locks: ModuleType) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"rich==15.0.0"', '"rich==14.0.0"'))
    iac = next(lock for lock in locks.LOCKS if lock.name == "iac")
    found = locks.problems(iac, repo)
    assert "locks/iac.txt was compiled from another version of pyproject.toml" in found
    assert "pyproject.toml pins rich==14.0.0; locks/iac.txt has 15.0.0" in found


def test_a_new_requirement_missing_from_the_lock_is_named(repo: Path, locks: ModuleType) -> None:
    source = repo / "policies/checkov/requirements.txt"
    source.write_text(source.read_text() + "pulumi==3.272.0\n")
    checkov = next(lock for lock in locks.LOCKS if lock.name == "checkov")
    assert "policies/checkov/requirements.txt pins pulumi==3.272.0; locks/checkov.txt lacks it" in (
        locks.problems(checkov, repo)
    )


def test_an_entry_without_a_hash_is_refused(repo: Path, locks: ModuleType) -> None:
    lock_file = repo / "locks/workloads.txt"
    text = lock_file.read_text()
    unhashed = re.sub(r"(?m)^(kserve==[^ ]+) \\\n(    --hash=\S+( \\)?\n)+", r"\1\n", text)
    lock_file.write_text(unhashed)
    workloads = next(lock for lock in locks.LOCKS if lock.name == "workloads")
    assert locks.problems(workloads, repo) == ["locks/workloads.txt: kserve has no --hash"]


def test_comments_in_a_source_do_not_stale_its_lock(repo: Path, locks: ModuleType) -> None:
    source = repo / "workloads/requirements.txt"
    source.write_text("# a new comment\n" + source.read_text().replace("\n", "  \n", 3))
    workloads = next(lock for lock in locks.LOCKS if lock.name == "workloads")
    assert locks.problems(workloads, repo) == []


def test_local_version_labels_satisfy_a_plain_pin(locks: ModuleType) -> None:
    assert locks.same_version("2.13.0", "2.13.0+cpu")
    assert not locks.same_version("2.13.0", "2.14.0+cpu")
    assert not locks.same_version("2.13.0+cu126", "2.13.0+cpu")


def test_check_exits_1_and_says_how_to_fix(repo: Path) -> None:
    (repo / "locks/checkov.txt").unlink()
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts/locks.py"), "check", "--root", str(repo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "locks/checkov.txt is missing" in run.stderr
    assert "run `make lock`" in run.stderr


def test_make_setup_installs_every_lock_with_hashes_required(locks: ModuleType) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for lock in locks.LOCKS:
        if lock.installed_by != "Makefile":
            continue  # an image's lock: its Dockerfile installs it
        assert re.search(
            rf"^\t\S+/bin/pip install -q --require-hashes -r {re.escape(lock.path)}$",
            makefile,
            re.MULTILINE,
        ), lock.path
    assert "pip install -q --no-deps --no-build-isolation -e ." in makefile
    assert not re.search(r"pip install[^\n]*-r (workloads|policies)/", makefile)
