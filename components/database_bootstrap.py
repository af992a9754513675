"""`create_database`: a Job that creates a service's own Postgres database where the foundation
does not (RDS creates only its `db_name`; see `components.endpoints.Postgres.databases_to_create`).

| child | purpose |
|---|---|
| ServiceAccount `db-bootstrap` | the Job's identity; no API token |
| Job `create-db-<database>` | `CREATE DATABASE` when absent, as the platform's Postgres role, |
| | over TLS verified like the service's own connection (`sslmode`, the foundation's CA) |
| NetworkPolicy `allow-db-bootstrap` | the Job may reach Postgres and nothing else (DNS aside) |

Why a Job: pulumi_aws has no resource for a database inside an RDS instance, and a SQL provider
run by Pulumi would need the deployer to reach a private database; the cluster already can.
Why the service's own image and not `psql`: the image already holds psycopg (Feast's SQL
registry URL is `postgresql+psycopg://`), whose libpq reads `PGHOST`, `PGSSLMODE`,
`PGSSLROOTCERT`... from the environment, so no Postgres client image is added to the catalogue
and the mirror. The script is idempotent (it checks `pg_database`; a concurrent creation counts
as success), changes no grant and creates nothing else; the connecting role owns the database.
Pulumi waits for the Job to complete, so the service's Deployments can depend on it.

The Job is named after the database only: it runs once, and again only if it is replaced
(Pulumi recreates it when its spec changes, e.g. a new image or Postgres host).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.credentials import SecretEnv, exec_with_secret_env
from components.endpoints import Postgres
from components.namespace import pull_secrets
from components.network_policies import NetworkPeer
from components.placement import Placement
from components.security_context import container_security, pod_security, tmp_volume
from components.trust import ca_volume, postgres_root_cert

SERVICE_ACCOUNT = "db-bootstrap"
POD_LABELS = {"app.kubernetes.io/name": "db-bootstrap"}
_CA_MOUNT = "/etc/mlplatform/postgres-ca"
_MAINTENANCE_DATABASE = "postgres"  # exists on RDS, Azure Flexible Server and CloudNativePG

_CREATE_DATABASE = """
import os
import psycopg
from psycopg import errors, sql
name = os.environ["MLP_DATABASE"]
# libpq takes host, port, database, user, password and TLS settings from PG* variables.
with psycopg.connect(autocommit=True) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        print("database exists:", name)
    else:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print("database created:", name)
        except errors.DuplicateDatabase:
            print("database exists:", name)
"""


@dataclass(frozen=True)
class DatabaseBootstrapArgs:
    database: str
    postgres: Postgres
    image: str  # the service's image (it must contain psycopg 3)
    namespace: str
    labels: dict[str, str]
    credentials: SecretEnv  # the service's Postgres Secret, exporting PGUSER/PGPASSWORD
    egress: tuple[NetworkPeer, ...]  # where Postgres is
    image_pull_secret: str | None = None
    placement: Placement = field(default_factory=Placement)  # components.placement


def job_name(database: str) -> str:
    return f"create-db-{database.replace('_', '-')}"


def create_database(
    parent: pulumi.Resource,
    name: str,
    args: DatabaseBootstrapArgs,
    depends_on: list[pulumi.Resource],
) -> k8s.batch.v1.Job:
    """Declare the Job (and its identity and network policy); returns the Job to depend on."""
    labels = {**args.labels, **POD_LABELS}
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)

    def meta(resource: str) -> k8s.meta.v1.ObjectMetaArgsDict:
        return {"name": resource, "namespace": args.namespace, "labels": labels}

    account = k8s.core.v1.ServiceAccount(
        f"{name}-sa",
        metadata=meta(SERVICE_ACCOUNT),
        automount_service_account_token=False,
        opts=opts,
    )
    # Any: camelCase manifests pass through verbatim (the SDK's *ArgsDict types are snake_case).
    policy_spec: Any = {
        "podSelector": {"matchLabels": POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [peer.rule("to") for peer in args.egress],
    }
    policy = k8s.networking.v1.NetworkPolicy(
        f"{name}-np",
        metadata=meta("allow-db-bootstrap"),
        spec=policy_spec,
        opts=opts,
    )
    return k8s.batch.v1.Job(
        name,
        metadata=meta(job_name(args.database)),
        spec=_job_spec(args, labels),
        # The policies first: under default-deny the Job could not reach Postgres without them.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, account, policy]),
    )


def _job_spec(args: DatabaseBootstrapArgs, labels: dict[str, str]) -> Any:
    """The Job: the service's image runs the script as the service's Postgres role, over TLS
    verified like the service's own connection. Any: camelCase manifests pass through verbatim
    (the SDK's *ArgsDict types are snake_case)."""
    pg = args.postgres
    tmp, tmp_mount = tmp_volume("64Mi")
    volumes = [tmp, args.credentials.volume_spec()]
    mounts = [tmp_mount, args.credentials.mount_spec()]
    if pg.ca_secret:
        volume, mount = ca_volume("postgres-ca", pg.ca_secret, _CA_MOUNT)
        volumes.append(volume)
        mounts.append(mount)
    root_cert = postgres_root_cert(pg, f"{_CA_MOUNT}/ca.crt")
    env: dict[str, pulumi.Input[str]] = {
        "PGHOST": pg.host,
        "PGPORT": str(pg.port),
        "PGDATABASE": _MAINTENANCE_DATABASE,
        "PGSSLMODE": pg.ssl_mode,
        **({"PGSSLROOTCERT": root_cert} if root_cert else {}),
        "PGCONNECT_TIMEOUT": "10",
        "PGAPPNAME": "mlplatform-db-bootstrap",
        "MLP_DATABASE": args.database,
        "HOME": "/tmp",
    }
    container = {
        "name": "create-database",
        "image": args.image,
        "imagePullPolicy": "IfNotPresent",
        "command": exec_with_secret_env(["python", "-c", _CREATE_DATABASE], [args.credentials]),
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": container_security(),
        "volumeMounts": mounts,
    }
    return {
        "backoffLimit": 6,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "OnFailure",
                "serviceAccountName": SERVICE_ACCOUNT,
                **args.placement.pod(),
                "automountServiceAccountToken": False,
                "securityContext": pod_security(),
                "imagePullSecrets": pull_secrets(args.image_pull_secret) or None,
                "containers": [container],
                "volumes": volumes,
            },
        },
    }
