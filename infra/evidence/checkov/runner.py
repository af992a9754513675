"""Running checkov over a plan: one process per framework, both at once, offline.

checkov runs as a subprocess from its own environment with the project's custom checks
(`--external-checks-dir`) and `--skip-download`; its reports are normalised (`normalise`),
gated (`records`) and written into the plan directory (`reports`). The Dockerfile scan does not
depend on the stack, so its result is cached per process, keyed by the files' contents.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.evidence.checkov import standby
from infra.evidence.checkov.findings import DOCKERFILE, FAILED, KUBERNETES
from infra.evidence.checkov.gate import Gate, Skip
from infra.evidence.checkov.normalise import RawScan, raw_scan, relative_path, relative_to
from infra.evidence.checkov.paths import (
    CHECKOV_BIN,
    CHECKOV_DIR,
    CUSTOM_CHECKS,
    LAUNCHER,
    REPO_ROOT,
)
from infra.evidence.checkov.records import gated_records
from infra.evidence.checkov.render_skips import render_skips
from infra.evidence.checkov.reports import write_reports
from infra.evidence.checkov.results import CheckovResult

ALLOWED_REGISTRIES_ENV = "CKV_UAE_ALLOWED_REGISTRIES"
CUSTOM_CHECK_IDS = ("CKV_UAE_K8S_1", "CKV2_UAE_K8S_2")
TIMEOUT_SECONDS = 600  # per process; a plan's scan takes seconds

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


_DOCKERFILE_CACHE: dict[str, RawScan] = {}


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


def _program(binary: Path) -> list[str]:
    """The project's checkov runs through `policies/checkov/launcher.py` with its own interpreter
    (the same checkov, its Kubernetes YAML parsed by libyaml); MLPLATFORM_CHECKOV's as it is."""
    interpreter = binary.parent / "python"
    if binary == CHECKOV_BIN and interpreter.exists():
        return [str(interpreter), str(LAUNCHER)]
    return [str(binary)]


def _arguments(framework: str, targets: list[str], out: Path) -> list[str]:
    """checkov's arguments. One file per output format (the comma form of --output-file-path):
    given a directory, checkov also prints every report, the JSON indented, to the console, which
    cost a plan with rendered releases seconds per variant. --compact leaves code blocks out of
    the JSON report (`normalise` drops them anyway)."""
    arguments = ["--framework", framework, *targets]  # -d/-f, --skip-path
    arguments += ["--external-checks-dir", str(CUSTOM_CHECKS), "--skip-download", "--compact"]
    if "," in str(out):
        raise CheckovError(f"checkov's output directory may not hold a comma: {out}")
    files = f"{out / 'results_json.json'},{out / 'results_sarif.sarif'}"
    arguments += ["-o", "json", "-o", "sarif", "--output-file-path", files]
    return arguments


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "LOG_LEVEL": "WARNING",
        # offline: no PyPI version check, no Prisma Cloud guideline mapping
        "SKIP_PACKAGE_UPDATE_CHECK": "true",
        "BC_SKIP_MAPPING": "TRUE",
    }


def prepare() -> None:
    """Start the next scan's checkov process ahead of it (`standby`): a plan calls this before
    it synthesizes a variant, so checkov's imports run beside the synthesis. Nothing happens
    where checkov is not installed (the scan says so) or runs as another program."""
    try:
        program = _program(checkov_binary())
    except CheckovUnavailable:
        return
    if program[-1:] == [str(LAUNCHER)]:
        standby.prepare(program, _environment(), REPO_ROOT)


