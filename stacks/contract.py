"""The tenant contract: the stack's exports, versioned and described by a JSON Schema.

Tenants read it with `pulumi.StackReference("<org>/mlplatform/<stack>").get_output("tenants")`
or from `outputs.json` of an offline plan. `CONTRACT_VERSION` follows the schema's rules:
additions bump the minor version, removals and renames the major.

This module owns the exported shape: the typed results of the earlier steps (the foundation's
`facts`, the services, the tenants) are rendered here, one function per section, into the keys
`tenant-contract.schema.json` describes.

Each tenant also gets its own document, without any other tenant's block: the output
`tenant-<name>` and the ConfigMap `mlplatform-contract` (key `contract.json`) in its namespace.
A StackReference reads a whole stack (Pulumi grants stack access, not output access), so a
tenant that must not see the others reads the ConfigMap, which Kubernetes RBAC scopes to it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.endpoints import EgressRule
from stacks import governance, prerequisites
from stacks.composition.results import FeastEndpoints, KafkaEndpoint, PlatformServices
from stacks.composition.tenants import TenantDeployment
from stacks.config import StackConfig
from stacks.foundation import AwsFacts, AzureFacts, Foundation, ManagedKafka, OnPremFacts

# 1.3: tenants.<t>.sampleWorkloads.mlLoop (the sample model's ML loop in the cluster)
# 1.4: mlLoop.streaming.autoscaling is `consumer-lag` (the stream scaler; 1.3 said `cpu`), with
#      its Deployment (`scaler`) and `lagPerReplica`
CONTRACT_VERSION = "1.4"
SCHEMA_PATH = Path(__file__).with_name("tenant-contract.schema.json")
# Each tenant's own document (`tenant-<name>` output), also in its namespace: this ConfigMap.
TENANT_CONFIG_MAP, TENANT_CONFIG_KEY = "mlplatform-contract", "contract.json"
# What of `stack` a tenant's own document repeats: nothing that names other tenants (the
# cluster facts list every tenant's Kafka roles, the prerequisites every tenant namespace).
PUBLIC_STACK_KEYS = (
    "name",
    "platform",
    "location",
    "regions",
    "kubernetesVersion",
    "registry",
    "residency",
    "registryPullSecret",
)


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def export(
    config: StackConfig,
    foundation: Foundation,
    services: PlatformServices,
    tenancy: dict[str, TenantDeployment],
    samples: dict[str, Any],
) -> None:
    stack = _stack(config, foundation)
    platform = _platform(foundation, services)
    pulumi.export("contract_version", CONTRACT_VERSION)
    pulumi.export("stack", stack)
    pulumi.export("platform", platform)
    tenants = {
        name: _tenant(name, deployment, foundation, services)
        for name, deployment in tenancy.items()
    }
    for name, summary in samples.items():
        tenants[name]["sampleWorkloads"] = summary
    pulumi.export("tenants", tenants)
    for name, deployment in tenancy.items():
        own = tenant_document(stack, platform, tenants[name])
        pulumi.export(f"tenant-{name}", own)
        _in_namespace(config, foundation, deployment, own)


def tenant_document(
    stack: dict[str, Any], platform: dict[str, Any], tenant: dict[str, Any]
) -> dict[str, Any]:
    """One tenant's own contract: the shared platform endpoints and its block, no other's."""
    return {
        "contract_version": CONTRACT_VERSION,
        "stack": {k: stack[k] for k in PUBLIC_STACK_KEYS if k in stack},
        "platform": platform,
        "tenant": tenant,
    }


def _in_namespace(
    config: StackConfig,
    foundation: Foundation,
    deployment: TenantDeployment,
    document: dict[str, Any],
) -> None:
    """The tenant's document as a ConfigMap in its namespace: readable by the tenant's people
    and pods (its Role reads ConfigMaps there), by no other tenant."""
    text = pulumi.Output.from_input(document).apply(
        lambda resolved: json.dumps(resolved, indent=2, sort_keys=True)
    )
    k8s.core.v1.ConfigMap(
        f"contract-{deployment.config.name}",
        metadata={
            "name": TENANT_CONFIG_MAP,
            "namespace": deployment.component.namespace,
            "labels": governance.tenant_labels(config, deployment.config),
        },
        data={TENANT_CONFIG_KEY: text},
        opts=pulumi.ResourceOptions(
            provider=foundation.k8s_provider, depends_on=[deployment.component]
        ),
    )


# --------------------------------------------------------------------------- stack


def _regions(config: StackConfig, foundation: Foundation) -> list[str]:
    if config.platform == "aws" and config.aws:
        return [config.aws.region]
    if config.platform == "azure" and config.azure:
        return [config.azure.location, config.azure.dr_location]
    return [foundation.location]


def _stack(config: StackConfig, foundation: Foundation) -> dict[str, Any]:
    return {
        "name": pulumi.get_stack(),
        "platform": config.platform,
        "location": foundation.location,
        "regions": _regions(config, foundation),
        "kubernetesVersion": config.kubernetes.version,
        "registry": config.image_registry,
        "residency": "uae",
        "cluster": cluster_facts(foundation),
        # What the site creates before `pulumi up` (`mlplatform verify --preflight` checks it)
        "prerequisites": prerequisites.contract(
            prerequisites.site_prerequisites(config, foundation)
        ),
        "registryPullSecret": config.registry.pull_secret,
        # Deliberate deviations from a secure default, with why and how to remove them.
        "exceptions": [
            {
                "control": e.control,
                "policy": e.policy,
                "what": e.what,
                "why": e.why,
                "remedy": e.remedy,
            }
            for e in foundation.exceptions
        ],
    }


def cluster_facts(foundation: Foundation) -> dict[str, Any]:
    """`stack.cluster`: the schema's `onpremCluster`, `awsCluster` or `azureCluster`."""
    facts = foundation.facts
    if isinstance(facts, OnPremFacts):
        return _onprem(facts)
    if isinstance(facts, AwsFacts):
        return _aws(facts, foundation)
    return _azure(facts, foundation)


