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
import difflib
import itertools
import json
import os
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
PROJECT_DIR_ENV = "MLPLATFORM_PROJECT_DIR"

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


def project_dir() -> Path:
    """Where `Pulumi.yaml` and the stack files are: `$MLPLATFORM_PROJECT_DIR`, else the
    repository this package was installed from."""
    return Path(os.environ.get(PROJECT_DIR_ENV) or ROOT)


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (plain
    YAML keeps the last one silently, so a typo'd stack file would lose a setting)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(
                    problem=f"key {key!r} twice (lines {seen[key]} and {line})",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, where: str) -> Any:
    """`text` as YAML, duplicate keys refused; a ConfigError naming `where` and the line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as error:
        message = f"gives {error.problem}; YAML would keep only the last: remove one"
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        message = f"is not valid YAML ({problem}{at})"
    raise ConfigError([Problem(where, None, message, literal=True)])


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as error:
        problem = Problem(path.name, None, f"cannot be read ({error.strerror})", literal=True)
        raise ConfigError([problem]) from None
    document = parse_yaml(text, path.name) or {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config, dict | None):
        problem = Problem(
            path.name, None, "must be a mapping with a `config:` mapping", literal=True
        )
        raise ConfigError([problem])
    return document


def stack_names(root: Path | None = None) -> list[str]:
    root = root or project_dir()
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def project_defaults(root: Path | None = None) -> dict[str, Any]:
    """Defaults from Pulumi.yaml's `config:` block: `{value: X}`, `{default: X}` or plain X."""
    document = _read_yaml((root or project_dir()) / "Pulumi.yaml")
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


def read_stack_file(stack: str, root: Path | None = None) -> StackFiles:
    root = root or project_dir()
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(root)) or "none"
        message = f"has no {path.name} in {root}; known stacks: {known}"
        raise ConfigError([Problem(f"stack {stack!r}", None, message, literal=True)])
    document = _read_yaml(path)
    project: dict[str, Any] = {}
    foreign: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in (document.get("config") or {}).items():
        namespace, _, name = str(key).partition(":")
        if namespace == PROJECT and name and ":" not in name:
            project[name] = value
        elif namespace in _FOREIGN_NAMESPACES and name:
            foreign[key] = value
        else:
            problems.append(_namespace_problem(path.name, str(key)))
    problems += _foreign_residency(path.name, foreign)
    if problems:
        raise ConfigError(problems, stack)
    return StackFiles(project, foreign, document.get("secretsprovider"))


def _namespace_problem(file: str, key: str) -> Problem:
    """A config key outside a known namespace, said the way it was written."""
    namespace, _, name = key.partition(":")
    where = f"{file}: config key {key!r}"
    if not name:
        return Problem(where, None, f"is not namespaced; write it as {PROJECT}:{key}", True)
    if namespace == PROJECT:  # `mlplatform:mlplatform:kafka`, `mlplatform:aws:region`
        bare = name.rpartition(":")[2]
        return Problem(where, None, f"has two namespaces; write it as {PROJECT}:{bare}", True)
    allowed = ", ".join((PROJECT, *_FOREIGN_NAMESPACES))
    close = difflib.get_close_matches(namespace, (PROJECT, *_FOREIGN_NAMESPACES), n=1)
    hint = f" (did you mean {close[0]}:{name}?)" if close else ""
    return Problem(
        where, None, f"has an unknown namespace {namespace!r}{hint}; allowed: {allowed}", True
    )


def _foreign_residency(file: str, foreign: dict[str, Any]) -> list[Problem]:
    problems = []
    region = foreign.get("aws:region")
    if region is not None and region not in residency.AWS_REGIONS:
        problems.append(
            Problem(
                f"{file}: aws:region = {region!r}",
                None,
                f"is outside the UAE; allowed: {', '.join(residency.AWS_REGIONS)}",
                literal=True,
            )
        )
    location = foreign.get("azure-native:location")
    if location is not None and location not in residency.AZURE_LOCATIONS:
        problems.append(
            Problem(
                f"{file}: azure-native:location = {location!r}",
                None,
                f"is outside the UAE; allowed: {', '.join(residency.AZURE_LOCATIONS)}",
                literal=True,
            )
        )
    return problems


