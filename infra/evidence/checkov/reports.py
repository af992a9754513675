"""The checkov report files of a plan: `checkov.json`, `checkov.sarif`, `checkov.junit.xml`.

| file | content |
|---|---|
| `checkov.json` | checkov's own JSON reports, one per framework (code blocks dropped) |
| `checkov.sarif` | SARIF 2.1.0: gated failures `error`, advisory `warning`, others `note`; |
| | skips carry a suppression with their justification |
| `checkov.junit.xml` | JUnit: a suite per framework and gate class; skips with reasons |
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from infra.evidence.checkov.findings import (
    ADVISORY,
    FAILED,
    GATED,
    INFORMATIONAL,
    KUBERNETES,
    SKIPPED,
    Record,
)
from infra.evidence.checkov.normalise import RawScan
from infra.evidence.checkov.results import CheckovResult


def write_reports(out_dir: Path, raws: list[RawScan], result: CheckovResult) -> dict[str, Path]:
    """Write the three files into out_dir; {'json'|'sarif'|'junit': path}."""
    files = {
        "json": out_dir / "checkov.json",
        "sarif": out_dir / "checkov.sarif",
        "junit": out_dir / "checkov.junit.xml",
    }
    reports = [report for raw in sorted(raws, key=lambda r: r.framework) for report in raw.reports]
    files["json"].write_text(json.dumps(reports, indent=1, sort_keys=True) + "\n")
    files["sarif"].write_text(json.dumps(_sarif(raws, result), indent=2) + "\n")
    _junit(result).write(files["junit"], encoding="utf-8", xml_declaration=True)
    return files


_SARIF_LEVEL = {GATED: "error", ADVISORY: "warning", INFORMATIONAL: "note"}


def _sarif(raws: list[RawScan], result: CheckovResult) -> dict[str, Any]:
    """checkov's SARIF runs, one per framework, re-levelled by the gate, skips suppressed."""
    skipped = {
        (r.check_id, r.file, r.lines[0]): r.skip_reason
        for r in result.records
        if r.status == SKIPPED and r.skip_reason
    }
    gate_of = {r.check_id: r.gate for r in result.records}
    runs = []
    for raw in sorted(raws, key=lambda r: r.framework):
        for run in raw.sarif.get("runs", []):
            run = json.loads(json.dumps(run))  # never mutate the cached raw run
            base = "PLANDIR" if raw.framework == KUBERNETES else "REPOROOT"
            run["originalUriBaseIds"] = {
                base: {
                    "description": {
                        "text": "the plan directory" if base == "PLANDIR" else "the repository root"
                    }
                }
            }
            run.setdefault("automationDetails", {})["id"] = (
                f"mlplatform-plan/checkov/{raw.framework}"
            )
            for rule in run.get("tool", {}).get("driver", {}).get("rules", []):
                level = _SARIF_LEVEL[gate_of.get(rule["id"], INFORMATIONAL)]
                rule.setdefault("defaultConfiguration", {})["level"] = level
            for item in run.get("results", []):
                item["level"] = _SARIF_LEVEL[gate_of.get(item.get("ruleId", ""), INFORMATIONAL)]
                for location in item.get("locations", []):
                    physical = location.get("physicalLocation", {})
                    artifact = physical.get("artifactLocation", {})
                    artifact["uriBaseId"] = base
                    start = physical.get("region", {}).get("startLine", 0)
                    reason = skipped.get((item.get("ruleId"), artifact.get("uri"), start))
                    if reason:
                        item["suppressions"] = [{"kind": "external", "justification": reason}]
            runs.append(run)
    return {
        "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    }


def _junit(result: CheckovResult) -> ET.ElementTree:
    root = ET.Element("testsuites", name="checkov")
    suites: dict[tuple[str, str], list[Record]] = {}
    for record in result.records:
        suites.setdefault((record.framework, record.gate), []).append(record)
    total_tests = total_failures = total_skipped = 0
    for framework, gate_class in sorted(suites):
        records = suites[(framework, gate_class)]
        failures = sum(1 for r in records if r.status == FAILED)
        skipped = sum(1 for r in records if r.status == SKIPPED)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"checkov.{framework}.{gate_class}",
            tests=str(len(records)),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
        )
        for record in records:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{record.check_id}",
                name=f"{record.resource} ({record.file}:{record.lines[0]})",
                file=record.file,
            )
            if record.status == FAILED:
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=gate_class,
                    message=f"{record.check_id} {record.check_name}"
                    + (f" [{record.policy}]" if record.policy else ""),
                )
                failure.text = "\n".join(
                    [
                        f"resource: {record.resource}",
                        f"file: {record.file} lines {record.lines[0]}-{record.lines[1]}",
                    ]
                    + [f"evaluated: {key}" for key in record.evaluated_keys]
                    + ([f"guideline: {record.guideline}"] if record.guideline else [])
                )
            elif record.status == SKIPPED:
                ET.SubElement(case, "skipped", message=record.skip_reason or "skipped")
        total_tests += len(records)
        total_failures += failures
        total_skipped += skipped
    for error in result.errors:
        suite = ET.SubElement(
            root, "testsuite", name="checkov.parsing", tests="1", failures="0", errors="1"
        )
        case = ET.SubElement(suite, "testcase", classname="checkov.parsing", name=error)
        ET.SubElement(case, "error", message=error)
    root.set("tests", str(total_tests + len(result.errors)))
    root.set("failures", str(total_failures))
    root.set("errors", str(len(result.errors)))
    root.set("skipped", str(total_skipped))
    ET.indent(root)
    return ET.ElementTree(root)
