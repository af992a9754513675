"""Platform services on Kubernetes, the same code on every target (see `stacks.platform`).

- `core`: cert-manager and the private CA, the GPU operator, Kueue, the Kubeflow Trainer
  operator, and Kafka (Strimzi, or the managed service the foundation provides).
- `ml`: Feast, MLflow and KServe.
- `managed_kafka`: the per-tenant grant for a managed Kafka (MSK / Event Hubs), by kind.
"""
