"""The chart cache: where a plan finds each pinned chart, by name and version.

A chart cache is a directory holding chart trees (`DIR/<name>/Chart.yaml`) or packaged charts
(`DIR/<name>-<version>.tgz`, what `mlplatform charts pull` and `helm pull` write). The plan
renders every Helm release with the chart at exactly the version the release pins; a chart that
is missing, or present at another version, is a usage error (`ChartMissing`, exit 2) naming the
chart, the version and the directory — never a silent skip.

Which directory: `--charts DIR`, else the environment variable `MLP_CHARTS`, else the upstream
reference charts beside the repository (`../shared/reference/charts`) when they exist (tests and
CI use those).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CHARTS_ENV = "MLP_CHARTS"
REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_CHARTS = REPO_ROOT.parent / "shared" / "reference" / "charts"


class ChartMissing(LookupError):
    """A chart the plan needs is not in the cache at the pinned version (a usage error)."""


class NoChartCache(LookupError):
    """No chart cache was given and none is configured (a usage error)."""


def default_charts_dir() -> Path | None:
    """`MLP_CHARTS`, else the reference charts beside the repository, else None."""
    configured = os.environ.get(CHARTS_ENV)
    if configured:
        return Path(configured)
    return REFERENCE_CHARTS if REFERENCE_CHARTS.is_dir() else None


def no_cache_message(need: str) -> str:
    """Why there is no chart cache (what was looked at) and the ways to give one."""
    return (
        f"{need} and there is no chart cache: --charts was not given, {CHARTS_ENV} is not set "
        f"and {REFERENCE_CHARTS} (the reference charts beside the repository) does not exist. "
        f"Give one: `--charts DIR` or `export {CHARTS_ENV}=DIR`, with DIR holding chart trees "
        "or <name>-<version>.tgz; fill DIR from the stack's mirror with "
        "`mlplatform charts pull --stack NAME --charts DIR [--mirror REGISTRY]`"
    )


@dataclass
class ChartCache:
    """Charts by (name, version) in one directory; each location resolved once.

    `root` is None when no cache is configured: a plan without Helm releases needs none, and the
    first chart asked for raises `NoChartCache`.
    """

    root: Path | None
    _found: dict[tuple[str, str], Path] = field(default_factory=dict, repr=False)

    @classmethod
    def resolve(cls, charts: Path | None) -> ChartCache:
        """The cache for `--charts` (None: the configured default); NoChartCache when the
        directory given or configured does not exist."""
        root = charts if charts is not None else default_charts_dir()
        if root is not None and not root.is_dir():
            raise NoChartCache(f"chart cache {root} is not a directory")
        return cls(root)

    def describe(self) -> str:
        return str(self.root) if self.root is not None else "(none)"

    def path(self, name: str, version: str) -> Path:
        """The chart tree or archive for `name` at `version`; raises ChartMissing (or
        NoChartCache when no cache is configured)."""
        if self.root is None:
            raise NoChartCache(no_cache_message(f"chart {name} {version} is needed"))
        key = (name, version)
        if key not in self._found:
            self._found[key] = self._locate(name, version)
        return self._found[key]

    def _locate(self, name: str, version: str) -> Path:
        assert self.root is not None
        for candidate in (
            self.root / f"{name}-{version}.tgz",
            self.root / f"{name}-{version.removeprefix('v')}.tgz",
        ):
            if candidate.is_file():
                return candidate
        tree = self.root / name
        found = _tree_version(tree)
        if found is not None and _same_version(found, version):
            return tree
        versioned = self.root / name / version
        if _tree_version(versioned) is not None:
            return versioned
        seen = f" (found version {found} at {tree})" if found else ""
        raise ChartMissing(
            f"chart {name} {version} is not in the chart cache {self.root}{seen}; "
            f"fill it with `mlplatform charts pull --stack NAME --charts {self.root}`"
        )


def _tree_version(directory: Path) -> str | None:
    chart_yaml = directory / "Chart.yaml"
    if not chart_yaml.is_file():
        return None
    meta = yaml.safe_load(chart_yaml.read_text()) or {}
    version = meta.get("version")
    return str(version) if version is not None else None


def _same_version(found: str, pinned: str) -> bool:
    """Chart versions are semver; `v1.21.1` and `1.21.1` name the same chart release."""
    return found.removeprefix("v") == pinned.removeprefix("v")
