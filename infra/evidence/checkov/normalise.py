"""checkov's own reports made stable: relative paths, sorted results, no absolute-path noise.

checkov reports absolute paths (or paths relative to its `-d`), lists results in file-system
walk order and graph checks' evaluated keys in set order. Everything here rewrites them so two
runs of one plan, on any machine, write byte-identical reports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.evidence.checkov.findings import DOCKERFILE

_BUCKETS = ("passed_checks", "failed_checks", "skipped_checks")


@dataclass(frozen=True)
class RawScan:
    """What one checkov process produced, paths already made relative."""

    framework: str
    reports: list[dict[str, Any]]
    sarif: dict[str, Any]
    scanned: list[str]


def raw_scan(
    framework: str, data: Any, sarif: dict[str, Any], relative: Callable[[str], str]
) -> RawScan:
    """checkov's JSON (`data`) and SARIF output of one framework, normalised (see module)."""
    reports = [r for r in (data if isinstance(data, list) else [data]) if "results" in r]
    for report in reports:
        _normalise_report(report, framework, relative)
    for run in sarif.get("runs", []):
        for result in run.get("results", []):
            for location in result.get("locations", []):
                artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
                if "uri" in artifact:
                    artifact["uri"] = relative("/" + artifact["uri"].lstrip("/"))
        _sort_sarif_run(run)
    return RawScan(framework, reports, sarif, [])


def _normalise_report(
    report: dict[str, Any], framework: str, relative: Callable[[str], str]
) -> None:
    for bucket in _BUCKETS:
        for index, item in enumerate(report["results"].get(bucket, [])):
            absolute = str(item.get("file_abs_path") or "")
            item["file_path"] = relative(item.get("file_path", ""))
            resource = str(item.get("resource", ""))
            if framework == DOCKERFILE and absolute and resource.startswith(absolute):
                # `<absolute path>.<INSTRUCTION>` -> `<relative path>:<INSTRUCTION>`
                instruction = resource[len(absolute) :].lstrip(".") or "file"
                item["resource"] = f"{item['file_path']}:{instruction}"
            outcome = item.get("check_result")
            if isinstance(outcome, dict) and outcome.get("evaluated_keys"):
                # graph checks list them from a set: in no stable order
                outcome["evaluated_keys"] = sorted(map(str, outcome["evaluated_keys"]))
            for noisy in ("code_block", "file_abs_path", "repo_file_path"):
                item.pop(noisy, None)
            report["results"][bucket][index] = {
                k: v for k, v in item.items() if v not in (None, [], {}, "")
            }
        # checkov's order follows the file system walk: sort so two runs diff cleanly
        report["results"][bucket].sort(
            key=lambda i: (
                str(i.get("check_id")),
                str(i.get("file_path")),
                str(i.get("resource")),
                i.get("file_line_range") or [],
            )
        )
    report.pop("url", None)
    report["results"]["parsing_errors"] = sorted(
        relative(p) for p in report["results"].get("parsing_errors", [])
    )


def _sort_sarif_run(run: dict[str, Any]) -> None:
    """Rules by id (help without the one resource checkov named) and results by (rule, file,
    line); ruleIndex follows the new rule order."""

    def where(result: dict[str, Any]) -> tuple[str, str, int]:
        physical = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        return (
            str(result.get("ruleId")),
            str(physical.get("artifactLocation", {}).get("uri")),
            int(physical.get("region", {}).get("startLine", 0)),
        )

    driver = run.get("tool", {}).get("driver", {})
    rules = sorted(driver.get("rules", []), key=lambda rule: str(rule.get("id")))
    for rule in rules:
        # checkov names in a rule's help whichever resource it happened to check first (its
        # scan runs in parallel): a rule is about every resource, its results name them
        help_ = rule.get("help")
        if isinstance(help_, dict) and isinstance(help_.get("text"), str):
            help_["text"] = help_["text"].split("\nResource: ", 1)[0]
    driver["rules"] = rules
    index = {rule.get("id"): i for i, rule in enumerate(rules)}
    results = sorted(run.get("results", []), key=where)
    for result in results:
        if result.get("ruleId") in index:
            result["ruleIndex"] = index[result["ruleId"]]
    run["results"] = results


def relative_to(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def relative_path(path: str, base: Path, prefix: str, scanned: Collection[Path] = ()) -> str:
    """A path checkov reported, relative to `base` (with `prefix` in front).

    checkov reports `/x.yaml` relative to -d, absolute paths for -f, and in SARIF a path
    relative to its working directory with any leading `../` dropped (so a scan outside the
    repository reads `tmp/.../x.yaml` or `pytest-of-root/.../x.yaml`). Where it is neither
    under `base` nor a file of `base`, the scanned file whose absolute path ends with it is
    the one meant.
    """
    candidate = Path(path)
    for root in (base, base.resolve()):
        try:
            rel = candidate.relative_to(root).as_posix()
            break
        except ValueError:
            continue
    else:
        rel = path.lstrip("/")
        while rel.startswith("../"):
            rel = rel[3:]
        if scanned and (base.resolve() / rel) not in scanned:
            matches = [f for f in scanned if f.as_posix().endswith("/" + rel)]
            if len(matches) == 1:
                rel = relative_to(matches[0], base.resolve())
    return f"{prefix}/{rel}" if prefix else rel
