"""`feature_store.yaml` per environment: the local platform's, and the cluster's (tenant contract).

Local: sqlite registry (Feast's SQL registry on a sqlite file), sqlite online store, file
offline store (`atomic_file_store`), all under one data directory.

Cluster: rendered from the `feast` block of a tenant in the tenant contract (stack output
`tenants.<name>.feast`), passed in as a plain dict so this module needs nothing from the IaC
side. The block's `registry`, `onlineStore` and `offlineStore` objects are Feast store settings;
their keys may be camelCase (as the contract writes them) or Feast's snake_case. Credentials
never appear in the contract: settings named like a password or secret must be `${ENV_VAR}`
references, which Feast expands from the pod's environment (mounted from the tenant's secret).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from workloads.features.atomic_file_store import STORE_TYPE as ATOMIC_FILE_STORE

PROJECT = "card_risk"
ENTITY_KEY_SERIALIZATION_VERSION = 3
_SECRET_KEY = re.compile(r"(password|secret|token|credential)", re.IGNORECASE)
_ENV_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def local_config(data_dir: Path, project: str = PROJECT) -> dict[str, Any]:
    data_dir = data_dir.resolve()
    return {
        "project": project,
        "provider": "local",
        "registry": {
            "registry_type": "sql",
            "path": f"sqlite:///{data_dir / 'registry.db'}",
            "cache_ttl_seconds": 60,
        },
        "online_store": {"type": "sqlite", "path": str(data_dir / "online.db")},
        "offline_store": {"type": ATOMIC_FILE_STORE},
        "entity_key_serialization_version": ENTITY_KEY_SERIALIZATION_VERSION,
    }


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _feast_settings(value: Any, path: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            item_path = f"{path}.{key}"
            if _SECRET_KEY.search(key) and not (
                isinstance(item, str) and _ENV_REFERENCE.match(item)
            ):
                problems.append(
                    f"{item_path} holds a literal credential; allowed: a ${{ENV_VAR}} reference"
                )
            converted[_snake(key)] = _feast_settings(item, item_path, problems)
        return converted
    if isinstance(value, list):
        return [_feast_settings(item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    return value


def cluster_config(contract_feast: dict[str, Any]) -> dict[str, Any]:
    """The tenant's `feature_store.yaml` content from its contract `feast` block.

    Accepts the block itself or a whole tenant entry (which has a `feast` key). Raises
    ValueError naming every missing or unsafe key at once.
    """
    block = contract_feast.get("feast", contract_feast)
    problems: list[str] = []
    for key in ("project", "registry", "onlineStore", "offlineStore"):
        if key not in block:
            problems.append(f"feast.{key} is missing")
        elif key != "project" and not isinstance(block[key], dict):
            problems.append(f"feast.{key} must be an object, got {type(block[key]).__name__}")
    if problems:
        raise ValueError("; ".join(problems))
    config = {
        "project": block["project"],
        "provider": "local",  # Feast's "local" provider is the Kubernetes one too (no cloud SDK)
        "registry": _feast_settings(block["registry"], "feast.registry", problems),
        "online_store": _feast_settings(block["onlineStore"], "feast.onlineStore", problems),
        "offline_store": _feast_settings(block["offlineStore"], "feast.offlineStore", problems),
        "entity_key_serialization_version": ENTITY_KEY_SERIALIZATION_VERSION,
    }
    if problems:
        raise ValueError("; ".join(problems))
    return config


def write(config: dict[str, Any], path: Path) -> Path:
    """Write `feature_store.yaml` readable by its owner only (it may name database hosts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    os.replace(temporary, path)
    return path
