"""feature_store.yaml per environment: both render to configurations Feast accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from feast.repo_config import load_repo_config

from workloads.features import store_config

CONTRACT_TENANT = {
    "namespace": "team-risk",
    "feast": {
        "project": "team_risk",
        "featureServer": "https://feast.team-risk.svc:6566",
        "registry": {
            "registryType": "sql",
            "path": "postgresql+psycopg://feast:${FEAST_DB_PASSWORD}@pg.feast:5432/registry",
            "cacheTtlSeconds": 60,
        },
        "onlineStore": {
            "type": "redis",
            "connectionString": "redis.feast:6379,ssl=true,password=${REDIS_PASSWORD}",
        },
        "offlineStore": {"type": "file"},
        "featureStoreYaml": "...",
    },
}


def _load(config: dict, directory: Path) -> object:
    path = store_config.write(config, directory / "feature_store.yaml")
    assert path.stat().st_mode & 0o077 == 0
    return load_repo_config(directory, path)


def test_local_config_is_sqlite_and_the_atomic_file_store(tmp_path: Path) -> None:
    repo = _load(store_config.local_config(tmp_path), tmp_path)
    assert repo.online_store.type == "sqlite"
    assert repo.registry.registry_type == "sql"
    assert repo.registry.path == f"sqlite:///{tmp_path.resolve() / 'registry.db'}"
    assert repo.offline_store.type.endswith("AtomicFileOfflineStore")


def test_cluster_config_comes_from_the_contract_block(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    monkeypatch.setenv("FEAST_DB_PASSWORD", "pw")
    config = store_config.cluster_config(CONTRACT_TENANT)
    assert config["registry"]["registry_type"] == "sql"
    assert config["online_store"]["connection_string"].endswith("${REDIS_PASSWORD}")
    repo = _load(config, tmp_path)
    assert repo.project == "team_risk"
    assert repo.online_store.type == "redis"
    # Feast expands the reference from the pod's environment at load time
    assert repo.online_store.connection_string.endswith("password=s3cret")
    # the rendered file itself holds only the reference
    assert "s3cret" not in (tmp_path / "feature_store.yaml").read_text()


def test_cluster_config_names_every_missing_key() -> None:
    with pytest.raises(ValueError) as error:
        store_config.cluster_config({"feast": {"project": "p", "registry": "sqlite:///x"}})
    message = str(error.value)
    assert "feast.onlineStore is missing" in message
    assert "feast.offlineStore is missing" in message
    assert "feast.registry must be an object" in message


def test_cluster_config_refuses_literal_credentials() -> None:
    block = {
        "feast": {
            **CONTRACT_TENANT["feast"],
            "onlineStore": {"type": "redis", "password": "hunter2"},
        }
    }
    with pytest.raises(ValueError, match=r"feast.onlineStore.password holds a literal credential"):
        store_config.cluster_config(block)


def test_render_cluster_cli_reads_a_contract_file(tmp_path: Path) -> None:
    from workloads.features.__main__ import main

    contract = tmp_path / "outputs.json"
    contract.write_text(json.dumps({"tenants": {"team-risk": CONTRACT_TENANT}}))
    out = tmp_path / "cluster" / "feature_store.yaml"
    assert (
        main(
            [
                "render-cluster",
                "--contract",
                str(contract),
                "--tenant",
                "team-risk",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert yaml.safe_load(out.read_text())["online_store"]["type"] == "redis"
    assert (
        main(
            ["render-cluster", "--contract", str(contract), "--tenant", "nobody", "--out", str(out)]
        )
        == 2
    )
