"""The hashed lock files of the Python environments: compile them and check them.

| lock | source | installed into |
|---|---|---|
| `locks/iac.txt` | pyproject.toml: `[project]` dependencies and every extra | `.venv` |
| `locks/workloads.txt` | workloads/requirements.txt | `.venv-workloads` |
| `locks/checkov.txt` | policies/checkov/requirements.txt | `.venv-checkov` |
| `locks/pip-tools.txt` | locks/pip-tools.in | `.venv-lock` (the tool that compiles the others) |
| `locks/image-feature-server.txt` | workloads/requirements-feature-server.txt | Feast image |
| `locks/image-mlflow-server.txt` | workloads/requirements-mlflow-server.txt | MLflow image |

A source states the direct pins (one place per version); its lock adds every transitive package,
pinned, with the sha256 of every file the indexes serve for it. `make setup` installs each lock
with `pip install --require-hashes` (the project itself then editable with `--no-deps`), after
`check`; `make lock` recompiles them with pip-tools (pip's own resolver, so it sees the local
torch 2.13.0 CPU wheel pip is configured to find; uv and poetry do not).

    python3 scripts/locks.py check [--root DIR] [NAME ...]    # exit 1: a lock is out of date
    python3 scripts/locks.py compile [NAME ...]               # rewrite locks (needs .venv-lock)

`check` needs only the standard library (it runs before any environment exists). A lock is out
of date when the digest of its source's requirements (recorded in the lock's header) differs
from the source's, when a direct pin's version differs from the lock's, or when an entry has no
hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "mlplatform"
DIGEST_LINE = "# source-sha256: "
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;\\]+)")


@dataclass(frozen=True)
class Lock:
    """One lock file, the source it is compiled from and what it is for."""

    name: str
    source: str
    path: str
    environment: str
    extras: tuple[str, ...] = ()
    installed_by: str = "Makefile"  # what installs it with --require-hashes

    def source_path(self, root: Path) -> Path:
        return root / self.source

    def lock_path(self, root: Path) -> Path:
        return root / self.path


LOCKS: tuple[Lock, ...] = (
    Lock("iac", "pyproject.toml", "locks/iac.txt", ".venv", extras=("dev", "verify")),
    Lock("workloads", "workloads/requirements.txt", "locks/workloads.txt", ".venv-workloads"),
    Lock("checkov", "policies/checkov/requirements.txt", "locks/checkov.txt", ".venv-checkov"),
    Lock("pip-tools", "locks/pip-tools.in", "locks/pip-tools.txt", ".venv-lock"),
    # The two server images (python:3.11 on Debian bookworm, x86_64: what these locks resolve for)
    Lock(
        "image-feature-server",
        "workloads/requirements-feature-server.txt",
        "locks/image-feature-server.txt",
        "the Feast server image",
        installed_by="workloads/Dockerfile.feature-server",
    ),
    Lock(
        "image-mlflow-server",
        "workloads/requirements-mlflow-server.txt",
        "locks/image-mlflow-server.txt",
        "the MLflow server image",
        installed_by="workloads/Dockerfile.mlflow-server",
    ),
)


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (`PyYAML` = `pyyaml`, `a_b` = `a-b`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------- sources


def source_requirements(lock: Lock, root: Path) -> list[str]:
    """The requirement strings the source states, in its order (comments dropped)."""
    path = lock.source_path(root)
    if path.suffix == ".toml":
        project = tomllib.loads(path.read_text())["project"]
        found = list(project.get("dependencies", []))
        extras = project.get("optional-dependencies", {})
        for extra in sorted(extras):
            found += extras[extra]
        return [" ".join(r.split()) for r in found]
    found = []
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            found.append(" ".join(text.split()))
    return found


def source_digest(lock: Lock, root: Path) -> str:
    """sha256 over the source's requirements: comments and layout do not count, order does not."""
    path = lock.source_path(root)
    data: object = sorted(source_requirements(lock, root))
    if path.suffix == ".toml":
        project = tomllib.loads(path.read_text())["project"]
        data = {
            "dependencies": sorted(project.get("dependencies", [])),
            "optional-dependencies": {
                k: sorted(v) for k, v in sorted(project.get("optional-dependencies", {}).items())
            },
        }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def direct_pins(lock: Lock, root: Path) -> dict[str, str]:
    """name → version of every `name==version` the source states (the project itself excluded)."""
    pins = {}
    for requirement in source_requirements(lock, root):
        match = REQUIREMENT.match(requirement)
        if match and canonical(match.group(1)) != PROJECT:
            pins[canonical(match.group(1))] = match.group(3)
    return pins


# --------------------------------------------------------------------------- locks


