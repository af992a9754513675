"""policies/checkov/launcher.py: checkov with its Kubernetes YAML on libyaml reads and reports
exactly what checkov alone does (the real checkov, in its own environment)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from infra.evidence import checkov
from infra.evidence.checkov import runner
from infra.plan import write_plan
from tests.policies.checkov.conftest import FIXTURES

# YAML that tends to differ between parsers: anchors and merge keys, block scalars, flow
# collections, empty and comment-only documents, quoting, unicode; and YAML both refuse.
TRICKY = textwrap.dedent(
    """\
    # a leading comment
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: &meta
      name: "a: b"
      labels: {app: x, "k/v": 'y'}
    data:
      script: |
        #!/bin/sh
        echo "héllo — مرحبا"
      folded: >-
        one
        two
      empty:
      list: [1, 2.5, true, null, ~, 0o17, 0x1F]
    ---
    # only a comment
      copy:
        <<: *meta
        name: merged
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: s}
    stringData: {}
    ...
    """
)
BROKEN = "apiVersion: v1\nkind: Secret\nmetadata:\n  <<: *elsewhere\n"  # an undefined alias

COMPARE = textwrap.dedent(
    """\
    import importlib.util, json, sys
    import yaml
    spec = importlib.util.spec_from_file_location("launcher", sys.argv[1])
    launcher = importlib.util.module_from_spec(spec); spec.loader.exec_module(launcher)
    from checkov.kubernetes.parser import k8_yaml
    original = k8_yaml.loads
    launcher.install()
    assert k8_yaml.loads is launcher.loads, "not installed"
    class Refusing(yaml.CSafeLoader):
        def __init__(self, stream):
            raise yaml.YAMLError("libyaml refused")
    same = differ = 0
    def read(loads, content):
        try:
            return loads(content)
        except yaml.YAMLError as error:
            return ("refused", type(error).__name__)
    for path in sys.argv[2:]:
        content = open(path, encoding="utf-8").read()
        expected = read(original, content)
        fast = read(launcher.loads, content)
        launcher.CSafeLineLoader, saved = Refusing, launcher.CSafeLineLoader
        fallback = read(launcher.loads, content)
        launcher.CSafeLineLoader = saved
        if fast == expected and fallback == expected:
            same += 1
        else:
            differ += 1
            print("DIFFERS", path, file=sys.stderr)
    print(json.dumps({"same": same, "differ": differ}))
    """
)


def _checkov_python() -> Path:
    python = checkov.CHECKOV_BIN.parent / "python"
    if not python.exists():
        pytest.skip(f"checkov environment absent ({python}); `make .venv-checkov/.installed`")
    return python


def test_plans_run_the_projects_checkov_through_the_launcher(tmp_path: Path) -> None:
    _checkov_python()
    program = runner._program(checkov.CHECKOV_BIN)
    assert program == [str(checkov.CHECKOV_BIN.parent / "python"), str(checkov.LAUNCHER)]
    other = tmp_path / "checkov"  # MLPLATFORM_CHECKOV: a checkov of the user's, run as it is
    assert runner._program(other) == [str(other)]


def test_the_launcher_reads_every_manifest_as_checkov_does(stack_plan, tmp_path: Path) -> None:
    """Every manifest of the on-prem plan, the checkov fixtures and tricky YAML: the same
    objects and line numbers with libyaml, and again through the fallback to checkov's loader."""
    python = _checkov_python()
    out = tmp_path / "plan"
    write_plan(stack_plan("uae-onprem"), out)
    (tmp_path / "tricky.yaml").write_text(TRICKY, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    files = [
        *sorted((out / "uae-onprem" / "manifests").rglob("*.yaml")),
        *sorted((FIXTURES / "k8s").rglob("*.yaml")),
        tmp_path / "tricky.yaml",
        tmp_path / "broken.yaml",
    ]
    assert len(files) > 150
    done = subprocess.run(
        [str(python), "-c", COMPARE, str(checkov.LAUNCHER), *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"same": len(files), "differ": 0}


def _results(report_file: Path) -> list[tuple[str, ...]]:
    data = json.loads(report_file.read_text())
    reports = data if isinstance(data, list) else [data]
    rows = []
    for report in reports:
        for bucket in ("passed_checks", "failed_checks", "skipped_checks"):
            for item in report["results"].get(bucket, []):
                outcome = dict(item.get("check_result") or {})
                outcome["evaluated_keys"] = sorted(outcome.get("evaluated_keys") or [])
                rows.append(
                    (
                        bucket,
                        item["check_id"],
                        item["file_path"],
                        item["resource"],
                        json.dumps(item.get("file_line_range")),
                        json.dumps(outcome, sort_keys=True),
                    )
                )
    return sorted(rows)


def test_a_scan_through_the_launcher_reports_what_checkov_alone_reports(tmp_path: Path) -> None:
    python = _checkov_python()
    manifests = FIXTURES / "k8s"
    common = ["--framework", "kubernetes", "-d", str(manifests), "--skip-download", "--compact"]
    common += ["--external-checks-dir", str(checkov.CUSTOM_CHECKS), "-o", "json"]
    results = {}
    for name, program in (
        ("alone", [str(checkov.CHECKOV_BIN)]),
        ("launcher", [str(python), str(checkov.LAUNCHER)]),
    ):
        out = tmp_path / name
        command = [*program, *common, "--output-file-path", str(out)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        results[name] = _results(out / "results_json.json")
    assert results["alone"], "checkov reported nothing: the comparison would prove nothing"
    assert results["launcher"] == results["alone"]