def _start(
    binary: Path, framework: str, targets: list[str], out: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    out.mkdir(parents=True, exist_ok=True)
    return standby.launch(
        _program(binary),
        _arguments(framework, targets, out),
        _environment(),
        env,
        REPO_ROOT,
        out / "stdout.log",
        out / "stderr.log",
    )


def _collect(
    process: subprocess.Popen[bytes], framework: str, out: Path, relative: Callable[[str], str]
) -> RawScan:
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
    return raw_scan(
        framework,
        json.loads(json_file.read_text()),
        json.loads(sarif_file.read_text()),
        relative,
    )


@dataclass(frozen=True)
class _Running:
    """One checkov process under way: its framework, how to relativise its paths, its files."""

    process: subprocess.Popen[bytes]
    framework: str
    relative: Callable[[str], str]
    scanned: list[str]


def scan(*args: Any, progress: Progress | None = None, **kwargs: Any) -> CheckovResult:
    """`start`'s scan (the same arguments), waited for: the gated result, the reports written."""
    return start(*args, progress=progress, **kwargs).result(progress)


def start(
    manifests_dir: Path | None,
    dockerfiles: Sequence[Path],
    out_dir: Path,
    *,
    allowed_registries: Sequence[str],
    config: Mapping[str, Any] | None = None,
    gate: Gate | None = None,
    progress: Progress | None = None,
    only: Sequence[str] = (),
    extra_skips: Sequence[Skip] = (),
) -> RunningScan:
    """Start checkov over manifests_dir (Kubernetes) and dockerfiles; `result()` gates its
    findings and writes the reports, `stop()` ends it unfinished. The caller goes on with other
    work meanwhile; the scanned files must not change until then.

    `config` is the stack config as camelCase data (for the skips' `when`). Kubernetes file paths
    in the results are relative to out_dir (`manifests/...`), Dockerfiles to the repository.
    `only`: scan just these sub-directories of manifests_dir, leaving out any `crds/` below them
    (a plan directory: `manifests`, `releases`). `extra_skips`: accepted failures declared
    elsewhere (the render step's label gaps), reported like the gate's own.
    """
    gate = gate or Gate.load()
    binary = checkov_binary()
    started = time.monotonic()
    env = {ALLOWED_REGISTRIES_ENV: ",".join(allowed_registries)}
    manifests = _kubernetes_files(manifests_dir, only) if manifests_dir else []
    dockerfiles = sorted(dockerfiles)
    key = _dockerfile_key(binary, dockerfiles)
    scan = RunningScan(
        Path(tempfile.mkdtemp(prefix="checkov-")),
        out_dir,
        key,
        [*gate.active_skips(config), *extra_skips],
        gate,
        started,
    )
    try:
        if manifests and manifests_dir is not None:
            kubernetes = _start_kubernetes(
                binary, manifests_dir, manifests, out_dir, str(scan.tmp), env, only
            )
            scan.running.append(kubernetes)
        if dockerfiles and key in _DOCKERFILE_CACHE:
            scan.cached.append(_DOCKERFILE_CACHE[key])
        elif dockerfiles:
            scan.running.append(_start_dockerfiles(binary, dockerfiles, str(scan.tmp), env))
    except BaseException:
        scan.stop()
        raise
    if progress:
        progress(
            f"checkov {_version_hint(binary)}: {len(manifests)} manifests, "
            f"{len(dockerfiles)} Dockerfiles"
        )
    return scan


@dataclass
class RunningScan:
    """checkov processes under way for one output directory (`start`)."""

    tmp: Path
    out_dir: Path
    dockerfile_key: str
    skips: list[Skip]
    gate: Gate
    started: float
    running: list[_Running] = field(default_factory=list)
    cached: list[RawScan] = field(default_factory=list)

    def result(self, progress: Progress | None = None) -> CheckovResult:
        """Wait for checkov, gate its findings and write checkov.json/sarif/junit."""
        try:
            raws = [*self.cached, *_collect_all(self.running, self.tmp, self.dockerfile_key)]
        finally:
            self.stop()
        records, errors, version = gated_records(raws, self.gate, self.skips, self.out_dir)
        result = CheckovResult(
            version=version,
            records=records,
            skips=self.skips,
            errors=errors,
            scanned={raw.framework: raw.scanned for raw in raws},
            seconds=time.monotonic() - self.started,
        )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        result.files = write_reports(self.out_dir, raws, result)
        if progress:
            failed = sum(1 for r in records if r.status == FAILED)
            progress(
                f"checkov: {len(records)} results, {failed} failed, "
                f"{len(result.gated_failures)} gated, in {result.seconds:.1f}s"
            )
        return result

    def stop(self) -> None:
        """End what is still running and remove the scratch directory (idempotent)."""
        for run in self.running:
            if run.process.poll() is None:
                run.process.kill()
                run.process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _kubernetes_files(directory: Path, only: Sequence[str]) -> list[Path]:
    roots = [directory / o for o in only] if only else [directory]
    found = [f for root in roots if root.is_dir() for f in root.rglob("*.yaml")]
    return sorted(f for f in found if not only or "crds" not in f.relative_to(directory).parts)


def _skip_paths(directory: Path, only: Sequence[str]) -> list[str]:
    """checkov --skip-path arguments leaving out everything of `directory` but `only`: what is
    there now and what a plan's later steps write while checkov runs (`LATER_DIRS`)."""
    if not only:
        return []
    present = {p.name for p in directory.iterdir() if p.is_dir()}
    others = (present | set(LATER_DIRS)) - set(only)
    patterns = ["/crds/", r"\.json$", *(f"/{re.escape(name)}/" for name in sorted(others))]
    return [arg for pattern in patterns for arg in ("--skip-path", pattern)]


def _start_kubernetes(
    binary: Path,
    manifests_dir: Path,
    manifests: list[Path],
    out_dir: Path,
    tmp: str,
    env: Mapping[str, str],
    only: Sequence[str] = (),
) -> _Running:
    base = manifests_dir.resolve()
    prefix = relative_to(base, out_dir.resolve())
    prefix = "" if prefix == "." else prefix
    scanned = frozenset(m.resolve() for m in manifests)

    def k8s_relative(path: str) -> str:
        return relative_path(path, base, prefix, scanned)

    targets = ["-d", str(base), *_skip_paths(base, only)]
    process = _start(binary, KUBERNETES, targets, Path(tmp) / KUBERNETES, env)
    return _Running(process, KUBERNETES, k8s_relative, [k8s_relative(str(m)) for m in manifests])


def _start_dockerfiles(
    binary: Path, dockerfiles: list[Path], tmp: str, env: Mapping[str, str]
) -> _Running:
    targets = [arg for d in dockerfiles for arg in ("-f", str(d.resolve()))]
    scanned = frozenset(d.resolve() for d in dockerfiles)

    def repo_relative(path: str) -> str:
        return relative_path(path, REPO_ROOT, "", scanned)

    process = _start(binary, DOCKERFILE, targets, Path(tmp) / DOCKERFILE, env)
    return _Running(
        process, DOCKERFILE, repo_relative, [repo_relative(str(d.resolve())) for d in dockerfiles]
    )


def _collect_all(running: list[_Running], tmp: Path, dockerfile_key: str) -> list[RawScan]:
    """Each process's reports (Dockerfile scans cached by key); `RunningScan.stop` ends the
    rest when one fails."""
    raws = []
    for run in running:
        raw = _collect(run.process, run.framework, tmp / run.framework, run.relative)
        raw = RawScan(raw.framework, raw.reports, raw.sarif, run.scanned)
        raws.append(raw)
        if run.framework == DOCKERFILE:
            _DOCKERFILE_CACHE[dockerfile_key] = raw
    return raws


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


# --------------------------------------------------------------------------- plan integration


def allowed_registries_for(config: Any) -> list[str]:
    """The stack's in-country registry (its mirror, or its own ECR/ACR)."""
    return [config.image_registry]


PLAN_KUBERNETES_DIRS = ("manifests", "releases")  # the program's objects; the rendered releases
# Written into a plan directory by steps that may run while checkov reads it (`start_plan`):
# the preview step's `preview/manifests/` is the same program previewed, never scanned.
LATER_DIRS = ("preview",)


def scan_plan(
    plan_dir: Path,
    config: Any,
    *,
    dockerfiles: Sequence[Path] | None = None,
    progress: Progress | None = None,
    extra_skips: Sequence[Skip] = (),
) -> CheckovResult:
    """checkov for one written plan directory, gated for its stack: the program's manifests
    (`manifests/`) and what its Helm releases render (`releases/`, CRDs left out), with the
    render step's waivers as skips (`render_skips`)."""
    return start_plan(
        plan_dir, config, dockerfiles=dockerfiles, progress=progress, extra_skips=extra_skips
    ).result(progress)


def start_plan(
    plan_dir: Path,
    config: Any,
    *,
    dockerfiles: Sequence[Path] | None = None,
    progress: Progress | None = None,
    extra_skips: Sequence[Skip] = (),
) -> RunningScan:
    """`scan_plan`, started (`start`): once manifests/, releases/ and render-report.json are
    written, a plan goes on with its other steps while checkov reads them."""
    present = [d for d in PLAN_KUBERNETES_DIRS if (plan_dir / d).is_dir()]
    gate = Gate.load()
    return start(
        plan_dir if present else None,
        workload_dockerfiles() if dockerfiles is None else dockerfiles,
        plan_dir,
        allowed_registries=allowed_registries_for(config),
        config=config.model_dump(by_alias=True, mode="json"),
        progress=progress,
        gate=gate,
        only=present,
        extra_skips=[*extra_skips, *render_skips(plan_dir, gate)],
    )


def clear_cache() -> None:
    _DOCKERFILE_CACHE.clear()
