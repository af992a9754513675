"""checkov over a plan: the rendered Kubernetes manifests and the workload Dockerfiles.

checkov lives in its own environment (`.venv-checkov`, its pins conflict with ours) and runs as
a subprocess: one process per framework, both at once, offline (`--skip-download`), with the
project's custom checks (`policies/checkov/custom_checks`). It evaluates every check; the gate
(`policies/checkov/gate.yaml`) then decides which FAILED results fail the plan, which are
advisory and which are accepted skips (each with its reason). Severity plays no part: offline
every severity is None.

Written into the plan directory:

| file | content |
|---|---|
| `checkov.json` | checkov's own JSON reports, one per framework (code blocks dropped) |
| `checkov.sarif` | SARIF 2.1.0: gated failures `error`, advisory `warning`, others `note`; |
| | skips carry a suppression with their justification |
| `checkov.junit.xml` | JUnit: a suite per framework and gate class; skips with reasons |

The in-country registry check (CKV_UAE_K8S_1) reads its allow-list from the environment variable
CKV_UAE_ALLOWED_REGISTRIES, which `scan_plan` sets to the stack's mirror.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKOV_DIR = REPO_ROOT / "policies" / "checkov"
CUSTOM_CHECKS = CHECKOV_DIR / "custom_checks"
GATE_FILE = CHECKOV_DIR / "gate.yaml"
CHECKOV_BIN = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
ALLOWED_REGISTRIES_ENV = "CKV_UAE_ALLOWED_REGISTRIES"
CUSTOM_CHECK_IDS = ("CKV_UAE_K8S_1", "CKV2_UAE_K8S_2")
TIMEOUT_SECONDS = 600  # per process; a plan's scan takes seconds

KUBERNETES, DOCKERFILE = "kubernetes", "dockerfile"
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
GATED, ADVISORY, INFORMATIONAL = "gated", "advisory", "informational"

# What checkov prints when a custom check does not load. It carries on without the check, which
# would silently un-gate it, so the plan treats these as errors.
_LOAD_FAILURES = (
    "Cannot load external check",
    "Failed to parse check id",
    "is missing required fields",
)

Progress = Callable[[str], None]


class CheckovUnavailable(RuntimeError):
    """The checkov environment is missing (run `make .venv-checkov/.installed`)."""


class CheckovError(RuntimeError):
    """checkov ran but did not produce a usable report (crash, custom check not loaded)."""


# --------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class GateEntry:
    check_id: str
    policy: str  # the catalogue policy (UAE-...) the check implements
    why: str = ""


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    resources: tuple[str, ...] = ()  # globs over checkov's resource id; empty = every resource
    when: str | None = None  # camelCase config key that must be true for the skip to apply
    # Applies only to objects (or their pod templates) carrying this annotation; its value is
    # the object's own stated reason and is reported with the skip.
    annotation: str | None = None

    def applies_to(
        self, record: Record, annotations: Mapping[str, Any] | None = None
    ) -> str | None:
        """The reason to report when this skip accepts the failed record, else None."""
        if record.check_id != self.check_id:
            return None
        if self.resources and not any(
            fnmatch.fnmatchcase(record.resource, pattern) for pattern in self.resources
        ):
            return None
        if self.annotation is None:
            return self.reason
        stated = (annotations or {}).get(self.annotation)
        if not isinstance(stated, str) or not stated.strip():
            return None
        return f"{self.reason} Stated reason: {' '.join(stated.split())}"


@dataclass(frozen=True)
class RowMeta:
    """Catalogue metadata for a row only checkov implements (gate.yaml `catalogue`)."""

    policy: str
    name: str
    severity: str
    iso_controls: tuple[str, ...]
    uae_refs: tuple[str, ...] = ()
    expectation: bool = False


@dataclass(frozen=True)
class Gate:
    gated: Mapping[str, GateEntry]
    advisory: Mapping[str, GateEntry]
    skips: tuple[Skip, ...]
    rows: Mapping[str, RowMeta] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = GATE_FILE) -> Gate:
        data = yaml.safe_load(path.read_text()) or {}

        def entries(section: str) -> dict[str, GateEntry]:
            raw = data.get(section) or {}
            return {
                check_id: GateEntry(check_id, str(spec["policy"]), str(spec.get("why", "")))
                for check_id, spec in raw.items()
            }

        gated, advisory = entries("gated"), entries("advisory")
        both = sorted(set(gated) & set(advisory))
        if both:
            raise ValueError(f"{path}: checks both gated and advisory: {', '.join(both)}")
        skips = []
        for spec in data.get("skips") or []:
            reason = " ".join(str(spec.get("reason", "")).split())
            if not reason:
                raise ValueError(f"{path}: skip of {spec.get('id')} has no reason")
            skips.append(
                Skip(
                    check_id=str(spec["id"]),
                    reason=reason,
                    resources=tuple(spec.get("resources") or ()),
                    when=spec.get("when"),
                    annotation=spec.get("annotation"),
                )
            )
        rows = {
            policy: RowMeta(
                policy=policy,
                name=str(spec["name"]),
                severity=str(spec["severity"]),
                iso_controls=tuple(str(c) for c in spec.get("iso_controls") or ()),
                uae_refs=tuple(str(u) for u in spec.get("uae_refs") or ()),
                expectation=bool(spec.get("expectation", False)),
            )
            for policy, spec in (data.get("catalogue") or {}).items()
        }
        return cls(gated, advisory, tuple(skips), rows)

    def policies(self) -> set[str]:
        """Every catalogue row a gated or advisory check implements."""
        return {e.policy for e in (*self.gated.values(), *self.advisory.values())}

    def mentioned(self) -> set[str]:
        return set(self.gated) | set(self.advisory) | {s.check_id for s in self.skips}

    def gate_class(self, check_id: str) -> str:
        if check_id in self.gated:
            return GATED
        return ADVISORY if check_id in self.advisory else INFORMATIONAL

    def policy(self, check_id: str) -> str | None:
        entry = self.gated.get(check_id) or self.advisory.get(check_id)
        return entry.policy if entry else None

    def active_skips(self, config: Mapping[str, Any] | None) -> list[Skip]:
        """The skips that apply to a stack: unconditional ones, and those whose key is true."""
        return [s for s in self.skips if s.when is None or _config_flag(config, s.when)]


def _config_flag(config: Mapping[str, Any] | None, dotted: str) -> bool:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False  # unknown key: the skip does not apply (fail closed)
        node = node[part]
    return node is True


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Record:
    """One check evaluated on one resource, after the gate."""

    check_id: str
    check_name: str
    framework: str
    resource: str
    file: str  # relative: `manifests/...` for Kubernetes, repo-relative for Dockerfiles
    lines: tuple[int, int]
    status: str  # passed | failed | skipped
    gate: str  # gated | advisory | informational
    policy: str | None
    skip_reason: str | None = None
    evaluated_keys: tuple[str, ...] = ()
    guideline: str | None = None

    @property
    def gated_failure(self) -> bool:
        return self.status == FAILED and self.gate == GATED

    def sort_key(self) -> tuple[str, str, str, str, int]:
        return (self.framework, self.check_id, self.file, self.resource, self.lines[0])

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "checkId": self.check_id,
            "checkName": self.check_name,
            "framework": self.framework,
            "resource": self.resource,
            "file": self.file,
            "lines": list(self.lines),
            "status": self.status,
            "gate": self.gate,
            "policy": self.policy,
        }
        if self.skip_reason:
            data["skipReason"] = self.skip_reason
        if self.evaluated_keys:
            data["evaluatedKeys"] = list(self.evaluated_keys)
        return data


@dataclass(frozen=True)
class CheckSummary:
    check_id: str
    check_name: str
    framework: str
    gate: str
    policy: str | None
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    skipped: tuple[str, ...]

    @property
    def status(self) -> str:
        if self.failed:
            return "fail"
        if self.passed:
            return "pass"
        return "skipped" if self.skipped else "not-applicable"


@dataclass
class CheckovResult:
    version: str
    records: list[Record]
    skips: list[Skip]  # the skips active for this stack
    errors: list[str] = field(default_factory=list)  # parsing errors: unchecked files
    files: dict[str, Path] = field(default_factory=dict)
    scanned: dict[str, list[str]] = field(default_factory=dict)  # framework -> files
    seconds: float = 0.0

    @property
    def gated_failures(self) -> list[Record]:
        return [r for r in self.records if r.gated_failure]

    @property
    def ok(self) -> bool:
        return not self.gated_failures and not self.errors

    def by_check(self) -> dict[str, CheckSummary]:
        grouped: dict[str, list[Record]] = {}
        for record in self.records:
            grouped.setdefault(record.check_id, []).append(record)
        summaries = {}
        for check_id in sorted(grouped):
            records = grouped[check_id]
            first = records[0]

            def of(status: str, records: list[Record] = records) -> tuple[str, ...]:
                return tuple(sorted({r.resource for r in records if r.status == status}))

            summaries[check_id] = CheckSummary(
                check_id,
                first.check_name,
                first.framework,
                first.gate,
                first.policy,
                of(PASSED),
                of(FAILED),
                of(SKIPPED),
            )
        return summaries

    def skip_usage(self) -> list[tuple[Skip, int]]:
        """Each active skip with how many results it accepted (0: the skip may be stale)."""
        return [
            (
                skip,
                sum(
                    1
                    for r in self.records
                    if r.status == SKIPPED
                    and r.check_id == skip.check_id
                    and (r.skip_reason or "").startswith(skip.reason)
                ),
            )
            for skip in self.skips
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "checkovVersion": self.version,
            "ok": self.ok,
            "errors": list(self.errors),
            "scanned": {k: list(v) for k, v in sorted(self.scanned.items())},
            "gatedFailures": [r.to_json() for r in self.gated_failures],
            "skips": [
                {
                    "checkId": skip.check_id,
                    "reason": skip.reason,
                    "resources": list(skip.resources),
                    "when": skip.when,
                    "annotation": skip.annotation,
                    "accepted": used,
                }
                for skip, used in self.skip_usage()
            ],
        }


# --------------------------------------------------------------------------- running checkov


@dataclass(frozen=True)
class _Raw:
    """What one checkov process produced, paths already made relative."""

    framework: str
    reports: list[dict[str, Any]]
    sarif: dict[str, Any]
    scanned: list[str]


_DOCKERFILE_CACHE: dict[str, _Raw] = {}


def workload_dockerfiles(root: Path = REPO_ROOT) -> list[Path]:
    """Every Dockerfile the release builds: workloads/Dockerfile.* (and any nested Dockerfile)."""
    found = set(root.glob("workloads/Dockerfile*")) | set(root.glob("workloads/**/Dockerfile*"))
    return sorted(p for p in found if p.is_file())


def checkov_binary() -> Path:
    binary = Path(os.environ.get("MLPLATFORM_CHECKOV", CHECKOV_BIN))
    if not binary.exists():
        raise CheckovUnavailable(
            f"checkov is not installed at {binary}; create its environment with "
            "`make .venv-checkov/.installed` (or plan with --skip-checkov in an inner loop)"
        )
    return binary


def _command(binary: Path, framework: str, targets: list[str], out: Path) -> list[str]:
    command = [str(binary), "--framework", framework, *targets]
    command += ["--external-checks-dir", str(CUSTOM_CHECKS), "--skip-download"]
    command += ["-o", "json", "-o", "sarif", "--output-file-path", str(out)]
    return command


def _start(
    binary: Path, framework: str, targets: list[str], out: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        _command(binary, framework, targets, out),
        stdout=(out / "stdout.log").open("wb"),
        stderr=(out / "stderr.log").open("wb"),
        env={
            **os.environ,
            **env,
            "LOG_LEVEL": "WARNING",
            # offline: no PyPI version check, no Prisma Cloud guideline mapping
            "SKIP_PACKAGE_UPDATE_CHECK": "true",
            "BC_SKIP_MAPPING": "TRUE",
        },
        cwd=REPO_ROOT,
    )


def _collect(
    process: subprocess.Popen[bytes], framework: str, out: Path, relative: Callable[[str], str]
) -> _Raw:
    try:
        code = process.wait(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise CheckovError(f"checkov ({framework}) did not finish in {TIMEOUT_SECONDS}s") from None
    stderr = (out / "stderr.log").read_text(errors="replace")
    broken = [line for line in stderr.splitlines() if any(m in line for m in _LOAD_FAILURES)]
    if broken:
        raise CheckovError(f"checkov ({framework}) did not load a custom check: {broken[0]}")
    json_file, sarif_file = out / "results_json.json", out / "results_sarif.sarif"
    if code not in (0, 1) or not json_file.exists() or not sarif_file.exists():
        tail = "\n".join(stderr.splitlines()[-15:])
        raise CheckovError(f"checkov ({framework}) exited {code} without a report:\n{tail}")
    data = json.loads(json_file.read_text())
    reports = [r for r in (data if isinstance(data, list) else [data]) if "results" in r]
    for report in reports:
        for bucket in ("passed_checks", "failed_checks", "skipped_checks"):
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
    sarif = json.loads(sarif_file.read_text())
    for run in sarif.get("runs", []):
        for result in run.get("results", []):
            for location in result.get("locations", []):
                artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
                if "uri" in artifact:
                    artifact["uri"] = relative("/" + artifact["uri"].lstrip("/"))
        _sort_sarif_run(run)
    return _Raw(framework, reports, sarif, [])


def _sort_sarif_run(run: dict[str, Any]) -> None:
    """Rules by id and results by (rule, file, line); ruleIndex follows the new rule order."""

    def where(result: dict[str, Any]) -> tuple[str, str, int]:
        physical = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        return (
            str(result.get("ruleId")),
            str(physical.get("artifactLocation", {}).get("uri")),
            int(physical.get("region", {}).get("startLine", 0)),
        )

    driver = run.get("tool", {}).get("driver", {})
    rules = sorted(driver.get("rules", []), key=lambda rule: str(rule.get("id")))
    driver["rules"] = rules
    index = {rule.get("id"): i for i, rule in enumerate(rules)}
    results = sorted(run.get("results", []), key=where)
    for result in results:
        if result.get("ruleId") in index:
            result["ruleIndex"] = index[result["ruleId"]]
    run["results"] = results


def scan(
    manifests_dir: Path | None,
    dockerfiles: Sequence[Path],
    out_dir: Path,
    *,
    allowed_registries: Sequence[str],
    config: Mapping[str, Any] | None = None,
    gate: Gate | None = None,
    progress: Progress | None = None,
) -> CheckovResult:
    """Run checkov over manifests_dir (Kubernetes) and dockerfiles; gate; write the reports.

    `config` is the stack config as camelCase data (for the skips' `when`). Kubernetes file paths
    in the results are relative to out_dir (`manifests/...`), Dockerfiles to the repository.
    """
    gate = gate or Gate.load()
    binary = checkov_binary()
    started = time.monotonic()
    env = {ALLOWED_REGISTRIES_ENV: ",".join(allowed_registries)}
    manifests = sorted(manifests_dir.rglob("*.yaml")) if manifests_dir else []
    dockerfiles = sorted(dockerfiles)
    key = _dockerfile_key(binary, dockerfiles)
    raws: list[_Raw] = []
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        running = []
        if manifests and manifests_dir is not None:
            base = manifests_dir.resolve()
            prefix = _relative_to(base, out_dir.resolve())

            def k8s_relative(path: str) -> str:
                return _relative_path(path, base, prefix)

            process = _start(binary, KUBERNETES, ["-d", str(base)], Path(tmp) / KUBERNETES, env)
            running.append(
                (process, KUBERNETES, k8s_relative, [k8s_relative(str(m)) for m in manifests])
            )
        if dockerfiles and key in _DOCKERFILE_CACHE:
            raws.append(_DOCKERFILE_CACHE[key])
        elif dockerfiles:
            targets = [arg for d in dockerfiles for arg in ("-f", str(d.resolve()))]

            def repo_relative(path: str) -> str:
                return _relative_path(path, REPO_ROOT, "")

            process = _start(binary, DOCKERFILE, targets, Path(tmp) / DOCKERFILE, env)
            running.append(
                (
                    process,
                    DOCKERFILE,
                    repo_relative,
                    [repo_relative(str(d.resolve())) for d in dockerfiles],
                )
            )
        if progress:
            progress(
                f"checkov {_version_hint(binary)}: {len(manifests)} manifests, "
                f"{len(dockerfiles)} Dockerfiles"
            )
        try:
            for process, framework, relative, scanned in running:
                raw = _collect(process, framework, Path(tmp) / framework, relative)
                raw = _Raw(raw.framework, raw.reports, raw.sarif, scanned)
                raws.append(raw)
                if framework == DOCKERFILE:
                    _DOCKERFILE_CACHE[key] = raw
        finally:
            for process, *_ in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    skips = gate.active_skips(config)
    records, errors, version = _records(raws, gate, skips, out_dir)
    result = CheckovResult(
        version=version,
        records=records,
        skips=skips,
        errors=errors,
        scanned={raw.framework: raw.scanned for raw in raws},
        seconds=time.monotonic() - started,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    result.files = _write(out_dir, raws, result, gate)
    if progress:
        failed = sum(1 for r in records if r.status == FAILED)
        progress(
            f"checkov: {len(records)} results, {failed} failed, "
            f"{len(result.gated_failures)} gated, in {result.seconds:.1f}s"
        )
    return result


def _version_hint(binary: Path) -> str:
    requirement = (CHECKOV_DIR / "requirements.txt").read_text()
    pins = [
        line.split("==", 1)[1].strip()
        for line in requirement.splitlines()
        if line.startswith("checkov==")
    ]
    return pins[0] if pins else str(binary)


def _dockerfile_key(binary: Path, dockerfiles: Sequence[Path]) -> str:
    digest = hashlib.sha256(str(binary).encode())
    for path in [CUSTOM_CHECKS, *dockerfiles]:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _relative_to(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _relative_path(path: str, base: Path, prefix: str) -> str:
    """checkov reports `/x.yaml` relative to -d, or absolute paths for -f: make both relative."""
    candidate = Path(path)
    for root in (base, base.resolve()):
        try:
            rel = candidate.relative_to(root).as_posix()
            break
        except ValueError:
            continue
    else:
        rel = path.lstrip("/")
    return f"{prefix}/{rel}" if prefix else rel


# Kinds whose pod template checkov turns into a `Pod.<ns>.<owner>.<labels>` graph vertex.
_TEMPLATE_OWNERS = (
    "Deployment",
    "DeploymentConfig",
    "DaemonSet",
    "Job",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
)


class _Objects:
    """The scanned manifests' objects: to name pod templates and read annotations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs: dict[str, list[dict[str, Any]]] = {}

    def docs(self, file: str) -> list[dict[str, Any]]:
        if file not in self._docs:
            path = self.root / file
            try:
                loaded = list(yaml.safe_load_all(path.read_text())) if path.is_file() else []
            except yaml.YAMLError:
                loaded = []
            self._docs[file] = [d for d in loaded if isinstance(d, dict)]
        return self._docs[file]

    def find(self, file: str, resource: str) -> tuple[str, dict[str, Any] | None]:
        """(readable resource id, object or None) for a checkov Kubernetes resource id.

        checkov names a pod template `Pod.<ns>.<owner>.<label>-<value>...`: it becomes
        `<Kind>.<ns>.<owner>.template`, and the annotations are the template's own, else the
        owner's (the way the policy pack reads them).
        """
        for doc in self.docs(file):
            meta = doc.get("metadata") or {}
            kind, name = doc.get("kind"), meta.get("name")
            ns = meta.get("namespace") or "default"
            if resource == f"{kind}.{ns}.{name}":
                return resource, doc
            owner = f"Pod.{ns}.{name}"
            if kind in _TEMPLATE_OWNERS and (resource == owner or resource.startswith(owner + ".")):
                return f"{kind}.{ns}.{name}.template", doc
        return resource, None


def _annotations(doc: dict[str, Any] | None) -> dict[str, Any]:
    if not doc:
        return {}
    found: dict[str, Any] = dict((doc.get("metadata") or {}).get("annotations") or {})
    spec = doc.get("spec") or {}
    template = spec.get("template") or (spec.get("jobTemplate") or {}).get("spec", {}).get(
        "template"
    )
    if isinstance(template, dict):
        found.update((template.get("metadata") or {}).get("annotations") or {})
    return found


def _lines(value: Any) -> tuple[int, int]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return 0, 0


def _records(
    raws: list[_Raw], gate: Gate, skips: list[Skip], root: Path
) -> tuple[list[Record], list[str], str]:
    records: list[Record] = []
    errors: list[str] = []
    version = "unknown"
    objects = _Objects(root)
    status_of = {"passed_checks": PASSED, "failed_checks": FAILED, "skipped_checks": SKIPPED}
    for raw in raws:
        for report in raw.reports:
            version = report.get("summary", {}).get("checkov_version", version)
            errors += [
                f"{raw.framework}: checkov could not parse {p}"
                for p in report["results"]["parsing_errors"]
            ]
            for bucket, status in status_of.items():
                for item in report["results"].get(bucket, []):
                    resource, doc = str(item.get("resource", "")), None
                    if raw.framework == KUBERNETES:
                        resource, doc = objects.find(item.get("file_path", ""), resource)
                    record = Record(
                        check_id=item["check_id"],
                        check_name=item.get("check_name", ""),
                        framework=raw.framework,
                        resource=resource,
                        file=item.get("file_path", ""),
                        lines=_lines(item.get("file_line_range")),
                        status=status,
                        gate=gate.gate_class(item["check_id"]),
                        policy=gate.policy(item["check_id"]),
                        skip_reason=item.get("suppress_comment") if status == SKIPPED else None,
                        evaluated_keys=tuple(
                            (item.get("check_result") or {}).get("evaluated_keys") or ()
                        ),
                        guideline=item.get("guideline"),
                    )
                    if status == FAILED:
                        for skip in skips:
                            reason = skip.applies_to(record, _annotations(doc))
                            if reason is not None:
                                record = replace(record, status=SKIPPED, skip_reason=reason)
                                break
                    records.append(record)
    records.sort(key=Record.sort_key)
    return records, sorted(errors), version


# --------------------------------------------------------------------------- writing reports


def _write(out_dir: Path, raws: list[_Raw], result: CheckovResult, gate: Gate) -> dict[str, Path]:
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


def _sarif(raws: list[_Raw], result: CheckovResult) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- plan integration


def allowed_registries_for(config: Any) -> list[str]:
    """The stack's in-country registry (its mirror, or its own ECR/ACR)."""
    return [config.image_registry]


def scan_plan(
    plan_dir: Path,
    config: Any,
    *,
    dockerfiles: Sequence[Path] | None = None,
    progress: Progress | None = None,
) -> CheckovResult:
    """checkov for one written plan directory (`<out>/<name>/manifests`), gated for its stack."""
    manifests = plan_dir / "manifests"
    return scan(
        manifests if manifests.is_dir() else None,
        workload_dockerfiles() if dockerfiles is None else dockerfiles,
        plan_dir,
        allowed_registries=allowed_registries_for(config),
        config=config.model_dump(by_alias=True, mode="json"),
        progress=progress,
    )


def clear_cache() -> None:
    _DOCKERFILE_CACHE.clear()


__all__ = [
    "CheckovError",
    "CheckovResult",
    "CheckovUnavailable",
    "Gate",
    "Record",
    "Skip",
    "clear_cache",
    "scan",
    "scan_plan",
    "workload_dockerfiles",
]