def apply_override(config: dict[str, Any], assignment: str) -> None:
    """Apply one `--set a.b[0].c=value` to raw config; the value is parsed as YAML."""
    path, sep, text = assignment.partition("=")
    path = path.strip()
    if not sep or not _PATH.match(path):
        raise ConfigError(
            [Problem(f"--set {assignment!r}", None, "is not KEY=VALUE; e.g. kafka.brokers=5", True)]
        )
    path = path.removeprefix(f"{PROJECT}:")
    namespace, colon, _ = path.partition(":")
    if colon:
        close = difflib.get_close_matches(namespace, (PROJECT,), n=1)
        hint = f" (did you mean {PROJECT}?)" if close else ""
        raise ConfigError(
            [
                Problem(
                    f"--set {assignment!r}",
                    None,
                    f"names namespace {namespace!r}{hint}; --set takes {PROJECT} keys, "
                    "e.g. kafka.brokers=5",
                    literal=True,
                )
            ]
        )
    tokens = _PATH_TOKEN.findall(path)
    keys: list[str | int] = [name if name else int(index) for name, index in tokens]
    value = _override_value(path, text)
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


def _override_value(path: str, text: str) -> Any:
    """The value of `--set path=text`, parsed as YAML; an error names the key."""
    if not text.strip():
        return ""
    try:
        return parse_yaml(text, path)
    except ConfigError as error:
        (problem,) = error.problems
        message = f"{problem.message}; quote a string value, e.g. --set '{path}=\"…\"'"
        raise ConfigError([Problem(path, text, message)]) from None


def _assign(node: Any, key: str | int, value: Any, assignment: str) -> None:
    try:
        if isinstance(node, list) and isinstance(key, int) and key == len(node):
            node.append(value)
        else:
            node[key] = value
    except (IndexError, TypeError):
        message = "does not match the config's shape (a list index on a mapping, or beyond the end)"
        raise ConfigError([Problem(f"--set {assignment!r}", None, message, True)]) from None


def merged_config(
    stack: str, overrides: list[str] | tuple[str, ...] = (), root: Path | None = None
) -> tuple[dict[str, Any], StackFiles]:
    """Pulumi.yaml defaults, overlaid by the stack file (whole keys), then `--set` overrides."""
    files = read_stack_file(stack, root)
    raw = copy.deepcopy(project_defaults(root))
    raw.update(copy.deepcopy(files.project))
    for assignment in overrides:
        apply_override(raw, assignment)
    return raw, files


def stack_config(
    stack: str, overrides: list[str] | tuple[str, ...] = (), root: Path | None = None
) -> tuple[StackConfig, dict[str, str]]:
    """Validate a stack offline. Returns the model and the engine-style flat config map."""
    raw, files = merged_config(stack, overrides, root)
    config = validate(raw, stack)
    problems = _secrets_provider_problems(config.state.secrets_provider)
    if files.secrets_provider and files.secrets_provider != config.state.secrets_provider:
        problems.append(
            Problem(
                "state.secretsProvider",
                config.state.secrets_provider,
                f"differs from the stack file's secretsprovider ({files.secrets_provider})",
            )
        )
    if problems:
        raise ConfigError(problems, stack)
    flat = {f"{PROJECT}:{key}": _engine_value(value) for key, value in raw.items()}
    flat.update({key: _engine_value(value) for key, value in files.foreign.items()})
    return config, flat


def _secrets_provider_problems(url: str) -> list[Problem]:
    """`hashivault://<key>[?engine=<mount>]`: Pulumi's keeper takes host + path as the transit
    key's name and the Vault address from VAULT_ADDR (or VAULT_SERVER_URL) where `pulumi` runs,
    so `hashivault://<vault host>/transit/keys/<key>` names a key that cannot exist."""
    if not url.startswith("hashivault://"):
        return []
    rest, _, query = url.removeprefix("hashivault://").partition("?")
    params = [p.partition("=")[0] for p in query.split("&") if p]
    if rest and "/" not in rest and set(params) <= {"engine"}:
        return []
    return [
        Problem(
            "state.secretsProvider",
            url,
            "is not a Vault key; allowed: hashivault://<key>[?engine=<transit mount>] (the key's "
            "name; the Vault address comes from VAULT_ADDR where `pulumi` runs), e.g. "
            "hashivault://pulumi-uae-onprem",
        )
    ]


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
