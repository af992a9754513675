"""What a target's foundation hands to the platform layer.

Each target (onprem, aws, azure) builds its foundation — keys, network, cluster, data stores —
and returns a `Foundation`. The platform services, tenants and workloads are then the same code
on every target, pointed at these endpoints. Values may be Pulumi Outputs. The store and
egress types themselves are the components' (`components.endpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.endpoints import EgressRule, ObjectStore, Postgres, Redis


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
