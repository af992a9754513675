"""A tenant's ML loop in the cluster: ingestion, monitoring, retraining, rollout, batch scoring.

The sample workloads' TrainJob and InferenceService (`components.sample_workloads`) train and
serve; this package keeps them fed and honest, with the same workload images the local platform
runs (`workloads/`), configured from the tenant contract:

| module | objects | what |
|---|---|---|
| `streaming` | Deployment, PDB, | Kafka → validate → windows → Feast; `<input>.dlq`; |
| | scaler (SA, Role(Binding), | replicas that follow the consumer lag |
| | Deployment, NetworkPolicy) | |
| `monitoring` | CronJob, Deployment | drift and performance checks; verdicts as metrics |
| `retraining` | SA, Role(Binding), ConfigMap, | retraining requests → Kueue-queued TrainJobs |
| | Deployment, NetworkPolicy | |
| `rollout` | Service, CronJob | the canary guard's automatic rollback |
| `batch` | CronJob (Indexed Job) | parquet from the tenant's prefix scored back to it |
| `topics` | | the loop's topics per tenant (`<tenant>.`-prefixed, dead letters) |
| `kafka_client` | | `MLP_KAFKA_*` for every Kafka variant (mTLS, SCRAM, MSK IAM, Entra) |
| `object_store` | | the object-store settings of a tenant pod |
| `pods`, `jobs` | | what every pod and CronJob of the loop shares |
| `component` | `MlLoop` | all of it as Pulumi resources; `manifests(args)` as plain objects |

Like every component, it reads nothing but its Args (`MlLoopArgs`).
"""

from __future__ import annotations

from components.ml_loop.component import (
    MlLoop,
    MlLoopArgs,
    controller_flows,
    flows,
    manifests,
)

__all__ = ["MlLoop", "MlLoopArgs", "controller_flows", "flows", "manifests"]
