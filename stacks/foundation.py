"""What a target's foundation hands to the platform layer.

Each target (onprem, aws, azure) builds its foundation — keys, network, cluster, data stores —
and returns a `Foundation`. The platform services, tenants and workloads are then the same code
on every target, pointed at these endpoints. Values may be Pulumi Outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


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


@dataclass(frozen=True)
class ManagedKafka:
    """A managed Kafka-protocol service (MSK, Event Hubs) used instead of Strimzi."""

    kind: str  # "msk" or "event-hubs"
    bootstrap: pulumi.Input[str]
    security_protocol: str  # SASL_SSL
    sasl_mechanism: str  # AWS_MSK_IAM / OAUTHBEARER / SCRAM-SHA-512
    resource_id: pulumi.Input[str]
    # What client pods must reach: the brokers' listener (tenant NetworkPolicies admit it).
    # Clients authenticate with their service account's cloud identity (MSK IAM, Entra
    # OAUTHBEARER), so they also need `Foundation.workload_identity_egress` and its pod labels.
    client_egress: tuple[EgressRule, ...] = ()


@dataclass(frozen=True)
class GpuPoolInfo:
    name: str
    product: str
    gpus_per_node: int
    capacity: int  # GPUs Kueue may hand out
    labels: dict[str, str]


@dataclass(frozen=True)
class SecurityException:
    """A deliberate, justified deviation from a secure default, shown in the compliance report."""

    control: str  # ISO/IEC 27001:2022 Annex A control, e.g. "8.24"
    policy: str  # the policy id it relates to, e.g. "UAE-ENC-001"
    what: str
    why: str
    remedy: str


@dataclass(frozen=True)
class Foundation:
    platform: str  # onprem | aws | azure
    location: str  # site name, AWS region or Azure location
    k8s_provider: k8s.Provider
    storage_class: str
    postgres: Postgres
    redis: Redis
    object_store: ObjectStore
    key_refs: dict[str, pulumi.Input[str]]  # purpose (data, secrets, logs) → key ARN/ID/URI
    gpu_pools: list[GpuPoolInfo]
    kafka: ManagedKafka | None = None
    # Whether the platform must install the NVIDIA driver/toolkit (on-prem) or the nodes come
    # with them (EKS AL2023 NVIDIA AMI, AKS GPU images) and only the device plugin is needed.
    gpu_driver_preinstalled: bool = False
    # What pods using the cloud's workload identity must reach to obtain credentials (EKS Pod
    # Identity agent, Entra ID), and the labels such pods need (Azure Workload Identity's
    # webhook acts only on labelled pods). Empty on-prem.
    workload_identity_egress: list[EgressRule] = field(default_factory=list)
    workload_identity_pod_labels: dict[str, str] = field(default_factory=dict)
    # Resources the platform layer must wait for (node groups, private endpoints...)
    ready: list[pulumi.Resource] = field(default_factory=list)
    # Extra facts for the tenant contract (region, registry, cluster name...)
    facts: dict[str, Any] = field(default_factory=dict)
    exceptions: list[SecurityException] = field(default_factory=list)
