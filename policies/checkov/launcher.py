"""checkov's command line as plans run it: checkov itself, with its Kubernetes YAML read by libyaml.

Run with checkov's own interpreter (`.venv-checkov/bin/python policies/checkov/launcher.py ARGS`,
which is what `infra.evidence.checkov` does); the arguments are checkov's.

Why: checkov reads every Kubernetes manifest with PyYAML's pure-Python parser (its
`SafeLineLoader` adds each mapping's first and last line). A plan with rendered Helm releases
hands it 500 files, and that parse was the largest part of checkov's time in a plan. Here the
same loader runs on PyYAML's C parser (libyaml, in the pinned PyYAML wheel): the constructor,
and so every object and line number checkov sees, is the same Python code; only the scanner and
parser are C. Content the C parser refuses goes back to checkov's own loader, so a file reads
exactly as checkov alone would read it (tests/policies/checkov/test_launcher.py compares the two
on the shipped plans' files).

`launcher.py --stand-by` imports checkov and then waits for one scan on its standard input, a
JSON line {"argv", "env", "cwd", "stdout", "stderr"}: a plan starts it before it needs it, so
checkov's imports are not on the plan's path (`infra.evidence.checkov.standby`). It exits at
once, scanning nothing, when its input closes without a scan.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Hashable
from typing import Any

import yaml
from checkov.kubernetes.parser import k8_yaml
from checkov.main import Checkov


class CSafeLineLoader(yaml.CSafeLoader):
    """checkov's `k8_yaml.SafeLineLoader` (the same two keys), on libyaml's parser."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Hashable, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__startline__"] = node.start_mark.line + 1
        mapping["__endline__"] = node.end_mark.line + 1
        return mapping


_checkov_loads = k8_yaml.loads


def loads(content: str) -> list[dict[str, Any]]:
    """`k8_yaml.loads`, parsed by libyaml; checkov's own parse where libyaml refuses."""
    try:
        return list(yaml.load_all(content, Loader=CSafeLineLoader))
    except yaml.YAMLError:
        return _checkov_loads(content)


def install() -> None:
    """Replace checkov's Kubernetes YAML loads (read at call time by `k8_yaml.load`)."""
    if not callable(getattr(k8_yaml, "loads", None)) or not hasattr(k8_yaml, "SafeLineLoader"):
        raise RuntimeError(
            "checkov.kubernetes.parser.k8_yaml has no loads/SafeLineLoader: the pinned checkov "
            "changed its parser; update policies/checkov/launcher.py with the pin"
        )
    k8_yaml.loads = loads


def main() -> int:
    install()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        # explicit: Checkov's default is sys.argv as it was when checkov was imported
        return int(Checkov(sys.argv[1:]).run() or 0)


def stand_by() -> int:
    """Wait for one scan (a JSON line on standard input), take on its setting, and run it."""
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the plan needed no scan after all
    job = json.loads(line)
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    for descriptor, path in ((1, job["stdout"]), (2, job["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, descriptor)
        os.close(target)
    sys.argv = [sys.argv[0], *job["argv"]]
    return main()


if __name__ == "__main__":
    sys.exit(stand_by() if sys.argv[1:] == ["--stand-by"] else main())
