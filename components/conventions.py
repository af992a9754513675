"""Names and labels every component agrees on (constants only, no logic).

GPU nodes carry the pool label and the NVIDIA taint on every target (on-prem by NodePatch, in
the cloud through the node group/agent pool definition), so Kueue flavors and tenant workloads
select them the same way everywhere.
"""

from __future__ import annotations

# GPU nodes
GPU_POOL_LABEL = "mlplatform.io/gpu-pool"
GPU_PRODUCT_LABEL = "mlplatform.io/gpu-product"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}

# Platform namespaces (one per service, so NetworkPolicies and RBAC stay per service)
NS_CERT_MANAGER = "cert-manager"
NS_GPU_OPERATOR = "gpu-operator"
NS_KUEUE = "kueue-system"
NS_KAFKA = "kafka"
NS_DATA = "mlplatform-data"
NS_FEAST = "feast"
NS_MLFLOW = "mlflow"
NS_KSERVE = "kserve"
NS_TRAINER = "kubeflow-system"

# Service accounts that reach cloud storage through workload identity (IRSA / Azure WI)
SA_MLFLOW = "mlflow"
SA_FEAST = "feast"

# Kueue
CLUSTER_QUEUE = "platform-gpu"
LOCAL_QUEUE = "default"
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"

# Pod Security Standards
PSS_ENFORCE = "pod-security.kubernetes.io/enforce"
PSS_AUDIT = "pod-security.kubernetes.io/audit"
PSS_WARN = "pod-security.kubernetes.io/warn"
# A pod that must call the API server with its own token says why here (policy UAE-IAM-002 and
# the checkov gate read it); every other pod runs with automountServiceAccountToken: false.
TOKEN_REASON_ANNOTATION = "mlplatform.io/service-account-token"

# In-cluster TLS
CLUSTER_ISSUER = "mlplatform-ca"
# Where workload pods mount the platform CA bundle (ConfigMap `mlplatform-ca-bundle`, key ca.crt)
CA_BUNDLE_MOUNT = "/etc/mlplatform/ca"

# ML services as tenants see them
TRAINING_RUNTIME = "torch-distributed"  # ClusterTrainingRuntime (components.trainer)
SERVING_RUNTIME = "mlplatform-predictor"  # ClusterServingRuntime (components.serving)
MLFLOW_CREDENTIALS_SECRET = "mlflow-credentials"  # per tenant namespace, key `credentials`
FEAST_CLIENT_CONFIG = "feast-client"  # ConfigMap per tenant namespace, key feature_store.yaml

# Tenant namespaces are `tenant-<name>`; the platform labels them so NetworkPolicies can
# admit tenant traffic to shared services without listing every tenant.
TENANT_LABEL = "mlplatform.io/tenant"
TENANT_NAMESPACE_PREFIX = "tenant-"


def tenant_namespace(tenant: str) -> str:
    return f"{TENANT_NAMESPACE_PREFIX}{tenant}"
