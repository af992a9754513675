"""`ModelServing`: KServe in Standard (raw Deployment) mode and the platform's serving runtime.

| child | purpose |
|---|---|
| Namespace `kserve` | Pod Security `restricted` (the controller is non-root, read-only) |
| helm Release `kserve-crd` | KServe CRDs, pinned (`CHARTS["kserve-crd"]`) |
| helm Release `kserve` | chart `kserve-resources`, pinned; Standard mode; no Knative/Istio |
| ClusterServingRuntime `mlplatform-predictor` | the platform predictor (V1/V2, HTTPS on 8080) |
| NetworkPolicy (3) | default deny; webhook (9443) in; API server out |

Every image the chart deploys or injects (controller, kube-rbac-proxy, storage initializer,
agent, router, the ART explainer, the local-model download job) comes from the mirror. The
runtime's pod is hardened and carries the MLflow client settings and the platform CA bundle.

TLS (issue 13 item 7): the predictor serves HTTPS only, with the tenant namespace's certificate
from the platform CA: `predictor_certificate` (one per tenant namespace, created with the
tenant's ML access, `components.ml_access`) writes Secret `mlplatform-predictor-tls`; the runtime
mounts it and sets KServe's `KSERVE_TLS_CERT_FILE`/`KSERVE_TLS_KEY_FILE`
(`workloads.serving.server`), and its probes use scheme HTTPS. The certificate names every
Service of the namespace (`*.<namespace>.svc[.cluster.local]`, the predictors' Services and the
canary guard's) and `PREDICTOR_SERVER_NAME`, the name Prometheus verifies when it scrapes the
pods by address (`components.observability.monitors`). With `ingress_class` set, the site's
ingress controller must speak HTTPS to the backend and trust the platform CA (KServe creates
those Ingresses without a backend-protocol annotation).

Depends on cert-manager (KServe's webhook certificate): pass the core's cert-manager release in
`opts.depends_on`.

Args (`ModelServingArgs`): `mirror`, `labels`, `runtime_image`, `host_domain`,
`tracking_uri` (MLflow, https), `ca_bundle` (ConfigMap with `ca.crt` in tenant namespaces),
`ingress_class` (None: KServe creates no Ingress at all), `pull_secret`, `runtime_name`.

Outputs: `runtime` (ClusterServingRuntime name), `host_pattern` (`{name}` and `{namespace}`
placeholders), `deployment_mode`.

Network exposure: by default (`ingress_class=None`) the controller creates no Ingress and no
LoadBalancer: an InferenceService is reachable only in-cluster at
`<name>-predictor.<namespace>.svc.cluster.local`, behind the tenant's NetworkPolicies
(UAE-NET-005). A site that wants a DNS name per model sets `ingress_class` to its *internal*
ingress controller's class; KServe then creates Ingresses `<name>-<namespace>.<host_domain>`.
Canary traffic (`spec.canary`) is a KServe v0.20 Standard-mode feature: replicas are split by
traffic percent behind the same Service, so it works without a mesh or gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.api_server import ApiServer, api_server_egress
from components.credentials import SECRET_FILE_MODE
from components.flows import Pods, operator_flows
from components.helm import helm_release
from components.namespace import platform_namespace, pull_secrets
from components.network_policies import NetworkPeer, service_network_policies
from components.objects import upstream
from components.pki import server_certificate
from components.placement import Placement
from components.security_context import container_security, tmp_volume
from version_catalogue.artifacts import Chart, Image

PREDICTOR_PORT = 8080  # KServe's default HTTP port; V1 and V2 protocols (HTTPS here)
PREDICTOR_TLS_SECRET = "mlplatform-predictor-tls"  # in every tenant namespace, same name
PREDICTOR_TLS_MOUNT = "/etc/mlplatform/predictor-tls"
PREDICTOR_SERVER_NAME = c.SERVING_RUNTIME  # a name every predictor certificate carries
TLS_CERT_ENV, TLS_KEY_ENV = "KSERVE_TLS_CERT_FILE", "KSERVE_TLS_KEY_FILE"  # KServe's variables
WEBHOOK_PORT = 9443  # the controller's admission webhook (InferenceService, pods)
CONTROLLER = {"control-plane": "kserve-controller-manager"}
DEPLOYMENT_MODE = "Standard"  # KServe >= 0.15 name of RawDeployment (kept as a legacy alias)
_LEGACY_MODES = {"RawDeployment": "Standard"}


def deployment_mode(configured: str) -> str:
    """KServe v0.20's name for a configured mode (`RawDeployment` is now `Standard`).

    Canary validation compares the InferenceService annotation with "Standard" literally, so
    the legacy name must not reach the cluster.
    """
    mode = _LEGACY_MODES.get(configured, configured)
    if mode != DEPLOYMENT_MODE:
        raise ValueError(f"kserve.deploymentMode {configured!r}: only Standard (raw) is supported")
    return mode


MODEL_FORMAT = "mlflow"
HOME = "/home/mlplatform"


@dataclass(frozen=True)
class KserveImages:
    """What the `kserve-resources` chart deploys or the controller injects (from the catalogue)."""

    controller: Image
    rbac_proxy: Image
    storage_initializer: Image
    agent: Image
    router: Image
    art_explainer: Image  # what `explainer.art` runs (the chart's default is on Docker Hub)


@dataclass(frozen=True, kw_only=True)
class ModelServingArgs:
    mirror: str
    labels: dict[str, str]
    crd_chart: Chart  # kserve-crd
    chart: Chart  # kserve-resources
    images: KserveImages
    runtime_image: str
    tracking_uri: str
    ca_bundle: str  # ConfigMap with the platform CA in tenant namespaces
    # From the stack config (no defaults here: the config model holds them)
    host_domain: str
    deployment_mode: str  # Standard (RawDeployment accepted as its legacy name)
    pull_secret: str | None
    api_server: ApiServer  # the controller's calls (components.api_server)
    ingress_class: str | None = None
    runtime_name: str = c.SERVING_RUNTIME
    requests: dict[str, str] = field(default_factory=lambda: {"cpu": "500m", "memory": "1Gi"})
    limits: dict[str, str] = field(default_factory=lambda: {"cpu": "2", "memory": "2Gi"})
    placement: Placement = field(default_factory=Placement)  # components.placement


def _image(image: Image, mirror: str) -> dict[str, str]:
    return {"image": f"{mirror}/{image.path}", "tag": image.pinned_tag}


def predictor_dns_names(namespace: str) -> list[str]:
    """What a tenant namespace's predictor certificate is valid for: any Service there (the
    InferenceServices' `<name>-predictor`, the canary guard's Service) and the shared name."""
    return [
        f"*.{namespace}",
        f"*.{namespace}.svc",
        f"*.{namespace}.svc.cluster.local",
        PREDICTOR_SERVER_NAME,
    ]


def predictor_certificate(
    resource_name: str,
    namespace: str,
    labels: dict[str, str],
    issuer: str,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """The tenant namespace's predictor certificate (Secret `PREDICTOR_TLS_SECRET`) from the
    platform CA issuer `issuer`."""
    return server_certificate(
        resource_name,
        name=PREDICTOR_TLS_SECRET,
        namespace=namespace,
        dns_names=predictor_dns_names(namespace),
        labels=labels,
        opts=opts,
        issuer=issuer,
    )


def https_probe(path: str) -> dict[str, Any]:
    """A kubelet probe of the predictor over HTTPS (kubelet does not verify the certificate)."""
    return {"httpGet": {"path": path, "port": PREDICTOR_PORT, "scheme": "HTTPS"}}


def chart_values(args: ModelServingArgs) -> dict[str, Any]:
    """Values for `kserve-resources`: every image from the mirror, Standard mode, no ingress."""
    secrets = pull_secrets(args.pull_secret)
    images = args.images
    return {
        "kserve": {
            "version": args.chart.version,
            "controller": {
                **_image(images.controller, args.mirror),
                "imagePullPolicy": "IfNotPresent",
                "imagePullSecrets": secrets,
                "rbacProxyImage": images.rbac_proxy.ref(args.mirror),
                "deploymentMode": deployment_mode(args.deployment_mode),
                **args.placement.chart(),
                "labels": args.labels,
                "podLabels": args.labels,
                "gateway": {
                    "domain": args.host_domain,
                    "disableIngressCreation": args.ingress_class is None,
                    "disableIstioVirtualHost": True,
                    "ingressGateway": {
                        "className": args.ingress_class or "none",
                        "enableGatewayApi": False,
                        "createGateway": False,
                    },
                },
            },
            "storage": _image(images.storage_initializer, args.mirror),
            "agent": _image(images.agent, args.mirror),
            "router": _image(images.router, args.mirror),
            "servingruntime": {
                "art": {
                    "image": f"{args.mirror}/{images.art_explainer.path}",
                    "defaultVersion": images.art_explainer.pinned_tag,
                }
            },
            # Off; its download job's image is still the controller's setting: the mirror's.
            "localmodel": {
                "enabled": False,
                "defaultJobImage": f"{args.mirror}/{images.storage_initializer.path}",
                "defaultJobTag": images.storage_initializer.pinned_tag,
            },
            # InferenceService pods get no API token unless a tenant asks for one explicitly.
            "security": {"autoMountServiceAccountToken": False},
            "metricsaggregator": {
                "enableMetricAggregation": "false",
                "enablePrometheusScraping": "false",
            },
        }
    }


def _secret_volumes(args: ModelServingArgs) -> list[dict[str, Any]]:
    """The CA bundle, the tenant's MLflow credentials and the predictor's TLS pair."""
    return [
        {"name": "ca-bundle", "configMap": {"name": args.ca_bundle}},
        {
            "name": "mlflow-credentials",
            "secret": {
                "secretName": c.MLFLOW_CREDENTIALS_SECRET,
                "defaultMode": SECRET_FILE_MODE,
                "items": [{"key": "credentials", "path": "credentials"}],
            },
        },
        {
            "name": "predictor-tls",
            "secret": {
                "secretName": PREDICTOR_TLS_SECRET,
                "defaultMode": SECRET_FILE_MODE,
                "items": [
                    {"key": "tls.crt", "path": "tls.crt"},
                    {"key": "tls.key", "path": "tls.key"},
                ],
            },
        },
    ]


def runtime_spec(args: ModelServingArgs) -> dict[str, Any]:
    """ClusterServingRuntime: the predictor image; the tenant's InferenceService names the model.

    The predictor resolves `models:/<name>@<alias>` itself through the MLflow client (KServe's
    storage initializer has no MLflow scheme), authenticating with the tenant's
    `mlflow-credentials` Secret mounted as `~/.mlflow/credentials` and verifying MLflow's
    certificate with the platform CA bundle.
    """
    tmp, tmp_mount = tmp_volume()
    spec: dict[str, Any] = {
        "supportedModelFormats": [
            {"name": MODEL_FORMAT, "version": "3", "autoSelect": True, "priority": 1}
        ],
        "protocolVersions": ["v1", "v2"],
        "multiModel": False,
        "containers": [
            {
                "name": "kserve-container",
                "image": args.runtime_image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["python", "-m", "workloads.serving", "cluster"],
                "args": [f"--http_port={PREDICTOR_PORT}"],
                "ports": [{"name": "http1", "containerPort": PREDICTOR_PORT, "protocol": "TCP"}],
                "env": [
                    {"name": "MLFLOW_TRACKING_URI", "value": args.tracking_uri},
                    {
                        "name": "MLFLOW_TRACKING_SERVER_CERT_PATH",
                        "value": f"{c.CA_BUNDLE_MOUNT}/ca.crt",
                    },
                    {"name": "MLFLOW_DISABLE_TELEMETRY", "value": "true"},
                    {"name": "HOME", "value": HOME},
                    {"name": "XDG_CACHE_HOME", "value": "/tmp/.cache"},
                    {"name": TLS_CERT_ENV, "value": f"{PREDICTOR_TLS_MOUNT}/tls.crt"},
                    {"name": TLS_KEY_ENV, "value": f"{PREDICTOR_TLS_MOUNT}/tls.key"},
                ],
                "resources": {"requests": args.requests, "limits": args.limits},
                "securityContext": container_security(),
                "readinessProbe": {
                    **https_probe("/v2/health/ready"),
                    "periodSeconds": 10,
                    "timeoutSeconds": 5,
                },
                "livenessProbe": {
                    **https_probe("/v2/health/live"),
                    "initialDelaySeconds": 30,
                    "periodSeconds": 20,
                    "timeoutSeconds": 5,
                },
                "volumeMounts": [
                    tmp_mount,
                    {"name": "ca-bundle", "mountPath": c.CA_BUNDLE_MOUNT, "readOnly": True},
                    {
                        "name": "mlflow-credentials",
                        "mountPath": f"{HOME}/.mlflow",
                        "readOnly": True,
                    },
                    {"name": "predictor-tls", "mountPath": PREDICTOR_TLS_MOUNT, "readOnly": True},
                ],
            }
        ],
        "volumes": [tmp, *_secret_volumes(args)],
    }
    if args.pull_secret:
        spec["imagePullSecrets"] = pull_secrets(args.pull_secret)
    return spec


class ModelServing(pulumi.ComponentResource):
    runtime: str
    host_pattern: str
    deployment_mode: str

    def __init__(
        self, name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:ml:ModelServing", name, None, opts)
        ns = c.NS_KSERVE
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self, depends_on=upstream(opts)),
            flows=operator_flows("kserve", (WEBHOOK_PORT,), Pods(CONTROLLER)),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        crd_release = helm_release(
            f"{name}-crd",
            release="kserve-crd",
            chart=args.crd_chart,
            mirror=args.mirror,
            namespace=ns,
            opts=in_ns,
        )
        release = helm_release(
            f"{name}-release",
            release="kserve",
            chart=args.chart,
            mirror=args.mirror,
            namespace=ns,
            values=chart_values(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, crd_release]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-runtime",
            api_version="serving.kserve.io/v1alpha1",
            kind="ClusterServingRuntime",
            metadata={"name": args.runtime_name, "labels": args.labels},
            spec=runtime_spec(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        # Only the controller runs here: the API server calls its webhook (admitted by port:
        # the only form every CNI matches it with) and it talks to the API server (by the
        # endpoint addresses, and on Cilium its entity). Nothing else.
        service_network_policies(
            name,
            ns,
            args.labels,
            CONTROLLER,
            [NetworkPeer((WEBHOOK_PORT,), anywhere=True)],
            [],
            in_ns,
        )
        api_server_egress(name, ns, args.labels, CONTROLLER, args.api_server, in_ns)
        self.release = release
        self.runtime = args.runtime_name
        self.deployment_mode = deployment_mode(args.deployment_mode)
        self.host_pattern = (
            f"{{name}}-{{namespace}}.{args.host_domain}"
            if args.ingress_class
            else "{name}-predictor.{namespace}.svc.cluster.local"
        )
        self.register_outputs({"runtime": self.runtime, "hostPattern": self.host_pattern})
