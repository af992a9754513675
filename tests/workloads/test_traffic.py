"""The demo's traffic sample: representative of the file's whole period, not its first hours."""

from __future__ import annotations

import json
from pathlib import Path

from workloads.demo.traffic import load_events


def write(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"seq": i}) + "\n" for i in range(count)))
    return path


def test_the_sample_is_evenly_spaced_over_the_whole_file(tmp_path: Path) -> None:
    events = load_events(write(tmp_path / "day.jsonl", 1000), 4)
    assert [e["seq"] for e in events] == [0, 250, 500, 750]


def test_last_takes_the_end_of_the_file(tmp_path: Path) -> None:
    events = load_events(write(tmp_path / "day.jsonl", 10), 3, last=True)
    assert [e["seq"] for e in events] == [7, 8, 9]


def test_asking_for_more_than_the_file_has_returns_all_of_it(tmp_path: Path) -> None:
    assert len(load_events(write(tmp_path / "day.jsonl", 5), 50)) == 5
