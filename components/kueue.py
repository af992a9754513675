"""`GpuQueueing`: Kueue, a ResourceFlavor per GPU pool and the shared ClusterQueue.

Every tenant submits GPU work through its LocalQueue `default` (created by `Tenant`) into the
one ClusterQueue `platform-gpu`. Admission is what keeps GPUs honest:

- GPU nominal quota per flavor = the pool's capacity (GPUs the nodes really have), so Kueue
  never admits more GPU work than exists; tenants' `requests.nvidia.com/gpu` ResourceQuotas
  cap each team on top.
- A CPU-only flavor comes first, so jobs that ask for no GPU never land on GPU nodes; GPU jobs
  fall through to the pool flavors, which add the pool's node labels and the GPU toleration.
- CPU/memory quotas are the platform's committed tenant capacity (sum of tenant quotas):
  Kueue governs GPUs; each namespace's ResourceQuota governs CPU and memory.
- Tenants share the queue by Admission Fair Sharing (usage-weighted by GPUs, half-life 7 days):
  a team that used less recently is admitted first. Within the queue a higher-priority
  workload may preempt a lower one; nobody preempts equal priority.
- Kueue manages jobs in tenant namespaces even without a queue label (they get `default`),
  so a TrainJob/JobSet/Job cannot bypass admission.

| child | purpose |
|---|---|
| Namespace `kueue-system` | PSS restricted; ingress only to the webhook/visibility ports |
| helm Release kueue | pinned, mirror image, 2 replicas, configuration above |
| ResourceFlavor `default-cpu` + one per GPU pool | nodeLabels + tolerations for the pool |
| ClusterQueue `platform-gpu` | quotas, tenant namespaceSelector, fair sharing, preemption |

Outputs: `cluster_queue`, `flavors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import conventions as c
from components.api_server import ApiServer
from components.flows import operator_flows
from components.helm import helm_release
from components.namespace import operator_policies, platform_namespace, pull_secrets
from components.placement import Placement
from version_catalogue.artifacts import Chart, Image

CPU_FLAVOR = "default-cpu"
FRAMEWORKS = ("batch/job", "jobset.x-k8s.io/jobset", "trainer.kubeflow.org/trainjob")


@dataclass(frozen=True)
class GpuFlavor:
    name: str  # the pool name
    node_labels: dict[str, str]
    gpus: int  # pool capacity


@dataclass(frozen=True)
class GpuQueueingArgs:
    mirror: str
    labels: dict[str, str]
    chart: Chart
    image: Image
    flavors: tuple[GpuFlavor, ...]
    cpu: str  # committed CPU for queued work (sum of tenant quotas)
    memory: str
    pull_secret: str | None
    api_server: ApiServer  # where its pods reach the API server (components.api_server)
    replicas: int = 2
    cluster_queue: str = c.CLUSTER_QUEUE
    tenant_label: str = c.TENANT_LABEL
    fair_sharing_half_life: str = "168h"
    frameworks: tuple[str, ...] = FRAMEWORKS
    extra_config: dict = field(default_factory=dict)
    placement: Placement = field(default_factory=Placement)  # components.placement


def manager_config(args: GpuQueueingArgs) -> dict:
    """Kueue's Configuration (config.kueue.x-k8s.io/v1beta2) as the chart's ConfigMap holds it."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "clientConnection": {"qps": 300, "burst": 500},
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [{"key": args.tenant_label, "operator": "Exists"}]
        },
        # All-or-nothing start for distributed jobs: a half-scheduled TrainJob releases its
        # GPUs after 10 minutes instead of holding them.
        "waitForPodsReady": {"timeout": "10m", "blockAdmission": False},
        "integrations": {"frameworks": list(args.frameworks)},
        "admissionFairSharing": {
            "usageHalfLifeTime": args.fair_sharing_half_life,
            "usageSamplingInterval": "5m",
            "resourceWeights": {c.GPU_RESOURCE: 1.0, "cpu": 0.0, "memory": 0.0},
        },
        **args.extra_config,
    }


