"""UAE-RES-001..005: regions, cross-border copies, global edge, ML data paths, registries."""

from __future__ import annotations

from policy_fixtures import (
    REGISTRY,
    assert_fails,
    assert_passes,
    aws,
    azure,
    check,
    container,
    deployment,
    k8s,
    pod_spec,
    provider,
    release,
    resource,
)

from policies.pack_config import PackConfig

DR_VAULT = "arn:aws:backup:eu-west-1:111122223333:backup-vault:dr"
KEY_ARN = "arn:aws:kms:me-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# --------------------------------------------------------------------------- UAE-RES-001


def test_resources_through_a_uae_provider_pass() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    sse = aws(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-sse",
        {
            "bucket": "artifacts",
            "rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": KEY_ARN}}],
        },
    )
    vault = azure("azure-native:keyvault:Vault", "kv", {"location": "UAE North"})
    assert_passes(check("UAE-RES-001", bucket, sse, vault, provider("azure-native")))


def test_provider_outside_the_uae_fails_the_provider_and_its_resources() -> None:
    frankfurt = provider("aws", "eu", region="eu-central-1")
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", provider_name="eu")
    result = check("UAE-RES-001", frankfurt, bucket)
    assert_fails(result, "AWS provider 'eu'", "eu-central-1")
    assert_fails(result, "Bucket 'artifacts'", "would be created in 'eu-central-1'")


def test_provider_without_a_region_fails() -> None:
    unpinned = provider("aws", "loose")
    unpinned["inputs"].pop("region")
    assert_fails(check("UAE-RES-001", unpinned), "AWS provider 'loose'", "pins no region")


def test_per_resource_region_override_fails() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "copy", {"region": "eu-west-1"})
    assert_fails(check("UAE-RES-001", bucket), "Bucket 'copy'", "eu-west-1")


def test_arn_or_endpoint_in_another_region_fails() -> None:
    foreign_key = KEY_ARN.replace("me-central-1", "us-east-1")
    sse = aws(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-sse",
        {"rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": foreign_key}}]},
    )
    pod = pod_spec(container(env=[{"name": "AWS_REGION", "value": "eu-west-1"}]))
    app = deployment("mlflow", "mlflow", pod)
    result = check("UAE-RES-001", sse, app)
    assert_fails(result, "artifacts-sse", "us-east-1", "an ARN")
    assert_fails(result, "Deployment mlflow/mlflow", "AWS_REGION=eu-west-1")


def test_azure_location_outside_the_uae_fails_but_global_dns_zones_pass() -> None:
    account = azure("azure-native:storage:StorageAccount", "lake", {"location": "westeurope"})
    zone = azure("azure-native:privatedns:PrivateZone", "zone", {"location": "global"})
    flow = azure(
        "azure-native:network:FlowLog", "flow", {"networkWatcherName": "NetworkWatcher_uaenorth"}
    )
    local = azure(
        "azure-native:privatedns:PrivateZone",
        "aks-zone",
        {"privateZoneName": "privatelink.uaenorth.azmk8s.io"},
    )
    abroad = azure(
        "azure-native:network:FlowLog",
        "eu-flow",
        {"networkWatcherName": "NetworkWatcher_westeurope"},
    )
    result = check("UAE-RES-001", account, zone, flow, local, abroad)
    assert_fails(result, "StorageAccount 'lake'", "westeurope")
    assert_fails(result, "FlowLog 'eu-flow'", "westeurope", "Azure endpoint")
    assert not [f for f in result.findings if "'flow'" in f.message or "aks-zone" in f.message]
    assert not [f for f in result.findings if "zone" in f.message]


# --------------------------------------------------------------------------- UAE-RES-002


def test_in_country_geo_redundancy_passes() -> None:
    account = azure(
        "azure-native:storage:StorageAccount", "lake", {"sku": {"name": "Standard_GZRS"}}
    )
    key = aws("aws:kms/key:Key", "data", {"enableKeyRotation": True})
    assert_passes(check("UAE-RES-002", account, key))


def test_replication_to_a_bucket_in_another_region_fails() -> None:
    source = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    replica = aws("aws:s3/bucket:Bucket", "replica", {"bucket": "replica", "region": "eu-west-1"})
    rule = {"destination": {"bucket": "arn:aws:s3:::replica"}, "status": "Enabled"}
    replication = aws(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "artifacts-crr",
        {"bucket": "artifacts", "rules": [rule]},
    )
    assert_fails(check("UAE-RES-002", source, replica, replication), "artifacts-crr", "eu-west-1")


