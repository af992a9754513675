"""Platform components: each a `ComponentResource` that reads nothing but its Args.

Components import nothing of `stacks/` or `infra/`: the endpoints they consume are
`components.endpoints` types, and charts and images arrive through their Args as
`version_catalogue.artifacts` types (`tests/test_architecture.py` enforces both).

| module | components / helpers | what |
|---|---|---|
| `pki` | `PlatformPki` | cert-manager, trust-manager, the platform CA and its bundle |
| `gpu` | `GpuNodePool`, `GpuOperator` | on-prem GPU node claims; the NVIDIA GPU operator |
| `kueue` | `GpuQueueing` | Kueue, a flavor per GPU pool, the shared ClusterQueue |
| `trainer` | `TrainingOperator` | Kubeflow Trainer and the `torch-distributed` runtime |
| `kafka` | `StrimziKafka`, `StrimziTenantAccess` | Kafka on Strimzi; a tenant's topics and user |
| `datastores` | `OnPremDataStores` | CloudNativePG and redis-operator in the cluster |
| `mlflow`, `mlflow_users` | `ModelRegistry` | the MLflow server; one user per tenant |
| `feast`, `feast_*` | `FeatureStore` | Feast's registry/online/offline servers, config, authz |
| `database_bootstrap` | `create_database` | a Job creating a service's own database (RDS) |
| `serving` | `ModelServing` | KServe (Standard mode) and the platform serving runtime |
| `tenant`, `ml_access` | `Tenant`, `TenantMlAccess` | a team's namespace; its MLflow/Feast access |
| `sample_workloads` | `SampleWorkloads` | the golden path's TrainJob and InferenceService |
| `aws/`, `azure/` | | the clouds' building blocks (see their package docstrings) |

Shared helpers: `endpoints` (store and egress types), `conventions` (names every component
agrees on), `namespace` (Pod Security levels, operator ingress), `helm` (`helm_release`),
`security_context`, `credentials`, `trust`, `network_policies`, `availability`, `objects`.
"""
