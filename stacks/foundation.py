"""What a target's foundation hands to the platform layer.

Each target (onprem, aws, azure) builds its foundation — keys, network, cluster, data stores —
and returns a `Foundation`. The platform services, tenants and workloads are then the same code
on every target, pointed at these endpoints. Values may be Pulumi Outputs. The store and
egress types themselves are the components' (`components.endpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.api_server import ApiServer
from components.endpoints import EgressRule, ObjectStore, Postgres, Redis


@dataclass(frozen=True)
class ManagedTenantKafka:
    """A tenant's access to the managed Kafka, declared by the foundation with the service.

    The tenant's topics (`<tenant>.<topic>`, created by the platform: auto-creation is off) and
    the cloud identity the service authorizes (MSK: the tenant's Pod Identity role ARN; Event
    Hubs: its managed identity's principal ID). `service_account_annotations` go on the
    tenant's `workloads` ServiceAccount where the identity needs them (Azure Workload Identity's
    client ID); EKS Pod Identity needs none.
    """

    topics: list[str]
    principal: pulumi.Input[str]
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ManagedKafka:
    """A managed Kafka-protocol service (MSK, Event Hubs) used instead of Strimzi.

    Tenants authenticate with their service account's cloud identity (MSK IAM, Entra
    OAUTHBEARER): no credential is written into their namespaces. What each tenant may use is
    in `tenants`, declared by the foundation; the platform only reports it (no per-kind code).
    """

    kind: str  # "msk" or "event-hubs"
    name: pulumi.Input[str]  # the MSK cluster / Event Hubs namespace
    bootstrap: pulumi.Input[str]
    security_protocol: str  # SASL_SSL
    sasl_mechanism: str  # AWS_MSK_IAM / OAUTHBEARER
    authentication: str  # the contract's word for it: iam (MSK) | entra (Event Hubs)
    resource_id: pulumi.Input[str]
    # What client pods must reach: the brokers' listener (tenant NetworkPolicies admit it).
    # Clients also need `Foundation.workload_identity_egress` and its pod labels.
    client_egress: tuple[EgressRule, ...]
    tenants: dict[str, ManagedTenantKafka]  # tenant name → its topics and identity
    # Labels tenant pods need for their identity (Azure Workload Identity's webhook)
    tenant_pod_labels: dict[str, str] = field(default_factory=dict)


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
class SitePrerequisite:
    """Something the site must create before `pulumi up` (the contract's `stack.prerequisites`;
    `mlplatform verify --preflight` checks it on the cluster)."""

    kind: str  # Secret | StorageClass | ConfigMap | ...
    name: str
    namespaces: tuple[str, ...]  # empty for a cluster-scoped kind
    purpose: str
    how: str  # the command (or steps) that creates it
    keys: tuple[str, ...] = ()  # keys a Secret must hold


@dataclass(frozen=True)
class OnPremFacts:
    """What the contract's `stack.cluster` says about an on-prem site (schema `onpremCluster`)."""

    site: str
    country: str
    emirate: str
    facility: str
    kube_context: str
    key_provider: str  # vault | hsm
    object_store_endpoint: str
    postgres: str  # operator | existing
    redis: str  # operator | existing
    cluster_issuer: str
    # Host names of the existing GPU nodes, per pool: post-deploy verification reaches them
    # over SSH without needing the cluster's API.
    gpu_nodes: dict[str, list[str]]
    # The site cluster as the plan simulates it (`onprem.cluster`): CNI, address ranges and
    # its pools (name, per-node cpu/memory, GPUs per node, node names).
    cni: str = ""
    api_server_cidrs: list[str] = field(default_factory=list)
    pod_cidrs: list[str] = field(default_factory=list)
    node_pools: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class AwsFacts:
    """What `stack.cluster` says about an AWS foundation (schema `awsCluster`)."""

    region: str
    account_id: str
    zone_ids: list[str]
    cluster_name: str
    cluster_endpoint: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    registry: str
    audit_trail: pulumi.Input[str]
    audit_bucket: str
    postgres_ca_bundle_url: str
    workload_roles: dict[str, pulumi.Input[str]]  # service account → Pod Identity role ARN


@dataclass(frozen=True)
class AzureFacts:
    """What `stack.cluster` says about an Azure foundation (schema `azureCluster`)."""

    location: str
    dr_location: str
    resource_group: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    registry: pulumi.Input[str]
    key_vault: pulumi.Input[str]
    log_analytics_workspace: pulumi.Input[str]
    storage_redundancy: str
    postgres_geo_backup: bool


ClusterFacts = OnPremFacts | AwsFacts | AzureFacts


@dataclass(frozen=True)
class LogShippingTarget:
    """Where the target's log shipper writes (AWS: the CloudWatch log group and its role)."""

    log_group: str
    role_arn: pulumi.Input[str]


@dataclass(frozen=True)
class Foundation:
    platform: str  # onprem | aws | azure
    location: str  # site name, AWS region or Azure location
    facts: ClusterFacts  # what the contract publishes about the cluster (`stack.cluster`)
    k8s_provider: k8s.Provider
    storage_class: str
    postgres: Postgres
    redis: Redis
    object_store: ObjectStore
    key_refs: dict[str, pulumi.Input[str]]  # purpose (data, secrets, logs) → key ARN/ID/URI
    gpu_pools: list[GpuPoolInfo]
    # Where the API server is and whether the CNI is Cilium (components.api_server)
    api_server: ApiServer
    kafka: ManagedKafka | None = None
    # Tolerations every platform pod carries: the taints of the pool platform services run on
    # (AKS: the system pool's CriticalAddonsOnly); none elsewhere.
    platform_tolerations: tuple[dict[str, str], ...] = ()
    # What the site must provide before `pulumi up` (besides the pull Secret the composition
    # adds for every namespace that pulls from a mirror needing one)
    prerequisites: list[SitePrerequisite] = field(default_factory=list)
    # Whether the platform must install the NVIDIA driver/toolkit (on-prem) or the nodes come
    # with them (EKS AL2023 NVIDIA AMI, AKS GPU images) and only the device plugin is needed.
    gpu_driver_preinstalled: bool = False
    # What pods using the cloud's workload identity must reach to obtain credentials (EKS Pod
    # Identity agent, Entra ID), and the labels such pods need (Azure Workload Identity's
    # webhook acts only on labelled pods). Empty on-prem.
    workload_identity_egress: list[EgressRule] = field(default_factory=list)
    # Where tenant pods reach the object store (their data prefix): the store's addresses
    object_store_egress: tuple[EgressRule, ...] = ()
    workload_identity_pod_labels: dict[str, str] = field(default_factory=dict)
    # Resources the platform layer must wait for (node groups, private endpoints...)
    ready: list[pulumi.Resource] = field(default_factory=list)
    exceptions: list[SecurityException] = field(default_factory=list)
    # Where Fluent Bit ships container logs, when the target provides the store (AWS)
    log_shipping: LogShippingTarget | None = None