def _chart_values(args: GpuQueueingArgs) -> dict:
    return {
        "controllerManager": {
            "replicas": args.replicas,
            "imagePullSecrets": pull_secrets(args.pull_secret),
            "podDisruptionBudget": {"enabled": args.replicas > 1, "minAvailable": 1},
            **args.placement.chart(),
            "manager": {
                "image": {
                    "repository": f"{args.mirror}/{args.image.path}",
                    "tag": args.image.pinned_tag,
                    "pullPolicy": "IfNotPresent",
                },
            },
        },
        "managerConfig": {
            "controllerManagerConfigYaml": yaml.safe_dump(manager_config(args), sort_keys=False)
        },
    }


def _cluster_queue_spec(args: GpuQueueingArgs) -> dict:
    """Quotas per flavor (GPUs = pool capacity), tenant namespaces only, fair sharing."""

    def quota(flavor_name: str, gpus: int) -> dict:
        return {
            "name": flavor_name,
            "resources": [
                {"name": "cpu", "nominalQuota": args.cpu},
                {"name": "memory", "nominalQuota": args.memory},
                {"name": c.GPU_RESOURCE, "nominalQuota": str(gpus)},
            ],
        }

    return {
        "namespaceSelector": {
            "matchExpressions": [{"key": args.tenant_label, "operator": "Exists"}]
        },
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [
            {
                "coveredResources": ["cpu", "memory", c.GPU_RESOURCE],
                "flavors": [quota(CPU_FLAVOR, 0)]
                + [quota(pool.name, pool.gpus) for pool in args.flavors],
            }
        ],
        "flavorFungibility": {"whenCanBorrow": "MayStopSearch", "whenCanPreempt": "TryNextFlavor"},
        "preemption": {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Never"},
        "admissionScope": {"admissionMode": "UsageBasedAdmissionFairSharing"},
    }


class GpuQueueing(pulumi.ComponentResource):
    cluster_queue: str
    flavors: list[str]

    def __init__(
        self, name: str, args: GpuQueueingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:queueing:GpuQueueing", name, None, opts)
        ns = c.NS_KUEUE
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            flows=operator_flows("kueue", (9443, 8082)),
        )
        # Admission webhook (9443) and the visibility API server (8082), called by the API server.
        operator_policies(
            name,
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            args.api_server,
            api_server_ports=(9443, 8082),
        )
        self.release = helm_release(
            f"{name}-release",
            release="kueue",
            chart=args.chart,
            mirror=args.mirror,
            namespace=ns,
            values=_chart_values(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.release])

        def flavor(resource: str, flavor_name: str, spec: dict) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(
                f"{name}-flavor-{resource}",
                api_version="kueue.x-k8s.io/v1beta2",
                kind="ResourceFlavor",
                metadata={"name": flavor_name, "labels": args.labels},
                spec=spec,
                opts=after,
            )

        flavors = [flavor("cpu", CPU_FLAVOR, {})]
        for pool in args.flavors:
            flavors.append(
                flavor(
                    pool.name,
                    pool.name,
                    {"nodeLabels": dict(pool.node_labels), "tolerations": [dict(c.GPU_TOLERATION)]},
                )
            )

        self.queue = k8s.apiextensions.CustomResource(
            f"{name}-cluster-queue",
            api_version="kueue.x-k8s.io/v1beta2",
            kind="ClusterQueue",
            metadata={"name": args.cluster_queue, "labels": args.labels},
            spec=_cluster_queue_spec(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, *flavors]),
        )
        self.cluster_queue = args.cluster_queue
        self.flavors = [CPU_FLAVOR, *(pool.name for pool in args.flavors)]
        self.register_outputs({"clusterQueue": self.cluster_queue, "flavors": self.flavors})
