"""Sample workloads: a Kueue-queued GPU TrainJob and a KServe InferenceService with a canary."""

from __future__ import annotations

import configparser

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import conventions as c
from components.ml_access import TenantMlAccess, TenantMlAccessArgs, credentials_file
from components.sample_workloads import (
    SampleWorkloads,
    SampleWorkloadsArgs,
    inference_service,
    train_job,
)
from components.serving import PREDICTOR_TLS_SECRET
from infra.synth import manifests
from infra.synth.recording import synthesize, unwrap
from tests.components.ml_fixtures import (
    LABELS,
    MIRROR,
    assert_hardened,
    assert_redacted,
    by_kind,
    core_errors,
)
from tests.support.schemas import custom_resource_errors, require_crds

TRACKING = "https://mlflow.mlflow.svc.cluster.local"


def _args(**overrides) -> SampleWorkloadsArgs:
    values = {
        "tenant": "risk",
        "namespace": "tenant-risk",
        "model_name": "fraud-risk",
        "labels": LABELS,
        "training_image": f"{MIRROR}/training:0.1.0",
        "tracking_uri": TRACKING,
        "gpus": 2,
        "training_args": (
            "--labelled",
            "s3://feast-offline/risk/labelled.parquet",
            "--work-dir",
            "/tmp/work",
        ),
        "min_replicas": 2,
        "max_replicas": 5,
        "canary_traffic_percent": 10,
        "deployment_mode": "Standard",
        **overrides,
    }
    return SampleWorkloadsArgs(**values)


