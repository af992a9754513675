"""ModelServing: pinned KServe v0.20 from the mirror, Standard mode, internal, hardened runtime."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import conventions as c
from components.api_server import ApiServer
from components.serving import (
    PREDICTOR_PORT,
    PREDICTOR_SERVER_NAME,
    PREDICTOR_TLS_SECRET,
    WEBHOOK_PORT,
    ModelServing,
    ModelServingArgs,
    chart_values,
    deployment_mode,
    predictor_dns_names,
)
from infra.synth import manifests
from infra.synth.recording import synthesize
from stacks import artifacts
from tests.components.ml_fixtures import LABELS, MIRROR, assert_hardened, by_kind
from tests.support.schemas import custom_resource_errors, require_crds
from version_catalogue import CHARTS

RUNTIME_IMAGE = f"{MIRROR}/serving:0.1.0"
TRACKING = "https://mlflow.mlflow.svc.cluster.local"
API = ApiServer(cidrs=("10.10.0.11/32", "10.10.0.12/32"))


def _args(**overrides) -> ModelServingArgs:
    return ModelServingArgs(
        mirror=MIRROR,
        labels=LABELS,
        crd_chart=CHARTS["kserve-crd"],
        chart=CHARTS["kserve"],
        images=artifacts.kserve_images(),
        runtime_image=RUNTIME_IMAGE,
        tracking_uri=TRACKING,
        ca_bundle="mlplatform-ca-bundle",
        host_domain="models.bank.internal",  # not the config default: must reach the chart
        deployment_mode="RawDeployment",  # the legacy name, normalised to Standard
        pull_secret="harbor-pull",
        api_server=API,
        **overrides,
    )


@pytest.fixture(scope="module")
def serving():
    components: list[ModelServing] = []

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        cert_manager = k8s.core.v1.Namespace(
            "cert-manager",
            metadata={"name": "cert-manager"},
            opts=pulumi.ResourceOptions(provider=provider),
        )
        components.append(
            ModelServing(
                "kserve",
                _args(),
                pulumi.ResourceOptions(provider=provider, depends_on=[cert_manager]),
            )
        )

    synthesis = synthesize("test", {}, program)
    return synthesis, by_kind(synthesis), components[0]


def _releases(synthesis):
    return {r.inputs["name"]: r for r in synthesis.of_type("kubernetes:helm.sh/v3:Release")}


def test_crds_and_controller_are_pinned_charts_from_the_mirror(serving):
    synthesis, _, _ = serving
    releases = _releases(synthesis)
    assert releases["kserve-crd"].inputs["chart"] == f"oci://{MIRROR}/charts/kserve-crd"
    assert releases["kserve"].inputs["chart"] == f"oci://{MIRROR}/charts/kserve-resources"
    assert (
        releases["kserve-crd"].inputs["version"]
        == releases["kserve"].inputs["version"]
        == "v0.20.0"
    )
    assert CHARTS["kserve"].name == "kserve-resources"
    # The controller waits for its CRDs; the namespace waits for cert-manager.
    assert releases["kserve-crd"].urn in releases["kserve"].options["dependsOn"]
    namespace = next(r for r in synthesis.resources if r.name == "kserve-ns")
    assert any(d.endswith("::cert-manager") for d in namespace.options["dependsOn"])


def test_every_image_the_chart_uses_comes_from_the_mirror():
    values = chart_values(_args())["kserve"]
    images = [
        values["controller"]["image"],
        values["controller"]["rbacProxyImage"],
        values["storage"]["image"],
        values["agent"]["image"],
        values["router"]["image"],
    ]
    assert all(image.startswith(f"{MIRROR}/") for image in images), images
    assert values["controller"]["tag"] == "v0.20.0"
    assert values["controller"]["imagePullSecrets"] == [{"name": "harbor-pull"}]
    assert "docker.io" not in json.dumps(values) and "quay.io" not in json.dumps(values)


def test_standard_mode_without_ingress_or_tokens():
    values = chart_values(_args())["kserve"]
    assert values["controller"]["deploymentMode"] == "Standard"
    gateway = values["controller"]["gateway"]
    assert gateway["disableIngressCreation"] is True
    assert gateway["ingressGateway"]["createGateway"] is False
    assert values["security"]["autoMountServiceAccountToken"] is False
    assert values["localmodel"]["enabled"] is False


def test_host_pattern_is_cluster_local_unless_an_internal_ingress_class_is_given(serving):
    _, _, component = serving
    assert component.host_pattern == "{name}-predictor.{namespace}.svc.cluster.local"
    internal = chart_values(_args(ingress_class="nginx-internal"))["kserve"]["controller"][
        "gateway"
    ]
    assert internal["disableIngressCreation"] is False
    assert internal["ingressGateway"]["className"] == "nginx-internal"
    assert internal["domain"] == "models.bank.internal"


def test_serving_runtime_is_hardened_and_validates_against_the_crd(serving):
    require_crds()
    _, objects, _ = serving
    runtime = manifests.to_object(objects[("ClusterServingRuntime", c.SERVING_RUNTIME)])
    assert custom_resource_errors(runtime) == []
    spec = runtime["spec"]
    assert_hardened(
        {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": spec["containers"],
        }
    )
    container = spec["containers"][0]
    assert container["image"] == RUNTIME_IMAGE
    assert container["ports"][0]["containerPort"] == PREDICTOR_PORT == 8080
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert spec["protocolVersions"] == ["v1", "v2"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MLFLOW_TRACKING_URI"] == TRACKING
    assert env["MLFLOW_TRACKING_SERVER_CERT_PATH"] == f"{c.CA_BUNDLE_MOUNT}/ca.crt"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["mlflow-credentials"]["secret"]["secretName"] == c.MLFLOW_CREDENTIALS_SECRET
    assert volumes["ca-bundle"]["configMap"]["name"] == "mlplatform-ca-bundle"


def test_runtime_serves_https_with_the_namespace_certificate(serving):
    _, objects, _ = serving
    spec = manifests.to_object(objects[("ClusterServingRuntime", c.SERVING_RUNTIME)])["spec"]
    container = spec["containers"][0]
    (volume,) = [
        v for v in spec["volumes"] if v.get("secret", {}).get("secretName") == PREDICTOR_TLS_SECRET
    ]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    assert {i["key"] for i in volume["secret"]["items"]} == {"tls.crt", "tls.key"}
    env = {e["name"]: e["value"] for e in container["env"]}
    # KServe's variables (workloads.serving.server reads them): the mounted pair
    assert env["KSERVE_TLS_CERT_FILE"] == f"{mount['mountPath']}/tls.crt"
    assert env["KSERVE_TLS_KEY_FILE"] == f"{mount['mountPath']}/tls.key"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS", probe
        assert container[probe]["httpGet"]["port"] == PREDICTOR_PORT


def test_predictor_certificate_names_every_service_of_its_namespace_and_the_shared_name():
    names = predictor_dns_names("tenant-risk")
    assert "*.tenant-risk.svc.cluster.local" in names  # <isvc>-predictor.tenant-risk.svc...
    assert "*.tenant-risk.svc" in names  # the canary guard's Service
    assert PREDICTOR_SERVER_NAME in names  # what Prometheus verifies
    assert not [n for n in names if "tenant-" in n and "tenant-risk" not in n]


def test_namespace_is_pod_security_restricted(serving):
    _, objects, _ = serving
    labels = objects[("Namespace", c.NS_KSERVE)].inputs["metadata"]["labels"]
    assert labels[c.PSS_ENFORCE] == "restricted"


def test_kserve_namespace_is_default_deny_with_webhook_in_and_api_server_out(serving):
    _, objects, _ = serving
    deny = objects[("NetworkPolicy", "default-deny")].inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    controller = {"matchLabels": {"control-plane": "kserve-controller-manager"}}
    allow = objects[("NetworkPolicy", "allow-service")].inputs["spec"]
    assert allow["podSelector"] == controller
    # the webhook is admitted by port alone (every CNI matches the API server so), nothing else
    (webhook,) = allow["ingress"]
    assert "from" not in webhook and [p["port"] for p in webhook["ports"]] == [WEBHOOK_PORT]
    assert allow["egress"] == []
    # the controller reaches the API server at its endpoint addresses only, never 0.0.0.0/0
    api = objects[("NetworkPolicy", "allow-api-server-egress")].inputs["spec"]
    assert api["podSelector"] == controller and api["policyTypes"] == ["Egress"]
    (rule,) = api["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": cidr}} for cidr in API.cidrs]
    assert [p["port"] for p in rule["ports"]] == [443, 6443]
    assert not [key for key in objects if key[0] == "CiliumNetworkPolicy"]  # not on Cilium


def test_legacy_raw_deployment_name_maps_to_standard_and_knative_is_refused():
    assert deployment_mode("RawDeployment") == deployment_mode("Standard") == "Standard"
    with pytest.raises(ValueError, match="only Standard"):
        deployment_mode("Knative")
