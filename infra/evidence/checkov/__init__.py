"""checkov over a plan: the rendered Kubernetes manifests and the workload Dockerfiles.

checkov lives in its own environment (`.venv-checkov`, its pins conflict with ours) and runs as
a subprocess: one process per framework, both at once, offline (`--skip-download`), with the
project's custom checks (`policies/checkov/custom_checks`). It evaluates every check; the gate
(`policies/checkov/gate.yaml`) then decides which FAILED results fail the plan, which are
advisory and which are accepted skips (each with its reason). Severity plays no part: offline
every severity is None.

| module | owns |
|---|---|
| `paths` | where checkov's environment, the custom checks and the gate live |
| `gate` | `Gate`: gated / advisory / informational checks and the accepted `Skip`s |
| `findings` | `Record` (one check on one resource, after the gate) and the status/gate words |
| `results` | `CheckovResult` (a scan's records, skips, errors, files) and `CheckSummary` |
| `runner` | `scan` / `scan_plan` (`start` / `start_plan`: under way while a plan goes on) |
| `standby` | checkov started ahead of its scan (`prepare`): its imports beside the synthesis |
| `normalise` | checkov's reports made stable (relative paths, sorted) |
| `records` | from checkov's reports to gated `Record`s (skips applied) |
| `reports` | `checkov.json`, `checkov.sarif` and `checkov.junit.xml` in the plan directory |

The in-country registry check (CKV_UAE_K8S_1) reads its allow-list from the environment variable
CKV_UAE_ALLOWED_REGISTRIES, which `scan_plan` sets to the stack's mirror.
"""

from __future__ import annotations

from infra.evidence.checkov.findings import (
    ADVISORY,
    DOCKERFILE,
    FAILED,
    GATED,
    INFORMATIONAL,
    KUBERNETES,
    PASSED,
    SKIPPED,
    Record,
)
from infra.evidence.checkov.gate import Gate, GateEntry, RowMeta, Skip
from infra.evidence.checkov.paths import (
    CHECKOV_BIN,
    CHECKOV_DIR,
    CUSTOM_CHECKS,
    GATE_FILE,
    LAUNCHER,
    REPO_ROOT,
)
from infra.evidence.checkov.results import CheckovResult, CheckSummary
from infra.evidence.checkov.runner import (
    ALLOWED_REGISTRIES_ENV,
    CUSTOM_CHECK_IDS,
    TIMEOUT_SECONDS,
    CheckovError,
    CheckovUnavailable,
    Progress,
    RunningScan,
    allowed_registries_for,
    checkov_binary,
    clear_cache,
    prepare,
    scan,
    scan_plan,
    start,
    start_plan,
    workload_dockerfiles,
)

__all__ = [
    "ADVISORY",
    "ALLOWED_REGISTRIES_ENV",
    "CHECKOV_BIN",
    "CHECKOV_DIR",
    "CUSTOM_CHECKS",
    "CUSTOM_CHECK_IDS",
    "DOCKERFILE",
    "FAILED",
    "GATED",
    "GATE_FILE",
    "INFORMATIONAL",
    "KUBERNETES",
    "LAUNCHER",
    "PASSED",
    "REPO_ROOT",
    "SKIPPED",
    "TIMEOUT_SECONDS",
    "CheckSummary",
    "CheckovError",
    "CheckovResult",
    "CheckovUnavailable",
    "Gate",
    "GateEntry",
    "Progress",
    "Record",
    "RowMeta",
    "RunningScan",
    "Skip",
    "allowed_registries_for",
    "checkov_binary",
    "clear_cache",
    "prepare",
    "scan",
    "scan_plan",
    "start",
    "start_plan",
    "workload_dockerfiles",
]
