"""How the Feast servers reach their stores: credentials, the CAs that verify them, S3 settings.

- Credentials: one Secret per store in the `feast` namespace (or the site's existing Secret),
  mounted as files and exported by the entrypoint (`credentials.exec_with_secret_env`):
  `PGUSER`/`PGPASSWORD` (libpq reads them), `REDIS_USERNAME`/`REDIS_PASSWORD` (expanded in the
  server `feature_store.yaml`), the object store's keys unless workload identity is used.
- Trust: each store's `ca_secret` from the foundation (the platform CA bundle for the on-prem
  operators, a site's internal CA, the RDS bundle) is mounted read-only, `ca.crt` only; without
  one the OS trust store verifies the store. The object store's CA reaches botocore (and s3fs,
  which dask uses for `s3://` paths) as `AWS_CA_BUNDLE`, in the offline server, the only one
  that reads the object store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.credentials import SecretEnv, credentials_secret, has_username, libpq_secret_env
from components.endpoints import ObjectStore, Postgres, Redis
from components.trust import ca_volume, postgres_ca_secret

PG_CA = "/etc/feast/postgres-ca"
REDIS_CA = "/etc/feast/redis-ca"
STORE_CA = "/etc/feast/object-store-ca"


@dataclass(frozen=True)
class StoreSecrets:
    postgres: SecretEnv
    redis: SecretEnv
    object_store: tuple[SecretEnv, ...]  # empty with workload identity


def store_secrets(
    name: str,
    namespace: str,
    labels: dict[str, str],
    stores: tuple[Postgres, Redis, ObjectStore],
    opts: pulumi.ResourceOptions,
) -> StoreSecrets:
    """Declare the credentials Secrets (and the Postgres CA the foundation hands over)."""
    postgres, redis, store = stores
    postgres_ca_secret(f"{name}-pg-ca", namespace, postgres, labels, opts)
    pg = libpq_secret_env(
        credentials_secret(
            f"{name}-pg", namespace, "feast-postgres", labels, postgres.credentials, opts
        ),
        "/var/run/secrets/feast/postgres",
        postgres.credentials,
    )
    cache = SecretEnv(
        "redis",
        credentials_secret(
            f"{name}-redis", namespace, "feast-redis", labels, redis.credentials, opts
        ),
        "/var/run/secrets/feast/redis",
        {
            **({"REDIS_USERNAME": "username"} if has_username(redis.credentials) else {}),
            "REDIS_PASSWORD": "password",
        },
    )
    if store.credentials is None:
        return StoreSecrets(pg, cache, ())  # workload identity through the ServiceAccount
    secret = credentials_secret(
        f"{name}-store", namespace, "feast-object-store", labels, store.credentials, opts
    )
    exports = (
        {"AZURE_STORAGE_ACCOUNT_KEY": "password"}
        if store.kind == "azure-blob"
        else {"AWS_ACCESS_KEY_ID": "username", "AWS_SECRET_ACCESS_KEY": "password"}
    )
    objects = SecretEnv("object-store", secret, "/var/run/secrets/feast/store", exports)
    return StoreSecrets(pg, cache, (objects,))


def trust_volumes(
    role: str, postgres: Postgres, redis: Redis, store: ObjectStore
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, mounts) of the CA certificates a server verifies its stores with."""
    trust = [("postgres-ca", postgres.ca_secret, PG_CA), ("redis-ca", redis.ca_secret, REDIS_CA)]
    if role == "offline" and store.kind == "s3":
        trust.append(("object-store-ca", store.ca_secret, STORE_CA))
    volumes, mounts = [], []
    for volume_name, secret, path in trust:
        if secret:
            volume, mount = ca_volume(volume_name, secret, path)
            volumes.append(volume)
            mounts.append(mount)
    return volumes, mounts


def store_env(role: str, store: ObjectStore) -> list[dict[str, Any]]:
    """The offline server's S3 settings (region, endpoint, CA); nothing for other servers."""
    if role != "offline" or store.kind == "azure-blob":
        return []
    env: list[dict[str, Any]] = [{"name": "AWS_DEFAULT_REGION", "value": store.region}]
    if store.endpoint is not None:
        env += [
            {"name": "AWS_ENDPOINT_URL_S3", "value": store.endpoint},
            {"name": "FEAST_S3_ENDPOINT_URL", "value": store.endpoint},
        ]
    if store.ca_secret:
        env.append({"name": "AWS_CA_BUNDLE", "value": f"{STORE_CA}/ca.crt"})
    return env
