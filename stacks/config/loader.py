"""Reading a stack's configuration, with or without the Pulumi engine.

Under `pulumi up` the engine merges `Pulumi.yaml` defaults with `Pulumi.<stack>.yaml` and hands
the program a flat map of `namespace:key` → string (objects as JSON). Offline, `stack_config`
does that merge itself from the files, applies `--set` overrides, and feeds the same flat map to
`pulumi.runtime.set_all_config`, so the program reads its config the same way in both cases
(`from_runtime`).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stacks.config import residency
from stacks.config.errors import MISSING, PROJECT, ConfigError, Problem
from stacks.config.model import StackConfig
from stacks.config.validation import validate

ROOT = Path(__file__).resolve().parents[2]  # the repository: Pulumi.yaml and the stack files

# Config namespaces a stack file may use besides the project's own.
_FOREIGN_NAMESPACES = ("pulumi", "aws", "azure-native", "kubernetes", "random")
_PATH = re.compile(r"^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_-]+|\[\d+\])*$")
_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class StackFiles:
    """The config a stack file set, split into the project's keys and everyone else's."""

    project: dict[str, Any]
    foreign: dict[str, Any]
    secrets_provider: str | None


def stack_names(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def project_defaults(root: Path = ROOT) -> dict[str, Any]:
    """Defaults from Pulumi.yaml's `config:` block: `{value: X}`, `{default: X}` or plain X."""
    document = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    defaults: dict[str, Any] = {}
    for key, entry in (document.get("config") or {}).items():
        if ":" in key and not key.startswith(f"{PROJECT}:"):
            continue  # engine/provider settings such as pulumi:disable-default-providers
        name = key.removeprefix(f"{PROJECT}:")
        if isinstance(entry, dict) and "value" in entry:
            defaults[name] = entry["value"]
        elif isinstance(entry, dict) and ("type" in entry or "description" in entry):
            if "default" in entry:
                defaults[name] = entry["default"]
        else:
            defaults[name] = entry
    return defaults


def read_stack_file(stack: str, root: Path = ROOT) -> StackFiles:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(root)) or "none"
        raise ConfigError([Problem("(stack)", stack, f"has no {path.name}; known stacks: {known}")])
    document = yaml.safe_load(path.read_text()) or {}
    project: dict[str, Any] = {}
    foreign: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in (document.get("config") or {}).items():
        namespace, _, name = key.partition(":")
        if not name:
            problems.append(Problem(key, value, f"is not namespaced; use {PROJECT}:{key}"))
        elif namespace == PROJECT:
            project[name] = value
        elif namespace in _FOREIGN_NAMESPACES:
            foreign[key] = value
        else:
            allowed = ", ".join((PROJECT, *_FOREIGN_NAMESPACES))
            problems.append(Problem(key, value, f"has an unknown namespace; allowed: {allowed}"))
    problems += _foreign_residency(foreign)
    if problems:
        raise ConfigError(problems, stack)
    return StackFiles(project, foreign, document.get("secretsprovider"))


def _foreign_residency(foreign: dict[str, Any]) -> list[Problem]:
    problems = []
    region = foreign.get("aws:region")
    if region is not None and region not in residency.AWS_REGIONS:
        problems.append(
            Problem(
                "(aws:region)",
                region,
                f"is outside the UAE; allowed: {', '.join(residency.AWS_REGIONS)}",
            )
        )
    location = foreign.get("azure-native:location")
    if location is not None and location not in residency.AZURE_LOCATIONS:
        problems.append(
            Problem(
                "(azure-native:location)",
                location,
                f"is outside the UAE; allowed: {', '.join(residency.AZURE_LOCATIONS)}",
            )
        )
    return problems


def apply_override(config: dict[str, Any], assignment: str) -> None:
    """Apply one `--set a.b[0].c=value` to raw config; the value is parsed as YAML."""
    path, sep, text = assignment.partition("=")
    path = path.strip()
    if not sep or not _PATH.match(path):
        raise ConfigError(
            [Problem("(--set)", assignment, "is not KEY=VALUE; e.g. kafka.brokers=5")]
        )
    tokens = _PATH_TOKEN.findall(path)
    keys: list[str | int] = [name if name else int(index) for name, index in tokens]
    if keys and isinstance(keys[0], str):
        keys[0] = keys[0].removeprefix(f"{PROJECT}:")
    value = yaml.safe_load(text) if text.strip() else ""
    node: Any = config
    for here, following in itertools.pairwise(keys):
        try:
            child = node[here]
        except (KeyError, IndexError, TypeError):
            child = None
        if child is None:
            child = [] if isinstance(following, int) else {}
            _assign(node, here, child, assignment)
        node = child
    _assign(node, keys[-1], value, assignment)


def _assign(node: Any, key: str | int, value: Any, assignment: str) -> None:
    try:
        if isinstance(node, list) and isinstance(key, int) and key == len(node):
            node.append(value)
        else:
            node[key] = value
    except (IndexError, TypeError):
        raise ConfigError(
            [Problem("(--set)", assignment, "does not match the config's shape")]
        ) from None


def merged_config(
    stack: str, overrides: list[str] | tuple[str, ...] = (), root: Path = ROOT
) -> tuple[dict[str, Any], StackFiles]:
    """Pulumi.yaml defaults, overlaid by the stack file (whole keys), then `--set` overrides."""
    files = read_stack_file(stack, root)
    raw = copy.deepcopy(project_defaults(root))
    raw.update(copy.deepcopy(files.project))
    for assignment in overrides:
        apply_override(raw, assignment)
    return raw, files


def stack_config(
    stack: str, overrides: list[str] | tuple[str, ...] = (), root: Path = ROOT
) -> tuple[StackConfig, dict[str, str]]:
    """Validate a stack offline. Returns the model and the engine-style flat config map."""
    raw, files = merged_config(stack, overrides, root)
    config = validate(raw, stack)
    if files.secrets_provider and files.secrets_provider != config.state.secrets_provider:
        raise ConfigError(
            [
                Problem(
                    "state.secretsProvider",
                    config.state.secrets_provider,
                    f"differs from the stack file's secretsprovider ({files.secrets_provider})",
                )
            ],
            stack,
        )
    flat = {f"{PROJECT}:{key}": _engine_value(value) for key, value in raw.items()}
    flat.update({key: _engine_value(value) for key, value in files.foreign.items()})
    return config, flat


def _engine_value(value: Any) -> str:
    """How the engine passes config to a program: strings as-is, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def from_runtime(stack: str | None = None) -> StackConfig:
    """Read and validate `mlplatform:*` config as the engine (or `set_all_config`) supplied it."""
    from pulumi.runtime import config as runtime_config

    flat = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw: dict[str, Any] = {}
    for key, value in flat.items():
        namespace, _, name = key.partition(":")
        if namespace != PROJECT:
            continue
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        raw[name] = value
    if not raw:
        raise ConfigError(
            [Problem("target", MISSING, "is missing: no mlplatform config was supplied")], stack
        )
    return validate(raw, stack)
