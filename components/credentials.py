"""Store credentials as Secrets, and how pods read them: as files, never as env in the spec.

| helper | what |
|---|---|
| `credentials_secret` | the Secret (`username`/`password`) holding a store's credentials |
| `SecretEnv`, `exec_with_secret_env` | mount Secrets as files, export them in the entrypoint |
| `libpq_secret_env`, `has_username` | PGUSER/PGPASSWORD from a store's credentials Secret |

Why `exec_with_secret_env`: libpq (`PGUSER`/`PGPASSWORD`), the AWS SDK and the MLflow/Feast
servers read credentials from the environment only. Putting `secretKeyRef` in the pod spec would
break UAE-K8S-004 (CKV_K8S_35: secrets as files, not environment variables), so Secrets are
mounted read-only and a POSIX shell exports them into the process environment right before
`exec` — the values never appear in the pod spec, in argv, or in a ConfigMap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.endpoints import Credentials

SECRET_FILE_MODE = 0o440  # owner + fsGroup read; nothing else


def credentials_secret(
    name: str,
    namespace: str,
    secret_name: str,
    labels: dict[str, str],
    credentials: Credentials,
    opts: pulumi.ResourceOptions,
) -> str:
    """The name of a Secret with keys `username`/`password` in `namespace`.

    Pulumi-managed credentials are written into a new Secret (values stay Pulumi secrets); an
    `existing_secret` provided by the site is referenced as is (it must exist in `namespace`).
    """
    if credentials.existing_secret:
        return credentials.existing_secret
    if credentials.password is None:
        raise ValueError(f"{name}: credentials need a password or an existing_secret")
    data: dict[str, pulumi.Input[str]] = {"password": pulumi.Output.secret(credentials.password)}
    if credentials.username is not None:
        data["username"] = credentials.username
    k8s.core.v1.Secret(
        name,
        metadata={"name": secret_name, "namespace": namespace, "labels": labels},
        type="Opaque",
        string_data=data,
        opts=opts,
    )
    return secret_name


def has_username(credentials: Credentials) -> bool:
    return bool(credentials.existing_secret) or credentials.username is not None


@dataclass(frozen=True)
class SecretEnv:
    """A Secret mounted read-only at `mount`; `exports` maps ENV_NAME → key in the Secret."""

    volume: str
    secret: str
    mount: str
    exports: dict[str, str] = field(default_factory=dict)

    def volume_spec(self) -> dict[str, Any]:
        return {
            "name": self.volume,
            "secret": {"secretName": self.secret, "defaultMode": SECRET_FILE_MODE},
        }

    def mount_spec(self) -> dict[str, Any]:
        return {"name": self.volume, "mountPath": self.mount, "readOnly": True}


def libpq_secret_env(secret: str, mount: str, credentials: Credentials) -> SecretEnv:
    """PGUSER (when the credentials name one) and PGPASSWORD from a credentials Secret."""
    user = {"PGUSER": "username"} if has_username(credentials) else {}
    return SecretEnv("postgres", secret, mount, {**user, "PGPASSWORD": "password"})


def exec_with_secret_env(command: list[Any], secrets: list[SecretEnv]) -> list[Any]:
    """Wrap `command` so the listed Secret files are exported as environment variables.

    `set -eu` makes a missing key fail the container instead of starting with empty credentials.
    """
    names: list[str] = []
    lines = ["set -eu"]
    for secret in secrets:
        for var, key in secret.exports.items():
            lines.append(f'{var}="$(cat {secret.mount}/{key})"')
            names.append(var)
    if names:
        lines.append("export " + " ".join(names))
    lines.append('exec "$@"')
    return ["/bin/sh", "-c", "; ".join(lines), str(command[0]), *command]
