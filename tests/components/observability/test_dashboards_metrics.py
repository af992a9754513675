"""Dashboards and rules read only metrics that exist; the platform's own exporters really serve
the names the catalogue lists; every dashboard query is valid PromQL (promtool)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability.dashboards import DASHBOARDS, Dashboard, Panel
from components.observability.metrics import EXPORTERS, exported_metrics
from components.observability.promql import metric_names, unknown_metrics
from components.observability.rules import RECORDING_RULES, AlertThresholds, alerts

REPO = Path(__file__).resolve().parents[3]
RECORDED = frozenset(r["record"] for r in RECORDING_RULES)
KNOWN = exported_metrics() | RECORDED


def _all_queries() -> list[str]:
    return [q for d in DASHBOARDS for q in d.queries()] + [
        *(a.expr for a in alerts(AlertThresholds())),
        *(r["expr"] for r in RECORDING_RULES),
    ]


def test_every_metric_in_dashboards_and_rules_is_served_by_an_exporter() -> None:
    assert unknown_metrics(_all_queries(), KNOWN) == {}


def test_a_misspelt_metric_in_a_panel_is_found() -> None:
    typo = Dashboard("x", "x", (Panel("lag", ("sum(card_risk_stream_consumer_lagg)",)),))
    assert unknown_metrics(typo.queries(), KNOWN) == {
        "sum(card_risk_stream_consumer_lagg)": {"card_risk_stream_consumer_lagg"}
    }


def test_metric_names_skips_functions_labels_and_keywords() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (namespace, le) (rate(x_bucket{code=~"5.."}[5m]))) '
        "> on (namespace) group_left (owner) y offset 5m and time() - z_total"
    )
    assert metric_names(expr) == {"x_bucket", "y", "z_total"}


def _source_names() -> set[str]:
    text = "\n".join(p.read_text() for p in (REPO / "workloads").rglob("*.py"))
    return set(re.findall(r'"([a-z_:][a-z0-9_:]*)"', text))


def test_the_platform_s_own_exporters_serve_the_listed_names() -> None:
    names = _source_names()
    for exporter in (e for e in EXPORTERS if e.own):
        for metric in exporter.metrics:
            family = re.sub(r"_(total|bucket|sum|count)$", "", metric)
            assert metric in names or family in names, f"{exporter.source} serves no {metric}"


def test_dashboards_are_grafana_json_with_unique_uids() -> None:
    uids = [d.uid for d in DASHBOARDS]
    assert len(set(uids)) == len(uids) == 4
    for dashboard in DASHBOARDS:
        model = json.loads(dashboard.json())
        assert model["uid"] == dashboard.uid and model["panels"]
        for panel in model["panels"]:
            assert panel["datasource"]["uid"] == "${datasource}"
            assert all(t["expr"] for t in panel["targets"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    queries = [q.replace("$namespace", "tenant-x").replace("$tenant", "x") for q in _all_queries()]
    rules = [{"record": f"dashboard:query_{i}", "expr": q} for i, q in enumerate(queries)]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
