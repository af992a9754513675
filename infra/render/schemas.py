"""Objects checked against the schemas the API server applies.

Built-in kinds validate against the official OpenAPI schemas `kubernetes-validate` ships for the
stack's Kubernetes version (its strict set: an unknown field is an error). Custom resources
validate against their CRD's `openAPIV3Schema` (`crds.CrdIndex`: the reference CRDs first, then
the charts' and the program's), with unknown fields forbidden wherever the CRD lists properties
and does not preserve unknown fields — a real API server would prune them silently. A custom
resource whose CRD is nowhere in sight is an error: the API server would refuse it.

Results are memoised on the object's content: `plan --all` validates an object that five
variants render identically once.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import jsonschema
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

from infra.render.checks import OBJECT_SCHEMA, Finding
from infra.render.crds import CrdIndex
from infra.render.objects import ClusterObject

BUILT_IN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)


def schema_findings(
    objects: list[ClusterObject], crds: CrdIndex, kubernetes_version: str
) -> Iterator[Finding]:
    for obj in objects:
        if obj.origin.source != "release":
            continue  # the program's own objects are validated by its component tests

        for error in object_errors(obj, crds, kubernetes_version):
            yield Finding(
                OBJECT_SCHEMA.id,
                OBJECT_SCHEMA.mandatory,
                obj.origin.release,
                obj.describe(),
                f"{obj.describe()} ({obj.origin.describe()}): {error}",
                OBJECT_SCHEMA.remediation,
            )


def object_errors(obj: ClusterObject, crds: CrdIndex, kubernetes_version: str) -> list[str]:
    group = obj.api_version.rpartition("/")[0]
    text = json.dumps(obj.body, sort_keys=True, default=str)
    if group in BUILT_IN_GROUPS:
        return list(_core_errors(text, kubernetes_version))
    found = crds.lookup(obj.api_version, obj.kind)
    if found is None:
        return [f"no CRD serves {obj.api_version} {obj.kind}: the API server would refuse it"]
    schema, source = found
    pruned = json.dumps(_without_nulls(obj.body), sort_keys=True, default=str)
    return [f"{e} (CRD from {source})" for e in _custom_errors(pruned, _strict(schema))]


def _without_nulls(value: Any) -> Any:
    """What the API server keeps of a custom resource: it prunes null values of fields that
    are not nullable before defaulting and validating (nullable ones accept null anyway)."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@lru_cache(maxsize=8192)
def _core_errors(text: str, kubernetes_version: str) -> tuple[str, ...]:
    body = json.loads(text)
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", str(body.get("apiVersion")))
    validator = _core_validator(str(body.get("kind")).lower(), api, kubernetes_version)
    if validator is None:
        return (f"no schema for it in Kubernetes {kubernetes_version}",)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    return tuple(_message(e) for e in errors[:3])


def _message(error: jsonschema.ValidationError) -> str:
    where = ".".join(map(str, error.absolute_path)) or "(root)"
    return f"{where}: {' '.join(error.message.split())}"


@lru_cache(maxsize=512)
def _core_validator(kind: str, api: str, kubernetes_version: str) -> Any:
    """kubernetes-validate's strict schema for a kind, loaded once (the library re-reads its
    JSON files on every call, most of a plan's validation time)."""
    directory = _schema_dir(kubernetes_version)
    try:
        schema = kv_utils.schema_contents(f"{directory}/{kind}-{api}.json", kubernetes_version)
    except FileNotFoundError:
        return None
    return jsonschema.validators.Draft202012Validator(
        schema, registry=Resource.from_contents(schema) @ _definitions(directory)
    )


@lru_cache(maxsize=8)
def _definitions(directory: str) -> Registry:
    contents = kv_utils.schema_contents(f"{directory}/_definitions.json", directory)
    return Resource.from_contents(contents) @ Registry()


def _schema_dir(kubernetes_version: str) -> str:
    """The newest schema set kubernetes-validate ships that is not newer than the version."""
    wanted = kv_utils.major_minor(kubernetes_version)
    usable = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= wanted]
    return f"kubernetes-json-schema/v{usable[-1]}-local-strict"


def _custom_errors(text: str, schema: _Strict) -> tuple[str, ...]:
    body = json.loads(text)
    errors = sorted(
        schema.validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))
    )
    return tuple(f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors)


class _Strict:
    """A CRD schema with unknown fields forbidden, and its validator (built once)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.source = schema  # held, so the id() key below is never reused while cached
        strict = copy.deepcopy(dict(schema))
        _forbid_unknown(strict)
        strict.setdefault("properties", {})["metadata"] = {"type": "object"}
        self.validator = jsonschema.Draft7Validator(strict)


_STRICT: dict[int, _Strict] = {}


def _strict(schema: Mapping[str, Any]) -> _Strict:
    key = id(schema)
    if key not in _STRICT:
        _STRICT[key] = _Strict(schema)
    return _STRICT[key]


def _forbid_unknown(node: Any) -> None:
    """Unknown fields forbidden; a required field with a default counts as present (the API
    server applies CRD defaults before it validates)."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(node.get("required"), list) and isinstance(properties, dict):
            node["required"] = [
                r for r in node["required"] if "default" not in (properties.get(r) or {})
            ]
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for value in node.values():
            _forbid_unknown(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_unknown(value)
