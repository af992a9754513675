"""UAE-RES-004: ML data paths point at stores of this stack or declared site stores."""

from __future__ import annotations

from policy_fixtures import (
    assert_fails,
    assert_passes,
    aws,
    check,
    container,
    deployment,
    k8s,
    pod_spec,
)

from policies.pack_config import PackConfig

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def isvc(name: str, storage_uri: str) -> dict:
    return k8s(
        ISVC,
        name,
        "tenant-risk",
        {
            "spec": {
                "predictor": {
                    "model": {"modelFormat": {"name": "mlflow"}, "storageUri": storage_uri}
                }
            }
        },
    )


def mlflow(artifact_root: str, backend: str) -> dict:
    args = [
        "mlflow",
        "server",
        "--default-artifact-root",
        artifact_root,
        f"--backend-store-uri={backend}",
    ]
    return deployment("mlflow", "mlflow", pod_spec(container(args=args)))


def test_paths_to_declared_buckets_in_cluster_services_and_site_stores_pass() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "mlplatform-artifacts"})
    model = isvc("fraud", "s3://mlplatform-artifacts/models/fraud/3")
    server = mlflow(
        "s3://mlplatform-artifacts/mlflow",
        "postgresql://mlflow@mlflow-pg-rw.mlflow.svc:5432/mlflow",
    )
    assert_passes(check("UAE-RES-004", bucket, model, server))
    onprem = mlflow("s3://mlflow-artifacts", "postgresql://pg.dc1.example.ae:5432/mlflow")
    config = PackConfig(data_stores=("s3://mlflow-artifacts", "pg.dc1.example.ae"))
    assert_passes(check("UAE-RES-004", onprem, config=config))


def test_storage_uri_to_an_undeclared_bucket_or_foreign_service_fails() -> None:
    result = check(
        "UAE-RES-004",
        isvc("fraud", "s3://someone-elses-bucket/model"),
        isvc("llm", "hf://meta-llama/Llama-3"),
        isvc("web", "https://models.example.com/fraud.tar.gz"),
    )
    assert_fails(
        result, "InferenceService tenant-risk/fraud", "someone-elses-bucket", "neither declared"
    )
    assert_fails(result, "InferenceService tenant-risk/llm", "Hugging Face Hub")
    assert_fails(result, "InferenceService tenant-risk/web", "models.example.com")


def test_mlflow_artifact_root_in_a_foreign_bucket_region_fails() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "dr", {"bucket": "dr-artifacts", "region": "eu-west-1"})
    server = mlflow("s3://dr-artifacts/mlflow", "postgresql://mlflow-pg-rw.mlflow.svc/mlflow")
    assert_fails(
        check("UAE-RES-004", bucket, server),
        "Deployment mlflow/mlflow",
        "eu-west-1",
        "--default-artifact-root",
    )


def test_feature_store_yaml_in_a_configmap_is_checked() -> None:
    yaml_text = "project: risk\nregistry: gs://feast-registry/registry.db\nprovider: local\n"
    config_map = k8s(
        "kubernetes:core/v1:ConfigMap",
        "feast-client",
        "tenant-risk",
        {"data": {"feature_store.yaml": yaml_text}},
    )
    assert_fails(
        check("UAE-RES-004", config_map),
        "ConfigMap tenant-risk/feast-client",
        "Google Cloud Storage",
    )
