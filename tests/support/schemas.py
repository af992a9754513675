"""Validating rendered Kubernetes objects: core kinds with kubernetes-validate, custom resources
against the published CRDs in ../shared/reference/crds (unknown fields are errors, as a real
API server would prune or reject them)."""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def crd_dir() -> Path | None:
    candidates = [os.environ.get("MLPLATFORM_CRDS"), ROOT.parent / "shared/reference/crds"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def require_crds() -> Path:
    found = crd_dir()
    if found is None:
        pytest.skip(
            "reference CRDs not found: set MLPLATFORM_CRDS or place shared/reference/crds beside "
            "the repository (they are not vendored into the project)"
        )
    return found


@cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema of every served version."""
    directory = crd_dir()
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    if directory is None:
        return schemas
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                if version.get("served"):
                    schema = version["schema"]["openAPIV3Schema"]
                    schemas[(f"{group}/{version['name']}", kind)] = _strict(schema)
    return schemas


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Forbid unknown fields wherever the CRD lists properties and does not preserve unknowns."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # metadata is validated by the API server's ObjectMeta, not the CRD schema
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


def custom_resource_errors(obj: dict[str, Any]) -> list[str]:
    """Schema errors for a custom resource; raises KeyError if its CRD/version is unknown."""
    schema = _crd_schemas()[(obj["apiVersion"], obj["kind"])]
    validator = jsonschema.Draft7Validator(schema)
    name = f"{obj['kind']}/{obj.get('metadata', {}).get('name')}"
    return [
        f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(obj)
    ]


def known_custom_resource(obj: dict[str, Any]) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) in _crd_schemas()


def core_object_errors(obj: dict[str, Any], kubernetes_version: str) -> list[str]:
    """Errors from the official Kubernetes schema for core kinds (strict: unknown fields fail)."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, f"{kubernetes_version}.0", strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{obj['kind']}/{obj.get('metadata', {}).get('name')}: {error.message}"]
    return []
