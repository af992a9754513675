"""Platform services on Kubernetes: the same code on every target, pointed at its foundation.

Two groups, each in its own module:
- `stacks.services.core`: cert-manager and the private CA (every service serves TLS from it),
  the GPU operator, Kueue (flavors per GPU pool, the shared ClusterQueue), the Kubeflow Trainer
  operator, and Kafka on Strimzi unless the foundation provides a managed Kafka.
- `stacks.services.ml`: the Feast feature store, the MLflow tracking server and registry, and
  KServe with the platform's serving runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.tenant import PlatformPeer
from stacks.config import StackConfig, Tenant
from stacks.foundation import Foundation


@dataclass
class KafkaEndpoint:
    """How clients reach Kafka (Strimzi in-cluster, MSK or Event Hubs)."""

    bootstrap: pulumi.Input[str]
    security_protocol: str  # SSL or SASL_SSL
    sasl_mechanism: str | None  # SCRAM-SHA-512, AWS_MSK_IAM, OAUTHBEARER; None for mTLS
    authentication: str  # tls | scram-sha-512 | iam | entra
    platform_topics: dict[str, str] = field(default_factory=dict)  # purpose → topic name


@dataclass
class TenantKafkaAccess:
    """What a tenant gets from Kafka: its topics and where its credentials are."""

    topics: list[str]
    credentials_secret: str | None  # Secret in the tenant namespace (None: workload identity)
    principal: str


@dataclass
class CoreServices:
    kafka: KafkaEndpoint
    cluster_queue: str
    ca_bundle: str  # ConfigMap in every tenant namespace holding the platform CA (ca.crt)
    peers: list[PlatformPeer]
    # Gives a tenant its Kafka user/topics (Strimzi KafkaUser/KafkaTopic, or the managed
    # service's equivalent). Called once per tenant by stacks.tenants.
    grant_kafka: Any  # Callable[[Tenant, pulumi.Resource], TenantKafkaAccess]
    resources: dict[str, pulumi.Resource] = field(default_factory=dict)
    # cert-manager ClusterIssuer every service's serving certificate comes from
    cluster_issuer: str = "mlplatform-ca"
    ca_bundle_key: str = "ca.crt"  # key of `ca_bundle` (ConfigMap and Secret of that name)
    training_runtime: str = "torch-distributed"  # ClusterTrainingRuntime TrainJobs reference
    # Resources a consumer of the PKI must wait for (cert-manager CRDs, the issuer, the bundle)
    pki_ready: list[pulumi.Resource] = field(default_factory=list)


@dataclass
class MlServices:
    mlflow_tracking_uri: str
    feast: dict[str, Any]  # project, endpoints and the tenant client feature_store.yaml
    kserve_host_pattern: str
    serving_runtime: str
    peers: list[PlatformPeer]
    resources: dict[str, pulumi.Resource] = field(default_factory=dict)
    # Writes a tenant's MLflow credentials and Feast client config into its namespace.
    # Callable[[Tenant, pulumi.Resource], components.ml_access.TenantMlAccess]
    grant_tenant: Any = None


@dataclass
class PlatformServices:
    core: CoreServices
    ml: MlServices

    @property
    def peers(self) -> tuple[PlatformPeer, ...]:
        return tuple(self.core.peers + self.ml.peers)

    def grant_kafka(self, tenant: Tenant, depends_on: pulumi.Resource) -> TenantKafkaAccess:
        return self.core.grant_kafka(tenant, depends_on)


def build_platform(config: StackConfig, foundation: Foundation) -> PlatformServices:
    from stacks.services import core, ml

    core_services = core.build(config, foundation)
    ml_services = ml.build(config, foundation, core_services)
    return PlatformServices(core=core_services, ml=ml_services)