def test_replication_to_an_undeclared_bucket_fails() -> None:
    rule = {"destination": {"bucket": "arn:aws:s3:::somewhere-else"}}
    replication = aws(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "crr", {"rules": [rule]}
    )
    assert_fails(check("UAE-RES-002", replication), "crr", "does not declare")


def test_cross_region_copies_fail() -> None:
    key = aws("aws:kms/key:Key", "data", {"multiRegion": True})
    replica = aws(
        "aws:rds/instance:Instance",
        "mlflow-replica",
        {"replicateSourceDb": "arn:aws:rds:eu-west-1:111122223333:db:mlflow"},
    )
    plan = aws(
        "aws:backup/plan:Plan",
        "backups",
        {"rules": [{"copyActions": [{"destinationVaultArn": DR_VAULT}]}]},
    )
    grs = azure(
        "azure-native:storage:StorageAccount",
        "lake",
        {"location": "westeurope", "sku": {"name": "Standard_GRS"}},
    )
    result = check("UAE-RES-002", key, replica, plan, grs)
    assert_fails(result, "Key 'data'", "multi-Region")
    assert_fails(result, "mlflow-replica", "eu-west-1")
    assert_fails(result, "Plan 'backups'", "eu-west-1")
    assert_fails(result, "StorageAccount 'lake'", "paired region")


# --------------------------------------------------------------------------- UAE-RES-003


def test_public_content_on_a_cdn_passes() -> None:
    tags = {"data-classification": "public", "pii": "false"}
    cdn = aws("aws:cloudfront/distribution:Distribution", "docs", {"tags": tags})
    assert_passes(check("UAE-RES-003", cdn))


def test_edge_service_for_restricted_or_unclassified_data_fails() -> None:
    restricted = aws(
        "aws:cloudfront/distribution:Distribution",
        "scores",
        {"tags": {"data-classification": "restricted"}},
    )
    accelerator = resource("aws:globalaccelerator/accelerator:Accelerator", "api", {})
    front_door = azure(
        "azure-native:cdn:Profile",
        "fd",
        {"tags": {"data-classification": "internal", "pii": "true"}},
    )
    result = check("UAE-RES-003", restricted, accelerator, front_door)
    assert_fails(result, "Distribution 'scores'", "restricted")
    assert_fails(result, "Accelerator 'api'", "not classified")
    assert_fails(result, "Profile 'fd'", "pii=true")


# --------------------------------------------------------------------------- UAE-RES-004

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


# --------------------------------------------------------------------------- UAE-RES-005


def test_images_and_charts_from_the_mirror_pass() -> None:
    app = deployment()
    chart = release(
        "kueue",
        f"oci://{REGISTRY}/charts/kueue",
        {
            "controllerManager": {
                "manager": {"image": {"repository": f"{REGISTRY}/kueue/kueue", "tag": "v0.19.2"}}
            }
        },
    )
    harbor = PackConfig(allowed_registries=("harbor.dc1.example.ae/mlplatform",))
    onprem = deployment(
        "mlflow",
        "mlflow",
        pod_spec(container(image="harbor.dc1.example.ae/mlplatform/mlflow:3.17.2")),
    )
    assert_passes(check("UAE-RES-005", app, chart))
    assert_passes(check("UAE-RES-005", onprem, config=harbor))


def test_public_registry_images_and_charts_fail() -> None:
    app = deployment(
        "api", "tenant-risk", pod_spec(container(image="docker.io/library/python:3.11"))
    )
    bare = deployment("job", "tenant-risk", pod_spec(container(image="busybox:1.36")))
    chart = release(
        "gpu-operator",
        "gpu-operator",
        {
            "operator": {
                "repository": "nvcr.io/nvidia",
                "image": "gpu-operator",
                "version": "v25.10.1",
            }
        },
    )
    chart["inputs"]["repositoryOpts"] = {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    result = check("UAE-RES-005", app, bare, chart)
    assert_fails(result, "Deployment tenant-risk/api", "docker.io/library/python")
    assert_fails(result, "Deployment tenant-risk/job", "busybox:1.36", "docker.io")
    assert_fails(
        result, "Release 'gpu-operator'", "nvcr.io/nvidia/gpu-operator", "helm.ngc.nvidia.com"
    )
