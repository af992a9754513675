"""`SampleWorkloads`: a tenant's golden-path training job and inference service, as plain data.

| child | purpose |
|---|---|
| TrainJob `<model>-train` | Trainer v2 on the torch ClusterTrainingRuntime, Kueue queue |
| | label, GPUs per node when asked, `torchrun -m workloads.training` |
| InferenceService `<model>` | KServe Standard mode, the platform's serving runtime, |
| | `models:/<model>@champion`, min/max replicas, optional `@challenger` canary |

The objects are rendered as plain dicts (`train_job`, `inference_service`) so tests validate
them against the published CRDs; the IaC environment never imports kserve or the Trainer SDK.

Both pods are hardened (non-root UID, read-only root filesystem, no capabilities, seccomp
RuntimeDefault, requests = limits) and read their endpoints from the tenant contract: the MLflow
tracking URI (credentials from the tenant's `mlflow-credentials` Secret, mounted as a file),
the Feast client `feature_store.yaml` (ConfigMap `feast-client`), the platform CA bundle.

Both pods carry `pod_labels` (from the tenant contract's `kafka.podLabels`: Azure Workload
Identity's webhook only injects the Entra token into pods labelled
`azure.workload.identity/use: "true"`; Event Hubs authenticates tenants that way).

The predictors carry `mlplatform.io/model-alias` (`champion`, `challenger`: the canary guard
of `components.ml_loop.rollout` selects the canary by it), follow their alias
(`serving_env`: MLP_MODEL_POLL_SECONDS) and publish their prediction log to the tenant's
`<input>.scored` topic with the contract's Kafka security (`kafka`, see
`components.ml_loop.kafka_client`: CA, credentials Secret as files, or the workload identity).

Both pods get a projected, expiring service-account token (not the automounted one) at the
standard path: Feast's Kubernetes authz identifies the tenant by it (training reads offline
features, the predictor online features). Nothing else in them can use the API.

Args (`SampleWorkloadsArgs`): see the dataclass. Outputs: `train_job`, `inference_service`,
`host` (in-cluster address of the predictor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.credentials import SECRET_FILE_MODE
from components.ml_loop.kafka_client import KafkaClient
from components.ml_loop.object_store import StoreAccess
from components.ml_loop.rollout import canary_pod_labels
from components.objects import upstream
from components.security_context import container_security, pod_security
from components.serving import https_probe

PLATFORM_PATCH_MANAGER = "mlplatform.io/platform"
TRAINER_NODE = "node"  # replicated job and container name in the torch ClusterTrainingRuntime
HOME = "/home/mlplatform"
FEAST_MOUNT = "/etc/mlplatform/feast"


@dataclass(frozen=True, kw_only=True)
class SampleWorkloadsArgs:
    tenant: str
    namespace: str
    labels: dict[str, str]
    training_image: str
    tracking_uri: str
    # From the stack's `sampleWorkloads` and `kserve` config (no defaults here)
    model_name: str
    gpus: int
    min_replicas: int
    max_replicas: int
    canary_traffic_percent: int | None  # None: no challenger canary
    deployment_mode: str  # KServe's (normalised by `components.serving.ModelServing`)
    service_account: str = "workloads"
    queue: str = c.LOCAL_QUEUE
    ca_bundle: str = "mlplatform-ca-bundle"
    training_runtime: str = c.TRAINING_RUNTIME
    num_nodes: int = 1
    cpu: str = "4"
    memory: str = "16Gi"
    # Outputs flow here (a bucket URI, a Kafka bootstrap address); they resolve at deploy time.
    training_args: tuple[pulumi.Input[str], ...] = ()
    env: dict[str, pulumi.Input[str]] = field(
        default_factory=dict
    )  # extra endpoints (Kafka, topics)
    serving_runtime: str = c.SERVING_RUNTIME
    serving_cpu: str = "1"
    serving_memory: str = "2Gi"
    pod_labels: dict[str, str] = field(default_factory=dict)  # e.g. Azure Workload Identity
    # The predictor's prediction log (TLS and credentials from the tenant contract) and its
    # serving settings (topics, alias polling): components.ml_loop
    kafka: KafkaClient | None = None
    serving_env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # How the TrainJob reads its labelled data from the tenant's object-store prefix
    store: StoreAccess = field(default_factory=StoreAccess)
    train_timeout_seconds: int = 3600  # `pulumi up` waits this long for the run to complete
    serve_timeout_seconds: int = 1200  # ... and this long for the predictor to be Ready


def _env(
    args: SampleWorkloadsArgs, extra: dict[str, pulumi.Input[str]]
) -> list[dict[str, pulumi.Input[str]]]:
    values: dict[str, pulumi.Input[str]] = {
        "MLFLOW_TRACKING_URI": args.tracking_uri,
        "MLFLOW_TRACKING_SERVER_CERT_PATH": f"{c.CA_BUNDLE_MOUNT}/ca.crt",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLP_MODEL_NAME": args.model_name,
        "MLP_EXPERIMENT": f"{args.tenant}/{args.model_name}",
        "MLP_FEATURE_STORE_YAML": f"{FEAST_MOUNT}/feature_store.yaml",
        "HOME": HOME,
        "XDG_CACHE_HOME": "/tmp/.cache",
        **args.env,
        **extra,
    }
    return [{"name": k, "value": v} for k, v in values.items()]


def train_job(args: SampleWorkloadsArgs) -> dict[str, Any]:
    """The TrainJob, as the API server receives it."""
    resources: dict[str, str] = {"cpu": args.cpu, "memory": args.memory}
    if args.gpus:
        resources[c.GPU_RESOURCE] = str(args.gpus)
    trainer: dict[str, Any] = {
        "image": args.training_image,
        "command": args.store.command(["torchrun", "-m", "workloads.training"]),
        "args": list(args.training_args),
        "numNodes": args.num_nodes,
        "resourcesPerNode": {"requests": resources, "limits": dict(resources)},
        "env": _env(args, dict(args.store.env)),
    }
    if args.gpus:
        trainer["numProcPerNode"] = args.gpus  # one process per GPU
    return {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "metadata": {
            "name": f"{args.model_name}-train",
            "namespace": args.namespace,
            "labels": {**args.labels, c.KUEUE_QUEUE_LABEL: args.queue},
        },
        "spec": {
            "runtimeRef": {
                "name": args.training_runtime,
                "apiGroup": "trainer.kubeflow.org",
                "kind": "ClusterTrainingRuntime",
            },
            "trainer": trainer,
            "runtimePatches": [
                {
                    "manager": PLATFORM_PATCH_MANAGER,
                    "trainingRuntimeSpec": {
                        "template": {
                            "spec": {
                                "replicatedJobs": [
                                    {
                                        "name": TRAINER_NODE,
                                        "template": {"spec": {"template": _node_pod(args)}},
                                    }
                                ]
                            }
                        }
                    },
                }
            ],
        },
    }


def _node_pod(args: SampleWorkloadsArgs) -> dict[str, Any]:
    """The training node's pod template, patched into the runtime: restricted, the platform CA,
    the tenant's Feast client, MLflow credentials and object-store access mounted as files."""
    pod: dict[str, Any] = {
        "serviceAccountName": args.service_account,
        "securityContext": pod_security(),
        "volumes": [
            {"name": "ca-bundle", "configMap": {"name": args.ca_bundle}},
            {"name": "feast-client", "configMap": {"name": c.FEAST_CLIENT_CONFIG}},
            _mlflow_credentials_volume(),
            _SA_TOKEN_VOLUME,
            *args.store.volumes,
        ],
        "containers": [
            {
                "name": TRAINER_NODE,
                "securityContext": container_security(),
                "volumeMounts": [
                    {"name": "ca-bundle", "mountPath": c.CA_BUNDLE_MOUNT, "readOnly": True},
                    {"name": "feast-client", "mountPath": FEAST_MOUNT, "readOnly": True},
                    {
                        "name": "mlflow-credentials",
                        "mountPath": f"{HOME}/.mlflow",
                        "readOnly": True,
                    },
                    _SA_TOKEN_MOUNT,
                    *args.store.mounts,
                ],
            }
        ],
    }
    if args.gpus:
        pod["tolerations"] = [c.GPU_TOLERATION]
    pod_template: dict[str, Any] = {"spec": pod}
    if args.pod_labels:
        pod_template["metadata"] = {"labels": dict(args.pod_labels)}
    return pod_template


