"""`promtool test rules` over the platform's alert rules: every alert fires when it should and
stays silent when it should not (promtool/alerts.test.yaml).

promtool comes with Debian's `prometheus` package (`make observability-tools` installs it as
root); without it these tests skip and say so. CI installs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability.rules import AlertThresholds, alerts, rule_groups

HERE = Path(__file__).parent
TESTS = HERE / "promtool" / "alerts.test.yaml"
RUNBOOKS = Path(__file__).resolve().parents[3] / "docs" / "runbooks.md"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not installed (Debian package `prometheus`: `make observability-tools`)",
)


def _promtool(tmp_path: Path, thresholds: AlertThresholds, *command: str) -> str:
    rules = {"groups": rule_groups(thresholds, "docs/runbooks.md")}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    shutil.copy(TESTS, tmp_path / TESTS.name)
    done = subprocess.run(
        [str(PROMTOOL), *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return ("PASS\n" if done.returncode == 0 else "FAIL\n") + done.stdout + done.stderr


@needs_promtool
def test_rules_are_valid_prometheus_rules(tmp_path: Path) -> None:
    out = _promtool(tmp_path, AlertThresholds(), "check", "rules", "rules.yaml")
    assert out.startswith("PASS"), out


@needs_promtool
def test_every_alert_fires_and_stays_silent_as_tested(tmp_path: Path) -> None:
    out = _promtool(tmp_path, AlertThresholds(), "test", "rules", TESTS.name)
    assert out.startswith("PASS"), out


@needs_promtool
def test_a_changed_threshold_fails_its_promtool_case(tmp_path: Path) -> None:
    # at a 50 % error threshold the 10 % 5xx share of the test no longer fires
    out = _promtool(tmp_path, AlertThresholds(error_ratio=0.5), "test", "rules", TESTS.name)
    assert out.startswith("FAIL"), out
    assert "alertname: PredictorErrorRateHigh" in out
    assert "alertname: ModelDriftDetected" not in out


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    cases = [c for t in yaml.safe_load(TESTS.read_text())["tests"] for c in t["alert_rule_test"]]
    for alert in alerts(AlertThresholds()):
        mine = [c for c in cases if c["alertname"] == alert.name]
        assert any(c["exp_alerts"] for c in mine), f"{alert.name}: no case where it fires"
        assert any(not c["exp_alerts"] for c in mine), f"{alert.name}: no case where it is silent"


def test_every_alert_has_a_runbook_section() -> None:
    headings = {
        line.lstrip("#").strip().lower().replace(" ", "-")
        for line in RUNBOOKS.read_text().splitlines()
        if line.startswith("## ")
    }
    for alert in alerts(AlertThresholds()):
        rule = alert.rule("docs/runbooks.md")
        assert rule["annotations"]["runbook_url"].endswith(f"#{alert.anchor()}")
        assert alert.anchor() in headings, f"docs/runbooks.md has no section for {alert.name}"
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["labels"]["team"] in ("platform", "tenant")
