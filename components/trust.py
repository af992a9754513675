"""The CA certificates that verify a store, and how clients are pointed at them.

| helper | what |
|---|---|
| `ca_volume` | mount a CA Secret's `ca.crt` (stores signed by a private CA) |
| `postgres_ca_secret` | write the database CA the foundation hands over (e.g. the RDS bundle) |
| `postgres_root_cert` | libpq's `sslrootcert`: the mounted CA, the OS store, or none |
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.credentials import SECRET_FILE_MODE
from components.endpoints import Postgres


def ca_volume(volume: str, secret: str, mount: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) for the `ca.crt` of a CA Secret, read-only at `mount`/ca.crt."""
    return (
        {
            "name": volume,
            "secret": {
                "secretName": secret,
                "defaultMode": SECRET_FILE_MODE,
                "items": [{"key": "ca.crt", "path": "ca.crt"}],
            },
        },
        {"name": volume, "mountPath": mount, "readOnly": True},
    )


def postgres_ca_secret(
    name: str,
    namespace: str,
    postgres: Postgres,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> None:
    """Write the database CA (public certificates) into `namespace` when the foundation hands
    the PEM over (e.g. the RDS bundle); other foundations distribute `ca_secret` themselves."""
    if postgres.ca_secret and postgres.ca_pem:
        k8s.core.v1.Secret(
            name,
            metadata={"name": postgres.ca_secret, "namespace": namespace, "labels": labels},
            type="Opaque",
            string_data={"ca.crt": postgres.ca_pem},
            opts=opts,
        )


def postgres_root_cert(postgres: Postgres, ca_file: str) -> str | None:
    """libpq's `sslrootcert` for `postgres`: `ca_file` where the foundation names a CA Secret
    (mounted there), else `system` (the OS store; libpq >= 16 refuses it with any sslmode
    below verify-full), else None: `sslmode=require` encrypts without verifying the server,
    which the foundation declares as a SecurityException (RDS without its CA bundle)."""
    if postgres.ca_secret:
        return ca_file
    return "system" if postgres.ssl_mode == "verify-full" else None
