"""The state directory: owner-only, and the ports a platform was started with are reused."""

from __future__ import annotations

import os
from pathlib import Path

from infra.local.state import Ports, StateDir


def test_state_dir_is_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        state = StateDir(tmp_path / "state").create()
        (state.logs / "x.log").write_text("written under the restricted umask")
        assert os.umask(0o022) == 0o077  # create() restricted this process and its children
    finally:
        os.umask(old)
    for path in (state.root, state.run, state.logs, state.path("feast"), state.logs / "x.log"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_ports_are_saved_and_merged(tmp_path: Path) -> None:
    state = StateDir(tmp_path).create()
    assert state.saved_ports() is None
    state.save_ports(Ports(broker=20001))
    assert state.saved_ports() == Ports(broker=20001)
    assert (tmp_path / "state.json").stat().st_mode & 0o077 == 0
    assert Ports(broker=20001).merged(mlflow=20002, broker=None) == Ports(
        broker=20001, mlflow=20002
    )


def test_training_options_live_beside_the_ports(tmp_path: Path) -> None:
    state = StateDir(tmp_path).create()
    assert state.retraining_options() == ("--epochs", "8", "--seed", "7")  # the demo's defaults
    state.save_ports(Ports(broker=20001))
    state.save_training(epochs=3, seed=11)
    state.save_ports(Ports(broker=20002))  # saving one keeps the other
    assert state.saved_ports() == Ports(broker=20002)
    assert state.retraining_options() == ("--epochs", "3", "--seed", "11")