def _trainer_pod(job):
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]
    return patch["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]


def test_train_job_validates_and_is_queued_with_gpus():
    require_crds()
    job = train_job(_args())
    assert custom_resource_errors(job) == []
    assert job["metadata"]["labels"][c.KUEUE_QUEUE_LABEL] == c.LOCAL_QUEUE
    assert job["spec"]["runtimeRef"] == {
        "name": c.TRAINING_RUNTIME,
        "apiGroup": "trainer.kubeflow.org",
        "kind": "ClusterTrainingRuntime",
    }
    trainer = job["spec"]["trainer"]
    assert trainer["resourcesPerNode"]["requests"][c.GPU_RESOURCE] == "2"
    assert trainer["resourcesPerNode"]["limits"][c.GPU_RESOURCE] == "2"
    assert trainer["numProcPerNode"] == 2
    assert trainer["command"] == ["torchrun", "-m", "workloads.training"]
    assert trainer["image"].startswith(MIRROR)
    assert _trainer_pod(job)["tolerations"] == [c.GPU_TOLERATION]


def test_cpu_train_job_requests_no_gpu_and_no_toleration():
    job = train_job(_args(gpus=0))
    trainer = job["spec"]["trainer"]
    assert c.GPU_RESOURCE not in trainer["resourcesPerNode"]["requests"]
    assert "numProcPerNode" not in trainer
    assert "tolerations" not in _trainer_pod(job)


def test_training_reads_the_contract_endpoints_and_mounts_credentials_as_files():
    job = train_job(_args())
    env = {e["name"]: e["value"] for e in job["spec"]["trainer"]["env"]}
    assert env["MLFLOW_TRACKING_URI"] == TRACKING
    assert env["MLFLOW_TRACKING_SERVER_CERT_PATH"] == f"{c.CA_BUNDLE_MOUNT}/ca.crt"
    assert env["MLP_FEATURE_STORE_YAML"] == "/etc/mlplatform/feast/feature_store.yaml"
    assert env["MLP_EXPERIMENT"] == "risk/fraud-risk"
    pod = _trainer_pod(job)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["mlflow-credentials"]["secret"]["secretName"] == c.MLFLOW_CREDENTIALS_SECRET
    assert volumes["feast-client"]["configMap"]["name"] == c.FEAST_CLIENT_CONFIG
    token = volumes["sa-token"]["projected"]["sources"][0]["serviceAccountToken"]
    assert token["expirationSeconds"] == 3600  # short-lived, pod-bound (Feast authz)
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_inference_service_validates_with_replicas_and_canary():
    require_crds()
    isvc = inference_service(_args())
    assert custom_resource_errors(isvc) == []
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    # The mode is the Args' (the stack passes KServe's, normalised by ModelServing), not a constant.
    other = inference_service(_args(deployment_mode="Serverless"))["metadata"]["annotations"]
    assert other["serving.kserve.io/deploymentMode"] == "Serverless"
    predictor = isvc["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 5)
    assert predictor["model"]["runtime"] == c.SERVING_RUNTIME
    env = {e["name"]: e["value"] for e in predictor["model"]["env"]}
    assert env["MLP_MODEL_URI"] == "models:/fraud-risk@champion"
    assert "storageUri" not in predictor["model"]  # KServe has no models:/ scheme
    [canary] = isvc["spec"]["canary"]
    assert canary["trafficPercent"] == 10
    canary_env = {e["name"]: e["value"] for e in canary["predictor"]["model"]["env"]}
    assert canary_env["MLP_MODEL_URI"] == "models:/fraud-risk@challenger"
    # KServe rejects autoscaling fields on a canary (fixed replicas)
    assert "maxReplicas" not in canary["predictor"] and "minReplicas" not in canary["predictor"]


def test_inference_service_pod_is_hardened_without_a_token():
    predictor = inference_service(_args())["spec"]["predictor"]
    assert predictor["automountServiceAccountToken"] is False
    assert predictor["model"]["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert predictor["model"]["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    # the predictor serves HTTPS only (components.serving): the probes say so
    assert predictor["model"]["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert predictor["model"]["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"
    # Feast authz needs the caller's identity: a projected, expiring token, not the automount
    token = next(v for v in predictor["volumes"] if v["name"] == "sa-token")
    assert token["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600
    mounts = {m["mountPath"] for m in predictor["model"]["volumeMounts"]}
    assert "/var/run/secrets/kubernetes.io/serviceaccount" in mounts
    assert_hardened(
        {"securityContext": predictor["securityContext"], "containers": [predictor["model"]]}
    )


def test_no_canary_when_not_configured():
    assert "canary" not in inference_service(_args(canary_traffic_percent=None))["spec"]


WI = {"azure.workload.identity/use": "true"}


def test_pods_carry_the_identity_labels_the_contract_names():
    require_crds()
    job, isvc = train_job(_args(pod_labels=WI)), inference_service(_args(pod_labels=WI))
    assert custom_resource_errors(job) == [] and custom_resource_errors(isvc) == []
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]
    template = patch["replicatedJobs"][0]["template"]["spec"]["template"]
    assert template["metadata"]["labels"] == WI  # merged into the trainer pods
    alias = "mlplatform.io/model-alias"
    assert isvc["spec"]["predictor"]["labels"] == {**WI, alias: "champion"}
    assert isvc["spec"]["canary"][0]["predictor"]["labels"] == {**WI, alias: "challenger"}


def test_no_identity_labels_where_none_are_needed():
    job, isvc = train_job(_args()), inference_service(_args())
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]
    assert "metadata" not in patch["replicatedJobs"][0]["template"]["spec"]["template"]
    # only the alias the canary guard selects by
    assert isvc["spec"]["predictor"]["labels"] == {"mlplatform.io/model-alias": "champion"}
    assert isvc["spec"]["canary"][0]["predictor"]["labels"] == {
        "mlplatform.io/model-alias": "challenger"
    }


@pytest.fixture(scope="module")
def declared():
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        opts = pulumi.ResourceOptions(provider=provider)
        TenantMlAccess(
            "ml-access-risk",
            TenantMlAccessArgs(
                namespace="tenant-risk",
                labels=LABELS,
                mlflow_username="risk",
                mlflow_password=pulumi.Output.secret("tenant-Password-1"),
                feature_store_yaml="project: mlplatform\n",
                cluster_issuer="mlplatform-ca",
            ),
            opts,
        )
        SampleWorkloads("sample-risk", _args(), opts)

    return by_kind(synthesize("test", {}, program))


def test_component_declares_both_custom_resources(declared):
    job = declared[("TrainJob", "fraud-risk-train")]
    isvc = declared[("InferenceService", "fraud-risk")]
    assert manifests.to_object(job)["metadata"]["namespace"] == "tenant-risk"
    assert manifests.to_object(isvc)["spec"]["canary"][0]["trafficPercent"] == 10


def test_tenant_access_secret_is_an_mlflow_credentials_file(declared):
    secret = declared[("Secret", c.MLFLOW_CREDENTIALS_SECRET)]
    assert_redacted(secret, "password", "credentials")
    data = unwrap(secret.inputs["stringData"])
    ini = configparser.ConfigParser()
    ini.read_string(data["credentials"])
    assert ini["mlflow"]["mlflow_tracking_username"] == "risk"
    assert ini["mlflow"]["mlflow_tracking_password"] == "tenant-Password-1"
    assert credentials_file("a", "b").startswith("[mlflow]\n")
    config = declared[("ConfigMap", c.FEAST_CLIENT_CONFIG)].inputs["data"]
    assert config == {"feature_store.yaml": "project: mlplatform\n"}
    assert core_errors(declared) == []


def test_tenant_access_issues_the_predictor_certificate_from_the_platform_ca(declared):
    require_crds()
    cert = manifests.to_object(declared[("Certificate", PREDICTOR_TLS_SECRET)])
    assert custom_resource_errors(cert) == []
    assert cert["metadata"]["namespace"] == "tenant-risk"
    assert cert["spec"]["secretName"] == PREDICTOR_TLS_SECRET  # what the runtime mounts
    assert cert["spec"]["issuerRef"] == {
        "name": "mlplatform-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    host = declared[("InferenceService", "fraud-risk")]
    assert (
        f"*.{manifests.to_object(host)['metadata']['namespace']}.svc.cluster.local"
        in (cert["spec"]["dnsNames"])
    )  # covers fraud-risk-predictor.tenant-risk.svc.cluster.local
