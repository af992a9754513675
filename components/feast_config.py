"""The two `feature_store.yaml` files of the platform's Feast: the servers' and the tenants'.

Servers: SQL registry on Postgres (libpq verifies the server against `postgres_ca`, `system`
meaning the OS store, None with `sslmode=require`: see `trust.postgres_root_cert`), Redis
online store over TLS (`redis_ca`: the CA file, None for the OS store), dask offline store
reading the object store, `auth: kubernetes`. Credentials are `${VAR}` placeholders Feast
expands from the environment (exported by the entrypoint from mounted Secret files; libpq reads
PGUSER/PGPASSWORD itself), so the ConfigMap holds no secret.

Tenants: the three remote servers over TLS (verified with the platform CA) and Kubernetes
authentication; no store endpoint or credential at all.
"""

from __future__ import annotations

from typing import Any

import pulumi
import yaml

from components.credentials import has_username
from components.endpoints import Postgres, Redis

REGISTRY_PORT, ONLINE_PORT, OFFLINE_PORT = 6570, 6566, 8815
_CLUSTER = "svc.cluster.local"


def client_config(project: str, namespace: str, ca_file: str) -> dict[str, Any]:
    """The `feature_store.yaml` a tenant uses: remote servers only, TLS verified, k8s auth."""
    return {
        "project": project,
        "provider": "local",
        "registry": {
            "registry_type": "remote",
            "path": f"feast-registry.{namespace}.{_CLUSTER}:{REGISTRY_PORT}",
            "cert": ca_file,
            "is_tls": True,
        },
        "online_store": {
            "type": "remote",
            "path": f"https://feast-online.{namespace}.{_CLUSTER}:{ONLINE_PORT}",
            "cert": ca_file,
        },
        "offline_store": {
            "type": "remote",
            "host": f"feast-offline.{namespace}.{_CLUSTER}",
            "port": OFFLINE_PORT,
            "scheme": "https",
            "cert": ca_file,
        },
        "auth": {"type": "kubernetes"},
        "entity_key_serialization_version": 3,
    }


def server_config(
    project: str,
    postgres: Postgres,
    redis: Redis,
    postgres_ca: str | None,
    redis_ca: str | None,
) -> pulumi.Output[str]:
    """The servers' `feature_store.yaml` (hosts may be Outputs)."""

    def render(hosts: list[str]) -> str:
        pg_host, redis_host = hosts
        connection = [f"{redis_host}:{redis.port}"]
        if redis.tls:
            connection.append("ssl=true")
            if redis_ca:
                connection.append(f"ssl_ca_certs={redis_ca}")
        if has_username(redis.credentials):
            connection.append("username=${REDIS_USERNAME}")
        connection.append("password=${REDIS_PASSWORD}")
        doc = {
            "project": project,
            "provider": "local",
            "registry": {
                "registry_type": "sql",
                "path": f"postgresql+psycopg://{pg_host}:{postgres.port}/{postgres.feast_database}"
                f"?sslmode={postgres.ssl_mode}"
                + (f"&sslrootcert={postgres_ca}" if postgres_ca else ""),
                "cache_ttl_seconds": 60,
                "sqlalchemy_config_kwargs": {"pool_pre_ping": True},
            },
            "online_store": {"type": "redis", "connection_string": ",".join(connection)},
            "offline_store": {"type": "dask"},
            "auth": {"type": "kubernetes"},
            "entity_key_serialization_version": 3,
        }
        return yaml.safe_dump(doc, sort_keys=False)

    return pulumi.Output.all(postgres.host, redis.host).apply(render)
