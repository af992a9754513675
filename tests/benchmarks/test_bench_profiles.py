"""`python -m benchmarks --profile`: py-spy's collapsed stacks, per process, into tables."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import profiles

WORKER = 'process 10:"python -m benchmarks.stream_worker throughput --mode processor"'
PARENT = 'process 9:"python -c import a; a.main()"'  # a command line with ';' in it
COLLAPSED = "\n".join(
    [
        f"{WORKER};<module> (w.py:1);run (c.py:5);push (c.py:9);write (sqlite.py:3) 6",
        f"{WORKER};<module> (w.py:1);run (c.py:5);accept (c.py:7) 3",
        f"{WORKER};<module> (w.py:1);<module> (feast/__init__.py:2) 9",
        f"{WORKER} 1",
        f'{PARENT};process 11:"python -m benchmarks.synth_worker";walk (p.py:1);walk (p.py:2) 4',
        f'{PARENT};process 12:"python -c import sys\nprint(sys.version)\n";<module> (<string>:2) 2',
    ]
)


def _processes(tmp_path: Path) -> list[profiles.Process]:
    path = tmp_path / "profile.txt"
    path.write_text(COLLAPSED)
    with open(path) as handle:
        return profiles.read(handle)


def test_samples_are_grouped_by_process_and_lines_of_a_function_are_one(tmp_path):
    worker, synth, several_lines = _processes(tmp_path)
    assert (worker.pid, synth.pid) == (10, 11)
    assert several_lines.command == "python -c import sys print(sys.version)"
    assert dict(several_lines.stacks) == {("<module> (<string>)",): 2}
    assert worker.command.endswith("--mode processor")
    assert worker.samples == 19 and synth.samples == 4
    assert ("walk (p.py)",) * 2 in synth.stacks  # line numbers dropped
    assert synth.command == "python -m benchmarks.synth_worker"  # its own, not its parent's
    assert (profiles.NO_FRAME,) in worker.stacks  # a sample in native code is kept, not dropped


def test_shares_under_a_frame_leave_the_start_up_out(tmp_path):
    worker, synth, _ = _processes(tmp_path)
    whole = profiles.summarise(worker)
    assert whole.samples == 19
    assert whole.inclusive[0] == profiles.Share("<module> (w.py)", 18, 18 / 19)
    loop = profiles.summarise(worker, under="run")
    assert loop.samples == 9
    inclusive = {s.function: s.share for s in loop.inclusive}
    own = {s.function: s.share for s in loop.own}
    assert inclusive["run (c.py)"] == 1.0
    assert own == {"write (sqlite.py)": 6 / 9, "accept (c.py)": 3 / 9}
    assert "<module> (feast/__init__.py)" not in inclusive
    recursive = profiles.summarise(synth)
    assert recursive.inclusive == [profiles.Share("walk (p.py)", 4, 1.0)]  # counted once a sample


def test_the_report_has_a_table_per_process_and_filters_by_command(tmp_path):
    path = tmp_path / "profile.txt"
    path.write_text(COLLAPSED)
    text = profiles.report(path, "--mode processor", "run", top=5, least=0.0)
    assert text.count("## pid") == 1 and "9 samples (about 0.1 s, under `run`)" in text
    assert "| 66.7 % | 66.7 % | `write (sqlite.py)` |" in text
    with pytest.raises(SystemExit, match="no process matches"):
        profiles.report(path, "--mode raw", None, top=5, least=0.0)


def test_a_line_that_is_not_a_collapsed_stack_is_named(tmp_path):
    path = tmp_path / "profile.txt"
    path.write_text("run (c.py:5) 3\n\nrun (c.py:5) three\n")  # an empty line is no sample
    with pytest.raises(ValueError, match="line 3: expected"):
        profiles.report(path, None, None, top=5, least=0.0)


def test_record_samples_a_program_and_the_python_processes_it_starts(tmp_path):
    """py-spy for real (locks/iac.txt): the child's busy function shows under its own pid."""
    child = tmp_path / "child.py"
    child.write_text(
        textwrap.dedent(
            """
            import time

            def spin_in_child():
                end = time.time() + 1.5
                while time.time() < end:
                    pass

            spin_in_child()
            """
        )
    )
    program = (
        f"import subprocess, sys; subprocess.run([sys.executable, {str(child)!r}], check=True)"
    )
    status = profiles.record([sys.executable, "-c", program], tmp_path / "out", {"PROBE": "1"})
    assert status == 0
    with open(tmp_path / "out" / "profile.txt") as handle:
        processes = profiles.read(handle)
    spinning = next(p for p in processes if p.command.endswith("child.py"))  # a child, sampled
    spin = profiles.summarise(spinning, under="spin_in_child")
    assert spin.samples >= 50  # 1.5 s at 100 samples/s, with room for a slow start
    assert spin.inclusive[0].function.startswith("spin_in_child (")
    assert "spin_in_child (" in (tmp_path / "out" / "profile.md").read_text()


@pytest.mark.parametrize("flag", ["--profile", "--prof"])  # argparse takes a unique prefix
def test_the_profiled_run_is_the_same_command_without_the_flag(tmp_path, monkeypatch, flag):
    from benchmarks import __main__ as bench

    recorded: list[list[str]] = []
    monkeypatch.setattr(profiles, "record", lambda command, out, env: recorded.append(command) or 0)
    assert bench.main(["--only", "plan", flag, "--out", str(tmp_path)]) == 0
    (command,) = recorded
    assert command[1:] == ["-m", "benchmarks", "--only", "plan", "--out", str(tmp_path)]
