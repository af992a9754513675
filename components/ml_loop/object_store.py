"""How a tenant pod reads and writes its object-store prefix (`workloads/storage.py`).

| store | what the pod gets |
|---|---|
| S3 (AWS) | `AWS_REGION`; credentials from the ServiceAccount's Pod Identity |
| S3-compatible (on-prem) | `AWS_REGION`, `AWS_ENDPOINT_URL_S3`, the store's CA as |
| | `AWS_CA_BUNDLE`, the site's credentials Secret mounted and exported right before `exec` |
| Azure Blob / ADLS | nothing: azure-identity's DefaultAzureCredential uses the workload identity |

Credentials never appear in the pod spec (`components.credentials.exec_with_secret_env`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.credentials import SECRET_FILE_MODE, SecretEnv, exec_with_secret_env
from components.endpoints import ObjectStore

CA_MOUNT = "/etc/mlplatform/object-store-ca"
CREDENTIALS_MOUNT = "/etc/mlplatform/object-store"


@dataclass(frozen=True)
class StoreAccess:
    env: dict[str, Any] = field(default_factory=dict)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[SecretEnv] = field(default_factory=list)

    def command(self, command: list[Any]) -> list[Any]:
        """`command`, wrapped to export the credentials files when there are any."""
        return exec_with_secret_env(command, self.secrets) if self.secrets else command


def store_access(store: ObjectStore) -> StoreAccess:
    if store.kind == "azure-blob":
        return StoreAccess()
    env: dict[str, Any] = {"AWS_REGION": store.region}
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    secrets: list[SecretEnv] = []
    if store.endpoint is not None:
        env["AWS_ENDPOINT_URL_S3"] = store.endpoint
    if store.ca_secret:
        volumes.append(
            {
                "name": "object-store-ca",
                "secret": {"secretName": store.ca_secret, "defaultMode": SECRET_FILE_MODE},
            }
        )
        mounts.append({"name": "object-store-ca", "mountPath": CA_MOUNT, "readOnly": True})
        env["AWS_CA_BUNDLE"] = f"{CA_MOUNT}/ca.crt"
    credentials = store.credentials
    if credentials is not None:
        if not credentials.existing_secret:
            raise ValueError(
                "objectStore.credentialsSecret: tenant pods read the store with the site's "
                "credentials Secret (keys username/password) or a workload identity; "
                "Pulumi-managed store credentials are not written into tenant namespaces"
            )
        secret = SecretEnv(
            "object-store-credentials",
            credentials.existing_secret,
            CREDENTIALS_MOUNT,
            {"AWS_ACCESS_KEY_ID": "username", "AWS_SECRET_ACCESS_KEY": "password"},
        )
        secrets.append(secret)
        volumes.append(secret.volume_spec())
        mounts.append(secret.mount_spec())
    return StoreAccess(env, volumes, mounts, secrets)
