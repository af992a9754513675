"""`mlplatform local` as a user meets it: help, exit codes, machine output, no services needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", ["up", "status", "down", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, ["local", command, "--help"])
    assert result.exit_code == 0
    assert "--state-dir" in result.output


def test_status_of_a_platform_never_started_is_all_stopped_and_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["local", "status", "--state-dir", str(tmp_path), "--json"])
    assert result.exit_code == 1
    services = json.loads(result.stdout)["services"]
    assert [s["name"] for s in services] == [
        *("broker", "mlflow", "feature-server", "model-server", "model-metrics", "prometheus"),
        *("stream-processor", "retraining-controller"),
    ]
    assert {s["state"] for s in services} == {"stopped"}
    assert all(s["url"].split("//")[1].startswith("127.0.0.1:") for s in services)


def test_down_with_nothing_running_is_fine(tmp_path: Path) -> None:
    result = runner.invoke(app, ["local", "down", "--state-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"stopped": {}}


@pytest.mark.parametrize(
    "args",
    [
        ["up", "--broker-port", "80"],
        ["up", "--mlflow-port", "70000"],
        ["up", "--broker-port", "20000", "--mlflow-port", "20000"],
        ["up", "--stream-metrics-port", "20000", "--retraining-metrics-port", "20000"],
        ["demo", "--retraining-metrics-port", "99999"],
        ["demo", "--events", "10"],
        ["up", "--workloads-python", "/nonexistent/python"],
        ["launch"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["local", *args, "--state-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