def _onprem(facts: OnPremFacts) -> dict[str, Any]:
    return {
        "site": facts.site,
        "country": facts.country,
        "emirate": facts.emirate,
        "facility": facts.facility,
        "kubeContext": facts.kube_context,
        "keyProvider": facts.key_provider,
        "objectStoreEndpoint": facts.object_store_endpoint,
        "postgres": facts.postgres,
        "redis": facts.redis,
        "clusterIssuer": facts.cluster_issuer,
        "gpuNodes": facts.gpu_nodes,
        "cni": facts.cni,
        "apiServerCidrs": facts.api_server_cidrs,
        "podCidrs": facts.pod_cidrs,
        "nodePools": facts.node_pools,
    }


def _egress(rule: EgressRule) -> dict[str, Any]:
    return {"cidr": rule.cidr, "port": rule.ports[0]}


def _aws(facts: AwsFacts, foundation: Foundation) -> dict[str, Any]:
    # snake_case keys: the contract's 1.x shape for AWS, kept for its readers.
    out: dict[str, Any] = {
        "cloud": "aws",
        "region": facts.region,
        "account_id": facts.account_id,
        "zone_ids": facts.zone_ids,
        "cluster_name": facts.cluster_name,
        "cluster_endpoint": facts.cluster_endpoint,
        "vpc_id": facts.vpc_id,
        "registry": facts.registry,
        "audit_trail": facts.audit_trail,
        "audit_bucket": facts.audit_bucket,
        "postgres_ca_bundle_url": facts.postgres_ca_bundle_url,
        "workload_identity": "eks-pod-identity",
        # For readers of the contract; the platform uses Foundation.workload_identity_egress.
        "workload_identity_egress": _egress(foundation.workload_identity_egress[0]),
        "workload_roles": facts.workload_roles,
    }
    if foundation.kafka is not None:
        kafka = foundation.kafka
        out["kafka_tenant_roles"] = {t: a.principal for t, a in kafka.tenants.items()}
        out["kafka_tenant_topics"] = _tenant_topics(kafka)
        # What tenant NetworkPolicies must admit: the brokers' listener.
        out["kafka_egress"] = _egress(kafka.client_egress[0])
    return out