# Feast authz reads the caller's token from the standard path; a projected token expires and
# is bound to the pod, unlike an automounted long-lived one.
_SA_TOKEN_VOLUME = {
    "name": "sa-token",
    "projected": {
        "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]
    },
}
_SA_TOKEN_MOUNT = {
    "name": "sa-token",
    "readOnly": True,
    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
}


def _mlflow_credentials_volume() -> dict[str, Any]:
    return {
        "name": "mlflow-credentials",
        "secret": {
            "secretName": c.MLFLOW_CREDENTIALS_SECRET,
            "defaultMode": SECRET_FILE_MODE,
            "items": [{"key": "credentials", "path": "credentials"}],
        },
    }


def _model(args: SampleWorkloadsArgs, alias: str) -> dict[str, Any]:
    resources = {"cpu": args.serving_cpu, "memory": args.serving_memory}
    return {
        "name": "kserve-container",  # merges with the runtime's container of that name
        "modelFormat": {"name": "mlflow"},
        "runtime": args.serving_runtime,
        "protocolVersion": "v2",
        # The predictor resolves the alias through MLflow (KServe has no models:/ scheme) and
        # follows it (MLP_MODEL_POLL_SECONDS); its prediction log reaches Kafka like any client.
        "env": _env(
            args,
            {
                **args.serving_env,
                **(args.kafka.env() if args.kafka else {}),
                "MLP_MODEL_ALIAS": alias,
                "MLP_MODEL_URI": f"models:/{args.model_name}@{alias}",
            },
        ),
        "resources": {"requests": resources, "limits": dict(resources)},
        "securityContext": container_security(),
        # Same probes as the runtime, stated here so the InferenceService is reviewable alone.
        "readinessProbe": {**https_probe("/v2/health/ready"), "periodSeconds": 10},
        "livenessProbe": {
            **https_probe("/v2/health/live"),
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
        },
        "volumeMounts": [
            {"name": "feast-client", "mountPath": FEAST_MOUNT, "readOnly": True},
            _SA_TOKEN_MOUNT,
            *(args.kafka.mounts() if args.kafka else []),
        ],
    }


