"""GPU nodes: `GpuNodePool` labels and taints existing nodes (on-prem); `GpuOperator` runs them.

`GpuNodePool` (on-prem: the nodes already exist, the platform only claims them)

| child | purpose |
|---|---|
| NodePatch per node | pool + product labels (`components.conventions`), governance labels |
| | and the `nvidia.com/gpu=present:NoSchedule` taint: only pods tolerating it |
| | (Kueue-admitted GPU work, GPU operator daemonsets) land there |

Outputs: `node_labels` (what a Kueue flavor selects), `capacity` (GPUs the pool offers),
`patches`. The patches are server-side apply: Pulumi owns only these labels and the taint
list on those nodes. Kubernetes treats `spec.taints` as one value, so a taint another tool
adds by hand (not the node lifecycle controller's, which uses its own field manager on
cordon/not-ready) is reported as a conflict on the next `pulumi up` instead of being lost.

`GpuOperator`

| child | purpose |
|---|---|
| Namespace `gpu-operator` | PSS `privileged` by the exemption in `components.namespace` |
| helm Release gpu-operator | pinned; every image from the mirror; the operator installs |
| | driver + container toolkit unless the nodes ship them (`install_driver=False`: EKS |
| | AL2023 NVIDIA AMI, AKS GPU images); daemonsets tolerate the GPU taint |

Outputs: `release`, `namespace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.api_server import ApiServer
from components.flows import operator_flows
from components.helm import chart_labels, helm_release
from components.namespace import operator_policies, platform_namespace, pull_secrets
from components.placement import Placement
from version_catalogue.artifacts import Chart, Image


@dataclass(frozen=True)
class GpuNodePoolArgs:
    pool: str
    product: str
    nodes: tuple[str, ...]
    gpus_per_node: int
    labels: dict[str, str]


def _meta(name: str, labels: dict[str, str]) -> Any:
    return {"name": name, "labels": labels}


class GpuNodePool(pulumi.ComponentResource):
    node_labels: dict[str, str]
    capacity: int

    def __init__(
        self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:gpu:GpuNodePool", name, None, opts)
        if not args.nodes:
            raise ValueError(f"GPU pool {args.pool!r} names no nodes")
        self.node_labels = {c.GPU_POOL_LABEL: args.pool, c.GPU_PRODUCT_LABEL: args.product}
        labels: dict[str, str] = {**args.labels, **self.node_labels}
        spec: Any = {"taints": [dict(c.GPU_TAINT)]}
        self.patches = [
            k8s.core.v1.NodePatch(
                f"{name}-{node}",
                metadata=_meta(node, labels),
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for node in args.nodes
        ]
        self.capacity = len(args.nodes) * args.gpus_per_node
        self.register_outputs({"nodeLabels": self.node_labels, "capacity": self.capacity})


@dataclass(frozen=True)
class GpuOperatorImages:
    """The operator's own image and the operands it deploys on GPU nodes (from the catalogue)."""

    operator: Image
    driver: Image
    container_toolkit: Image
    device_plugin: Image  # also GPU feature discovery (gfd), which ships in the same image
    dcgm_exporter: Image
    mig_manager: Image
    cuda_base: Image  # the operator's init container
    node_feature_discovery: Image
    driver_manager: Image  # the driver DaemonSet's init container (k8s-driver-manager)

    def operands(self) -> dict[str, Image]:
        """Chart values key → image, for the operands the chart deploys on GPU nodes."""
        return {
            "driver": self.driver,
            "toolkit": self.container_toolkit,
            "devicePlugin": self.device_plugin,
            "dcgmExporter": self.dcgm_exporter,
            "gfd": self.device_plugin,
            "migManager": self.mig_manager,
        }


@dataclass(frozen=True, kw_only=True)
class GpuOperatorArgs:
    mirror: str
    labels: dict[str, str]
    chart: Chart
    images: GpuOperatorImages
    install_driver: bool  # False where node images ship driver and toolkit (EKS, AKS)
    pull_secret: str | None
    api_server: ApiServer  # where its pods reach the API server (components.api_server)
    placement: Placement = field(default_factory=Placement)  # components.placement


def _split(image: Image, mirror: str, digest_only: bool = False) -> dict[str, str]:
    """The operator's (repository, image, version) triple for a catalogue image.

    A pinned image's version is `tag@digest`, except with `digest_only` (the driver): the
    operator appends the node's OS to a driver version, but takes a `sha256:` version as the
    digest of one image (`repository/image@sha256:...`)."""
    repository, _, leaf = image.path.rpartition("/")
    version = image.digest if digest_only and image.digest else image.pinned_tag
    return {"repository": f"{mirror}/{repository}", "image": leaf, "version": version}


class GpuOperator(pulumi.ComponentResource):
    namespace: str

    def __init__(
        self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:gpu:GpuOperator", name, None, opts)
        ns = c.NS_GPU_OPERATOR
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            privileged=True,
            flows=operator_flows("gpu-operator"),
        )
        # Nothing in the operator's namespace serves other pods: deny all ingress.
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        operator_policies(name, ns, args.labels, in_ns, args.api_server)
        secrets = [s["name"] for s in pull_secrets(args.pull_secret)]
        images = args.images
        operator = _split(images.operator, args.mirror)
        values: dict = {
            # We label the namespace ourselves (with the recorded exemption).
            "psa": {"enabled": False},
            "cdi": {"enabled": True},
            "sandboxWorkloads": {"enabled": False},
            "daemonsets": {
                "tolerations": [dict(c.GPU_TOLERATION)],
                "labels": chart_labels(args.labels),
            },
            "operator": {
                **operator,
                "imagePullSecrets": secrets,
                "initContainer": _split(images.cuda_base, args.mirror),
                # Keep CRDs on uninstall: deleting them would delete every ClusterPolicy.
                "cleanupCRD": False,
                **args.placement.chart(),
            },
            "validator": {**operator, "imagePullSecrets": secrets},
            "node-feature-discovery": {
                "image": {
                    "repository": f"{args.mirror}/{images.node_feature_discovery.path}",
                    "tag": images.node_feature_discovery.pinned_tag,
                },
                "imagePullSecrets": [{"name": s} for s in secrets],
                "worker": {"tolerations": [dict(c.GPU_TOLERATION)]},
                "master": args.placement.chart(),
                "gc": args.placement.chart(),
            },
        }
        for key, image in images.operands().items():
            driver = key == "driver"
            values[key] = {**_split(image, args.mirror, driver), "imagePullSecrets": secrets}
        values["driver"]["enabled"] = args.install_driver
        # The driver manager drains and reloads the driver; the operator also injects it
        # (DRIVER_MANAGER_IMAGE) whatever driver.enabled says: never the chart's nvcr.io default.
        values["driver"]["manager"] = _split(images.driver_manager, args.mirror)
        values["toolkit"]["enabled"] = args.install_driver
        # vGPU, sandboxed-VM, GPUDirect-storage and confidential-computing operands stay off
        # (their images are neither used nor mirrored).
        values["vgpuManager"] = {"enabled": False}
        values["gds"] = {"enabled": False}
        values["gdrcopy"] = {"enabled": False}

        self.release = helm_release(
            f"{name}-release",
            release="gpu-operator",
            chart=args.chart,
            mirror=args.mirror,
            namespace=ns,
            timeout=900,  # the driver daemonset compiles/loads modules on first install
            values=values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        self.namespace = ns
        self.register_outputs({"namespace": ns, "installDriver": args.install_driver})
