"""Figures, the printed table and the results.json document (not timed)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.report import figure, results_document, table, write_results


def test_a_figure_carries_each_baseline_with_its_ratio_and_judges_its_target() -> None:
    fig = figure("serving", "V1 p50", 1.2, "ms", {"in-process": 0.8, "bare": 0.06}, ("<=", 1.5))
    assert [(b.name, b.ratio) for b in fig.baselines] == [("in-process", 1.5), ("bare", 20.0)]
    assert fig.met is True
    assert figure("x", "rps", 700, "requests/s", target=(">=", 800)).met is False
    assert figure("x", "slope", 0.05, "s/tenant").met is None  # no target, no verdict


def test_table_shows_measured_baseline_ratio_and_verdict() -> None:
    text = table(
        [
            figure("freshness", "events/s", 5774, "events/s", {"raw loop": 17656}, (">=", 5000)),
            figure("serving", "p99", 5.9, "ms", {"in-process": 0.5}, ("<=", 4.0)),
        ]
    )
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["benchmark", "figure", "measured"]
    assert "raw loop: 17,656 events/s" in text and "0.33x" in text
    assert lines[2].rstrip().endswith("yes")
    assert lines[3].rstrip().endswith("NO")


def test_results_json_has_the_machine_figures_and_errors(tmp_path: Path) -> None:
    machine = {"cpu_model": "test CPU", "logical_cpus": 2, "iac_env": {"python": "3.11"}}
    fig = figure("training", "overhead", 12.5, "%", target=("<=", 10.0))
    document = results_document(
        "quick", machine, [fig], {"training": {"epochs": 3}}, {}, {"wall_seconds": 1.0}
    )
    path = write_results(tmp_path / "bench" / "results.json", document)
    loaded = json.loads(path.read_text())
    assert loaded["schema_version"] == 1
    assert loaded["mode"] == "quick"
    assert loaded["machine"]["cpu_model"] == "test CPU"
    assert loaded["figures"][0] == {
        "benchmark": "training",
        "name": "overhead",
        "value": 12.5,
        "unit": "%",
        "baselines": [],
        "target": {"op": "<=", "value": 10.0},
        "note": "",
        "met": False,
    }
    assert loaded["errors"] == {}
