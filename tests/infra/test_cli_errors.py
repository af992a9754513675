"""Bad input to `mlplatform` never prints a traceback: exit 2 with one line naming what is wrong.

A table of bad invocations, each breaking one thing on purpose. User text that looks like rich
markup (`[/path]`, `[bold]`) is shown verbatim, never interpreted. Anything unexpected becomes a
message and a pointer to `--debug`; `--debug` shows the traceback instead. Nothing is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra import plan as planning
from infra.cli import EXIT_USAGE, app

MLPLATFORM = Path(sys.executable).parent / "mlplatform"
TOO_LONG_ENVIRONMENT = "environment=" + "a" * 63
MIRROR = ("--set", "registry.mirror=harbor.dc1.example.ae/x")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "file": tmp_path / "a-file",
        "not-json": tmp_path / "broken" / "resources.json",
        "empty-plan": tmp_path / "plan" / "resources.json",
        "list-config": tmp_path / "policy-config.json",
    }
    paths["empty-plan"].parent.mkdir()
    paths["not-json"].parent.mkdir()
    paths["file"].write_text("not a directory\n")
    paths["not-json"].write_text("{not json")
    paths["empty-plan"].write_text("[]")
    paths["list-config"].write_text("[1, 2]")
    return paths


# (argv with {placeholders} for `files`, words the one error line must contain)
CASES: list[tuple[list[str], tuple[str, ...]]] = [
    (
        ["plan", "--stack", "nope"],
        ("'nope'", "known stacks: uae-cloud, uae-cloud-azure, uae-onprem"),
    ),
    (["plan", "--stack", "[bold red]x[/]"], ("'[bold red]x[/]'", "known stacks")),
    (["plan"], ("give --stack NAME (or --all)",)),
    (["plan", "--all", "--stack", "uae-cloud"], ("--all", "drop --stack/--set")),
    (["plan", "--stack", "uae-cloud", "--set", "novalue"], ("'novalue'", "KEY=VALUE")),
    (
        ["plan", "--stack", "uae-cloud", "--set", "registry.mirror=harbor.dc1.example.ae/x"],
        ("registry.mirror", "'harbor.dc1.example.ae/x'", "[/path]"),
    ),
    (["plan", "--stack", "uae-cloud", "--set", "kafka.brokers=[1"], ("YAML",)),
    (["plan", "--stack", "uae-cloud", "--set", "cloud=gcp"], ("cloud", "'gcp'")),
    (["plan", "--stack", "uae-onprem", "--out", "{file}"], ("--out", "is a file")),
    (["plan", "--stack", "uae-onprem", "--out", "{file}/sub"], ("--out", "is not a directory")),
    (["check"], ("give either --stack NAME [--set K=V] or --resources PATH",)),
    (["check", "--resources", "/nonexistent/[/x].json"], ("--resources", "[/x]", "No such file")),
    (["check", "--resources", "{not-json}"], ("--resources", "not a plan's resources.json")),
    (
        ["check", "--resources", "{empty-plan}", "--policy-config", "{list-config}"],
        ("--policy-config", "not a pack config", "expected a JSON object"),
    ),
    (
        ["check", "--stack", "uae-onprem", "--policy-config", "/nonexistent.json"],
        ("--policy-config /nonexistent.json", "No such file"),
    ),
    (["outputs"], ("give --schema or --stack NAME",)),
    (["outputs", "--stack", "[/x]"], ("'[/x]'", "known stacks")),
    (["verify", "--stack", "uae-onprem", "--outputs", "/nonexistent/[/x].json"], ("[/x]",)),
    (["local", "status", "--state-dir", "{file}"], ("--state-dir", "is a file")),
    (["local", "up", "--broker-port", "80"], ("--broker-port", "1024")),
    (["local", "up", "--workloads-python", "/nonexistent/[/py]"], ("--workloads-python", "[/py]")),
    (["launch"], ("No such command", "launch")),
]


def _invoke(argv: list[str]):
    return CliRunner().invoke(app, argv, env={"COLUMNS": "400"})


def _one_line_naming(output: str, words: tuple[str, ...]) -> str:
    lines = [line for line in output.splitlines() if words[0] in line]
    assert lines, f"no line names {words[0]!r}:\n{output}"
    for word in words[1:]:
        assert word in lines[0], f"{word!r} is not on the error line {lines[0]!r}"
    return lines[0]


@pytest.mark.parametrize(("argv", "words"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_invocation_exits_2_with_one_line_naming_the_problem(argv, words, files, tmp_path):
    argv = [arg.format(**files) for arg in argv]
    before = sorted(tmp_path.rglob("*"))
    result = _invoke(argv)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    _one_line_naming(result.output, words)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


@pytest.fixture
def a_bug(monkeypatch: pytest.MonkeyPatch) -> str:
    """Synthesis fails the way a defect in the program would (no config or input error)."""
    text = "the program broke [/x]"

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(text)

    monkeypatch.setattr(planning, "synthesize_stack", broken)
    return text


def test_an_unexpected_error_is_a_message_and_a_pointer_to_debug(a_bug: str) -> None:
    result = _invoke(["plan", "--stack", "uae-cloud"])
    assert result.exit_code == EXIT_USAGE and "Traceback" not in result.output
    line = _one_line_naming(result.output, ("error:", "unexpected RuntimeError", a_bug))
    assert line.startswith("error:")
    assert "run again with `mlplatform --debug …` (or MLPLATFORM_DEBUG=1)" in result.output


def test_debug_shows_the_traceback_instead(a_bug: str) -> None:
    result = _invoke(["--debug", "plan", "--stack", "uae-cloud"])
    assert result.exit_code == EXIT_USAGE
    assert "Traceback (most recent call last)" in result.output
    assert f"RuntimeError: {a_bug}" in result.output


def test_a_config_error_names_the_key_without_a_pointer_to_debug() -> None:
    """A 63-character environment overflows AWS names: the user's input, not a bug."""
    result = _invoke(["plan", "--stack", "uae-cloud", "--set", TOO_LONG_ENVIRONMENT])
    assert result.exit_code == EXIT_USAGE and "Traceback" not in result.output
    _one_line_naming(result.output, ("error:", "mlplatform:environment", "use a shorter"))
    assert "--debug" not in result.output


def test_the_installed_command_prints_markup_looking_values_verbatim(tmp_path: Path) -> None:
    """The issue's case, through the console script: it died with a MarkupError."""
    done = subprocess.run(
        [str(MLPLATFORM), "plan", "--stack", "uae-cloud", "--out", str(tmp_path / "out"), *MIRROR],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Traceback" not in done.stderr and "MarkupError" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "registry.mirror" in line and "[/path]" in line
    assert not (tmp_path / "out").exists()