def _azure(facts: AzureFacts, foundation: Foundation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "location": facts.location,
        "drLocation": facts.dr_location,
        "resourceGroup": facts.resource_group,
        "clusterName": facts.cluster_name,
        "oidcIssuer": facts.oidc_issuer,
        "registry": facts.registry,
        "keyVault": facts.key_vault,
        "logAnalyticsWorkspace": facts.log_analytics_workspace,
        "storageRedundancy": facts.storage_redundancy,
        "postgresGeoBackup": facts.postgres_geo_backup,
        "workloadIdentityPodLabels": foundation.workload_identity_pod_labels,
    }
    if foundation.kafka is not None:
        kafka = foundation.kafka
        out["eventHubsNamespace"] = kafka.name
        out["kafka_tenant_topics"] = _tenant_topics(kafka)
        out["kafka_tenant_principals"] = {t: a.principal for t, a in kafka.tenants.items()}
        # Tenant `workloads` service accounts need this annotation, their pods the label.
        out["kafka_tenant_service_account_annotations"] = {
            t: a.service_account_annotations for t, a in kafka.tenants.items()
        }
        out["kafka_tenant_pod_labels"] = kafka.tenant_pod_labels
        out["kafka_egress"] = _egress(kafka.client_egress[0])
    return out


def _tenant_topics(kafka: ManagedKafka) -> dict[str, list[str]]:
    return {t: a.topics for t, a in kafka.tenants.items()}


# --------------------------------------------------------------------------- platform


def _kafka(kafka: KafkaEndpoint) -> dict[str, Any]:
    return {
        "bootstrap": kafka.bootstrap,
        "securityProtocol": kafka.security_protocol,
        "saslMechanism": kafka.sasl_mechanism,
        "authentication": kafka.authentication,
    }


def _feast(feast: FeastEndpoints) -> dict[str, Any]:
    """The tenant's `feast` section; the platform's is the same without the client file."""
    return {
        "project": feast.project,
        "featureServer": feast.feature_server,
        "registry": feast.registry,
        "onlineStore": feast.online_store,
        "offlineStore": feast.offline_store,
        "featureStoreYaml": feast.feature_store_yaml,
        "authRoles": feast.auth_roles,
        "offlineDataUri": feast.offline_data_uri,
    }


def _platform(foundation: Foundation, services: PlatformServices) -> dict[str, Any]:
    core, ml = services.core, services.ml
    feast = _feast(ml.feast)
    del feast["featureStoreYaml"]
    return {
        "kafka": {**_kafka(core.kafka), "topics": core.kafka.platform_topics},
        "mlflow": {"trackingUri": ml.mlflow_tracking_uri},
        "feast": feast,
        "kserve": {"hostPattern": ml.kserve_host_pattern, "servingRuntime": ml.serving_runtime},
        "kueue": {"clusterQueue": core.cluster_queue, "queueLabel": c.KUEUE_QUEUE_LABEL},
        "caBundle": core.ca_bundle,
        "keys": foundation.key_refs,
    }


# --------------------------------------------------------------------------- tenants


def _tenant(
    name: str, deployment: TenantDeployment, foundation: Foundation, services: PlatformServices
) -> dict[str, Any]:
    core, ml = services.core, services.ml
    t = deployment.config
    namespace = deployment.component.namespace
    return {
        "namespace": namespace,
        "serviceAccount": deployment.component.service_account,
        "queue": {
            "localQueue": deployment.component.queue,
            "clusterQueue": core.cluster_queue,
            "label": c.KUEUE_QUEUE_LABEL,
        },
        "quota": {"cpu": str(t.quota.cpu), "memory": str(t.quota.memory), "gpu": t.quota.gpu},
        "dataClassification": t.data_classification,
        "kafka": {
            **_kafka(core.kafka),
            "topics": deployment.kafka.topics,
            "credentialsSecret": deployment.kafka.credentials_secret,
            "principal": deployment.kafka.principal,
            "caBundle": core.ca_bundle,
            # Labels the tenant's pods need for their cloud identity (Azure WI webhook).
            "podLabels": deployment.pod_labels,
        },
        "mlflow": {"trackingUri": ml.mlflow_tracking_uri, "experimentPrefix": f"{name}/"},
        "feast": _feast(ml.feast_tenants[name]),
        "kserve": {
            "hostPattern": ml.kserve_host_pattern.replace("{namespace}", namespace),
            "servingRuntime": ml.serving_runtime,
        },
        "keys": {"data": foundation.key_refs.get("data", "")},
        "gpu": {
            "resource": c.GPU_RESOURCE,
            "toleration": c.GPU_TOLERATION,
            "pools": [p.name for p in foundation.gpu_pools],
        },
    }
