"""MLflow users for tenants: a random password each, created through MLflow's auth API.

| child | purpose |
|---|---|
| RandomPassword per user | `pulumi_random`, 32 characters, stays a Pulumi secret |
| Secret `mlflow-users` | user → password, read only by the bootstrap Job |
| ServiceAccount `mlflow-bootstrap` | the Job's identity; no API token |
| Job `mlflow-users-<hash of the user list>` | creates each user, or re-keys it if it exists |
| NetworkPolicy `allow-bootstrap` | the Job may reach the MLflow server and nothing else |

The Job authenticates as the admin (Secret `mlflow-auth`, mounted as files and exported by the
entrypoint) and verifies the server with the CA certificate only (not the server's key).
A changed user list gives the Job a new name, so Pulumi runs it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.credentials import SECRET_FILE_MODE, SecretEnv, exec_with_secret_env
from components.namespace import pull_secrets
from components.placement import Placement
from components.security_context import container_security, pod_security, tmp_volume

_BOOTSTRAP = {"app.kubernetes.io/name": "mlflow-bootstrap"}

# Creates (or re-keys) one MLflow user per file in /var/run/secrets/mlflow/users, as the admin.
_PROVISION_USERS = """
import os, pathlib
from mlflow.exceptions import RestException
from mlflow.server.auth.client import AuthServiceClient
client = AuthServiceClient(os.environ["MLFLOW_TRACKING_URI"])
for entry in sorted(pathlib.Path("/var/run/secrets/mlflow/users").iterdir()):
    if entry.name.startswith("."):
        continue
    password = entry.read_text()
    try:
        client.create_user(entry.name, password)
        print("created", entry.name)
    except RestException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        client.update_user_password(entry.name, password)
        print("updated", entry.name)
"""


@dataclass(frozen=True)
class UsersArgs:
    users: tuple[str, ...]
    image: str
    namespace: str
    labels: dict[str, str]
    tracking_uri: str  # as the Job reaches the server
    server_labels: dict[str, str]  # the server pods, for the Job's egress policy
    port: int
    image_pull_secret: str | None = None
    placement: Placement = field(default_factory=Placement)  # components.placement


_ADMIN = SecretEnv(
    "auth",
    "mlflow-auth",
    "/var/run/secrets/mlflow/auth",
    {
        "MLFLOW_TRACKING_USERNAME": "admin-username",
        "MLFLOW_TRACKING_PASSWORD": "admin-password",
    },
)


def provision_users(
    parent: pulumi.Resource,
    name: str,
    args: UsersArgs,
    rng: random.Provider,
    depends_on: list[pulumi.Resource],
) -> tuple[dict[str, pulumi.Output[str]], pulumi.Resource | None]:
    """One MLflow user per tenant, created by a Job that calls the auth API as admin.

    Returns tenant → password (secret Output), for the tenant's `mlflow-credentials` Secret,
    and the Job (None without users): what a tenant's access waits for.
    """
    secret_opts = pulumi.ResourceOptions(parent=parent, provider=rng)
    in_ns = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)

    def meta(resource: str) -> k8s.meta.v1.ObjectMetaArgsDict:
        return {"name": resource, "namespace": args.namespace, "labels": args.labels}

    if not args.users:
        return {}, None
    passwords: dict[str, pulumi.Output[str]] = {
        user: pulumi.Output.secret(
            random.RandomPassword(
                f"{name}-user-{user}", length=32, special=False, opts=secret_opts
            ).result
        )
        for user in args.users
    }
    users_secret = k8s.core.v1.Secret(
        f"{name}-users",
        metadata=meta("mlflow-users"),
        type="Opaque",
        string_data=passwords,
        opts=in_ns,
    )
    k8s.core.v1.ServiceAccount(
        f"{name}-bootstrap-sa",
        metadata=meta("mlflow-bootstrap"),
        automount_service_account_token=False,
        opts=in_ns,
    )
    digest = hashlib.sha256(",".join(sorted(args.users)).encode()).hexdigest()[:8]
    job = k8s.batch.v1.Job(
        f"{name}-users-job",
        metadata=meta(f"mlflow-users-{digest}"),
        spec=_job_spec(args),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, users_secret]),
    )
    # The Job talks to the server and nothing else (besides DNS, allowed namespace-wide).
    policy_spec: Any = {
        "podSelector": {"matchLabels": _BOOTSTRAP},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [
            {
                "to": [{"podSelector": {"matchLabels": args.server_labels}}],
                "ports": [{"protocol": "TCP", "port": args.port}],
            }
        ],
    }
    k8s.networking.v1.NetworkPolicy(
        f"{name}-np-bootstrap",
        metadata=meta("allow-bootstrap"),
        spec=policy_spec,
        opts=in_ns,
    )
    return passwords, job


def _job_spec(args: UsersArgs) -> Any:
    """The provisioning Job: as the admin, over TLS verified with the CA certificate only.

    Any: camelCase manifests pass through verbatim (the SDK's *ArgsDict types are snake_case).
    """
    tmp, tmp_mount = tmp_volume("64Mi")
    container = {
        "name": "provision",
        "image": args.image,
        "command": exec_with_secret_env(["python", "-c", _PROVISION_USERS], [_ADMIN]),
        "env": [
            {"name": "MLFLOW_TRACKING_URI", "value": args.tracking_uri},
            {"name": "MLFLOW_TRACKING_SERVER_CERT_PATH", "value": "/etc/mlflow/ca/ca.crt"},
            {"name": "HOME", "value": "/tmp"},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [
            tmp_mount,
            _ADMIN.mount_spec(),
            {"name": "users", "mountPath": "/var/run/secrets/mlflow/users", "readOnly": True},
            {"name": "ca", "mountPath": "/etc/mlflow/ca", "readOnly": True},
        ],
    }
    volumes = [
        tmp,
        _ADMIN.volume_spec(),
        {
            "name": "users",
            "secret": {"secretName": "mlflow-users", "defaultMode": SECRET_FILE_MODE},
        },
        # Only the CA certificate, not the server's private key.
        {
            "name": "ca",
            "secret": {"secretName": "mlflow-tls", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
        },
    ]
    return {
        "backoffLimit": 6,
        "template": {
            "metadata": {"labels": {**args.labels, **_BOOTSTRAP}},
            "spec": {
                "restartPolicy": "OnFailure",
                "serviceAccountName": "mlflow-bootstrap",
                "automountServiceAccountToken": False,
                "securityContext": pod_security(),
                **args.placement.pod(),
                "imagePullSecrets": pull_secrets(args.image_pull_secret) or None,
                "containers": [container],
                "volumes": volumes,
            },
        },
    }
