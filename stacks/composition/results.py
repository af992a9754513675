"""What the platform services hand to the tenant layer and the contract.

| type | from | what |
|---|---|---|
| `KafkaEndpoint` | `composition.kafka` | how clients reach Kafka (Strimzi, MSK or Event Hubs) |
| `TenantKafkaAccess` | a `KafkaGrant` | a tenant's topics, credentials Secret and principal |
| `KafkaGrant`, `MlGrant` | `composition.kafka`, `.ml` | give one tenant its access |
| `CoreServices` | `composition.core` | PKI, GPUs, queueing, training, Kafka |
| `FeastEndpoints` | `composition.ml` | the Feast servers and the tenants' client config |
| `MlServices` | `composition.ml` | MLflow, Feast, KServe |
| `PlatformServices` | `composition.build_services` | both, and every peer tenants may reach |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from components.ml_access import TenantMlAccess
from components.tenant import PlatformPeer
from stacks.config import Tenant


@dataclass(frozen=True)
class KafkaEndpoint:
    """How clients reach Kafka (Strimzi in-cluster, MSK or Event Hubs)."""

    bootstrap: pulumi.Input[str]
    security_protocol: str  # SSL or SASL_SSL
    sasl_mechanism: str | None  # SCRAM-SHA-512, AWS_MSK_IAM, OAUTHBEARER; None for mTLS
    authentication: str  # tls | scram-sha-512 | iam | entra
    platform_topics: dict[str, str]  # purpose → topic name


@dataclass(frozen=True)
class TenantKafkaAccess:
    """What a tenant gets from Kafka: its topics and where its credentials are."""

    topics: list[str]
    credentials_secret: str | None  # Secret in the tenant namespace (None: workload identity)
    principal: pulumi.Input[str]


class KafkaGrant(Protocol):
    """Gives a tenant its Kafka topics and identity; called once per tenant by the tenants
    step, with the tenant's `Tenant` component (its namespace exists once that does)."""

    def grant(self, tenant: Tenant, depends_on: pulumi.Resource) -> TenantKafkaAccess: ...


class MlGrant(Protocol):
    """Writes a tenant's MLflow credentials and Feast client config into its namespace."""

    def grant(self, tenant: Tenant, depends_on: pulumi.Resource) -> TenantMlAccess: ...


@dataclass
class CoreServices:
    kafka: KafkaEndpoint
    kafka_grant: KafkaGrant
    cluster_queue: str
    ca_bundle: str  # ConfigMap (and Secret) in every tenant namespace holding the platform CA
    ca_bundle_key: str  # its key, `ca.crt`
    cluster_issuer: str  # cert-manager ClusterIssuer every serving certificate comes from
    training_runtime: str  # ClusterTrainingRuntime TrainJobs reference
    peers: list[PlatformPeer]
    # Every core service by name, in declaration order (later layers wait for all of them)
    resources: dict[str, pulumi.Resource]
    # Resources a consumer of the PKI must wait for (cert-manager CRDs, the issuer, the bundle)
    pki_ready: list[pulumi.Resource]


@dataclass(frozen=True)
class FeastEndpoints:
    """A Feast project as its clients see it (the contract's `feast` sections: the platform's,
    and each tenant's own project, online server and client file)."""

    project: str
    feature_server: str  # https URL of the online server
    registry: dict[str, Any]  # client config sections (feature_store.yaml)
    online_store: dict[str, Any]
    offline_store: dict[str, Any]
    feature_store_yaml: str  # the tenant's whole client file
    auth_roles: list[str]  # empty since contract 1.2: Feast authorizes by namespace
    offline_data_uri: pulumi.Input[str]


@dataclass
class MlServices:
    mlflow_tracking_uri: str
    feast: FeastEndpoints
    kserve_host_pattern: str
    kserve_deployment_mode: str  # KServe's name for the configured mode (`Standard`)
    serving_runtime: str
    peers: list[PlatformPeer]
    resources: dict[str, pulumi.Resource]
    access: MlGrant
    # Per tenant: its Feast project and servers, and the peers only it may reach (its online
    # Feast server)
    feast_tenants: dict[str, FeastEndpoints] = field(default_factory=dict)
    tenant_peers: dict[str, list[PlatformPeer]] = field(default_factory=dict)


@dataclass
class PlatformServices:
    core: CoreServices
    ml: MlServices
    peers: tuple[PlatformPeer, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.peers = tuple(self.core.peers + self.ml.peers)
