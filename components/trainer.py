"""`TrainingOperator`: Kubeflow Trainer v2 (with JobSet) and the platform's PyTorch runtime.

Tenants submit a `TrainJob` (trainer.kubeflow.org/v1alpha1) that references the
ClusterTrainingRuntime `torch-distributed` by name; the runtime fixes what tenants must not
choose (the image from the in-country mirror, a Pod Security `restricted` pod, no service
account token) and leaves them what they should (nodes, processes per node, resources,
command). Kueue admits the TrainJob into the tenant's queue (the `trainer.kubeflow.org/trainjob`
integration) and adds the GPU pool's node labels and toleration on admission.

| child | purpose |
|---|---|
| Namespace `kubeflow-system` | PSS restricted; ingress: webhooks, status server from tenants |
| helm Release kubeflow-trainer | pinned; controller + JobSet images from the mirror; no chart |
| | runtimes; JobSet's objects labelled (`jobset.commonLabels`) |
| ClusterTrainingRuntime `torch-distributed` | torchrun across `numNodes`, hardened pod |

Labels: kubeflow-trainer 2.3.0 reads no labelling value for its own objects (its values.yaml
declares `commonLabels`, which no template reads), so they are a declared gap
(`infra/render/labels.py`, shown in compliance.md); its jobset sub-chart reads
`jobset.commonLabels`.

The runtime's container has no probes on purpose: it is a batch process whose health is its
exit code (JobSet restarts/fails it by policy); a liveness probe would only kill long
collective operations.

Outputs: `runtime` (name), `release`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.api_server import ApiServer
from components.flows import operator_flows
from components.helm import chart_labels, helm_release
from components.namespace import operator_policies, platform_namespace, pull_secrets
from components.placement import Placement
from components.security_context import UID as PLATFORM_UID
from version_catalogue.artifacts import Chart, Image

TORCH_RUNTIME = c.TRAINING_RUNTIME  # "torch-distributed"
TRAINER_CONTAINER = "node"  # the container name Trainer injects torchrun settings into
ANCESTOR_LABEL = "trainer.kubeflow.org/trainjob-ancestor-step"


@dataclass(frozen=True)
class TrainingOperatorArgs:
    mirror: str
    labels: dict[str, str]
    chart: Chart  # kubeflow-trainer
    controller_image: Image
    jobset_image: Image
    training_image: Image  # the platform's training image the runtime runs
    pull_secret: str | None
    api_server: ApiServer  # where its pods reach the API server (components.api_server)
    runtime_name: str = TORCH_RUNTIME
    run_as_user: int = PLATFORM_UID  # USER of the platform's training image
    default_cpu: str = "2"
    default_memory: str = "8Gi"
    shm_size: str = "8Gi"  # NCCL/gloo and DataLoader workers need a real /dev/shm
    placement: Placement = field(default_factory=Placement)  # components.placement


def torch_runtime_spec(args: TrainingOperatorArgs) -> dict:
    """ClusterTrainingRuntime spec: one replicated job `node`, torchrun, restricted pod."""
    image = args.training_image.ref(args.mirror)
    pod_spec: dict = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "OnFailure",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": args.run_as_user,
            "runAsGroup": args.run_as_user,
            "fsGroup": args.run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": TRAINER_CONTAINER,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["torchrun"],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "resources": {
                    "requests": {"cpu": args.default_cpu, "memory": args.default_memory},
                    "limits": {"cpu": args.default_cpu, "memory": args.default_memory},
                },
                "volumeMounts": [
                    {"name": "tmp", "mountPath": "/tmp"},
                    {"name": "dshm", "mountPath": "/dev/shm"},
                ],
            }
        ],
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": args.shm_size}},
        ],
    }
    if args.pull_secret:
        pod_spec["imagePullSecrets"] = pull_secrets(args.pull_secret)
    return {
        "mlPolicy": {"numNodes": 1, "torch": {}},
        "template": {
            "spec": {
                "replicatedJobs": [
                    {
                        "name": TRAINER_CONTAINER,
                        "template": {
                            "metadata": {"labels": {ANCESTOR_LABEL: "trainer", **args.labels}},
                            "spec": {
                                "template": {
                                    "metadata": {"labels": args.labels},
                                    "spec": pod_spec,
                                }
                            },
                        },
                    }
                ]
            }
        },
    }


class TrainingOperator(pulumi.ComponentResource):
    runtime: str

    def __init__(
        self, name: str, args: TrainingOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:training:TrainingOperator", name, None, opts)
        ns = c.NS_TRAINER
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            flows=operator_flows("kubeflow-trainer", (9443,)),
        )
        # Trainer and JobSet webhooks (9443) for the API server; training pods in tenant
        # namespaces report progress to the TrainJob status server (10443).
        operator_policies(
            name,
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            args.api_server,
            api_server_ports=(9443,),
            tenant_ports=(10443,),
        )
        controller, jobset = args.controller_image, args.jobset_image
        secrets = pull_secrets(args.pull_secret)
        self.release = helm_release(
            f"{name}-release",
            release="kubeflow-trainer",
            chart=args.chart,
            mirror=args.mirror,
            namespace=ns,
            values={
                "image": {
                    "registry": args.mirror,
                    "repository": controller.path,
                    "tag": controller.pinned_tag,
                    "pullSecrets": secrets,
                },
                "manager": {
                    **args.placement.chart(),
                    "replicas": 2,
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "256Mi"},
                        "limits": {"cpu": "1", "memory": "1Gi"},
                    },
                },
                "jobset": {
                    "install": True,
                    "controller": args.placement.chart(),
                    # jobset 0.12.0 pulls `image.repository:image.tag` (it has no registry key)
                    "image": {
                        "repository": f"{args.mirror}/{jobset.path}",
                        "tag": jobset.pinned_tag,
                        "pullSecrets": secrets,
                    },
                    "commonLabels": chart_labels(args.labels),
                },
                # The chart's runtimes use public images and an installer Job pulling from
                # docker.io: off. The platform's own runtime is declared below.
                "runtimes": {"defaultEnabled": False},
                "dataCache": {"enabled": False},
                "webhook": {"failurePolicy": "Fail"},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        self.runtime_resource = k8s.apiextensions.CustomResource(
            f"{name}-torch-runtime",
            api_version="trainer.kubeflow.org/v1alpha1",
            kind="ClusterTrainingRuntime",
            metadata={
                "name": args.runtime_name,
                "labels": {**args.labels, "trainer.kubeflow.org/framework": "torch"},
            },
            spec=torch_runtime_spec(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.runtime = args.runtime_name
        self.register_outputs({"runtime": self.runtime})
