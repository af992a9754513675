"""The two `feature_store.yaml` files of the platform's Feast: the servers' and the tenants'.

Servers: SQL registry on Postgres (libpq verifies the server against `postgres_ca`, `system`
meaning the OS store, None with `sslmode=require`: see `trust.postgres_root_cert`), Redis
online store over TLS (`redis_ca`: the CA file, None for the OS store), dask offline store
reading the object store, `auth: kubernetes`. Credentials are `${VAR}` placeholders Feast
expands from the environment (exported by the entrypoint from mounted Secret files; libpq reads
PGUSER/PGPASSWORD itself), so the ConfigMap holds no secret.

Tenants: their own project, the shared registry server and their own online server over TLS
(verified with the platform CA), Kubernetes authentication; the offline store is read by the
tenant itself (dask, over its own object-store prefix with its own identity): the offline
server, which reads with the platform's identity, admits no tenant (see
`components.feast_tenancy`). No store endpoint or credential appears in the file.
"""

from __future__ import annotations

from typing import Any

import pulumi
import yaml

from components.credentials import has_username
from components.endpoints import Postgres, Redis

REGISTRY_PORT, ONLINE_PORT, OFFLINE_PORT = 6570, 6566, 8815
_CLUSTER = "svc.cluster.local"


def client_config(
    project: str, namespace: str, ca_file: str, online_service: str = "feast-online"
) -> dict[str, Any]:
    """The `feature_store.yaml` of a project's clients: the remote registry and online server
    over verified TLS, Kubernetes auth, the offline store read by the client itself."""
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
            "path": f"https://{online_service}.{namespace}.{_CLUSTER}:{ONLINE_PORT}",
            "cert": ca_file,
        },
        "offline_store": {"type": "dask"},
        "auth": {"type": "kubernetes"},
        "entity_key_serialization_version": 3,
    }


def offline_server(namespace: str, ca_file: str) -> dict[str, Any]:
    """Where the platform's offline server is (for the platform's own clients and checks)."""
    return {
        "type": "remote",
        "host": f"feast-offline.{namespace}.{_CLUSTER}",
        "port": OFFLINE_PORT,
        "scheme": "https",
        "cert": ca_file,
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
