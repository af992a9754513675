"""The endpoints and values the platform components consume, whatever target provides them.

A foundation (on-prem operators, RDS/ElastiCache/S3, Azure services) describes its stores and
its outbound destinations with these types; the components (MLflow, Feast, the tenant
namespace, the credential and trust helpers) read them from their Args. They live here, below
both, so components never import the stacks that build them. Values may be Pulumi Outputs.

| type | what |
|---|---|
| `Credentials` | Pulumi-managed username/password, or a Secret the site provides |
| `EgressRule` | a destination outside the cluster pods must reach (NetworkPolicy `ipBlock`) |
| `Postgres`, `Redis` | a store's address, credentials and the CA that verifies it |
| `ObjectStore` | S3-compatible or Azure Blob storage for artifacts and the offline store |
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class Credentials:
    """How a consumer gets credentials for a store.

    Either Pulumi manages the values (`username`/`password`, the password a secret Output) and
    the platform writes them as a Secret into each consumer's namespace, or the site provides an
    existing Secret of `existing_secret`'s name in those namespaces (keys `username`/`password`).
    """

    username: pulumi.Input[str] | None = None
    password: pulumi.Input[str] | None = None
    existing_secret: str | None = None


@dataclass(frozen=True)
class EgressRule:
    """A destination outside the cluster that pods must reach, as a NetworkPolicy `ipBlock`.

    Namespaces are default-deny egress; a foundation describes here what its cloud needs
    (the EKS Pod Identity agent, the Entra ID token endpoint, managed Kafka brokers) so the
    platform layer admits exactly that, without knowing which cloud it runs on.
    `name` is a DNS label: the NetworkPolicy is called `allow-<name>`.
    """

    name: str
    cidr: str
    ports: tuple[int, ...]
    except_cidrs: tuple[str, ...] = ()  # ranges inside `cidr` that stay denied
    why: str = ""
    # A world range (0.0.0.0/0, ::/0) is refused by UAE-NET-004 unless this says why no
    # narrower one will do: written on the NetworkPolicy as `mlplatform.io/egress-exception`.
    exception: str = ""


@dataclass(frozen=True)
class Postgres:
    host: pulumi.Input[str]
    port: int
    credentials: Credentials
    ssl_mode: str = "verify-full"
    ca_secret: str | None = None  # Secret with ca.crt in consumer namespaces, if not a public CA
    # The CA certificates themselves, when consumers must create `ca_secret` in their own
    # namespaces (e.g. the RDS bundle); None when the Secret is distributed another way.
    ca_pem: str | None = None
    mlflow_database: str = "mlflow"
    feast_database: str = "feast_registry"
    # Databases the foundation does not provision (RDS creates only its `db_name`): the
    # service that owns one creates it before it starts (Feast: a bootstrap Job).
    databases_to_create: tuple[str, ...] = ()


@dataclass(frozen=True)
class Redis:
    host: pulumi.Input[str]
    port: int
    credentials: Credentials
    tls: bool = True
    # Secret with `ca.crt` in consumer namespaces when the server's certificate does not chain
    # to a CA in the OS trust store (the platform CA in-cluster, a site's internal CA).
    ca_secret: str | None = None


@dataclass(frozen=True)
class ObjectStore:
    """S3-compatible (on-prem, AWS) or Azure Blob storage for artifacts and the offline store."""

    kind: str  # "s3" or "azure-blob"
    endpoint: pulumi.Input[str] | None  # None means the cloud's regional endpoint
    region: str
    artifact_uri: pulumi.Input[str]  # e.g. s3://bucket/mlflow or wasbs://container@acct...
    offline_store_uri: pulumi.Input[str]
    credentials: Credentials | None = None  # None: workload identity, see service_accounts
    # Secret with `ca.crt` in consumer namespaces for an S3-compatible store whose certificate
    # comes from an internal CA (on-prem); None: the OS trust store verifies it.
    ca_secret: str | None = None
    # Annotations that give a platform ServiceAccount cloud access (IRSA role ARN, Azure
    # workload identity client ID), keyed by service account name in components.conventions.
    service_account_annotations: dict[str, dict[str, pulumi.Input[str]]] = field(
        default_factory=dict
    )