def locked(text: str) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) of every entry of a lock file."""
    entries: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        match = REQUIREMENT.match(line)
        if match:
            current = canonical(match.group(1))
            entries[current] = (match.group(3), 0)
        elif current and stripped.startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
        elif not stripped.startswith("#") and stripped and not line.startswith(" "):
            current = None
    return entries


def recorded_digest(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(DIGEST_LINE):
            return line.removeprefix(DIGEST_LINE).strip()
    return None


def same_version(pinned: str, in_lock: str) -> bool:
    """`torch==2.13.0` is satisfied by the local CPU build `2.13.0+cpu` (PEP 440 local label)."""
    return in_lock == pinned or ("+" not in pinned and in_lock.split("+", 1)[0] == pinned)


def problems(lock: Lock, root: Path) -> list[str]:
    """Why `lock` is out of date with its source (empty: it is current)."""
    path = lock.lock_path(root)
    if not path.is_file():
        return [f"{lock.path} is missing"]
    text = path.read_text()
    found = []
    if recorded_digest(text) != source_digest(lock, root):
        found.append(f"{lock.path} was compiled from another version of {lock.source}")
    entries = locked(text)
    for name, version in sorted(direct_pins(lock, root).items()):
        if name not in entries:
            found.append(f"{lock.source} pins {name}=={version}; {lock.path} lacks it")
        elif not same_version(version, entries[name][0]):
            found.append(
                f"{lock.source} pins {name}=={version}; {lock.path} has {entries[name][0]}"
            )
    found += [f"{lock.path}: {n} has no --hash" for n, (_, h) in sorted(entries.items()) if not h]
    found += [
        f"{lock.path}: an unhashable entry: {line.strip()}"
        for line in text.splitlines()
        if " @ " in line and not line.lstrip().startswith("#")
    ]
    return found


def check(root: Path, names: list[str]) -> int:
    failed = False
    for lock in selected(names):
        for problem in problems(lock, root):
            failed = True
            print(f"locks: {problem}", file=sys.stderr)
    if failed:
        print(
            "locks: out of date with their sources: run `make lock`, commit locks/", file=sys.stderr
        )
        return 1
    return 0


# --------------------------------------------------------------------------- compile


def header(lock: Lock, root: Path) -> str:
    extras = f" (extras: {', '.join(lock.extras)})" if lock.extras else ""
    return (
        f"# {lock.path}: every package of {lock.environment}, pinned, with the sha256 of every\n"
        f"# file the indexes serve for it. Generated by `make lock` from {lock.source}{extras};\n"
        f"# do not edit: change the source and run `make lock`. Install it with\n"
        f"# `pip install --require-hashes -r {lock.path}` ({lock.installed_by}).\n"
        f"{DIGEST_LINE}{source_digest(lock, root)}\n"
    )


def without_project(body: str) -> str:
    """pip-compile lists a self-referencing extra (`mlplatform[verify]`) as `mlplatform @ file://`
    with a warning that it cannot be hashed: drop both (`make setup` installs the project editable
    with --no-deps after the lock)."""
    out: list[str] = []
    skipping = False
    for line in body.splitlines():
        if line.startswith(f"{PROJECT} @ "):
            skipping = True
        elif not (skipping and line.startswith(" ")):
            skipping = False
            if not line.startswith(("# WARNING: pip install will require", "# Consider using")):
                out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def compile_lock(lock: Lock, root: Path, tool: Path) -> None:
    """pip-compile the source into the lock (the lock's current pins are kept where they fit)."""
    path = lock.lock_path(root)
    path.parent.mkdir(exist_ok=True)
    command = [
        str(tool),
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",
        "--strip-extras",
        "--no-header",
        "--no-emit-index-url",
        "--no-emit-find-links",
        f"--output-file={lock.path}",
        *(f"--extra={e}" for e in lock.extras),
        lock.source,
    ]
    subprocess.run(command, cwd=root, check=True)
    path.write_text(header(lock, root) + without_project(path.read_text()))


def selected(names: list[str]) -> list[Lock]:
    known = {lock.name: lock for lock in LOCKS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"locks: unknown lock {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names] if names else list(LOCKS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("check", "compile"))
    parser.add_argument("names", nargs="*", help="locks to act on (default: all)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this)")
    parser.add_argument(
        "--pip-compile", type=Path, default=ROOT / ".venv-lock/bin/pip-compile", help="the tool"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.root, args.names)
    for lock in selected(args.names):
        print(f"locks: compiling {lock.path} from {lock.source}", file=sys.stderr)
        compile_lock(lock, args.root, args.pip_compile)
    return check(args.root, args.names)


if __name__ == "__main__":
    sys.exit(main())