def _predictor_labels(args: SampleWorkloadsArgs, alias: str) -> dict[str, str]:
    """Identity labels, and the alias the pods serve (the canary guard selects `challenger`)."""
    return {**args.pod_labels, **canary_pod_labels(alias)}


def inference_service(args: SampleWorkloadsArgs) -> dict[str, Any]:
    """The InferenceService: champion behind HPA, optional fixed-size challenger canary."""
    spec: dict[str, Any] = {
        "predictor": {
            "minReplicas": args.min_replicas,
            "maxReplicas": args.max_replicas,
            "scaleMetric": "cpu",
            "scaleTarget": 70,
            "serviceAccountName": args.service_account,
            "automountServiceAccountToken": False,
            "securityContext": pod_security(),
            "volumes": [
                {"name": "feast-client", "configMap": {"name": c.FEAST_CLIENT_CONFIG}},
                _SA_TOKEN_VOLUME,
                *(args.kafka.volumes() if args.kafka else []),
            ],
            "model": _model(args, "champion"),
            "labels": _predictor_labels(args, "champion"),
        }
    }
    if args.canary_traffic_percent:
        # KServe v0.20 Standard-mode canary: merged over the stable predictor, fixed replicas.
        spec["canary"] = [
            {
                "trafficPercent": args.canary_traffic_percent,
                "predictor": {
                    "name": "challenger",
                    "model": _model(args, "challenger"),
                    "labels": _predictor_labels(args, "challenger"),
                },
            }
        ]
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": args.model_name,
            "namespace": args.namespace,
            "labels": args.labels,
            "annotations": {
                "serving.kserve.io/deploymentMode": args.deployment_mode,
                "serving.kserve.io/autoscalerClass": "hpa",
            },
        },
        "spec": spec,
    }


# pulumi-kubernetes' readiness for custom resources (`pulumi.com/waitFor`, kubectl-wait syntax)
WAIT_FOR, TIMEOUT = "pulumi.com/waitFor", "pulumi.com/timeoutSeconds"
TRAINED = 'jsonpath={.status.conditions[?(@.type=="Complete")].status}=True'
SERVING = "condition=Ready"


def awaited(metadata: dict[str, Any], condition: str, seconds: int) -> dict[str, Any]:
    """`metadata` with the annotations that make `pulumi up` wait for `condition`."""
    annotations = {**metadata.get("annotations", {}), WAIT_FOR: condition, TIMEOUT: str(seconds)}
    return {**metadata, "annotations": annotations}


class SampleWorkloads(pulumi.ComponentResource):
    train_job: str
    inference_service: str
    host: str

    def __init__(
        self, name: str, args: SampleWorkloadsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:workloads:SampleWorkloads", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=upstream(opts))
        job, isvc = train_job(args), inference_service(args)
        # A TrainJob is one run: spec.trainer, runtimeRef, initializer, managedBy and
        # activeDeadlineSeconds are immutable (CEL `self == oldSelf` in the Trainer CRD), so any
        # change of image, args, env or GPUs must replace it — deleted first, its name is fixed.
        rerun = pulumi.ResourceOptions(replace_on_changes=["spec"], delete_before_replace=True)
        # Custom resources are not awaited by default: `pulumi up` would report success while
        # the TrainJob fails or the InferenceService never serves. Wait for the run to complete
        # (it registers the champion), then for the predictor to be Ready.
        trained = k8s.apiextensions.CustomResource(
            f"{name}-train",
            api_version=job["apiVersion"],
            kind=job["kind"],
            metadata=awaited(job["metadata"], TRAINED, args.train_timeout_seconds),
            spec=job["spec"],
            opts=pulumi.ResourceOptions.merge(child, rerun),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-isvc",
            api_version=isvc["apiVersion"],
            kind=isvc["kind"],
            metadata=awaited(isvc["metadata"], SERVING, args.serve_timeout_seconds),
            spec=isvc["spec"],
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[trained])),
        )
        self.train_job = job["metadata"]["name"]
        self.train_job_object = job  # what the retraining controller's template copies
        self.inference_service = isvc["metadata"]["name"]
        self.host = f"{args.model_name}-predictor.{args.namespace}.svc.cluster.local"
        self.register_outputs(
            {
                "trainJob": self.train_job,
                "inferenceService": self.inference_service,
                "host": self.host,
            }
        )
